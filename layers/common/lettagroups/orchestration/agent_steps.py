"""How group tasks run agent steps: the bridge between the state machine's tasks and the agent
runtime, plus what a step streams to the run's event log."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Optional

from ..agent import context as agent_context
from ..agent import inputs
from ..agent import step as agent_step_module
from ..agent.providers import supports_token_streaming
from ..agent.providers.errors import ModelError
from ..agent.streaming import StreamOptions
from ..dal import agents as agents_dal
from ..dal import events as events_dal
from ..dal import groups as groups_dal
from ..dal import messages as messages_dal
from ..dal import runs as runs_dal
from ..dal.messages import BlockVersionConflict
from ..errors import DomainError, StorageUnavailableError
from ..logic import presentation
from ..models.messages import LettaUsageStatistics
from ..models.stored import StoredMessage
from ..observability import logger
from ..streaming import frames
from .context import RetryableStepError, RunContext, StepFailedError

DELTA_BATCH_EVENTS = 50
DELTA_BATCH_SECONDS = 0.15
_trace = logging.getLogger("lettagroups.streaming.trace")


@dataclass
class StepOutcome:
    message_ids: list[str]
    usage: LettaUsageStatistics
    assistant_texts: list[str]
    paused_tool_call: Optional[dict[str, Any]]


class _DeltaBatcher:
    """Collects token events and appends them to the event log in small batches (not one write per token).

    A batch goes out when it holds `DELTA_BATCH_EVENTS` events or when `DELTA_BATCH_SECONDS` have passed since
    the last write: the first delta after a quiet spell is written at once, later ones wait at most that long
    (a timer writes them even if the model goes quiet, e.g. while a tool runs). Writes are serialized, so
    batches keep their order. With the `lettagroups.streaming.trace` logger at DEBUG, every written frame is
    logged with its sequence number and wall-clock times (produced, write started, written); see
    scripts/bench_stream.py. Nothing about the wire format changes.
    """

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.pending: list[tuple[str, float]] = []  # (frame, wall time the delta reached us)
        self.last_flush = time.monotonic() - DELTA_BATCH_SECONDS
        self.lock = threading.Lock()  # pending, last_flush, timer
        self.write_lock = threading.Lock()  # one append at a time, in order
        self.timer: Optional[threading.Timer] = None

    def __call__(self, event: dict[str, Any]) -> None:
        frame = frames.delta_frame(event)
        with self.lock:
            self.pending.append((frame, time.time()))
            waited = time.monotonic() - self.last_flush
            due = len(self.pending) >= DELTA_BATCH_EVENTS or waited >= DELTA_BATCH_SECONDS
            if not due and self.timer is None:
                self.timer = threading.Timer(DELTA_BATCH_SECONDS - waited, self._on_timer)
                self.timer.daemon = True
                self.timer.start()
        if due:
            self.flush()

    def _on_timer(self) -> None:
        with self.lock:
            self.timer = None
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the frames stay pending; the next flush writes them
            logger.warning("token batch write failed; retrying with the next batch", exc_info=True)

    def flush(self, once_key: Optional[str] = None) -> None:
        """Write what is pending. With `once_key`, the write also marks that key done (even if nothing is pending)."""
        with self.write_lock:
            with self.lock:
                batch, self.pending = self.pending, []
                self.last_flush = time.monotonic()
                if self.timer is not None:
                    self.timer.cancel()
                    self.timer = None
            if not batch and once_key is None:
                return
            started = time.time()
            try:
                seqs = events_dal.append(self.ctx.org_id, self.ctx.run_id, [f for f, _ in batch], once_key=once_key)
            except BaseException:
                with self.lock:
                    self.pending[:0] = batch
                raise
            if _trace.isEnabledFor(logging.DEBUG):
                written = time.time()
                for seq, (_, produced) in zip(seqs, batch):
                    _trace.debug("frame", extra={"run_id": self.ctx.run_id, "seq": seq, "t": (produced, started, written)})

    def close(self) -> None:
        """Stop the timer (a failed step) and write what is pending, without raising."""
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the run's error frame follows; losing a last delta is acceptable
            logger.warning("could not write the last token batch of a failed step", exc_info=True)


def _request_config(ctx: RunContext) -> dict[str, Any]:
    run = runs_dal.get_run(ctx.org_id, ctx.run_id) or {}
    return run.get("request_config") or {}


def agent_step(
    ctx: RunContext,
    agent_id: str,
    *,
    inputs: list[StoredMessage],
    step_key: str,
    share_replies: bool,
    stream: bool = True,
    extra_tools: Collection[str] = (),
    tool_rules_override: Optional[list[dict[str, Any]]] = None,
    stop_after_tools: Collection[str] = (),
    after_tool: Optional[str] = None,
    history_after: Optional[str] = None,
    system_appendix: Optional[str] = None,
) -> StepOutcome:
    """One idempotent agent step of a group run. Model failures become the errors the state
    machine retries (`RetryableStepError`) or gives up on (`StepFailedError`)."""
    config = _request_config(ctx) if stream else {}
    options = StreamOptions(
        use_assistant_message=config.get("use_assistant_message", True),
        assistant_message_tool_name=config.get("assistant_message_tool_name", "send_message"),
        assistant_message_tool_kwarg=config.get("assistant_message_tool_kwarg", "message"),
    )
    batcher: Optional[_DeltaBatcher] = None
    if stream and config.get("stream_tokens"):
        agent = agents_dal.get_agent(ctx.org_id, agent_id) or {}
        if supports_token_streaming(agent.get("llm_config") or {}):
            batcher = _DeltaBatcher(ctx)
    try:
        try:
            result = agent_step_module.run_step(
                ctx.org_id,
                agent_id,
                ctx.conversation_id,
                ctx.group_id,
                ctx.run_id,
                inputs,
                extra_tools=list(extra_tools),
                tool_rules_override=tool_rules_override,
                step_key=step_key,
                delta_sink=batcher,
                share_replies=share_replies,
                pause_on_tools=set(stop_after_tools),
                resume_after_tool=after_tool,
                history_after=history_after,
                system_appendix=system_appendix,
                stream_options=options,
            )
        except BaseException:
            if batcher is not None:
                batcher.close()  # what the model said before the failure reaches the client before the error frame
            raise
    except ModelError as exc:
        # Structured, so the run's failure handler can tell a rate limit or an overflowing context
        # (which the SSE error frame names) from anything else, whichever attempt was the last.
        reason = json.dumps({"status": exc.run_status, "detail": str(exc), "code": exc.code})
        if exc.retryable:
            raise RetryableStepError(reason) from exc
        raise StepFailedError(reason) from exc
    except (BlockVersionConflict, agent_step_module.MemoryEditConflictError) as exc:
        raise RetryableStepError(f"memory edit conflict: {exc}") from exc
    except StorageUnavailableError as exc:
        raise RetryableStepError(f"storage unavailable: {exc}") from exc
    except DomainError as exc:
        # A missing object or a rule violation mid-run (e.g. an agent deleted meanwhile): the run fails with
        # that status (§4.7 "In-run failure"); `tasks.fail` reads this JSON back.
        status = exc.status_code if exc.status_code in (400, 404) else 500
        raise StepFailedError(json.dumps({"status": status, "detail": exc.detail})) from exc
    if batcher is not None and not result.replayed:
        # The last deltas and the step's "streamed" mark go in one write, so a re-run task streams nothing twice.
        batcher.flush(once_key=_step_stream_key(step_key))
    elif stream:
        # Step mode; or a token-mode step that had already run (its task is re-running): if its deltas never
        # made it to the log, the whole messages do now, once.
        stream_step(ctx, step_key, result.outputs, options)
    return StepOutcome(
        message_ids=[m.id for m in result.outputs],
        usage=result.usage,
        assistant_texts=list(result.assistant_texts),
        paused_tool_call=result.paused_tool_call,
    )


def stream_step(ctx: RunContext, step_key: str, outputs: list[StoredMessage], options: StreamOptions) -> None:
    """Step streaming: the step's messages as whole frames, once per step even if the task re-runs."""
    presented = presentation.present_all(outputs, dataclasses.asdict(options), live=True)
    out = [frames.message_frame(m) for m in presented]
    events_dal.append(ctx.org_id, ctx.run_id, out, once_key=_step_stream_key(step_key))


def _step_stream_key(step_key: str) -> str:
    return f"step:{step_key}"


def build_input(
    ctx: RunContext, *, role: str, text: str, recipient_id: Optional[str], sender_id: Optional[str], name: Optional[str] = None
) -> StoredMessage:
    return inputs.build_input_message(
        ctx.org_id,
        ctx.conversation_id,
        role=role,
        text=text,
        group_id=ctx.group_id,
        run_id=ctx.run_id,
        recipient_id=recipient_id,
        sender_id=sender_id,
        name=name,
    )


def build_tool_return(ctx: RunContext, agent_id: str, call: dict[str, Any], text: str) -> StoredMessage:
    return inputs.build_tool_return_message(
        ctx.org_id,
        ctx.conversation_id,
        agent_id=agent_id,
        tool_call_id=call["id"],
        tool_name=call["name"],
        raw=text,
        group_id=ctx.group_id,
        run_id=ctx.run_id,
    )


def paused_tool_call(ctx: RunContext, step_key: str) -> dict[str, Any]:
    record = messages_dal.get_step_record(ctx.org_id, ctx.run_id, step_key) or {}
    call = record.get("paused_tool_call")
    if not call:
        raise StepFailedError(f"step {step_key} of run {ctx.run_id} did not pause on a tool call")
    return dict(call)


def run_messages(ctx: RunContext) -> list[StoredMessage]:
    """The run's messages (its inputs and every step's), read by key, so strongly consistent."""
    run = runs_dal.get_run(ctx.org_id, ctx.run_id) or {}
    ids = list(run.get("input_message_ids") or [])
    for record in runs_dal.list_step_records(ctx.org_id, ctx.run_id):
        ids.extend(record.get("message_ids") or [])
    return messages_dal.get_messages(ctx.org_id, ctx.conversation_id, sorted(set(ids)))


def chat_history_lines(ctx: RunContext) -> list[str]:
    """The dynamic manager's view of this run: inputs and participants' replies, one line each."""
    lines: list[str] = []
    for message in run_messages(ctx):
        if message.role in ("user", "system") and message.recipient_id is None:
            lines.append(f"{message.name or 'user'}: {presentation.unpack_message(message.text())}")
        elif message.role == "assistant" and message.shared:
            for text in presentation.send_message_texts(message):
                lines.append(f"{message.name or message.agent_id}: {text}")
    return lines


def prepare_dynamic_manager(ctx: RunContext, group: dict[str, Any]) -> None:
    """For each participant, a block labelled with its id holding its persona, on the manager (contract §8.3)."""
    from ..logic.dynamic import attach_participant_personas

    try:
        attach_participant_personas(ctx.actor, group)
    except agents_dal.ConditionFailed as exc:
        raise RetryableStepError("manager blocks changed concurrently") from exc


def messages_between(ctx: RunContext, *, after: Optional[str], before: Optional[str], limit: int) -> list[StoredMessage]:
    return messages_dal.list_messages(ctx.org_id, ctx.conversation_id, after=after, before=before, limit=limit)


def agent_history(
    ctx: RunContext, agent_id: str, *, after: Optional[str] = None, until: Optional[str] = None
) -> list[StoredMessage]:
    """What the agent has in its context from this conversation, strictly between the cursors: the same
    visibility rules as the agent step (inputs for everyone or for it, its own messages, peers' shared
    replies), so background agents' traffic never counts as the agent's."""
    return [
        message
        for message in messages_dal.iter_messages(ctx.org_id, ctx.conversation_id, after=after, before=until)
        if agent_context.visibility(message, agent_id) is not None
    ]


def plan_trim(ctx: RunContext, agent_id: str, cut: Optional[str], max_len: int, min_len: int) -> Optional[tuple[str, str]]:
    """Voice buffer (contract §8.5): when the agent's in-context messages (the system message and those after
    the current cut, as Letta counts them) exceed `max_len`, keep the system message and about the last
    `min_len`, moving the cut forward to the next user message.
    Returns (the last evicted id = the new cut, the last in-context id), or None when nothing is trimmed."""
    visible = agent_history(ctx, agent_id, after=cut)
    if 1 + len(visible) <= max_len:
        return None
    keep_from = max(len(visible) - min_len, 0)
    while keep_from < len(visible) and visible[keep_from].role != "user":
        keep_from += 1
    if keep_from == 0 or keep_from >= len(visible):
        return None
    return visible[keep_from - 1].id, visible[-1].id


def membership_cut(ctx: RunContext, agent_id: str) -> Optional[str]:
    """Where a participant's view of the group starts: the group messages since it became a participant
    (contract §7.2, O-9). None for agents that are not participants (managers)."""
    return groups_dal.get_membership_since(ctx.org_id, agent_id, ctx.group_id)
