"""round_robin (contract §8.1): `agent_ids[i % n]` speaks on turn i, `max_turns` turns (default: one each)."""

from __future__ import annotations

from .. import prompts, steps
from ..state import RunState


def take_turn(state: RunState) -> RunState:
    speaker = state.agent_ids[state.turn % len(state.agent_ids)]
    pending = steps.compute(
        state,
        steps.StepSpec(
            agent_id=speaker,
            step_key=f"t{state.turn:03d}-{speaker}",
            share_replies=True,
            system_appendix=prompts.round_robin_appendix(len(state.agent_ids), state.description),
        ),
    )
    turn = state.turn + 1
    finish = steps.Finish("max_turns") if turn >= state.max_turns else None
    return steps.commit_step(state, pending, finish).model_copy(update={"turn": turn})
