"""How group tasks run agent steps: the bridge between the state machine's tasks and the agent
runtime, plus what a step streams to the run's event log."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Optional

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
from ..logic import presentation
from ..models.messages import LettaUsageStatistics
from ..models.stored import StoredMessage
from ..streaming import frames
from .context import RetryableStepError, RunContext, StepFailedError

DELTA_BATCH_EVENTS = 50
DELTA_BATCH_SECONDS = 0.3


@dataclass
class StepOutcome:
    message_ids: list[str]
    usage: LettaUsageStatistics
    assistant_texts: list[str]
    paused_tool_call: Optional[dict[str, Any]]


class _DeltaBatcher:
    """Collects token events and appends them to the event log in small batches (not one write per token)."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.pending: list[str] = []
        self.last_flush = time.monotonic()
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.pending.append(frames.delta_frame(event))
            due = len(self.pending) >= DELTA_BATCH_EVENTS or time.monotonic() - self.last_flush >= DELTA_BATCH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
            self.last_flush = time.monotonic()
        if batch:
            events_dal.append(self.ctx.org_id, self.ctx.run_id, batch)


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
            stream_options=options,
        )
    except ModelError as exc:
        if batcher:
            batcher.flush()
        if exc.retryable:
            raise RetryableStepError(f"{type(exc).__name__}: {exc}") from exc
        raise StepFailedError(str(exc)) from exc
    except (BlockVersionConflict, agent_step_module.MemoryEditConflictError) as exc:
        raise RetryableStepError(f"memory edit conflict: {exc}") from exc
    if batcher:
        batcher.flush()
    elif stream:
        stream_step(ctx, step_key, result.outputs, options)
    return StepOutcome(
        message_ids=[m.id for m in result.outputs],
        usage=result.usage,
        assistant_texts=list(result.assistant_texts),
        paused_tool_call=result.paused_tool_call,
    )


def stream_step(ctx: RunContext, step_key: str, outputs: list[StoredMessage], options: StreamOptions) -> None:
    """Step streaming: the step's messages as whole frames, once per step even if the task re-runs."""
    out: list[str] = []
    for message in outputs:
        for presented in presentation.to_letta_messages(
            message,
            use_assistant_message=options.use_assistant_message,
            assistant_message_tool_name=options.assistant_message_tool_name,
            assistant_message_tool_kwarg=options.assistant_message_tool_kwarg,
            live=True,
        ):
            out.append(frames.message_frame(presented))
    events_dal.append(ctx.org_id, ctx.run_id, out, once_key=f"step:{step_key}")


def build_input(
    ctx: RunContext, *, role: str, text: str, recipient_id: Optional[str], sender_id: Optional[str], name: Optional[str] = None
) -> StoredMessage:
    return agent_step_module.build_input_message(
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
    return agent_step_module.build_tool_return_message(
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


def chat_history_lines(ctx: RunContext, state: dict[str, Any]) -> list[str]:
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


def agent_history(ctx: RunContext, agent_id: str, until: Optional[str]) -> list[StoredMessage]:
    """What the agent has in this conversation (its own messages and those addressed to everyone or to it)."""
    out = []
    for message in messages_dal.iter_messages(ctx.org_id, ctx.conversation_id, before=until):
        if message.agent_id == agent_id or message.recipient_id in (None, agent_id):
            out.append(message)
    return out


def trim_context(ctx: RunContext, agent_id: str, max_len: int, min_len: int) -> Optional[str]:
    """Voice buffer (contract §8.5): when the agent's in-context messages exceed `max_len`, keep about the
    last `min_len`, moving the cut forward to the next user message. Returns the last evicted id."""
    group = groups_dal.get_group(ctx.org_id, ctx.group_id)
    if group is None:
        return None
    cut = group.get("context_after_message_id")
    visible = [
        m
        for m in messages_dal.iter_messages(ctx.org_id, ctx.conversation_id, after=cut)
        if m.agent_id == agent_id or m.recipient_id in (None, agent_id)
    ]
    if len(visible) <= max_len:
        return None
    keep_from = max(len(visible) - min_len, 0)
    while keep_from < len(visible) and visible[keep_from].role != "user":
        keep_from += 1
    if keep_from == 0 or keep_from >= len(visible):
        return None
    evicted_until = visible[keep_from - 1].id
    try:
        groups_dal.update_group_fields(ctx.org_id, ctx.group_id, group["version"], {"context_after_message_id": evicted_until})
    except groups_dal.TransactionConflict as exc:
        raise RetryableStepError("group changed while trimming the voice context") from exc
    return evicted_until


def context_cut(ctx: RunContext) -> Optional[str]:
    group = groups_dal.get_group(ctx.org_id, ctx.group_id) or {}
    return group.get("context_after_message_id")
