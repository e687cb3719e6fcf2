"""The doors Letta users reach groups through, with letta-client 0.1.138 over real HTTP (issue #10): agent messaging
(send, stream, async, list, modify, reset), the runs lists, the voice chat-completions route; and Letta 0.7.7's own
sleeptime and voice group tests (contract §11.3, §11.4), ported to HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from letta_client import (
    CompletionCreateParamsNonStreaming,
    CreateBlock,
    Letta,
    SleeptimeManagerUpdate,
    UpdateUserMessage,
    VoiceSleeptimeManagerUpdate,
)
from letta_client.core.api_error import ApiError

from support.runs import wait_for_run_sdk
from support.sdk import say
from support.shapes import assert_error
from support.trackers import Tracker

pytestmark = pytest.mark.compat


def _blocks(persona: str = "I help.", human: str = "My favorite color is lavender") -> list[CreateBlock]:
    return [CreateBlock(label="persona", value=persona), CreateBlock(label="human", value=human)]


def test_an_agent_is_messaged_through_every_door_of_the_sdk(letta: Letta, made: Tracker, http: httpx.Client):
    # Given an agent that manages no group
    fred = made.agent("fred", memory_blocks=_blocks("I am Fred."))
    # When it is messaged (sync), Then it answers alone: reasoning and reply, usage by model calls
    response = letta.agents.messages.create(fred.id, messages=say("hello fred"))
    assert [m.message_type for m in response.messages] == ["reasoning_message", "assistant_message"]
    assert response.usage.step_count == 1
    # When it is streamed to, Then the steps arrive, then usage
    chunks = list(letta.agents.messages.create_stream(fred.id, messages=say("stream please")))
    assert [getattr(c, "message_type", None) for c in chunks] == ["reasoning_message", "assistant_message", "usage_statistics"]
    # When it is messaged asynchronously, Then a Run comes back and completes with the reply
    run = letta.agents.messages.create_async(fred.id, messages=say("in the background"))
    assert wait_for_run_sdk(letta, run.id).status == "completed"
    assert [m.message_type for m in letta.runs.messages.list(run.id)] == ["reasoning_message", "assistant_message"]
    # And the runs lists know it
    assert run.id in [r.id for r in letta.runs.list(agent_ids=[fred.id])]
    assert run.id not in [r.id for r in letta.runs.list_active(agent_ids=[fred.id])]
    # And its messages are the three exchanges, once each, oldest first
    listed = letta.agents.messages.list(fred.id, limit=50)
    assert [m.message_type for m in listed] == ["user_message", "reasoning_message", "assistant_message"] * 3
    assert [m.content for m in listed if m.message_type == "user_message"] == ["hello fred", "stream please", "in the background"]
    # When one of its inputs is edited, Then the list shows the edit
    edited = letta.agents.messages.modify(fred.id, listed[0].id, request=UpdateUserMessage(content="hello, Fred"))
    assert edited.message_type == "user_message" and edited.content == "hello, Fred"
    relisted = letta.agents.messages.list(fred.id, limit=50)
    assert [m.id for m in relisted] == [m.id for m in listed]
    assert [m.content for m in relisted if m.message_type == "user_message"][0] == "hello, Fred"
    # When its messages are reset, Then it answers with its AgentState and has no messages left
    state = letta.agents.messages.reset(fred.id)
    assert state.id == fred.id and letta.agents.messages.list(fred.id) == []
    # And a missing agent is 404 on every door
    assert_error(http.post("/v1/agents/agent-nope/messages", json={"messages": [{"role": "user", "content": "x"}]}), 404)
    assert_error(http.post("/v1/agents/agent-nope/messages/stream", json={"messages": [{"role": "user", "content": "x"}]}), 404)
    assert_error(http.get("/v1/agents/agent-nope/messages"), 404)
    assert_error(http.patch("/v1/agents/agent-nope/reset-messages"), 404)


def test_sleeptime_groups_through_the_main_agent_as_letta_tests_them(letta: Letta, made: Tracker):
    # SL-1: an agent created with enable_sleeptime has no memory-editing tools of its own
    main = made.agent("main_agent", memory_blocks=_blocks("You are a personal assistant."), enable_sleeptime=True)
    assert main.enable_sleeptime is True
    tools = [t.name for t in main.tools]
    assert not {"core_memory_append", "core_memory_replace", "archival_memory_insert"} & set(tools)
    # SL-2: its group's frequency is set to 2
    group = letta.groups.modify(main.multi_agent_group.id, manager_config=SleeptimeManagerUpdate(sleeptime_agent_frequency=2))
    assert (group.manager_type, group.sleeptime_agent_frequency, len(group.agent_ids)) == ("sleeptime", 2, 1)
    sleeper_id = group.agent_ids[0]
    made.agents.append(sleeper_id)
    # SL-3: the human block is shared by exactly the two agents
    human = letta.agents.blocks.retrieve(main.id, "human")
    assert sorted(a.id for a in letta.blocks.agents.list(human.id)) == sorted([main.id, sleeper_id])
    # SL-4: the sleeptime agent has the memory tools and an exit_loop rule
    sleeper = letta.agents.retrieve(sleeper_id)
    assert {"memory_rethink", "memory_finish_edits", "memory_replace", "memory_insert"} <= {t.name for t in sleeper.tools}
    assert any(rule.type == "exit_loop" for rule in sleeper.tool_rules or [])
    # SL-5: six messages to the main agent; a background run on turns 1, 3, 5, listed for the sleeptime agent
    run_ids: list[str] = []
    texts = ["my favorite color is orange", "not particularly", "actually coral", "new subject", "african spear", "indeed"]
    for i, text in enumerate(texts):
        response = letta.agents.messages.create(main.id, messages=say(text))
        assert len(response.messages) > 0
        assert len(response.usage.run_ids or []) == (i + 1) % 2
        run_ids.extend(response.usage.run_ids or [])
        assert sorted(r.id for r in letta.runs.list(agent_ids=[sleeper_id])) == sorted(run_ids)
    # SL-6: each background run is running or completed
    time.sleep(0.5)
    assert all(letta.runs.retrieve(r).status in ("running", "completed") for r in run_ids)
    assert all(wait_for_run_sdk(letta, r).status == "completed" for r in run_ids)
    # SL-7: deleting the main agent deletes its group and its sleeptime agent
    letta.agents.delete(main.id)
    for call in (lambda: letta.groups.retrieve(group.id), lambda: letta.agents.retrieve(sleeper_id)):
        with pytest.raises(ApiError) as missing:
            call()
        assert missing.value.status_code == 404


def _chunks(response: httpx.Response) -> list[Any]:
    """The data of each SSE event, parsed (the literal [DONE] kept as a string)."""
    out = []
    for line in response.text.splitlines():
        if line.startswith("data: "):
            data = line[len("data: ") :]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def test_voice_agents_as_letta_tests_them(letta: Letta, made: Tracker, http: httpx.Client):
    # VO-1: a voice_convo_agent with enable_sleeptime gets a voice_sleeptime group of one sleeptime agent
    voice = made.agent("voice_agent", agent_type="voice_convo_agent", memory_blocks=_blocks(), enable_sleeptime=True)
    group = voice.multi_agent_group
    assert (group.manager_type, len(group.agent_ids)) == ("voice_sleeptime", 1)
    sleeper_id = group.agent_ids[0]
    made.agents.append(sleeper_id)
    assert {t.name for t in voice.tools} == {"send_message", "search_memory"}
    assert {"store_memories", "rethink_user_memory", "finish_rethinking_memory"} <= {
        t.name for t in letta.agents.retrieve(sleeper_id).tools
    }
    human = letta.agents.blocks.retrieve(voice.id, "human")
    assert sorted(a.id for a in letta.blocks.agents.list(human.id)) == sorted([voice.id, sleeper_id])
    # When the voice route is called with a chat-completions request that does not stream (the SDK's method)
    answer = letta.voice.create_voice_chat_completions(
        voice.id,
        request=CompletionCreateParamsNonStreaming(messages=[{"role": "user", "content": "How are you?"}], model="gpt-4o-mini"),
    )
    # Then one chat.completion comes back, with the voice agent's reply and usage
    assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["role"] == "assistant"
    assert answer["choices"][0]["message"]["content"] and answer["usage"]["total_tokens"] > 0
    # When it streams, Then chat.completion.chunk events carry the reply and the stream ends with [DONE]
    streamed = http.post(
        f"/v1/voice-beta/{voice.id}/chat/completions",
        json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "What are you up to?"}]},
    )
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    chunks = _chunks(streamed)
    assert chunks[-1] == "[DONE]" and all(c["object"] == "chat.completion.chunk" for c in chunks[:-1])
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-2]["usage"]["total_tokens"] > 0
    # And the conversation is the group's transcript, with both exchanges once
    said = [m.content for m in letta.groups.messages.list(group.id, limit=100) if m.message_type == "user_message"]
    assert said[:2] == ["How are you?", "What are you up to?"]
    # VO-3: with buffers 6/5, talking past six messages trims the voice agent's context and feeds the sleeptime agent
    letta.groups.modify(
        group.id, manager_config=VoiceSleeptimeManagerUpdate(max_message_buffer_length=6, min_message_buffer_length=5)
    )
    for text in ["tell me a story", "and then?", "what next?"]:
        http.post(
            f"/v1/voice-beta/{voice.id}/chat/completions",
            json={"model": "m", "stream": True, "messages": [{"role": "user", "content": text}]},
        )
    background = letta.runs.list(agent_ids=[sleeper_id])
    assert background and all(wait_for_run_sdk(letta, r.id).status == "completed" for r in background)
    # And a non-voice agent is refused with 400, before anything runs
    plain = made.agent("not_voice")
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    assert_error(http.post(f"/v1/voice-beta/{plain.id}/chat/completions", json=body), 400, "not a voice agent")
    assert_error(http.post("/v1/voice-beta/agent-nope/chat/completions", json=body), 404)
    assert_error(http.post(f"/v1/voice-beta/{voice.id}/chat/completions", json={"model": "m", "messages": []}), 422)
    # VO-2: deleting the voice agent deletes its group and its sleeptime agent
    letta.agents.delete(voice.id)
    assert_error(http.get(f"/v1/groups/{group.id}"), 404)
    assert_error(http.get(f"/v1/agents/{sleeper_id}"), 404)
