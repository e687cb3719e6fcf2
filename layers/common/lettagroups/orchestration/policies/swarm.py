"""swarm (swarm-handoffs.md): the active agent answers; any participant may instead hand the conversation to a
colleague with `handoff_to_agent`, and that colleague steps next. One task per turn (one agent step):

    turn i  the active agent steps (offered the handoff tool when the group has 2 agents or more)
            ├─ handed off to B, turns left  → B is active, next: turn
            ├─ handed off, max_turns spent  → done (max_turns); the speaker stays active
            └─ replied (no handoff)         → done (end_turn); the speaker stays active

Who is active is written on the group (`active_agent_id`) in the transaction of the step that decides it,
conditional on the group's version: a run that fails later leaves it where its last completed step put it, and a
re-run task finds its step recorded (`StepResult.replayed`) and writes nothing again.
"""

from __future__ import annotations

from typing import Any, Optional

from ...agent.catalog import HANDOFF_TOOL, handoff_schema
from ...agent.tools import ToolContext, ToolError, ToolSpec
from ...dal import groups as groups_dal
from .. import prompts, steps
from ..state import RunState


def take_turn(state: RunState) -> RunState:
    speaker = state.active_agent_id or state.agent_ids[0]
    colleagues = {state.agent_names.get(a, a): a for a in state.agent_ids if a != speaker}
    pending = steps.compute(
        state,
        steps.StepSpec(
            agent_id=speaker,
            step_key=f"t{state.turn:03d}-{speaker}",
            share_replies=True,
            extra_tools=[handoff_tool(list(colleagues))] if colleagues else (),
            system_appendix=prompts.swarm_appendix(list(colleagues), state.description) if colleagues else None,
        ),
    )
    target = handed_to(pending.result.tool_calls, colleagues)
    turn = state.turn + 1
    finish: Optional[steps.Finish] = None
    if target is None:
        finish, active = steps.Finish("end_turn"), speaker
    elif turn >= state.max_turns:
        finish, active = steps.Finish("max_turns"), speaker  # the handoff is in the transcript; nobody takes over
    else:
        active = target
    actions = [] if pending.result.replayed else _remember_active(state, active)
    state = steps.commit_step(state, pending, finish, extra_actions=actions)
    return state.model_copy(update={"turn": turn, "active_agent_id": active})


def handoff_tool(colleagues: list[str]) -> ToolSpec:
    """`handoff_to_agent` for one participant: its executor only checks the call (the policy acts on it once the step
    is over); a refused call is a tool error the caller sees and recovers from."""

    def hand_off(ctx: ToolContext, args: dict[str, Any]) -> str:
        name, message = args.get("agent_name"), args.get("message")
        if not isinstance(name, str) or not name.strip():
            raise ToolError(f"'agent_name' must be one of {colleagues}")
        if not isinstance(message, str):
            raise ToolError("'message' must be a string: what the colleague needs to know")
        chosen = name if name in colleagues else None
        if chosen is None and _same_name(name, ctx.agent_name):
            raise ToolError(f"you cannot hand the conversation to yourself; choose one of {colleagues}")
        chosen = chosen or _match(name, colleagues)
        if chosen is None:
            raise ToolError(f"no participant is named '{name}'; choose one of {colleagues}")
        return f"Handed off to {chosen}"

    return ToolSpec(HANDOFF_TOOL, handoff_schema(colleagues), hand_off, ends_turn=True)


def handed_to(tool_calls: list[dict[str, Any]], colleagues: dict[str, str]) -> Optional[str]:
    """The agent a step handed the conversation to: its successful handoff call (a successful one ends the step)."""
    for call in reversed(tool_calls):
        if call.get("name") == HANDOFF_TOOL and call.get("status") == "success":
            chosen = _match(str((call.get("arguments") or {}).get("agent_name") or ""), list(colleagues))
            return colleagues[chosen] if chosen is not None else None
    return None


def _same_name(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _match(name: str, colleagues: list[str]) -> Optional[str]:
    """The colleague `name` designates: exactly, else the only one equal to it ignoring case and outer spaces."""
    if name in colleagues:
        return name
    loose = [c for c in colleagues if _same_name(c, name)]
    return loose[0] if len(loose) == 1 else None


def _remember_active(state: RunState, agent_id: str) -> list[dict[str, Any]]:
    """The write that makes `agent_id` the group's active agent, for the step's transaction (none when it already
    is, or the group is gone)."""
    group = groups_dal.get_group(state.org_id, str(state.group_id))
    if group is None or group.active_agent_id == agent_id:
        return []
    return [groups_dal.fields_update_action(state.org_id, str(state.group_id), group.version, {"active_agent_id": agent_id})]
