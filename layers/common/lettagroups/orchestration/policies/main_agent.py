"""sleeptime and voice_sleeptime (contract §8.4, §8.5): the main agent answers; in the same transaction the run
counts the turn and plans the background passes it triggers, which start once that is written."""

from __future__ import annotations

from .. import background, steps
from ..state import RunState


def take_turn(state: RunState) -> RunState:
    main = str(state.manager_agent_id)
    history_after = state.context_after if state.manager_type == "voice_sleeptime" else None
    pending = steps.compute(state, steps.StepSpec(agent_id=main, step_key="main", counting="calls", history_after=history_after))
    plan = background.plan(state, pending)
    state = steps.commit_step(state, pending, steps.Finish("end_turn", extra_actions=plan.actions, run_ids=plan.run_ids))
    background.start_planned(state, plan)
    return state.model_copy(update={"turn": 1})
