"""One Letta-style agent step: context → model → tools → chained calls → one all-or-nothing write.

Free of HTTP and Step Functions: the group runners call `run_step` once per agent turn.

- Context: system prompt + memory blocks (+ a per-request appendix), then the agent's visible history of the
  conversation (contract §7.2, `context.py`) trimmed to its context window, then this step's messages.
- Chaining: after a tool call the model is called again while the tool asks for it (`request_heartbeat`, a
  failed call, or a tool rule), at most `max_chained_steps` model calls.
- Persistence: the inputs, every produced message, the memory-block edits and the idempotency record are
  written in one transaction at the end. Any failure before that leaves storage exactly as it was.
- Idempotency: with a `step_key`, a step that already ran (same run, same key) is not run again; its stored
  result is returned (`StepResult.replayed`).
- Pausing: a call to a tool listed in `pause_on_tools` ends the step without running it
  (`StepResult.paused_tool_call`); the caller runs it and resumes the agent with a new step whose input is the
  tool return (`build_tool_return_message`) and `resume_after_tool=<tool>`, so the tool rules continue from it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ..dal import agents as agents_dal
from ..dal import messages as messages_dal
from ..errors import NotFoundError
from ..ids import new_id
from ..logic.presentation import (
    pack_tool_return,
    parse_arguments,
    present_all,
    send_message_texts,
)
from ..models.messages import LettaUsageStatistics, dump_message
from ..models.stored import StoredMessage
from . import context
from .inputs import utc_now
from .memory import MemoryView
from .prompts import compose_system_prompt
from .providers import provider_for
from .providers.base import ChatRequest, ChatResponse, ModelProvider, ToolCallOut, ToolChoice, estimate_tokens
from .providers.errors import ContextWindowExceededError, MalformedToolCallError, ModelTimeoutError
from .streaming import INNER_THOUGHTS, DeltaTranslator, EventSink, StreamOptions
from .tool_rules import ToolRulesSolver
from .tools import DEFAULT_REGISTRY, ToolContext, ToolRegistry, ToolSpec, execute

DEFAULT_MAX_CHAINED_STEPS = int(os.environ.get("LETTA_MAX_CHAINED_STEPS", "6"))
MODEL_TIMEOUT_S = float(os.environ.get("LETTA_MODEL_TIMEOUT_S", "120"))
MAX_STEP_ITEMS = messages_dal.MAX_TRANSACTION_ACTIONS
MESSAGE_TOOL = "send_message"  # group logic always reads replies from send_message (contract §3.6)
_INNER_THOUGHTS_SCHEMA = {"type": "string", "description": "Deep inner monologue private to you only."}


class MemoryEditConflictError(Exception):
    """A memory block edited by this step was changed by someone else meanwhile; run the step again."""

    retryable = True


@dataclass
class StepResult:
    messages: list[StoredMessage]  # everything the step wrote (its inputs first), chronological
    input_ids: list[str]  # the user/system inputs among them (a resumed tool return counts as output)
    usage: LettaUsageStatistics
    assistant_texts: list[str]  # what the agent said through send_message, in order
    stop_reason: str  # end_turn | no_tool_call | max_steps | paused
    step_ids: list[str] = field(default_factory=list)
    paused_tool_call: Optional[dict[str, Any]] = None  # {id, name, arguments, message_id}
    replayed: bool = False  # True: the step had run before; nothing was written now

    @property
    def outputs(self) -> list[StoredMessage]:
        inputs = set(self.input_ids)
        return [m for m in self.messages if m.id not in inputs]


# --- the step ---------------------------------------------------------------------------------------------------


def _schema(spec: ToolSpec, inner_thoughts: bool) -> dict[str, Any]:
    schema = copy.deepcopy(spec.schema)
    schema.setdefault("name", spec.name)
    if inner_thoughts:
        params = schema.setdefault("parameters", {"type": "object", "properties": {}, "required": []})
        params["properties"] = {INNER_THOUGHTS: _INNER_THOUGHTS_SCHEMA, **(params.get("properties") or {})}
        params["required"] = [INNER_THOUGHTS, *[r for r in params.get("required") or [] if r != INNER_THOUGHTS]]
    return schema


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@dataclass
class _Call:
    id: str
    name: str
    args: dict[str, Any]
    thoughts: Optional[str]


def _parse_call(call: ToolCallOut) -> _Call:
    try:
        args = json.loads(call.arguments or "{}")
    except ValueError as exc:
        raise MalformedToolCallError(f"tool call {call.name!r} has arguments that are not JSON") from exc
    if not isinstance(args, dict) or not call.name:
        raise MalformedToolCallError(f"tool call {call.name!r} has arguments that are not a JSON object")
    thoughts = args.pop(INNER_THOUGHTS, None)
    return _Call(
        id=call.id or f"call_{uuid.uuid4().hex[:24]}", name=call.name, args=args, thoughts=str(thoughts) if thoughts else None
    )


class _Window:
    """History units that fit next to the fixed parts of the prompt; the oldest go first when space runs out."""

    def __init__(self, units: list[context.HistoryUnit], budget: int) -> None:
        self.units = units
        self.budget = budget

    def messages(self, fixed_tokens: int) -> list[dict[str, Any]]:
        while self.units and fixed_tokens + sum(u.tokens for u in self.units) > self.budget:
            self.units.pop(0)
        if fixed_tokens > self.budget:
            raise ContextWindowExceededError(
                f"The step's prompt needs about {fixed_tokens} tokens; the context window allows {self.budget}", provider="letta"
            )
        return [m for u in self.units for m in u.messages]


class _Step:
    def __init__(
        self,
        org_id: str,
        agent: dict[str, Any],
        conversation_id: str,
        group_id: Optional[str],
        run_id: Optional[str],
        provider: ModelProvider,
        registry: ToolRegistry,
        offered: list[str],
        solver: ToolRulesSolver,
        options: StreamOptions,
        delta_sink: Optional[EventSink],
        share_replies: bool,
        system_appendix: Optional[str],
    ) -> None:
        self.org_id = org_id
        self.agent = agent
        self.agent_id = str(agent["id"])
        self.agent_name = str(agent.get("name") or self.agent_id)
        self.conversation_id = conversation_id
        self.group_id = group_id
        self.run_id = run_id
        self.provider = provider
        self.llm_config: dict[str, Any] = dict(agent.get("llm_config") or {})
        self.kwargs_mode = (
            provider.inner_thoughts_in_kwargs and self.llm_config.get("put_inner_thoughts_in_kwargs", True) is not False
        )
        self.registry = registry
        self.offered = offered
        self.solver = solver
        self.options = options
        self.delta_sink = delta_sink
        self.share_replies = share_replies
        self.system_appendix = system_appendix
        self.memory = MemoryView.load(org_id, agent)
        self.usage = LettaUsageStatistics()
        self.written: list[StoredMessage] = []
        self.step_ids: list[str] = []
        self.assistant_texts: list[str] = []

    # context
    def system_prompt(self) -> str:
        return compose_system_prompt(str(self.agent.get("system") or ""), self.memory.blocks, self.system_appendix)

    def budget(self) -> int:
        window = int(self.llm_config.get("context_window") or 8192)
        reserve = min(int(self.llm_config.get("max_tokens") or 0), window // 4)  # room for the answer
        return window - reserve

    def pinned(self) -> list[dict[str, Any]]:
        return [c for m in self.written for c in context.to_chat(m, self.agent_id, inner_thoughts_in_kwargs=self.kwargs_mode)]

    def tool_choice(self, allowed: list[str]) -> ToolChoice:
        configured = self.llm_config.get("tool_choice")
        if len(allowed) == 1 and len(self.offered) > 1:
            return {"name": allowed[0]}  # a tool rule leaves exactly one choice
        if configured in ("auto", "required", "none"):
            return configured  # type: ignore[no-any-return]
        return "required" if allowed else "none"

    def tool_context(self) -> ToolContext:
        return ToolContext(
            org_id=self.org_id,
            agent_id=self.agent_id,
            agent_name=self.agent_name,
            agent=self.agent,
            conversation_id=self.conversation_id,
            group_id=self.group_id,
            run_id=self.run_id,
            memory=self.memory,
            search=lambda query: context.search_lines(self.org_id, self.conversation_id, self.agent_id, query),
        )

    # model
    def call_model(self, window: _Window, message_id: str, timeout_s: float) -> tuple[ChatResponse, Optional[_Call]]:
        allowed = self.solver.allowed(self.offered)
        tools = [_schema(self.registry.get(n), self.kwargs_mode) for n in allowed]  # type: ignore[arg-type]
        system = self.system_prompt()
        pinned = self.pinned()
        fixed = estimate_tokens(system) + estimate_tokens(tools) + context.tokens_of(pinned)
        history = window.messages(fixed)
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
            metadata={"agent_id": self.agent_id, "agent_name": self.agent_name},
        )
        for attempt in (1, 2):
            translator = None
            if self.delta_sink is not None and self.provider.supports_token_streaming:
                translator = DeltaTranslator(
                    self.delta_sink,
                    message_id=message_id,
                    agent_name=self.agent_name,
                    inner_thoughts_in_kwargs=self.kwargs_mode,
                    options=self.options,
                )
            response = self.provider.complete(request, translator)
            self.usage.prompt_tokens += response.usage.prompt_tokens
            self.usage.completion_tokens += response.usage.completion_tokens
            self.usage.total_tokens += response.usage.total_tokens
            try:
                call = _parse_call(response.tool_calls[0]) if response.tool_calls else None
            except MalformedToolCallError:
                if attempt == 2:
                    raise
                continue  # one immediate re-ask: models usually get it right the second time
            if translator is not None:
                translator.finish()
            self.usage.step_count += 1
            return response, call
        raise AssertionError("unreachable")

    # messages
    def assistant_message(self, message_id: str, step_id: str, response: ChatResponse, call: Optional[_Call]) -> StoredMessage:
        content: list[dict[str, Any]] = []
        if response.reasoning:
            content.append(
                {
                    "type": "reasoning",
                    "is_native": True,
                    "reasoning": response.reasoning,
                    "signature": response.reasoning_signature,
                }
            )
        if response.redacted_reasoning:
            content.append({"type": "redacted_reasoning", "data": response.redacted_reasoning})
        if response.text:
            content.append({"type": "text", "text": response.text})
        if call is not None and call.thoughts:
            content.append({"type": "text", "text": call.thoughts})
        tool_calls = None
        if call is not None:
            arguments = json.dumps(call.args, ensure_ascii=False)
            tool_calls = [{"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}]
        return StoredMessage(
            id=message_id,
            organization_id=self.org_id,
            conversation_id=self.conversation_id,
            group_id=self.group_id,
            agent_id=self.agent_id,
            role="assistant",
            content=content,
            name=self.agent_name,
            model=str(self.llm_config.get("model") or "") or None,
            tool_calls=tool_calls,
            step_id=step_id,
            run_id=self.run_id,
            created_at=utc_now(),
            shared=self.share_replies,
        )

    def tool_message(self, step_id: str, call: _Call, raw: str, status: str) -> StoredMessage:
        now = utc_now()
        return StoredMessage(
            id=new_id("message"),
            organization_id=self.org_id,
            conversation_id=self.conversation_id,
            group_id=self.group_id,
            agent_id=self.agent_id,
            role="tool",
            content=[{"type": "text", "text": pack_tool_return(status == "success", raw, now)}],
            name=call.name,
            model=str(self.llm_config.get("model") or "") or None,
            tool_call_id=call.id,
            tool_returns=[{"status": status, "raw": raw}],
            step_id=step_id,
            run_id=self.run_id,
            created_at=now,
        )

    def emit_live(self, message: StoredMessage) -> None:
        if self.delta_sink is None:
            return
        for item in present_all([message], dataclasses.asdict(self.options), live=True):
            self.delta_sink(dump_message(item))

    def run_tool(self, call: _Call, allowed: list[str]) -> tuple[str, str]:
        spec = self.registry.get(call.name)
        if spec is None or call.name not in self.offered:
            return f"Error executing function {call.name}: no tool named '{call.name}' is available", "error"
        if call.name not in allowed:
            return (
                f"Error executing function {call.name}: the tool rules do not allow '{call.name}' now (allowed: {allowed})",
                "error",
            )
        return execute(spec, self.tool_context(), call.args)


def _tag_input(
    message: StoredMessage, org_id: str, conversation_id: str, group_id: Optional[str], run_id: Optional[str]
) -> StoredMessage:
    if message.organization_id != org_id or message.conversation_id != conversation_id:
        raise ValueError(f"input {message.id} belongs to another conversation")
    return message.model_copy(update={"group_id": group_id or message.group_id, "run_id": message.run_id or run_id})


def _replay(org_id: str, record: dict[str, Any]) -> StepResult:
    messages = messages_dal.get_messages(org_id, str(record.get("conversation_id")), list(record.get("message_ids") or []))
    raw = record.get("usage") or {}
    usage = LettaUsageStatistics(
        completion_tokens=int(raw.get("completion_tokens", 0)),
        prompt_tokens=int(raw.get("prompt_tokens", 0)),
        total_tokens=int(raw.get("total_tokens", 0)),
        step_count=int(raw.get("step_count", 0)),
    )
    return StepResult(
        messages=messages,
        input_ids=list(record.get("input_message_ids") or []),
        usage=usage,
        assistant_texts=list(record.get("assistant_texts") or []),
        stop_reason=str(record.get("stop_reason") or "end_turn"),
        step_ids=list(record.get("step_ids") or []),
        paused_tool_call=record.get("paused_tool_call"),
        replayed=True,
    )


def run_step(
    org_id: str,
    agent_id: str,
    conversation_id: str,
    group_id: Optional[str],
    run_id: Optional[str],
    new_inputs: Sequence[StoredMessage] = (),
    *,
    extra_tools: Sequence[Union[ToolSpec, str]] = (),
    tool_rules_override: Optional[list[dict[str, Any]]] = None,
    step_key: Optional[str] = None,
    delta_sink: Optional[EventSink] = None,
    max_chained_steps: int = DEFAULT_MAX_CHAINED_STEPS,
    share_replies: bool = False,
    pause_on_tools: Collection[str] = (),
    resume_after_tool: Optional[str] = None,
    system_appendix: Optional[str] = None,
    history_after: Optional[str] = None,
    stream_options: Optional[StreamOptions] = None,
    provider: Optional[ModelProvider] = None,
    registry: Optional[ToolRegistry] = None,
    timeout_s: float = MODEL_TIMEOUT_S,
    deadline: Optional[float] = None,
) -> StepResult:
    """Run one agent step and persist it all-or-nothing. See the module docstring for the semantics.

    - `new_inputs`: stored-message inputs (`build_input_message`, `input_from_create`, `build_tool_return_message`),
      written with the step and tagged with `group_id`/`run_id`;
    - `extra_tools`: tools for this step only (a `ToolSpec`, or a catalog name for a schema-only tool);
    - `tool_rules_override`: replaces the agent's tool rules for this step (never persisted);
    - `step_key`: idempotency key within `run_id`;
    - `delta_sink`: receives token-streaming events (reasoning/assistant/tool-call deltas, whole tool returns);
    - `share_replies`: the agent's assistant messages are delivered to the other participants (round robin, dynamic);
    - `history_after`: ignore history up to and including this message id (context cut);
    - `deadline`: `time.monotonic()` value by which the model calls must be done.
    """
    if step_key is not None and not run_id:
        raise ValueError("step_key needs a run_id")
    if step_key is not None:
        record = messages_dal.get_step_record(org_id, str(run_id), step_key)
        if record is not None:
            return _replay(org_id, record)
    agent = agents_dal.get_agent(org_id, agent_id)
    if agent is None:
        raise NotFoundError(f"Agent not found with id={agent_id}")
    provider = provider or provider_for(agent.get("llm_config") or {})
    registry = (registry or DEFAULT_REGISTRY).extended(extra_tools)
    extra_names = [t if isinstance(t, str) else t.name for t in extra_tools]
    offered = [n for n in dict.fromkeys([*(agent.get("tool_names") or []), *extra_names]) if registry.get(n) is not None]
    rules = tool_rules_override if tool_rules_override is not None else agent.get("tool_rules")
    step = _Step(
        org_id,
        agent,
        conversation_id,
        group_id,
        run_id,
        provider,
        registry,
        offered,
        ToolRulesSolver(rules, last_tool=resume_after_tool),
        stream_options or StreamOptions(),
        delta_sink,
        share_replies,
        system_appendix,
    )
    inputs = [_tag_input(m, org_id, conversation_id, group_id, run_id) for m in new_inputs]
    step.written.extend(inputs)
    # A tool return handed in to resume a paused step is the agent's own output (it answers its call), so it is
    # reported and streamed with the outputs; user/system inputs are not (inputs are never echoed).
    input_ids = [m.id for m in inputs if m.role in ("user", "system")]
    for message in inputs:
        if message.role == "tool":
            step.emit_live(message)

    # Bound the chain so that the step always fits one transaction (two items per model call at most).
    room = MAX_STEP_ITEMS - len(inputs) - 1 - len(step.memory.blocks)
    max_calls = max(1, min(max_chained_steps, room // 2))
    budget = step.budget()
    initial_fixed = (
        estimate_tokens(step.system_prompt())
        + context.tokens_of(step.pinned())
        + estimate_tokens([s.schema for s in (registry.get(n) for n in offered) if s])
    )
    units = context.load_history(
        org_id,
        conversation_id,
        agent_id,
        budget_tokens=max(0, budget - initial_fixed),
        after=history_after,
        inner_thoughts_in_kwargs=step.kwargs_mode,
    )
    window = _Window(units, budget)

    stop_reason = "max_steps"
    paused: Optional[dict[str, Any]] = None
    for _ in range(max_calls):
        call_timeout = timeout_s
        if deadline is not None:
            call_timeout = min(call_timeout, deadline - time.monotonic())
            if call_timeout <= 0:
                raise ModelTimeoutError("the step's deadline passed before the model answered", provider=provider.name)
        allowed = step.solver.allowed(offered)
        message_id, step_id = new_id("message"), new_id("step")
        response, call = step.call_model(window, message_id, call_timeout)
        step.step_ids.append(step_id)
        step.written.append(step.assistant_message(message_id, step_id, response, call))
        if call is None:
            stop_reason = "no_tool_call"
            break
        if call.name == MESSAGE_TOOL:
            step.assistant_texts += send_message_texts(step.written[-1])
        if call.name in pause_on_tools:
            paused = {"id": call.id, "name": call.name, "arguments": call.args, "message_id": message_id}
            stop_reason = "paused"
            break
        raw, status = step.run_tool(call, allowed)
        tool_message = step.tool_message(step_id, call, raw, status)
        step.written.append(tool_message)
        step.emit_live(tool_message)
        step.solver.record(call.name)
        if not step.solver.continues_after(call.name, _truthy(call.args.get("request_heartbeat")), status == "error"):
            stop_reason = "end_turn"
            break

    for message in step.written:
        if message.role == "tool" and message.step_id is None and step.step_ids:
            message.step_id = step.step_ids[0]  # a resumed tool return belongs to the step it resumes
    usage_record = step.usage.model_dump(include={"completion_tokens", "prompt_tokens", "total_tokens", "step_count"})
    record = {
        "agent_id": agent_id,
        "conversation_id": conversation_id,
        "group_id": group_id,
        "run_id": run_id,
        "message_ids": [m.id for m in step.written],
        "input_message_ids": input_ids,
        "output_message_ids": [m.id for m in step.written if m.id not in input_ids],
        "first_message_id": step.written[0].id if step.written else None,
        "usage": usage_record,
        "assistant_texts": step.assistant_texts,
        "stop_reason": stop_reason,
        "step_ids": step.step_ids,
        "paused_tool_call": paused,
        "created_at": utc_now().isoformat(),
    }
    try:
        messages_dal.put_step(
            org_id,
            conversation_id,
            step.written,
            step_key,
            record if step_key is not None else None,
            run_id=run_id,
            block_updates=step.memory.updates(),
        )
    except messages_dal.StepAlreadyRecorded:
        # Another attempt of this step finished first: its result stands, ours is dropped.
        stored = messages_dal.get_step_record(org_id, str(run_id), str(step_key))
        if stored is None:
            raise
        return _replay(org_id, stored)
    except messages_dal.BlockVersionConflict as exc:
        raise MemoryEditConflictError(str(exc)) from exc
    return StepResult(
        messages=list(step.written),
        input_ids=input_ids,
        usage=step.usage,
        assistant_texts=list(step.assistant_texts),
        stop_reason=stop_reason,
        step_ids=list(step.step_ids),
        paused_tool_call=paused,
    )


def parse_tool_arguments(message: StoredMessage) -> list[dict[str, Any]]:
    """The parsed arguments of each tool call of a stored assistant message (helper for runners)."""
    return [parse_arguments((c.get("function") or {}).get("arguments")) for c in message.tool_calls or []]
