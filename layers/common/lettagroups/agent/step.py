"""One Letta-style agent step: context → model → tools → chained calls, computed without writing anything.

Free of HTTP and Step Functions. The caller loads what the step reads (`load_step`), runs it (`run_step`) and writes
its result in one transaction (`commit`), adding whatever must change with it (a run's lock, events, completion).
`run_and_commit` does all three for callers that need nothing else.

- Context: system prompt + memory blocks (+ a per-request appendix), then the agent's visible history of the
  conversation (contract §7.2, `context.py`) trimmed to its context window, then this step's messages.
- Chaining: after a tool call the model is called again while the tool asks for it (`request_heartbeat`, a failed
  call, or a tool rule), at most `max_chained_steps` model calls.
- Idempotency: with a `step_key`, a step that already ran (same run, same key) is not run again; `load_step` finds
  its record and `run_step` returns its stored result (`StepResult.replayed`).
- Pausing: a call to a tool listed in `pause_on_tools` ends the step without running it (`paused_tool_call`); the
  caller runs it and resumes the agent with a step whose input is the tool return and `resume_after_tool=<tool>`.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ..dal import agents as agents_dal
from ..dal import messages as messages_dal
from ..dal import runs as runs_dal
from ..errors import NotFoundError
from ..ids import new_id
from ..models.messages import dump_message
from ..models.presentation import present_all, send_message_texts
from ..models.records import RequestConfig, StepRecord, Usage
from ..models.stored import StoredMessage
from ..models.stored_entities import AgentRecord, BlockRecord
from ..observability import metrics
from . import context
from .inputs import utc_now
from .memory import MemoryView
from .outputs import Author, Call, assistant_message, parse_call, tool_message, tool_schema
from .prompts import compose_system_prompt
from .providers import provider_for
from .providers.base import ChatRequest, ChatResponse, ModelProvider, ToolChoice, estimate_tokens
from .providers.errors import MalformedToolCallError, ModelTimeoutError
from .streaming import DeltaTranslator, EventSink
from .tool_rules import ToolRulesSolver
from .tools import DEFAULT_REGISTRY, ToolContext, ToolRegistry, ToolSpec, execute

DEFAULT_MAX_CHAINED_STEPS = int(os.environ.get("LETTA_MAX_CHAINED_STEPS", "6"))
MODEL_TIMEOUT_S = float(os.environ.get("LETTA_MODEL_TIMEOUT_S", "120"))
MAX_STEP_ITEMS = messages_dal.MAX_TRANSACTION_ACTIONS - 10  # room for the caller's own actions in the transaction
HISTORY_PAGE = 100
MESSAGE_TOOL = "send_message"  # group logic always reads replies from send_message (contract §3.6)


class MemoryEditConflictError(Exception):
    """A memory block edited by this step was changed by someone else meanwhile; run the step again."""

    retryable = True


@dataclass(frozen=True)
class StepRequest:
    """Everything that decides what one agent step does."""

    org_id: str
    agent_id: str
    conversation_id: str
    group_id: Optional[str] = None
    run_id: Optional[str] = None
    step_key: Optional[str] = None  # idempotency key within `run_id`
    inputs: Sequence[StoredMessage] = ()  # written with the step, tagged with group_id/run_id
    extra_tools: Sequence[Union[ToolSpec, str]] = ()  # tools for this step only (a spec, or a catalog name)
    tool_rules_override: Optional[list[dict[str, Any]]] = None  # replaces the agent's rules, never persisted
    pause_on_tools: Collection[str] = ()
    resume_after_tool: Optional[str] = None
    share_replies: bool = False  # replies are delivered to the other participants (round robin, dynamic, swarm)
    visible_after: Optional[str] = None  # where its view of the conversation starts (its membership): for all it reads
    history_after: Optional[str] = None  # and its context ignores history up to and including this message id
    system_appendix: Optional[str] = None
    stream_options: RequestConfig = field(default_factory=RequestConfig)  # how streamed and live messages are presented
    max_chained_steps: int = DEFAULT_MAX_CHAINED_STEPS
    timeout_s: float = MODEL_TIMEOUT_S
    deadline: Optional[float] = None  # time.monotonic() by which the model calls must be done


@dataclass
class Loaded:
    """What a step reads before it runs: the agent, its blocks, its history (newest first, lazily), its record."""

    agent: AgentRecord
    memory: MemoryView
    history: Iterator[StoredMessage]
    record: Optional[StepRecord] = None


@dataclass
class StepResult:
    messages: list[StoredMessage]  # everything the step writes (its inputs first), chronological; [] when replayed
    message_ids: list[str]
    input_ids: list[str]  # the user/system inputs among them (a resumed tool return counts as output)
    usage: Usage
    assistant_texts: list[str]  # what the agent said through send_message, in order
    stop_reason: str  # end_turn | no_tool_call | max_steps | paused
    step_ids: list[str] = field(default_factory=list)
    paused_tool_call: Optional[dict[str, Any]] = None  # {id, name, arguments, message_id}
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # [{name, arguments, status}] of executed calls
    block_updates: list[tuple[BlockRecord, int]] = field(default_factory=list)
    replayed: bool = False  # True: the step had run before; nothing is to be written
    seq_after: Optional[int] = None  # replayed: the run's last event sequence number once it was written

    @property
    def output_ids(self) -> list[str]:
        inputs = set(self.input_ids)
        return [i for i in self.message_ids if i not in inputs]

    @property
    def outputs(self) -> list[StoredMessage]:
        inputs = set(self.input_ids)
        return [m for m in self.messages if m.id not in inputs]

    def record(self, request: StepRequest, seq_after: Optional[int] = None) -> StepRecord:
        return StepRecord(
            step_key=str(request.step_key),
            agent_id=request.agent_id,
            conversation_id=request.conversation_id,
            message_ids=self.message_ids,
            input_message_ids=self.input_ids,
            output_message_ids=self.output_ids,
            usage=self.usage,
            assistant_texts=self.assistant_texts,
            stop_reason=self.stop_reason,
            step_ids=self.step_ids,
            paused_tool_call=self.paused_tool_call,
            tool_calls=self.tool_calls,
            seq_after=seq_after,
            created_at=utc_now().isoformat(),
        )

    @classmethod
    def replay(cls, record: StepRecord) -> StepResult:
        return cls(
            messages=[],
            message_ids=list(record.message_ids),
            input_ids=list(record.input_message_ids),
            usage=record.usage,
            assistant_texts=list(record.assistant_texts),
            stop_reason=record.stop_reason,
            step_ids=list(record.step_ids),
            paused_tool_call=record.paused_tool_call,
            tool_calls=list(record.tool_calls),
            replayed=True,
            seq_after=record.seq_after,
        )


# --- reading ------------------------------------------------------------------------------------------------------

_pool: Optional[ThreadPoolExecutor] = None
_pool_lock = threading.Lock()


def _reader() -> ThreadPoolExecutor:
    """Threads that read history while the agent is read (one per process, like the clients)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="step-read")
        return _pool


def _history(request: StepRequest) -> tuple[list[StoredMessage], Iterator[StoredMessage]]:
    after = max((a for a in (request.visible_after, request.history_after) if a), default=None)  # ids sort by time
    newest_first = messages_dal.iter_messages(
        request.org_id, request.conversation_id, after=after, descending=True, page_size=HISTORY_PAGE
    )
    return list(itertools.islice(newest_first, HISTORY_PAGE)), newest_first


def load_step(request: StepRequest) -> Loaded:
    """Read what the step needs in three requests: the agent and the step's record together, the newest page of the
    conversation at the same time (another thread), then the agent's blocks."""
    history = _reader().submit(_history, request)
    agent, record = agents_dal.get_agent_and_step_record(request.org_id, request.agent_id, request.run_id, request.step_key)
    if agent is None:
        history.cancel()
        raise NotFoundError(f"Agent not found with id={request.agent_id}")
    memory = MemoryView.load(request.org_id, agent) if record is None else MemoryView([])
    first_page, rest = history.result()
    return Loaded(agent=agent, memory=memory, history=itertools.chain(first_page, rest), record=record)


# --- the step -----------------------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class _Step:
    """The working state of one step: what it offers the model, what it has written so far, what it used."""

    def __init__(
        self, request: StepRequest, loaded: Loaded, provider: ModelProvider, registry: ToolRegistry, sink: Optional[EventSink]
    ) -> None:
        agent = loaded.agent
        self.request = request
        self.agent = agent
        self.llm_config: dict[str, Any] = dict(agent.llm_config)
        self.author = Author(
            org_id=request.org_id,
            conversation_id=request.conversation_id,
            group_id=request.group_id,
            run_id=request.run_id,
            agent_id=agent.id,
            agent_name=agent.name or agent.id,
            model=str(self.llm_config.get("model") or "") or None,
            share_replies=request.share_replies,
        )
        self.provider = provider
        self.registry = registry
        extra_names = [t if isinstance(t, str) else t.name for t in request.extra_tools]
        self.offered = [n for n in dict.fromkeys([*agent.tool_names, *extra_names]) if registry.get(n) is not None]
        rules = request.tool_rules_override if request.tool_rules_override is not None else agent.tool_rules
        ends_turn = {n for n in self.offered if (spec := registry.get(n)) is not None and spec.ends_turn}
        self.solver = ToolRulesSolver(rules, last_tool=request.resume_after_tool, ends_turn=ends_turn)
        self.kwargs_mode = (
            provider.inner_thoughts_in_kwargs and self.llm_config.get("put_inner_thoughts_in_kwargs", True) is not False
        )
        self.memory = loaded.memory
        self.sink = sink
        self.usage = Usage()
        self.written: list[StoredMessage] = []
        self.step_ids: list[str] = []
        self.assistant_texts: list[str] = []
        self.tool_calls: list[dict[str, Any]] = []

    def system_prompt(self) -> str:
        return compose_system_prompt(self.agent.system, self.memory.blocks, self.request.system_appendix)

    def budget(self) -> int:
        window = int(self.llm_config.get("context_window") or 8192)
        reserve = min(int(self.llm_config.get("max_tokens") or 0), window // 4)  # room for the answer
        return window - reserve

    def pinned(self) -> list[dict[str, Any]]:
        agent_id = self.author.agent_id
        return [c for m in self.written for c in context.to_chat(m, agent_id, inner_thoughts_in_kwargs=self.kwargs_mode)]

    def schemas(self, names: Sequence[str]) -> list[dict[str, Any]]:
        return [tool_schema(spec, self.kwargs_mode) for spec in (self.registry.get(n) for n in names) if spec is not None]

    def tool_choice(self, allowed: list[str]) -> ToolChoice:
        configured = self.llm_config.get("tool_choice")
        if len(allowed) == 1 and len(self.offered) > 1:
            return {"name": allowed[0]}  # a tool rule leaves exactly one choice
        if configured in ("auto", "required", "none"):
            return configured  # type: ignore[no-any-return]
        return "required" if allowed else "none"

    def tool_context(self) -> ToolContext:
        a = self.author
        return ToolContext(
            org_id=a.org_id,
            agent_id=a.agent_id,
            agent_name=a.agent_name,
            agent=self.agent,
            conversation_id=a.conversation_id,
            group_id=a.group_id,
            run_id=a.run_id,
            memory=self.memory,
            search=lambda query: context.search_lines(
                a.org_id, a.conversation_id, a.agent_id, query, after=self.request.visible_after
            ),
        )

    def call_model(self, window: context.Window, message_id: str, timeout_s: float) -> tuple[ChatResponse, Optional[Call]]:
        allowed = self.solver.allowed(self.offered)
        tools = self.schemas(allowed)
        system = self.system_prompt()
        pinned = self.pinned()
        history = window.messages(estimate_tokens(system) + estimate_tokens(tools) + context.tokens_of(pinned))
        request = ChatRequest(
            model=str(self.llm_config.get("model") or ""),
            system=system,
            messages=context.sanitize(history + pinned),
            tools=tools,
            tool_choice=self.tool_choice(allowed) if tools else "none",
            max_tokens=self.llm_config.get("max_tokens"),
            temperature=self.llm_config.get("temperature"),
            timeout_s=timeout_s,
            llm_config=self.llm_config,
            metadata={"agent_id": self.author.agent_id, "agent_name": self.author.agent_name},
        )
        for attempt in (1, 2):
            translator = None
            if self.sink is not None and self.provider.supports_token_streaming:
                translator = DeltaTranslator(
                    self.sink,
                    message_id=message_id,
                    agent_name=self.author.agent_name,
                    inner_thoughts_in_kwargs=self.kwargs_mode,
                    options=self.request.stream_options,
                )
            began = time.monotonic()
            response = self.provider.complete(request, translator)
            metrics.add_metric(name="ModelMilliseconds", unit="Milliseconds", value=(time.monotonic() - began) * 1000)
            self.usage = self.usage.plus(
                Usage(
                    prompt_tokens=response.usage.prompt_tokens,
                    completion_tokens=response.usage.completion_tokens,
                    total_tokens=response.usage.total_tokens,
                )
            )
            try:
                call = parse_call(response.tool_calls[0]) if response.tool_calls else None
            except MalformedToolCallError:
                if attempt == 2:
                    raise
                continue  # one immediate re-ask: models usually get it right the second time
            if translator is not None:
                translator.finish()
            self.usage = self.usage.plus(Usage(step_count=1))
            return response, call
        raise AssertionError("unreachable")

    def emit_live(self, message: StoredMessage) -> None:
        if self.sink is None:
            return
        for item in present_all([message], self.request.stream_options, live=True):
            self.sink(dump_message(item))

    def run_tool(self, call: Call, allowed: list[str]) -> tuple[str, str]:
        spec = self.registry.get(call.name)
        if spec is None or call.name not in self.offered:
            return f"Error executing function {call.name}: no tool named '{call.name}' is available", "error"
        if call.name not in allowed:
            return (
                f"Error executing function {call.name}: the tool rules do not allow '{call.name}' now (allowed: {allowed})",
                "error",
            )
        return execute(spec, self.tool_context(), call.args)


def _tag_input(message: StoredMessage, request: StepRequest) -> StoredMessage:
    if message.organization_id != request.org_id or message.conversation_id != request.conversation_id:
        raise ValueError(f"input {message.id} belongs to another conversation")
    return message.model_copy(
        update={"group_id": request.group_id or message.group_id, "run_id": message.run_id or request.run_id}
    )


def run_step(
    request: StepRequest,
    loaded: Loaded,
    *,
    provider: Optional[ModelProvider] = None,
    registry: Optional[ToolRegistry] = None,
    delta_sink: Optional[EventSink] = None,
) -> StepResult:
    """Run the step on what `load_step` read; nothing is written (see `commit`)."""
    if request.step_key is not None and not request.run_id:
        raise ValueError("step_key needs a run_id")
    if loaded.record is not None:
        return StepResult.replay(loaded.record)
    provider = provider or provider_for(loaded.agent.llm_config)
    step = _Step(request, loaded, provider, (registry or DEFAULT_REGISTRY).extended(request.extra_tools), delta_sink)
    inputs = [_tag_input(m, request) for m in request.inputs]
    step.written.extend(inputs)
    # A tool return handed in to resume a paused step is the agent's own output (it answers its call), so it is
    # reported and streamed with the outputs; user/system inputs are not (inputs are never echoed).
    input_ids = [m.id for m in inputs if m.role in ("user", "system")]
    for message in inputs:
        if message.role == "tool":
            step.emit_live(message)

    # Bound the chain so that the step always fits one transaction (two items per model call at most).
    room = MAX_STEP_ITEMS - len(inputs) - 1 - len(step.memory.blocks)
    max_calls = max(1, min(request.max_chained_steps, room // 2))
    budget = step.budget()
    fixed = estimate_tokens(step.system_prompt()) + context.tokens_of(step.pinned()) + estimate_tokens(step.schemas(step.offered))
    units = context.history_units(
        loaded.history, step.author.agent_id, budget_tokens=max(0, budget - fixed), inner_thoughts_in_kwargs=step.kwargs_mode
    )
    window = context.Window(units, budget)

    stop_reason = "max_steps"
    paused: Optional[dict[str, Any]] = None
    for _ in range(max_calls):
        call_timeout = request.timeout_s
        if request.deadline is not None:
            call_timeout = min(call_timeout, request.deadline - time.monotonic())
            if call_timeout <= 0:
                raise ModelTimeoutError("the step's deadline passed before the model answered", provider=provider.name)
        allowed = step.solver.allowed(step.offered)
        message_id, step_id = new_id("message"), new_id("step")
        response, call = step.call_model(window, message_id, call_timeout)
        step.step_ids.append(step_id)
        step.written.append(assistant_message(step.author, message_id, step_id, response, call, utc_now()))
        if call is None:
            stop_reason = "no_tool_call"
            break
        if call.name == MESSAGE_TOOL:
            step.assistant_texts += send_message_texts(step.written[-1])
        if call.name in request.pause_on_tools:
            paused = {"id": call.id, "name": call.name, "arguments": call.args, "message_id": message_id}
            stop_reason = "paused"
            break
        raw, status = step.run_tool(call, allowed)
        step.tool_calls.append({"name": call.name, "arguments": call.args, "status": status})
        if status != "success":
            step.written[-1].shared = False  # a call that failed (e.g. a refused handoff) is no news for the others
        tool = tool_message(step.author, step_id, call, raw, status, utc_now())
        step.written.append(tool)
        step.emit_live(tool)
        step.solver.record(call.name)
        if not step.solver.continues_after(call.name, _truthy(call.args.get("request_heartbeat")), status == "error"):
            stop_reason = "end_turn"
            break

    for message in step.written:
        if message.role == "tool" and message.step_id is None and step.step_ids:
            message.step_id = step.step_ids[0]  # a resumed tool return belongs to the step it resumes
    return StepResult(
        messages=list(step.written),
        message_ids=[m.id for m in step.written],
        input_ids=input_ids,
        usage=step.usage,
        assistant_texts=list(step.assistant_texts),
        stop_reason=stop_reason,
        step_ids=list(step.step_ids),
        paused_tool_call=paused,
        tool_calls=step.tool_calls,
        block_updates=step.memory.updates(),
    )


def commit(
    request: StepRequest, result: StepResult, extra_actions: Sequence[dict[str, Any]] = (), seq_after: Optional[int] = None
) -> StepResult:
    """Write the step (with `extra_actions`) in one transaction. A step recorded meanwhile by another attempt wins:
    its stored result is returned instead (nothing of ours is written)."""
    if result.replayed:
        return result
    record = result.record(request, seq_after) if request.step_key is not None else None
    try:
        messages_dal.put_step(
            request.org_id,
            request.conversation_id,
            result.messages,
            record,
            run_id=request.run_id,
            block_updates=result.block_updates,
            extra_actions=extra_actions,
        )
    except messages_dal.StepAlreadyRecorded:
        stored = runs_dal.get_step_records(request.org_id, str(request.run_id), [str(request.step_key)]).get(
            str(request.step_key)
        )
        if stored is None:
            raise
        return StepResult.replay(stored)
    except messages_dal.BlockVersionConflict as exc:
        raise MemoryEditConflictError(str(exc)) from exc
    return result


def run_and_commit(
    request: StepRequest,
    *,
    provider: Optional[ModelProvider] = None,
    registry: Optional[ToolRegistry] = None,
    delta_sink: Optional[EventSink] = None,
) -> StepResult:
    """Load, run and write one step, with nothing else in its transaction."""
    result = run_step(request, load_step(request), provider=provider, registry=registry, delta_sink=delta_sink)
    return commit(request, result)
