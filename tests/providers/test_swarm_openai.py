"""A swarm group whose agents use an OpenAI-compatible model (the scripted fake server of conftest.py, on a real
socket), driven with letta-client 0.1.138 over HTTP against `make run`'s server in `configured` model mode: every
agent uses the model it is configured with. The handoff travels as the model's tool call, through the sync, stream
(steps and tokens) and async routes (swarm-handoffs.md)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from letta_client import CreateBlock, Letta, LlmConfig, MessageCreate

from support.runs import wait_for_run_sdk
from support.swarm import HANDOFF, handed_off, spoken


def answer(name: str, arguments: dict[str, Any], thought: str) -> dict[str, Any]:
    """A Chat Completions answer calling one tool (inner thoughts as its first argument, Letta's OpenAI convention)."""
    call = {
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps({"inner_thoughts": thought, **arguments})},
    }
    choice = {"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": [call]}}
    usage = {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220}
    return {"status": 200, "json": {"id": "chatcmpl-1", "object": "chat.completion", "choices": [choice], "usage": usage}}


def streamed(name: str, arguments: dict[str, Any], thought: str) -> dict[str, Any]:
    """The same answer as a stream: the call's name first, then its arguments in fragments, then usage."""
    text = json.dumps({"inner_thoughts": thought, **arguments})

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    first = {"index": 0, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "function", "function": {"name": name, "arguments": ""}}
    pieces = [text[i : i + 12] for i in range(0, len(text), 12)]
    return {
        "sse": [
            chunk({"role": "assistant", "tool_calls": [first]}),
            *[chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in pieces],
            chunk({}, "tool_calls"),
            {"object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 200, "completion_tokens": 20}},
        ]
    }


def handoff(to: str, why: str, stream: bool = False) -> dict[str, Any]:
    return (streamed if stream else answer)(HANDOFF, {"agent_name": to, "message": why}, f"{to} knows this better.")


def reply(text: str, stream: bool = False) -> dict[str, Any]:
    return (streamed if stream else answer)("send_message", {"message": text}, "I can answer that.")


@pytest.fixture
def configured_server(start_local_server: Any) -> Iterator[str]:
    """`make run` with LETTA_MODEL_MODE=configured: each agent talks to the model its llm_config names."""
    with start_local_server({"LETTA_MODEL_MODE": "configured"}, log_name="swarm-openai-server.log") as url:
        yield url


def test_a_swarm_on_an_openai_compatible_model_hands_off_on_every_route(fake_openai: Any, configured_server: str):
    # Given fred and velma, both on the fake OpenAI-compatible server, in a swarm group
    letta = Letta(base_url=configured_server, timeout=60)
    llm = LlmConfig(model="gpt-test", model_endpoint_type="openai", model_endpoint=fake_openai.url, context_window=16000)
    ids = {
        n: letta.agents.create(name=n, llm_config=llm, memory_blocks=[CreateBlock(label="persona", value=f"I am {n}.")]).id
        for n in ("fred", "velma")
    }
    group = letta.groups.create(agent_ids=list(ids.values()), description="help desk", manager_config={"manager_type": "swarm"})
    try:
        # When fred's model hands off to velma and velma's model replies (synchronous send)
        fake_openai.script += [handoff("velma", "The user asks about the van."), reply("The van is in the garage.")]
        response = letta.groups.messages.create(group.id, messages=[MessageCreate(role="user", content="Where is the van?")])
        # Then the response holds fred's handoff and velma's reply, each model asked once
        assert spoken(response.messages) == handed_off("fred", "velma")
        assert response.messages[2].tool_return == "Handed off to velma"
        assert response.messages[-1].content == "The van is in the garage."
        assert response.usage.step_count == 2 and response.usage.total_tokens == 440
        assert len(fake_openai.requests) == 2
        # And fred's model was offered the handoff tool naming velma; velma's heard why fred handed it to her
        fred_request, velma_request = (r["body"] for r in fake_openai.requests)
        tool = next(t["function"] for t in fred_request["tools"] if t["function"]["name"] == HANDOFF)
        assert tool["parameters"]["properties"]["agent_name"]["enum"] == ["velma"]
        heard = [m for m in velma_request["messages"] if m["role"] == "system" and "handed the conversation" in m["content"]]
        assert len(heard) == 1 and "The user asks about the van." in heard[0]["content"]
        assert letta.groups.retrieve(group.id).active_agent_id == ids["velma"]  # type: ignore[attr-defined]

        # When the next send streams steps: velma (now active) hands back to fred, who replies
        fake_openai.script += [handoff("fred", "A car question."), reply("It needs new tyres.")]
        chunks = list(
            letta.groups.messages.create_stream(group.id, messages=[MessageCreate(role="user", content="And the tyres?")])
        )
        # Then both speakers stream, then usage
        assert spoken(chunks) == handed_off("velma", "fred")
        assert chunks[-1].message_type == "usage_statistics" and chunks[-1].step_count == 2

        # When the next send streams tokens: fred hands to velma again
        fake_openai.script += [handoff("velma", "A clue question.", stream=True), reply("The mask was rubber.", stream=True)]
        chunks = list(
            letta.groups.messages.create_stream(
                group.id, messages=[MessageCreate(role="user", content="What about the mask?")], stream_tokens=True
            )
        )
        # Then the handoff call and velma's reply arrive in chunks, from the model's stream
        assert spoken(chunks) == handed_off("fred", "velma")
        calls = [c for c in chunks if c.message_type == "tool_call_message"]
        assert len(calls) > 1 and json.loads("".join(c.tool_call.arguments or "" for c in calls))["agent_name"] == "velma"
        assert "".join(c.content for c in chunks if c.message_type == "assistant_message") == "The mask was rubber."
        assert all(r["body"].get("stream") for r in fake_openai.requests[-2:])
        # And every chunk carries the id and otid of the message the transcript lists (tool returns: §6, live otid)
        listed = {(m.id, m.message_type): m.otid for m in letta.groups.messages.list(group.id, limit=100)}
        streamed = {
            (c.id, c.message_type): c.otid for c in chunks if hasattr(c, "id") and c.message_type != "tool_return_message"
        }
        assert streamed.items() <= listed.items()

        # When the next send is asynchronous: velma hands to fred, who replies
        fake_openai.script += [handoff("fred", "Over to you."), reply("Case closed.")]
        # (letta-client 0.1.138 has no method for the async group send: plain HTTP, contract §12a)
        started = httpx.post(
            f"{configured_server}/v1/groups/{group.id}/messages/async",
            json={"messages": [{"role": "user", "content": "Who did it?"}]},
            timeout=30,
        ).json()
        run = wait_for_run_sdk(letta, started["id"])
        # Then the run completes with the handoff and fred's reply
        assert run.status == "completed" and run.metadata["usage"]["step_count"] == 2
        assert spoken(letta.runs.messages.list(run.id)) == handed_off("velma", "fred")
        assert letta.groups.retrieve(group.id).active_agent_id == ids["fred"]  # type: ignore[attr-defined]

        # When the models play ping-pong forever on a group bounded to 3 turns
        letta.groups.modify(group.id, manager_config={"manager_type": "swarm", "max_turns": 3})
        fake_openai.script += [handoff("velma", "yours"), handoff("fred", "no, yours"), handoff("velma", "yours again")]
        asked = len(fake_openai.requests)
        response = letta.groups.messages.create(group.id, messages=[MessageCreate(role="user", content="Anyone?")])
        # Then three turns ran, nobody replied, and fred, the last to speak, stays active
        assert [m.name for m in response.messages if m.message_type == "tool_call_message"] == ["fred", "velma", "fred"]
        assert response.usage.step_count == 3 and len(fake_openai.requests) == asked + 3
        assert letta.groups.retrieve(group.id).active_agent_id == ids["fred"]  # type: ignore[attr-defined]
    finally:
        letta.groups.delete(group.id)
        for agent_id in ids.values():
            letta.agents.delete(agent_id)
