"""Sending to a group and managing its transcript (contract §4.7-§4.11, §7.6a, §12a)."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any, Optional

from ..agent.inputs import first_text, input_from_create
from ..dal import agents as agents_dal
from ..dal import messages as messages_dal
from ..dal import runs as runs_dal
from ..errors import BadGatewayError, BadRequestError, ConflictError, DomainError, GatewayTimeoutError, NotFoundError
from ..ids import new_id
from ..models.identity import Actor
from ..models.messages import LettaMessageBase, LettaRequest, LettaResponse, LettaUsageStatistics, MessageCreate, MessageUpdate
from ..models.runs import Run
from ..models.stored import StoredMessage
from ..orchestration import starter
from . import presentation
from .groups import load_group
from .runs import to_run

POLL_INITIAL_SECONDS = 0.02
POLL_MAX_SECONDS = 0.25
EXECUTION_CHECK_SECONDS = 5.0


def sync_timeout_seconds() -> float:
    return float(os.environ.get("SYNC_SEND_TIMEOUT_SECONDS", "120"))


def _check_inputs(messages: list[MessageCreate]) -> None:
    for message in messages:
        if message.role not in ("user", "system"):
            raise BadRequestError(f"Invalid message role: {message.role}")
        if not first_text(message):
            raise BadRequestError("Message content is empty or invalid")


def check_runnable(actor: Actor, group: dict[str, Any], request: LettaRequest) -> None:
    """The pre-run checks of §4.7: each failure is an ordinary JSON error, before anything runs."""
    wanted = list(dict.fromkeys([*([group["manager_agent_id"]] if group.get("manager_agent_id") else []), *group["agent_ids"]]))
    found = agents_dal.get_agents(actor.organization_id, wanted) if wanted else {}
    missing = [a for a in wanted if a not in found]
    if missing:
        raise NotFoundError(f"Agent not found with id={missing[0]}")
    if not group["agent_ids"]:
        raise BadRequestError("Empty group: group must have at least one agent")
    if group["manager_type"] == "swarm":
        raise BadRequestError("Manager type 'swarm' is not supported yet")
    if group["manager_type"] == "voice_sleeptime" and len(group["agent_ids"]) != 1:
        raise BadRequestError("A voice_sleeptime group needs exactly one sleeptime agent")
    _check_inputs(request.messages)


def start_run(
    actor: Actor, group_id: str, request: LettaRequest, *, callback_url: Optional[str] = None, stream_tokens: bool = False
) -> dict[str, Any]:
    """Checks, lock, the run record with its inputs, then the execution. Returns the run record."""
    group = load_group(actor, group_id)
    check_runnable(actor, group, request)
    run_id = new_id("run")
    org = actor.organization_id
    try:
        runs_dal.acquire_group_lock(org, group_id, run_id)
    except runs_dal.GroupBusy as exc:
        raise ConflictError(f"Group {group_id} is already running a conversation") from exc
    now = datetime.now(UTC).isoformat()
    inputs = [input_from_create(org, group_id, m, group_id=group_id, run_id=run_id) for m in request.messages]
    run: dict[str, Any] = {
        "id": run_id,
        "status": "created",
        "kind": "group",
        "job_type": "run",
        "created_at": now,
        "updated_at": now,
        "created_by_id": actor.user_id,
        "last_updated_by_id": actor.user_id,
        "conversation_id": group_id,
        "group_id": group_id,
        "callback_url": callback_url,
        "input_message_ids": [m.id for m in inputs],
        "request_config": {
            "use_assistant_message": request.use_assistant_message,
            "assistant_message_tool_name": request.assistant_message_tool_name,
            "assistant_message_tool_kwarg": request.assistant_message_tool_kwarg,
            "stream_tokens": stream_tokens,
        },
        "metadata": {"group_id": group_id},
    }
    try:
        runs_dal.create_run(org, run, messages_dal.put_items(org, inputs))
        state = {"kind": "group", "org_id": org, "user_id": actor.user_id, "group_id": group_id, "run_id": run_id}
        run["execution_arn"] = starter.start_run(run_id, state)
        runs_dal.update_run(org, run_id, {"execution_arn": run["execution_arn"]})
    except Exception:
        runs_dal.update_run(org, run_id, {"status": "failed", "error": "the run could not be started", "error_status": 500})
        runs_dal.release_group_lock(org, group_id, run_id)
        raise
    return run


def _settle_dead_execution(actor: Actor, run: dict[str, Any]) -> bool:
    """If the run's execution ended without the run record saying so (its failure handler itself failed),
    mark the run failed and free the group. True when the run was settled this way."""
    arn = run.get("execution_arn")
    if not arn or starter.execution_status(arn) not in ("FAILED", "TIMED_OUT", "ABORTED"):
        return False
    org = actor.organization_id
    runs_dal.release_group_lock(org, run["conversation_id"], run["id"])
    runs_dal.update_run(org, run["id"], {"status": "failed", "error": "the workflow execution failed", "error_status": 500})
    return True


def wait_for_run(actor: Actor, run_id: str, timeout: float) -> dict[str, Any]:
    """Poll the run record until it is finished (strongly consistent reads, short backoff). Every
    `EXECUTION_CHECK_SECONDS` the execution itself is asked too, so a run whose workflow died never
    holds the caller until the deadline (contract §7.6)."""
    deadline = time.monotonic() + timeout
    next_check = time.monotonic() + EXECUTION_CHECK_SECONDS
    delay = POLL_INITIAL_SECONDS
    while True:
        run = runs_dal.get_run(actor.organization_id, run_id)
        if run is None:
            raise NotFoundError(f"Run not found with id={run_id}")
        if run["status"] in runs_dal.TERMINAL:
            return run
        now = time.monotonic()
        if now >= next_check or now >= deadline:
            next_check = now + EXECUTION_CHECK_SECONDS
            if _settle_dead_execution(actor, run):
                continue
            if now >= deadline:
                raise GatewayTimeoutError(f"Run {run_id} is still running; follow it with GET /v1/runs/{run_id}")
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX_SECONDS)


def response_messages(actor: Actor, run: dict[str, Any], *, live: bool = True) -> list[LettaMessageBase]:
    config = run.get("request_config") or {}
    stored = messages_dal.get_messages(actor.organization_id, run["conversation_id"], run.get("response_message_ids") or [])
    return presentation.present_all(stored, config, live=live)  # get_messages answers in id order


def raise_run_error(run: dict[str, Any]) -> None:
    """A failed run as the send's answer: 404/400 when a missing object or a rule stopped it, 502 naming the
    provider and endpoint when an agent's configured model could not be reached, else a bare 500."""
    error_class = {400: BadRequestError, 404: NotFoundError, 502: BadGatewayError}.get(int(run.get("error_status") or 500))
    if error_class is None:
        raise DomainError("An internal server error occurred")
    raise error_class(str(run.get("error") or "run failed"))


def send_message(actor: Actor, group_id: str, request: LettaRequest) -> LettaResponse:
    run = start_run(actor, group_id, request)
    finished = wait_for_run(actor, run["id"], sync_timeout_seconds())
    if finished["status"] != "completed":
        raise_run_error(finished)
    usage = LettaUsageStatistics.model_validate(finished.get("usage") or {})
    return LettaResponse.model_construct(messages=response_messages(actor, finished), usage=usage)


def send_message_async(actor: Actor, group_id: str, request: LettaRequest) -> Run:
    run = start_run(actor, group_id, request, callback_url=getattr(request, "callback_url", None))
    return to_run(runs_dal.get_run(actor.organization_id, run["id"]) or run)


def list_messages(
    actor: Actor,
    group_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: int = 10,
    use_assistant_message: bool = True,
    assistant_message_tool_name: str = "send_message",
    assistant_message_tool_kwarg: str = "message",
) -> list[LettaMessageBase]:
    org = actor.organization_id
    load_group(actor, group_id)
    for cursor in (after, before):
        if cursor and messages_dal.get_message(org, group_id, cursor) is None:
            raise NotFoundError(f"No message found with id '{cursor}'")
    if after and before and before <= after:
        raise BadRequestError("'before' reference must be later than 'after' reference")
    if limit == 0:
        return []
    if after:
        stored = messages_dal.list_messages(org, group_id, after=after, before=before, limit=limit)
    else:
        stored = list(reversed(messages_dal.list_messages(org, group_id, before=before, limit=limit, descending=True)))
    config = {
        "use_assistant_message": use_assistant_message,
        "assistant_message_tool_name": assistant_message_tool_name,
        "assistant_message_tool_kwarg": assistant_message_tool_kwarg,
    }
    return presentation.present_all(stored, config)


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
