"""Tool executors, the registry, tool rules, context pairing and the token-delta translator (no storage)."""

from __future__ import annotations

import json
from typing import Any

from lettagroups.agent import catalog
from lettagroups.agent.context import sanitize
from lettagroups.agent.memory import MemoryView
from lettagroups.agent.providers.base import ProviderDelta
from lettagroups.agent.streaming import DeltaTranslator, partial_string_value
from lettagroups.agent.tool_rules import ToolRulesSolver
from lettagroups.agent.tools import DEFAULT_REGISTRY, ToolContext, ToolSpec, execute
from lettagroups.models.records import RequestConfig
from lettagroups.models.stored_entities import AgentRecord, BlockRecord

FRED = AgentRecord(id="agent-1", name="fred", system="", agent_type="memgpt_agent", llm_config={}, embedding_config={})


def ctx(blocks: list[BlockRecord], search: list[str] = ()) -> ToolContext:  # type: ignore[assignment]
    return ToolContext(
        org_id="org-1",
        agent_id="agent-1",
        agent_name="fred",
        agent=FRED,
        conversation_id="group-1",
        group_id="group-1",
        run_id=None,
        memory=MemoryView(blocks),
        search=lambda q: [s for s in search if q.lower() in s.lower()],
    )


def block(label: str, value: str, limit: int = 5000, version: int = 0) -> BlockRecord:
    return BlockRecord(id=f"block-{label}", label=label, value=value, limit=limit, version=version)


def run(name: str, context: ToolContext, **args: Any) -> tuple[str, str]:
    spec = DEFAULT_REGISTRY.get(name)
    assert spec is not None
    return execute(spec, context, args)


def test_memory_tools_edit_the_working_copy_and_report_changes():
    read = [block("human", "line one"), block("persona", "I am Fred")]
    c = ctx(read)
    assert run("core_memory_append", c, label="human", content="line two", request_heartbeat=True) == ("None", "success")
    assert run("memory_insert", c, label="human", new_str="line zero", insert_line=0)[1] == "success"
    assert run("memory_replace", c, label="human", old_str="line two", new_str="line 2")[1] == "success"
    assert c.memory.value("human") == "line zero\nline one\nline 2"
    assert run("core_memory_replace", c, label="persona", old_content="Fred", new_content="Frederick")[1] == "success"
    assert run("memory_rethink", c, label="persona", new_memory="brand new")[1] == "success"
    # Only the changed blocks are committed, with the versions read
    assert sorted((b.label, v) for b, v in c.memory.updates()) == [("human", 0), ("persona", 0)]
    # And the records the view was given are untouched (edits live in the view's working copy)
    assert [b.value for b in read] == ["line one", "I am Fred"]


def test_memory_tool_errors_are_returned_to_the_model():
    c = ctx([block("human", "a a", limit=10)])
    text, status = run("core_memory_replace", c, label="human", old_content="zzz", new_content="y")
    assert status == "error" and text.startswith("Error executing function core_memory_replace") and "not found" in text
    assert run("memory_replace", c, label="human", old_str="a", new_str="b")[1] == "error"  # two occurrences
    assert "character limit" in run("core_memory_append", c, label="human", content="x" * 20)[0]
    assert "No memory block with label" in run("memory_insert", c, label="nope", new_str="x")[0]
    assert "missing required argument" in run("memory_insert", c, label="human")[0]
    assert c.memory.updates() == []  # nothing changed


def test_voice_and_search_tools():
    c = ctx([block("human", "")], search=["2025 user: I like tea", "2025 fred: tea is great", "2025 user: bye"])
    assert run("store_memories", c, chunks=[{"start_index": 0, "end_index": 1, "context": "likes tea"}])[1] == "success"
    assert c.memory.value("human") == "- likes tea"
    assert run("rethink_user_memory", c, new_memory="Tea lover")[1] == "success" and c.memory.value("human") == "Tea lover"
    assert "I like tea" in run("search_memory", c, convo_keyword_queries=["tea"])[0]
    text, _ = run("conversation_search", c, query="tea")
    assert text.startswith("Showing 2 of 2 results") and json.loads(text.split(": ", 1)[1]) == [
        "2025 user: I like tea",
        "2025 fred: tea is great",
    ]
    assert run("conversation_search", c, query="coffee")[0] == "No results found."


def test_long_returns_are_truncated_and_the_registry_is_extensible():
    # Given a tool injected for one step, returning a huge string
    registry = DEFAULT_REGISTRY.extended(
        [ToolSpec("echo", {"name": "echo", "parameters": {}}, lambda c, a: "x" * 10_000), catalog.BROADCAST_TOOL]
    )
    text, status = execute(registry.get("echo"), ctx([]), {})  # type: ignore[arg-type]
    assert status == "success" and len(text) < 6200 and "truncated" in text
    # A schema-only tool (the broadcast, run by the caller) has no executor here
    assert registry.get(catalog.BROADCAST_TOOL).executor is None  # type: ignore[union-attr]
    assert DEFAULT_REGISTRY.get("echo") is None  # the default registry is untouched


def test_tool_rules():
    solver = ToolRulesSolver(catalog.supervisor_tool_rules())
    offered = ["send_message", catalog.BROADCAST_TOOL, "conversation_search"]
    assert solver.allowed(offered) == [catalog.BROADCAST_TOOL]
    assert solver.continues_after(catalog.BROADCAST_TOOL, heartbeat=False, failed=False)
    solver.record(catalog.BROADCAST_TOOL)
    assert solver.allowed(offered) == ["send_message"]
    assert not solver.continues_after("send_message", heartbeat=True, failed=False)
    plain = ToolRulesSolver([{"tool_name": "send_message", "type": "exit_loop"}])
    assert plain.allowed(offered) == offered
    assert plain.continues_after("conversation_search", heartbeat=True, failed=False)
    assert not plain.continues_after("conversation_search", heartbeat=False, failed=False)
    assert plain.continues_after("conversation_search", heartbeat=False, failed=True)


def test_sanitize_pairs_calls_with_results_and_drops_orphans():
    call = {
        "role": "assistant",
        "content": "t",
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "x", "arguments": "{}"}}],
    }
    orphan_call = {
        "role": "assistant",
        "content": "lost",
        "tool_calls": [{"id": "c0", "type": "function", "function": {"name": "x", "arguments": "{}"}}],
    }
    result = {"role": "tool", "tool_call_id": "c1", "content": "r"}
    stray = {"role": "tool", "tool_call_id": "zz", "content": "?"}
    user = {"role": "user", "content": "u"}
    out = sanitize([stray, orphan_call, call, user, result])
    assert out == [{"role": "assistant", "content": "lost"}, call, result, user]


def test_partial_json_fields():
    assert partial_string_value('{"inner_thoughts": "I think \\"so', "inner_thoughts") == 'I think "so'
    assert partial_string_value('{"a": {"message": "no"}, "message": "yes', "message") == "yes"
    assert partial_string_value('{"message": "caf\\u00e9 \\u00', "message") == "café "
    assert partial_string_value('{"message": ', "message") == ""
    assert partial_string_value('{"mess', "message") is None


def test_translator_in_inner_thoughts_mode():
    # Given a provider streaming send_message arguments with inner thoughts (OpenAI convention)
    events: list[dict[str, Any]] = []
    translate = DeltaTranslator(
        events.append,
        message_id="message-01a20ca8-b642-7331-b04c-1d94003bb705",
        agent_name="fred",
        inner_thoughts_in_kwargs=True,
        options=RequestConfig(),
    )
    args = json.dumps({"inner_thoughts": "Let me greet.", "message": "Hello there!"})
    translate(ProviderDelta(kind="tool_call", call_id="call_1", name="send_message"))
    for i in range(0, len(args), 5):
        translate(ProviderDelta(kind="tool_call", arguments=args[i : i + 5]))
    translate.finish()
    # Then reasoning and assistant deltas rebuild both texts, with otid parts 0 and 1
    reasoning = [e for e in events if e["message_type"] == "reasoning_message"]
    assistant = [e for e in events if e["message_type"] == "assistant_message"]
    assert "".join(e["reasoning"] for e in reasoning) == "Let me greet."
    assert "".join(e["content"] for e in assistant) == "Hello there!"
    assert {e["otid"][-2:] for e in reasoning} == {"00"} and {e["otid"][-2:] for e in assistant} == {"01"}
    # And another tool's call is announced, then its arguments arrive whole without the inner thoughts
    events.clear()
    translate = DeltaTranslator(
        events.append, message_id="message-x", agent_name="fred", inner_thoughts_in_kwargs=True, options=RequestConfig()
    )
    translate(
        ProviderDelta(
            kind="tool_call", call_id="call_2", name="conversation_search", arguments='{"inner_thoughts": "hm", "query": "tea"}'
        )
    )
    translate.finish()
    calls = [e["tool_call"] for e in events if e["message_type"] == "tool_call_message"]
    assert calls == [{"name": "conversation_search", "tool_call_id": "call_2"}, {"arguments": '{"query": "tea"}'}]


def test_translator_in_inner_thoughts_mode_streams_thoughts_before_a_tool_call_named_first():
    # Given an OpenAI-style stream that names a (non-message) tool before the inner thoughts in its arguments
    events: list[dict[str, Any]] = []
    translate = DeltaTranslator(
        events.append,
        message_id="message-01a20ca8-b642-7331-b04c-1d94003bb706",
        agent_name="fred",
        inner_thoughts_in_kwargs=True,
        options=RequestConfig(),
    )
    args = json.dumps({"inner_thoughts": "Velma knows.", "agent_name": "velma", "message": "a clue"})
    translate(ProviderDelta(kind="tool_call", call_id="call_3", name="handoff_to_agent"))
    for i in range(0, len(args), 7):
        translate(ProviderDelta(kind="tool_call", arguments=args[i : i + 7]))
    translate.finish()
    # Then the thoughts come first (otid part 0), then the call, announced and whole (part 1), as the message is stored
    kinds = [e["message_type"] for e in events]
    assert kinds[-2:] == ["tool_call_message", "tool_call_message"] and set(kinds[:-2]) == {"reasoning_message"}
    assert "".join(e["reasoning"] for e in events[:-2]) == "Velma knows."
    assert [e["tool_call"] for e in events[-2:]] == [
        {"name": "handoff_to_agent", "tool_call_id": "call_3"},
        {"arguments": '{"agent_name": "velma", "message": "a clue"}'},
    ]
    assert {e["otid"][-2:] for e in events[:-2]} == {"00"} and {e["otid"][-2:] for e in events[-2:]} == {"01"}
