"""Sending to a conversation (a group's transcript, or an agent's own), whichever door the send came through:
synchronous, async or streamed; `/v1/groups/...` or `/v1/agents/...`.

Retry-safe: SDKs resend a request that got a 5xx, 408, 409 or 429 (letta-client 1.x and the TypeScript SDK twice by
default), and a resent send must not put its input in the transcript again. Each send is fingerprinted (who sent
what, through which door, to which conversation; or its `Idempotency-Key`), and the conversation's head remembers
its last run's fingerprint. A send whose fingerprint is the last run's:
- joins that run if it is still going (it answers with that run's result instead of a 409);
- resumes it if it failed within `RETRY_WINDOW_SECONDS`: the same run goes on from the step that failed (its
  completed steps are not run again, its input is not written again);
- gets the completed run's result again if it was sent with an `Idempotency-Key`, if the client marked it a retry
  (letta-client 1.x sends `x-stainless-retry-count`, also after its own timeouts), or if this server answered the
  run's send with a 504 (the client never got its result), within `RETRY_WINDOW_SECONDS`.
Anything else is a new run: the same words sent again on purpose are a new message. The statuses a failed run answers with say whether a retry can help
(`orchestration/failure.RunFailure.to_error`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Optional

from ..agent.inputs import first_text, input_from_create
from ..dal import messages as messages_dal
from ..dal import runs as runs_dal
from ..errors import BadRequestError, GatewayTimeoutError, NotFoundError
from ..ids import new_id
from ..models import presentation
from ..models.identity import Actor
from ..models.messages import LettaMessageBase, LettaRequest, LettaResponse, LettaStopReason, LettaUsageStatistics, MessageCreate
from ..models.records import LETTA_STOP_REASONS, ConversationHead, RequestConfig, RunRecord
from ..models.runs import Run
from ..orchestration import lifecycle, starter
from ..orchestration.failure import RunFailure
from ..orchestration.state import RunState

Door = Literal["sync", "async", "stream"]
RETRY_WINDOW_SECONDS = 300
POLL_INITIAL_SECONDS = 0.02
POLL_MAX_SECONDS = 0.25


def sync_timeout_seconds() -> float:
    return float(os.environ.get("SYNC_SEND_TIMEOUT_SECONDS", "120"))


@dataclass
class Target:
    """Where a send goes: a conversation, who takes part in it, and its head (lock and last run)."""

    conversation_id: str
    group_id: Optional[str]
    roster: lifecycle.Roster
    head: ConversationHead
    metadata: dict[str, Any] = field(default_factory=dict)  # what the run's record names (group_id, agent_id)


@dataclass
class Opened:
    """A send's run: a new one, a failed one resumed, or one still going that the send joined."""

    run_id: str
    mode: Literal["new", "resumed", "joined", "done"]
    state: Optional[RunState] = None  # new and resumed runs: what their execution starts from
    record: Optional[RunRecord] = None  # a new run: its record as written
    starting_after: int = 0  # where a stream of it starts


def check_inputs(messages: list[MessageCreate]) -> None:
    for message in messages:
        if message.role not in ("user", "system"):
            raise BadRequestError(f"Invalid message role: {message.role}")
        if not first_text(message):
            raise BadRequestError("Message content is empty or invalid")


def fingerprint(actor: Actor, target: Target, request: LettaRequest, door: Door, idempotency_key: Optional[str]) -> str:
    what: Any = {"key": idempotency_key} if idempotency_key else {"door": door, "request": request.model_dump(mode="json")}
    text = json.dumps([actor.organization_id, actor.user_id, target.conversation_id, what], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _age_seconds(run: RunRecord) -> float:
    stamp = run.completed_at or run.updated_at or run.created_at
    try:
        return time.time() - datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return float("inf")


def _previous(actor: Actor, target: Target, fp: str, idempotency_key: Optional[str], retried: bool) -> Optional[Opened]:
    """What to do with a send that repeats the conversation's last run (None: it does not, or nothing to reuse)."""
    if not target.head.last_run_id or target.head.last_fingerprint != fp:
        return None
    run = runs_dal.get_run(actor.organization_id, target.head.last_run_id)
    if run is None:
        return None
    if not run.finished:
        return Opened(run_id=run.id, mode="joined")
    if run.status == "completed" and idempotency_key:
        return Opened(run_id=run.id, mode="done")
    if run.status == "completed" and (retried or run.unanswered) and _age_seconds(run) <= RETRY_WINDOW_SECONDS:
        return Opened(run_id=run.id, mode="done")
    if run.status == "failed" and _age_seconds(run) <= RETRY_WINDOW_SECONDS:
        state = lifecycle.resume(run, actor.organization_id)
        if state is None:
            return Opened(run_id=run.id, mode="joined")  # another retry resumed it a moment ago
        return Opened(run_id=run.id, mode="resumed", state=state, starting_after=state.seq)
    return None


def request_config(request: LettaRequest, stream_tokens: bool = False) -> RequestConfig:
    return RequestConfig(
        use_assistant_message=request.use_assistant_message,
        assistant_message_tool_name=request.assistant_message_tool_name,
        assistant_message_tool_kwarg=request.assistant_message_tool_kwarg,
        stream_tokens=stream_tokens,
        include_return_message_types=request.include_return_message_types,
        max_steps=request.max_steps,
    )


def open_run(
    actor: Actor,
    target: Target,
    request: LettaRequest,
    *,
    door: Door,
    callback_url: Optional[str] = None,
    stream_tokens: bool = False,
    idempotency_key: Optional[str] = None,
    retried: bool = False,
) -> Opened:
    """The run a send is answered by: an earlier one it repeats (see the module docstring), else a new run whose
    conversation is taken and whose record and inputs are written in one transaction (not started yet)."""
    check_inputs(request.messages)
    fp = fingerprint(actor, target, request, door, idempotency_key)
    previous = _previous(actor, target, fp, idempotency_key, retried)
    if previous is not None:
        return previous
    state, record = _new_run(actor, target, request, fp, callback_url, stream_tokens)
    return Opened(run_id=state.run_id, mode="new", state=state, record=record)


def _new_run(
    actor: Actor, target: Target, request: LettaRequest, fp: str, callback_url: Optional[str], stream_tokens: bool
) -> tuple[RunState, RunRecord]:
    run_id = new_id("run")
    org = actor.organization_id
    inputs = [
        input_from_create(org, target.conversation_id, m, group_id=target.group_id, run_id=run_id) for m in request.messages
    ]
    return lifecycle.begin(
        actor,
        conversation_id=target.conversation_id,
        group_id=target.group_id,
        roster=target.roster,
        inputs=inputs,
        config=request_config(request, stream_tokens),
        metadata=target.metadata,
        callback_url=callback_url,
        fingerprint=fp,
        run_id=run_id,
    )


def wait_for_run(actor: Actor, run_id: str, timeout: float) -> RunRecord:
    """Poll the run record until it is finished (strongly consistent reads, short backoff): a run that a send joined,
    or one that went on in another execution than the one a synchronous send waited for."""
    deadline = time.monotonic() + timeout
    delay = POLL_INITIAL_SECONDS
    while True:
        run = runs_dal.get_run(actor.organization_id, run_id)
        if run is None:
            raise NotFoundError(f"Run not found with id={run_id}")
        if run.finished:
            return run
        if time.monotonic() >= deadline:
            raise GatewayTimeoutError(f"Run {run_id} is still running; follow it with GET /v1/runs/{run_id}")
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX_SECONDS)


def response_messages(actor: Actor, conversation_id: str, ids: list[str], config: RequestConfig) -> list[LettaMessageBase]:
    stored = messages_dal.get_messages(actor.organization_id, conversation_id, ids)
    return presentation.present_all(stored, config, live=True)  # get_messages answers in id order


def _stop_reason(ours: Optional[str]) -> Optional[LettaStopReason]:
    return LettaStopReason(stop_reason=LETTA_STOP_REASONS.get(ours, ours)) if ours else None


def response_of(actor: Actor, run: RunRecord) -> LettaResponse:
    """A finished run as a send's answer: its LettaResponse, or the error that says why it failed."""
    if run.status != "completed":
        raise RunFailure.of(run.failure).to_error(run.id)
    usage = LettaUsageStatistics.model_validate(run.usage or {})
    messages = response_messages(actor, run.conversation_id, run.response_message_ids, run.request_config)
    return LettaResponse.model_construct(messages=messages, usage=usage, stop_reason=_stop_reason(run.stop_reason))


def _finished_run(actor: Actor, state: RunState, outcome: starter.Outcome, deadline: float) -> RunRecord:
    """The run record of a run whose execution did not hand back a completed state."""
    run = runs_dal.get_run(actor.organization_id, state.run_id)
    if run is None:
        raise NotFoundError(f"Run not found with id={state.run_id}")
    if run.finished:
        return run
    final = (outcome.output or {}).get("run") or {}
    if outcome.status == "SUCCEEDED" and final.get("next") == "continue":
        return wait_for_run(actor, state.run_id, max(0.0, deadline - time.monotonic()))
    return lifecycle.settle(actor.organization_id, run)  # the execution ended without finishing the run


def send_sync(
    actor: Actor, target: Target, request: LettaRequest, *, idempotency_key: Optional[str] = None, retried: bool = False
) -> LettaResponse:
    opened = open_run(actor, target, request, door="sync", idempotency_key=idempotency_key, retried=retried)
    try:
        return _answer_sync(actor, target, opened)
    except GatewayTimeoutError:
        # The client gets no result for this run; its retry (whether or not it says so) is answered with the run.
        runs_dal.update_run(actor.organization_id, opened.run_id, {"unanswered": True}, unless_terminal=False)
        raise


def _answer_sync(actor: Actor, target: Target, opened: Opened) -> LettaResponse:
    timeout = sync_timeout_seconds()
    deadline = time.monotonic() + timeout
    if opened.state is None:
        return response_of(actor, wait_for_run(actor, opened.run_id, timeout))
    state = opened.state
    try:
        outcome = lifecycle.run_sync(state, timeout)
    except starter.StillRunning as exc:
        raise GatewayTimeoutError(f"Run {state.run_id} is still running; follow it with GET /v1/runs/{state.run_id}") from exc
    final = (outcome.output or {}).get("run") if outcome.status == "SUCCEEDED" else None
    if final is not None and final.get("status") == "completed":
        done = RunState.model_validate(final)
        usage = LettaUsageStatistics(**done.usage.model_dump(), run_ids=done.run_ids)
        messages = response_messages(actor, target.conversation_id, sorted(done.response_ids), done.config)
        return LettaResponse.model_construct(messages=messages, usage=usage, stop_reason=_stop_reason(done.stop_reason))
    return response_of(actor, _finished_run(actor, state, outcome, deadline))


def send_async(
    actor: Actor,
    target: Target,
    request: LettaRequest,
    *,
    callback_url: Optional[str] = None,
    idempotency_key: Optional[str] = None,
    retried: bool = False,
) -> Run:
    opened = open_run(
        actor, target, request, door="async", callback_url=callback_url, idempotency_key=idempotency_key, retried=retried
    )
    if opened.state is not None:
        lifecycle.start(opened.state)
    # A new run answers as it was written (created, not yet run); any other is read as it is now.
    run = opened.record or runs_dal.get_run(actor.organization_id, opened.run_id)
    if run is None:
        raise NotFoundError(f"Run not found with id={opened.run_id}")
    return run.to_run()


def send_stream(
    actor: Actor,
    target: Target,
    request: LettaRequest,
    *,
    stream_tokens: bool = False,
    idempotency_key: Optional[str] = None,
    retried: bool = False,
) -> Opened:
    """Start (or resume, or join) the run a stream follows; the caller tails its event log from `starting_after`."""
    opened = open_run(
        actor, target, request, door="stream", stream_tokens=stream_tokens, idempotency_key=idempotency_key, retried=retried
    )
    if opened.state is not None:
        lifecycle.start(opened.state)
    return opened
