"""The agent step with the offline model against the emulated table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lettagroups.agent import catalog
from lettagroups.agent.inputs import build_input_message, build_tool_return_message
from lettagroups.agent.providers.base import ChatResponse, TokenUsage, ToolCallOut
from lettagroups.agent.providers.errors import (
    ContextWindowExceededError,
    MalformedToolCallError,
    ModelServerError,
    RateLimitedError,
)
from lettagroups.agent.step import MemoryEditConflictError, StepRequest, run_and_commit
from lettagroups.dal import agents as agents_dal
from lettagroups.dal import messages as messages_dal
from lettagroups.dal import runs as runs_dal
from lettagroups.models.messages import dump_message
from lettagroups.models.presentation import to_letta_messages
from lettagroups.models.stored_entities import AgentRecord


def offline(model: str = "letta-offline", context_window: int = 16384, max_tokens: int = 256):
    from lettagroups.models.agents import LLMConfig

    return LLMConfig(model=model, model_endpoint_type="offline", context_window=context_window, max_tokens=max_tokens)


def user(actor: Any, conv: dict[str, str], text: str, **fields: Any):
    return build_input_message(
        actor.organization_id,
        conv["conversation_id"],
        role="user",
        text=text,
        group_id=conv["group_id"],
        run_id=conv["run_id"],
        **fields,
    )


def step(
    actor: Any,
    agent: AgentRecord,
    conv: dict[str, str],
    inputs: list[Any] = (),  # type: ignore[assignment]
    *,
    provider: Any = None,
    registry: Any = None,
    delta_sink: Any = None,
    **fields: Any,
):
    request = StepRequest(
        org_id=actor.organization_id,
        agent_id=agent.id,
        conversation_id=conv["conversation_id"],
        group_id=conv["group_id"],
        run_id=conv["run_id"],
        inputs=list(inputs),
        **fields,
    )
    return run_and_commit(request, provider=provider, registry=registry, delta_sink=delta_sink)


def stored(actor: Any, conv: dict[str, str]) -> list[Any]:
    return messages_dal.list_messages(actor.organization_id, conv["conversation_id"])


def block_value(actor: Any, agent: AgentRecord, label: str) -> str:
    block_id = agent.block_labels[label]
    return agents_dal.get_block(actor.organization_id, block_id).value  # type: ignore[union-attr]


def test_reply_reflects_name_persona_and_input(actor, make_agent, conversation):
    # Given an agent with a persona
    fred = make_agent(name="fred")
    # When it steps on a user message
    result = step(actor, fred, conversation, [user(actor, conversation, "what is everyone up to for the holidays?")])
    # Then it answers once through send_message, in its own voice, about the input
    assert result.stop_reason == "end_turn"
    assert len(result.assistant_texts) == 1
    reply = result.assistant_texts[0]
    assert reply.startswith("I'm fred. I am Fred, a cheerful mechanic")
    assert "what is everyone up to for the holidays?" in reply
    # And the input plus the reasoning/assistant pair are stored, tagged with the group and run
    listed = to_letta_messages(stored(actor, conversation))
    assert [m.message_type for m in listed] == ["user_message", "reasoning_message", "assistant_message"]
    assert all(m.group_id == conversation["group_id"] and m.run_id == conversation["run_id"] for m in result.messages)
    assert (
        result.usage.step_count == 1
        and result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens > 0
    )


def test_heartbeat_chains_a_tool_call_and_usage_sums_every_call(actor, make_agent, conversation, recording):
    # Given an agent and a message asking it to remember something
    fred = make_agent(name="fred", human="")
    provider = recording()
    # When it steps
    result = step(
        actor, fred, conversation, [user(actor, conversation, "Please remember that I like green tea")], provider=provider
    )
    # Then the first call edits memory with request_heartbeat and the chained call replies
    calls = [m.tool_calls[0]["function"]["name"] for m in result.outputs if m.role == "assistant"]
    assert calls == ["core_memory_append", "send_message"]
    assert json.loads(result.outputs[0].tool_calls[0]["function"]["arguments"])["request_heartbeat"] is True
    # And usage is the sum over both model calls
    assert result.usage.step_count == 2 == len(provider.requests)
    assert result.usage.prompt_tokens == sum(r.usage.prompt_tokens for r in provider.responses)
    assert result.usage.completion_tokens == sum(r.usage.completion_tokens for r in provider.responses)
    # And the chained call saw the call and its result, and the edited memory in its system prompt
    second = provider.requests[1]
    assert [m["role"] for m in second.messages[-2:]] == ["assistant", "tool"]
    assert "Please remember that I like green tea" in second.system
    assert block_value(actor, fred, "human") == "Please remember that I like green tea"


def test_shared_block_edit_is_seen_by_the_other_agent(actor, make_agent, conversation, recording):
    # Given two agents sharing one `human` block
    from lettagroups.logic.blocks import create_block
    from lettagroups.models.blocks import CreateBlock

    shared = create_block(actor, CreateBlock(label="human", value="The user is Ana."))
    fred = make_agent(name="fred", human=None, block_ids=[shared.id])
    velma = make_agent(name="velma", persona="I am Velma, I solve mysteries.", human=None, block_ids=[shared.id])
    # When fred remembers something
    step(actor, fred, conversation, [user(actor, conversation, "remember: Ana collects stamps")])
    # Then velma's next prompt carries the edited shared block
    provider = recording()
    step(actor, velma, conversation, [user(actor, conversation, "hi velma")], provider=provider)
    assert "Ana collects stamps" in provider.requests[0].system
    assert agents_dal.get_block(actor.organization_id, shared.id).version == 1  # type: ignore[union-attr]


def test_context_is_trimmed_to_the_window_keeping_the_newest(actor, make_agent, conversation, recording):
    # Given a long conversation and an agent with a small context window
    from lettagroups.models.agents import LLMConfig

    small = LLMConfig(model="letta-offline", model_endpoint_type="offline", context_window=2000, max_tokens=100)
    fred = make_agent(name="fred", llm_config=small)
    for i in range(30):
        messages_dal.put_messages(
            actor.organization_id,
            conversation["conversation_id"],
            [user(actor, conversation, f"message number {i} " + "x" * 200)],
        )
    provider = recording()
    # When it steps on a new input
    step(actor, fred, conversation, [user(actor, conversation, "the newest question")], provider=provider)
    # Then the prompt holds only the newest history that fits, and the new input
    request = provider.requests[0]
    texts = [m["content"] for m in request.messages]
    assert "the newest question" in texts[-1]
    assert "message number 29" in texts[-2]
    assert not any("message number 0 " in t for t in texts)
    assert 2 < len(texts) < 31
    estimate = sum(len(json.dumps(m)) for m in request.messages) + len(request.system) + len(json.dumps(request.tools))
    assert estimate / 4 <= small.context_window


def test_failure_mid_chain_writes_nothing(actor, make_agent, conversation):
    # Given an agent whose model fails on its second call of a step, and some existing history
    fred = make_agent(name="fred", human="", llm_config=offline("letta-offline?fail_on_call=2"))
    step(actor, fred, conversation, [user(actor, conversation, "hello")])
    before = [m.model_dump() for m in stored(actor, conversation)]
    # When a step chains a memory edit (call 1) and then fails (call 2)
    with pytest.raises(ModelServerError) as failure:
        step(actor, fred, conversation, [user(actor, conversation, "remember that I sail on Sundays")], step_key="s2")
    # Then the error is retryable, history is exactly as before, memory is unchanged and no step record exists
    assert failure.value.retryable
    assert [m.model_dump() for m in stored(actor, conversation)] == before
    assert block_value(actor, fred, "human") == ""
    assert runs_dal.get_step_records(actor.organization_id, conversation["run_id"], ["s2"]) == {}


def test_agent_without_blocks_still_answers(actor, make_agent, conversation, recording):
    # Given an agent created with no memory blocks
    ghost = make_agent(name="ghost", persona=None, human=None)
    assert ghost.block_ids == []
    provider = recording()
    # When it steps
    result = step(actor, ghost, conversation, [user(actor, conversation, "anyone there?")], provider=provider)
    # Then it replies, and its prompt has no memory section
    assert result.assistant_texts and "I have no persona yet" in result.assistant_texts[0]
    assert "<memory_blocks>" not in provider.requests[0].system


def test_rerun_with_the_same_step_key_writes_nothing_new(actor, make_agent, conversation):
    # Given a step that ran with a step key
    fred = make_agent(name="fred")
    inputs = [user(actor, conversation, "hi")]
    first = step(actor, fred, conversation, inputs, step_key="t000")
    count = len(stored(actor, conversation))
    # When the same step runs again (a retried task)
    again = step(actor, fred, conversation, inputs, step_key="t000")
    # Then the stored result is returned and nothing is written
    assert again.replayed and not first.replayed
    assert again.message_ids == [m.id for m in first.messages] and again.messages == []
    assert again.usage == first.usage and again.assistant_texts == first.assistant_texts
    assert len(stored(actor, conversation)) == count
    record = runs_dal.get_step_records(actor.organization_id, conversation["run_id"], ["t000"])["t000"]
    assert record.output_message_ids == [m.id for m in first.outputs]


def test_participants_see_peer_replies_but_not_their_reasoning_or_private_inputs(actor, make_agent, conversation, recording):
    # Given fred has replied in the group (shared) and received an input addressed only to him
    fred = make_agent(name="fred")
    velma = make_agent(name="velma", persona="I am Velma.")
    step(actor, fred, conversation, [user(actor, conversation, "hello group")], share_replies=True)
    private = user(actor, conversation, "a secret for fred", recipient_id=fred.id)
    step(actor, fred, conversation, [private])
    provider = recording()
    # When velma takes her turn
    step(actor, velma, conversation, provider=provider)
    messages = provider.requests[0].messages
    # Then she sees the user input and fred's shared reply as a system alert naming him, and nothing else of his
    assert messages[0]["role"] == "user" and "hello group" in messages[0]["content"]
    alert = json.loads(messages[1]["content"])
    assert messages[1]["role"] == "system" and messages[1]["name"] == "fred"
    assert alert["type"] == "system_alert" and alert["message"].startswith("I'm fred.")
    assert len(messages) == 2
    assert not any("secret" in str(m.get("content")) for m in messages)


def test_pause_at_broadcast_and_resume_with_its_result(actor, make_agent, conversation, recording):
    # Given a supervisor offered the broadcast tool with the supervisor rules
    shaggy = make_agent(name="shaggy")
    rules = catalog.supervisor_tool_rules()
    # When it steps, pausing at the broadcast
    first = step(
        actor,
        shaggy,
        conversation,
        [user(actor, conversation, "ask everyone what they like to do for fun")],
        extra_tools=[catalog.BROADCAST_TOOL],
        tool_rules_override=rules,
        pause_on_tools={catalog.BROADCAST_TOOL},
        step_key="supervisor-1",
    )
    # Then the broadcast call is stored without a result and handed to the caller
    assert first.stop_reason == "paused"
    call = first.paused_tool_call
    assert call["name"] == catalog.BROADCAST_TOOL and "fun" in call["arguments"]["message"]  # type: ignore[index]
    assert [m.role for m in first.outputs] == ["assistant"]
    # When the caller resumes it with the workers' results
    result = build_tool_return_message(
        actor.organization_id,
        conversation["conversation_id"],
        agent_id=shaggy.id,
        tool_call_id=call["id"],  # type: ignore[index]
        tool_name=catalog.BROADCAST_TOOL,
        raw=str(["agent-1 said: 'fishing'", "agent-2 said: 'chess'"]),
    )
    provider = recording()
    second = step(
        actor,
        shaggy,
        conversation,
        [result],
        extra_tools=[catalog.BROADCAST_TOOL],
        tool_rules_override=rules,
        resume_after_tool=catalog.BROADCAST_TOOL,
        provider=provider,
        step_key="supervisor-2",
    )
    # Then only send_message was offered (child rule), the call and its result were paired, and it summarised
    request = provider.requests[0]
    assert [t["name"] for t in request.tools] == ["send_message"]
    assert [m["role"] for m in request.messages[-2:]] == ["assistant", "tool"]
    assert request.messages[-1]["tool_call_id"] == call["id"]  # type: ignore[index]
    assert "fishing" in second.assistant_texts[0]
    # And the whole exchange lists as Letta's supervisor shape
    # (the resumed tool return is reported as the supervisor's output, as the run's response needs it)
    assert second.outputs[0].id == result.id and second.input_ids == []
    listed = to_letta_messages(first.outputs + second.outputs)
    assert [m.message_type for m in listed] == [
        "reasoning_message",
        "tool_call_message",
        "tool_return_message",
        "reasoning_message",
        "assistant_message",
    ]
    # And the per-request rules were not persisted
    assert agents_dal.get_agent(actor.organization_id, shaggy.id).tool_rules == shaggy.tool_rules  # type: ignore[union-attr]


def test_token_deltas_carry_the_stored_id_and_add_up(actor, make_agent, conversation):
    # Given a sink collecting token events
    fred = make_agent(name="fred")
    events: list[dict[str, Any]] = []
    # When the agent steps with token streaming
    result = step(actor, fred, conversation, [user(actor, conversation, "stream please")], delta_sink=events.append)
    # Then reasoning and assistant deltas share the stored assistant message's id and rebuild its texts
    assistant = result.outputs[0]
    assert {e["id"] for e in events} == {assistant.id}
    reasoning = "".join(e["reasoning"] for e in events if e["message_type"] == "reasoning_message")
    content = "".join(e["content"] for e in events if e["message_type"] == "assistant_message")
    assert len([e for e in events if e["message_type"] == "assistant_message"]) > 1
    assert reasoning == assistant.content[0]["text"]
    assert content == result.assistant_texts[0]
    # And the otids match the parts of the stored message
    final = {m.message_type: m.otid for m in to_letta_messages(assistant)}
    assert {e["otid"] for e in events if e["message_type"] == "assistant_message"} == {final["assistant_message"]}
    assert all(e["sender_id"] is None and e["step_id"] is None for e in events)


def test_tool_returns_are_streamed_whole_in_token_mode(actor, make_agent, conversation):
    # Given a chained step with token streaming
    fred = make_agent(name="fred", human="")
    events: list[dict[str, Any]] = []
    result = step(actor, fred, conversation, [user(actor, conversation, "remember my cat is Tom")], delta_sink=events.append)
    # Then the tool return arrives as one live event with the raw return string, between the two calls' deltas
    returns = [e for e in events if e["message_type"] == "tool_return_message"]
    assert len(returns) == 1 and returns[0]["tool_return"] == "None" and returns[0]["name"] == "core_memory_append"
    order = [e["id"] for e in events]
    tool_message = next(m for m in result.outputs if m.role == "tool")
    last_assistant = [m for m in result.outputs if m.role == "assistant"][-1]
    assert order.index(tool_message.id) < order.index(last_assistant.id)


def test_throttled_model_raises_a_retryable_error_and_writes_nothing(actor, make_agent, conversation):
    # Given a model that is rate limited once
    from lettagroups.agent.providers.offline_faults import reset_counters

    reset_counters()
    fred = make_agent(name="fred", llm_config=offline("letta-offline?fail=throttle&times=1"))
    # When the step runs, it fails retryably and writes nothing
    with pytest.raises(RateLimitedError) as failure:
        step(actor, fred, conversation, [user(actor, conversation, "hi")], step_key="k")
    assert failure.value.retryable and failure.value.status == 429
    assert stored(actor, conversation) == []
    # And the retried step succeeds
    assert step(actor, fred, conversation, [user(actor, conversation, "hi")], step_key="k").assistant_texts


def test_malformed_tool_call_is_asked_again_once(actor, make_agent, conversation):
    # Given a model whose first answer has broken arguments
    fred = make_agent(name="fred", llm_config=offline("letta-offline?malformed_on_call=1"))
    # When it steps, the step re-asks and succeeds
    result = step(actor, fred, conversation, [user(actor, conversation, "hi")])
    assert result.assistant_texts and result.usage.step_count == 1
    # But a model that always answers malformed fails with a retryable error
    broken = make_agent(name="broken", llm_config=offline("letta-offline?fail=malformed"))
    with pytest.raises(MalformedToolCallError) as failure:
        step(actor, broken, conversation, [user(actor, conversation, "hi")])
    assert failure.value.retryable


class _AlwaysSearching:
    """A model that keeps asking for another heartbeat."""

    name = "test"
    inner_thoughts_in_kwargs = False
    supports_token_streaming = False

    def complete(self, request: Any, on_delta: Any = None) -> ChatResponse:
        args = json.dumps({"query": "tea", "request_heartbeat": True})
        return ChatResponse(
            text="again",
            tool_calls=[ToolCallOut(id="call_x" + str(len(request.messages)), name="conversation_search", arguments=args)],
            usage=TokenUsage(10, 2),
        )


def test_chaining_stops_at_the_bound(actor, make_agent, conversation):
    # Given a model that never stops asking for heartbeats
    fred = make_agent(name="fred")
    # When it steps with a bound of 3 calls
    result = step(actor, fred, conversation, [user(actor, conversation, "hi")], provider=_AlwaysSearching(), max_chained_steps=3)
    # Then the step ends after 3 calls, with every call and result stored
    assert result.stop_reason == "max_steps"
    assert result.usage.step_count == 3 and result.usage.prompt_tokens == 30
    assert [m.role for m in result.outputs] == ["assistant", "tool"] * 3


def test_a_prompt_larger_than_the_window_is_refused(actor, make_agent, conversation):
    # Given an agent with a tiny window
    from lettagroups.models.agents import LLMConfig

    fred = make_agent(
        name="fred", llm_config=LLMConfig(model="letta-offline", model_endpoint_type="offline", context_window=300, max_tokens=10)
    )
    # When the input alone exceeds it, the step fails without calling the model or writing
    with pytest.raises(ContextWindowExceededError):
        step(actor, fred, conversation, [user(actor, conversation, "y" * 4000)])
    assert stored(actor, conversation) == []


class _EditsBehindTheStepsBack:
    """The offline model, but another writer edits the shared block while the step is thinking."""

    name = "offline"
    inner_thoughts_in_kwargs = False
    supports_token_streaming = False

    def __init__(self, org_id: str, block_id: str) -> None:
        from lettagroups.agent.providers.offline import OfflineProvider

        self.inner = OfflineProvider({})
        self.org_id, self.block_id = org_id, block_id

    def complete(self, request: Any, on_delta: Any = None) -> ChatResponse:
        block = agents_dal.get_block(self.org_id, self.block_id)
        assert block is not None
        agents_dal.replace_block(self.org_id, block.model_copy(update={"value": "changed elsewhere"}), block.version)
        return self.inner.complete(request, on_delta)


def test_a_concurrent_edit_of_a_block_fails_the_step_retryably(actor, make_agent, conversation):
    # Given a step that edits `human` while someone else changes it
    fred = make_agent(name="fred", human="")
    provider = _EditsBehindTheStepsBack(actor.organization_id, fred.block_labels["human"])
    # When the step commits, the version check fails: nothing of the step is written, the other edit stands
    with pytest.raises(MemoryEditConflictError) as failure:
        step(actor, fred, conversation, [user(actor, conversation, "remember the code is 42")], provider=provider)
    assert failure.value.retryable
    assert stored(actor, conversation) == []
    assert block_value(actor, fred, "human") == "changed elsewhere"


def test_live_and_listed_presentations_of_a_step(actor, make_agent, conversation):
    # Given a chained step
    fred = make_agent(name="fred", human="")
    result = step(actor, fred, conversation, [user(actor, conversation, "remember I like jazz")])
    # Then live messages carry neither sender nor step ids, and the tool return is the raw string
    live = [dump_message(m) for m in to_letta_messages(result.outputs, live=True)]
    assert all(m.get("step_id") is None for m in live)
    tool_return = next(m for m in live if m["message_type"] == "tool_return_message")
    assert tool_return["tool_return"] == "None"
    # And listed ones carry step ids and the packed envelope
    listed = [dump_message(m) for m in to_letta_messages(stored(actor, conversation))]
    packed = next(m for m in listed if m["message_type"] == "tool_return_message")
    assert json.loads(packed["tool_return"])["status"] == "OK"
    assert all(m["step_id"].startswith("step-") for m in listed if m["message_type"] != "user_message")


def test_an_injected_broadcast_executor_runs_inside_the_step(actor, make_agent, conversation):
    # Given a group runner that injects the broadcast tool with an in-process executor
    from lettagroups.agent.tools import ToolSpec

    heard: list[str] = []

    def broadcast(ctx: Any, args: dict[str, Any]) -> str:
        heard.append(args["message"])
        return str([f"agent-w said: 'reply to {ctx.agent_name}'"])

    shaggy = make_agent(name="shaggy")
    spec = ToolSpec(catalog.BROADCAST_TOOL, catalog.SCHEMAS[catalog.BROADCAST_TOOL], broadcast)
    # When the supervisor steps with the supervisor rules
    result = step(
        actor,
        shaggy,
        conversation,
        [user(actor, conversation, "what does everyone think?")],
        extra_tools=[spec],
        tool_rules_override=catalog.supervisor_tool_rules(),
    )
    # Then it broadcast once, got the results back, and summarised them in a chained call
    assert heard == ["what does everyone think?"]
    assert result.usage.step_count == 2
    assert "reply to shaggy" in result.assistant_texts[0]
    tool_return = next(m for m in result.outputs if m.role == "tool")
    assert tool_return.tool_returns[0]["raw"].startswith('["agent-w said')  # type: ignore[index]


def test_history_after_cuts_the_context(actor, make_agent, conversation, recording):
    # Given earlier history and a cut point (e.g. a voice agent's trimmed buffer)
    fred = make_agent(name="fred")
    old = user(actor, conversation, "old news")
    cut = user(actor, conversation, "cut here")
    messages_dal.put_messages(actor.organization_id, conversation["conversation_id"], [old, cut])
    provider = recording()
    # When the agent steps with history after the cut
    step(actor, fred, conversation, [user(actor, conversation, "fresh")], history_after=cut.id, provider=provider)
    # Then only what came after the cut is in its context
    contents = " ".join(m["content"] for m in provider.requests[0].messages)
    assert "fresh" in contents and "old news" not in contents and "cut here" not in contents
