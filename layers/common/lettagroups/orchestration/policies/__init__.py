"""Who speaks when, one module per manager type: `take_turn(state) -> state` runs one turn of a run."""

from __future__ import annotations

from collections.abc import Callable

from ..state import ALONE, RunState
from . import alone, dynamic, main_agent, round_robin, supervisor, swarm

TakeTurn = Callable[[RunState], RunState]

POLICIES: dict[str, TakeTurn] = {
    "round_robin": round_robin.take_turn,
    "dynamic": dynamic.take_turn,
    "supervisor": supervisor.take_turn,
    "sleeptime": main_agent.take_turn,
    "voice_sleeptime": main_agent.take_turn,
    "swarm": swarm.take_turn,
    ALONE: alone.take_turn,
}
