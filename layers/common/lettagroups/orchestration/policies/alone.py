"""An agent messaged directly that manages no group whose pattern it runs: it steps alone in its own conversation,
as Letta's agent send does (usage counts its model calls)."""

from __future__ import annotations

from .. import steps
from ..state import RunState


def take_turn(state: RunState) -> RunState:
    agent_id = state.agent_ids[0]
    pending = steps.compute(state, steps.StepSpec(agent_id=agent_id, step_key="agent", counting="calls"))
    return steps.commit_step(state, pending, steps.Finish("end_turn")).model_copy(update={"turn": 1})
