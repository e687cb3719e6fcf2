"""Sending to a group and managing its transcript (contract §4.7-§4.11, §7.6a, §12a)."""

from __future__ import annotations

import json
from typing import Any, Optional

from ..dal import groups as groups_dal
from ..dal import messages as messages_dal
from ..dal import runs as runs_dal
from ..errors import BadRequestError, NotFoundError
from ..models import presentation
from ..models.groups import ListOrder
from ..models.identity import Actor
from ..models.messages import (
    LettaAsyncRequest,
    LettaMessageBase,
    LettaRequest,
    LettaResponse,
    LettaStreamingRequest,
    MessageUpdate,
)
from ..models.runs import Run
from ..models.stored import StoredMessage
from ..orchestration import lifecycle
from ..orchestration.state import MAX_TURNS_CAP, RunState
from . import sending
from .groups import check_window, load_group

DESCRIPTION_IN_PROMPT = 8000  # what a run carries of the group's description (participants' instructions, §7.4)


def check_runnable(group: dict[str, Any], agents: dict[str, dict[str, Any]]) -> None:
    """The pre-run checks of §4.7 that concern the group: each failure is an ordinary JSON error, before anything runs
    (the inputs are checked by `sending.check_inputs`)."""
    wanted = list(dict.fromkeys([*([group["manager_agent_id"]] if group.get("manager_agent_id") else []), *group["agent_ids"]]))
    missing = [a for a in wanted if a not in agents]
    if missing:
        raise NotFoundError(f"Agent not found with id={missing[0]}")
    if not group["agent_ids"]:
        raise BadRequestError("Empty group: group must have at least one agent")
    if group["manager_type"] == "swarm":
        raise BadRequestError("Manager type 'swarm' is not supported yet")
    if group["manager_type"] == "voice_sleeptime" and len(group["agent_ids"]) != 1:
        raise BadRequestError("A voice_sleeptime group needs exactly one sleeptime agent")


def roster(group: dict[str, Any], agents: dict[str, dict[str, Any]], since: dict[str, str]) -> lifecycle.Roster:
    n = len(group["agent_ids"])
    return lifecycle.Roster(
        manager_type=group["manager_type"],
        agent_ids=list(group["agent_ids"]),  # the roster as the run starts: a PATCH during it changes the next run
        manager_agent_id=group.get("manager_agent_id"),
        member_since={a: since[a] for a in group["agent_ids"] if a in since},
        max_turns=min(group.get("max_turns") or n, MAX_TURNS_CAP),
        termination_token=group.get("termination_token"),
        description=str(group.get("description") or "")[:DESCRIPTION_IN_PROMPT],
        agent_names={a: str(agents[a].get("name") or a) for a in agents},
        context_after=group.get("context_after_message_id") if group["manager_type"] == "voice_sleeptime" else None,
    )


def group_target(actor: Actor, group: dict[str, Any], metadata: Optional[dict[str, Any]] = None) -> sending.Target:
    """A send to a group: its agents, their memberships and the group's head in one BatchGetItem, then the checks."""
    group_id = str(group["id"])
    wanted = [*([group["manager_agent_id"]] if group.get("manager_agent_id") else []), *group["agent_ids"]]
    agents, since, head = groups_dal.get_run_roster(actor.organization_id, group_id, wanted)
    check_runnable(group, agents)
    return sending.Target(
        conversation_id=group_id,
        group_id=group_id,
        roster=roster(group, agents, since),
        head=runs_dal.to_head(head),
        metadata={"group_id": group_id, **(metadata or {})},
    )


def send_message(actor: Actor, group_id: str, request: LettaRequest, *, idempotency_key: Optional[str] = None) -> LettaResponse:
    return sending.send_sync(actor, group_target(actor, load_group(actor, group_id)), request, idempotency_key=idempotency_key)


def send_message_async(actor: Actor, group_id: str, request: LettaAsyncRequest, *, idempotency_key: Optional[str] = None) -> Run:
    target = group_target(actor, load_group(actor, group_id))
    return sending.send_async(actor, target, request, callback_url=request.callback_url, idempotency_key=idempotency_key)


def send_message_stream(
    actor: Actor, group_id: str, request: LettaStreamingRequest, *, idempotency_key: Optional[str] = None
) -> sending.Opened:
    target = group_target(actor, load_group(actor, group_id))
    return sending.send_stream(actor, target, request, stream_tokens=request.stream_tokens, idempotency_key=idempotency_key)


def begin_run(actor: Actor, group_id: str, request: LettaRequest) -> RunState:
    """A new run of a group, written but not started (tests drive its turns by hand)."""
    opened = sending.open_run(actor, group_target(actor, load_group(actor, group_id)), request, door="sync")
    assert opened.state is not None
    return opened.state


def list_messages(
    actor: Actor,
    group_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: int = 10,
    order: Optional[ListOrder] = None,
    use_assistant_message: bool = True,
    assistant_message_tool_name: str = "send_message",
    assistant_message_tool_kwarg: str = "message",
) -> list[LettaMessageBase]:
    """The group's transcript, a page anchored at the cursor (contract §4.10).

    `order` is later Letta's: `asc` (oldest first) or `desc` (newest first, the exact reverse), with cursors
    relative to it (with `desc`, `after` pages towards older messages). Without it (None) the page is 0.7.7's:
    as `asc`, except that with no cursor it holds the newest `limit` messages.
    """
    org = actor.organization_id
    load_group(actor, group_id)
    for cursor in (after, before):
        if cursor and messages_dal.get_message(org, group_id, cursor) is None:
            raise NotFoundError(f"No message found with id '{cursor}'")
    check_window(after, before, order or "asc")
    if limit == 0:
        return []
    descending = order == "desc"
    # In time order the window is (older, newer); the scan starts at the page's anchor: `after`, else
    # `before`, else the start of the list (0.7.7's default starts at the newest end).
    older, newer = (before, after) if descending else (after, before)
    anchored_at_newer = bool(after) == descending if (after or before) else order != "asc"
    config = {
        "use_assistant_message": use_assistant_message,
        "assistant_message_tool_name": assistant_message_tool_name,
        "assistant_message_tool_kwarg": assistant_message_tool_kwarg,
    }
    while True:
        stored = messages_dal.list_messages(org, group_id, after=older, before=newer, limit=limit, descending=anchored_at_newer)
        presented = presentation.present_all(sorted(stored, key=lambda m: m.id), config)
        if presented or len(stored) < limit or order is None:
            break
        # Every stored message of this page presents as nothing (e.g. send_message tool returns): an empty page
        # would end an auto-paginating client (letta-client 1.x) although more messages follow, so read on past
        # them. 0.7.7's page (no order) keeps counting them and may come back empty (contract §4.10).
        if anchored_at_newer:
            newer = stored[-1].id
        else:
            older = stored[-1].id
    return presented[::-1] if descending else presented


def _presentable_type(message: StoredMessage) -> str | None:
    if message.role == "user":
        return "user_message"
    if message.role == "system":
        return "system_message"
    if message.role == "assistant" and any(
        (c.get("function") or {}).get("name") == "send_message" for c in message.tool_calls or []
    ):
        return "assistant_message"
    return None


def modify_message(actor: Actor, group_id: str, message_id: str, request: MessageUpdate) -> LettaMessageBase:
    org = actor.organization_id
    load_group(actor, group_id)
    message = messages_dal.get_message(org, group_id, message_id)
    if message is None:
        raise NotFoundError(f"No message found with id '{message_id}'")
    kind: str
    if request.message_type is not None:
        kind = request.message_type
    elif request.reasoning is not None:
        kind = "reasoning_message"
    else:
        kind = _presentable_type(message) or f"{message.role}_message"
    new_text = request.content if isinstance(request.content, str) else "".join(p.text for p in request.content or [])
    if kind == "assistant_message":
        if _presentable_type(message) != "assistant_message":
            raise BadRequestError(f"Message type got modified: {kind}")
        calls = []
        for call in message.tool_calls or []:
            function = dict(call.get("function") or {})
            if function.get("name") == "send_message":
                arguments = presentation.parse_arguments(function.get("arguments"))
                arguments["message"] = new_text
                function["arguments"] = json.dumps(arguments, ensure_ascii=False)
            calls.append({**call, "function": function})
        message.tool_calls = calls
    elif kind == "reasoning_message":
        if message.role != "assistant":
            raise BadRequestError(f"Message type got modified: {kind}")
        message.content = [{"type": "text", "text": request.reasoning or ""}]
    elif kind in ("user_message", "system_message"):
        if _presentable_type(message) != kind or request.content is None:
            raise BadRequestError(f"Message type got modified: {kind}")
        message.content = [{"type": "text", "text": new_text}]
    else:
        raise BadRequestError(f"Message type got modified: {kind}")
    if not messages_dal.update_message(org, group_id, message):
        raise NotFoundError(f"No message found with id '{message_id}'")
    for presented in presentation.to_letta_messages(message):
        if presented.message_type == kind:
            return presented
    raise BadRequestError(f"Message type got modified: {kind}")


def reset_messages(actor: Actor, group_id: str) -> None:
    load_group(actor, group_id)
    messages_dal.delete_conversation_messages(actor.organization_id, group_id)
