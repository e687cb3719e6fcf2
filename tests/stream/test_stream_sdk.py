"""letta-client 0.1.138 `groups.messages.create_stream` against the local server, for every manager type,
in step mode and token mode (contract §4.8, §6, §8; letta-client §4.3)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from letta_client import Letta
from letta_client.core.api_error import ApiError
from letta_client.types import (
    AssistantMessage,
    LettaUsageStatistics,
    MessageCreate,
    ReasoningMessage,
    ToolCallMessage,
    ToolReturnMessage,
)

from support.trackers import Objects

BROADCAST = "send_message_to_all_agents_in_group"
SDK_TYPES = {
    "reasoning_message": ReasoningMessage,
    "assistant_message": AssistantMessage,
    "tool_call_message": ToolCallMessage,
    "tool_return_message": ToolReturnMessage,
}


def _stream(letta: Letta, group_id: str, stream_tokens: bool, text: str = "hello group") -> tuple[list[Any], float]:
    started = time.monotonic()
    chunks = list(
        letta.groups.messages.create_stream(
            group_id=group_id, messages=[MessageCreate(role="user", content=text)], stream_tokens=stream_tokens
        )
    )
    return chunks, time.monotonic() - started


def _logical(chunks: list[Any]) -> list[tuple[str, str]]:
    """(name, message_type) per logical message; in token mode consecutive chunks of one (id, type) count once."""
    out: list[tuple[str, str]] = []
    last: tuple[str, str] | None = None
    for chunk in chunks:
        if isinstance(chunk, LettaUsageStatistics):
            continue
        key = (chunk.id, chunk.message_type)
        if key != last:
            out.append((chunk.name, chunk.message_type))
        last = key
    return out


def _check_common(chunks: list[Any], stream_tokens: bool) -> LettaUsageStatistics:
    # Every chunk parses into its own SDK class; no input echo; the stream ends with the usage event
    # (the SDK skips [DONE] and only stops because the server closed the connection).
    assert chunks, "the stream yielded nothing"
    for chunk in chunks[:-1]:
        assert chunk.message_type in SDK_TYPES, chunk
        assert isinstance(chunk, SDK_TYPES[chunk.message_type]), type(chunk)
        assert chunk.message_type not in ("user_message", "system_message")
    usage = chunks[-1]
    assert isinstance(usage, LettaUsageStatistics) and usage.message_type == "usage_statistics"
    assert getattr(usage, "error", None) is None
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0
    assert usage.steps_messages is None
    messages = chunks[:-1]
    if stream_tokens:
        # Token mode: text arrives in several chunks that share the stored message's id.
        assert len(messages) > len(_logical(chunks)), "no message was split into token deltas"
    else:
        assert len(messages) == len(_logical(chunks)), "step mode sends each LettaMessage whole, once"
    return usage


@pytest.mark.parametrize("stream_tokens", [False, True], ids=["steps", "tokens"])
def test_round_robin_streams_each_speaker_in_order(letta: Letta, objects: Objects, stream_tokens: bool) -> None:
    # Given a round robin group of three agents (default turns: one each)
    names = ["fred", "velma", "shaggy"]
    agents = [objects.agent(n) for n in names]
    group = objects.group([a["id"] for a in agents])
    # When letta-client streams one message to it
    chunks, _ = _stream(letta, group["id"], stream_tokens)
    # Then each speaker's reasoning and assistant message arrive in speaker order, then the usage
    usage = _check_common(chunks, stream_tokens)
    assert _logical(chunks) == [(n, t) for n in names for t in ("reasoning_message", "assistant_message")]
    assert usage.step_count == 3
    assert usage.run_ids is None


@pytest.mark.parametrize("stream_tokens", [False, True], ids=["steps", "tokens"])
def test_supervisor_streams_only_the_supervisor(letta: Letta, objects: Objects, stream_tokens: bool) -> None:
    # Given a supervisor with two workers
    boss = objects.agent("boss")
    workers = [objects.agent("worker-a"), objects.agent("worker-b")]
    group = objects.group(
        [w["id"] for w in workers], manager_config={"manager_type": "supervisor", "manager_agent_id": boss["id"]}
    )
    # When letta-client streams one message
    chunks, _ = _stream(letta, group["id"], stream_tokens)
    # Then only the supervisor's five messages are streamed (§8.2); worker traffic is not
    usage = _check_common(chunks, stream_tokens)
    assert _logical(chunks) == [
        ("boss", "reasoning_message"),
        ("boss", "tool_call_message"),
        (BROADCAST, "tool_return_message"),
        ("boss", "reasoning_message"),
        ("boss", "assistant_message"),
    ]
    assert usage.step_count == 2
    tool_return = next(c for c in chunks if isinstance(c, ToolReturnMessage))
    assert tool_return.status == "success"
    # the broadcast result is the list of both workers' answers, in agent order
    assert tool_return.tool_return.startswith(f'["{workers[0]["id"]} said:')
    assert workers[1]["id"] in tool_return.tool_return
    calls = [c for c in chunks if isinstance(c, ToolCallMessage)]
    assert "".join(c.tool_call.name or "" for c in calls) == BROADCAST


@pytest.mark.parametrize("stream_tokens", [False, True], ids=["steps", "tokens"])
def test_dynamic_interleaves_manager_and_speakers(letta: Letta, objects: Objects, stream_tokens: bool) -> None:
    # Given a dynamic group: a manager and two participants (default turns: two)
    manager = objects.agent("mgr")
    participants = [objects.agent("alice"), objects.agent("bob")]
    group = objects.group(
        [p["id"] for p in participants], manager_config={"manager_type": "dynamic", "manager_agent_id": manager["id"]}
    )
    # When letta-client streams one message
    chunks, _ = _stream(letta, group["id"], stream_tokens)
    # Then per turn: the manager's reasoning + reply, then the chosen speaker's reasoning + reply
    usage = _check_common(chunks, stream_tokens)
    logical = _logical(chunks)
    assert [t for _, t in logical] == ["reasoning_message", "assistant_message"] * 4
    assert [n for n, _ in logical[0:2] + logical[4:6]] == ["mgr"] * 4
    speakers = [n for n, _ in logical[2:4] + logical[6:8]]
    assert set(speakers) <= {"alice", "bob"} and speakers[0] == speakers[1] and speakers[2] == speakers[3]
    assert usage.step_count == 4 and len(logical) == 2 * usage.step_count


@pytest.mark.parametrize("stream_tokens", [False, True], ids=["steps", "tokens"])
def test_sleeptime_streams_the_main_agent_and_reports_background_runs(
    letta: Letta, objects: Objects, stream_tokens: bool
) -> None:
    # Given a main agent created with enable_sleeptime=True (its sleeptime group is made implicitly)
    main = objects.agent("dreamer", enable_sleeptime=True)
    group = main["multi_agent_group"]
    assert group["manager_type"] == "sleeptime"
    # When letta-client streams the first message to that group
    chunks, _ = _stream(letta, group["id"], stream_tokens)
    # Then only the main agent speaks, and the background pass started on turn 1 is in usage.run_ids
    usage = _check_common(chunks, stream_tokens)
    assert _logical(chunks) == [("dreamer", "reasoning_message"), ("dreamer", "assistant_message")]
    assert usage.run_ids is not None and len(usage.run_ids) == 1 and usage.run_ids[0].startswith("run-")
    assert usage.step_count == 1


@pytest.mark.parametrize("stream_tokens", [False, True], ids=["steps", "tokens"])
def test_voice_sleeptime_streams_the_voice_agent(letta: Letta, objects: Objects, stream_tokens: bool) -> None:
    # Given a voice_convo_agent with enable_sleeptime=True (its voice_sleeptime group is made implicitly)
    voice = objects.agent("talker", agent_type="voice_convo_agent", enable_sleeptime=True)
    group = voice["multi_agent_group"]
    assert group["manager_type"] == "voice_sleeptime"
    # When letta-client streams a message to that group
    chunks, _ = _stream(letta, group["id"], stream_tokens)
    # Then the voice agent's messages are streamed, nothing of the sleeptime agent
    usage = _check_common(chunks, stream_tokens)
    assert _logical(chunks) == [("talker", "reasoning_message"), ("talker", "assistant_message")]
    assert usage.step_count == 1


def test_sdk_yields_an_in_run_failure_as_usage_with_error(letta: Letta, objects: Objects) -> None:
    # Given a round robin whose second agent's model refuses every request (a non-retryable fault)
    ok = objects.agent("steady")
    bad = objects.agent("broken", model="fail=bad_request")
    group = objects.group([ok["id"], bad["id"]])
    # When letta-client streams a message
    chunks, _ = _stream(letta, group["id"], False)
    # Then it does not raise: the first agent's messages, then the error as a LettaUsageStatistics with .error
    assert [(c.name, c.message_type) for c in chunks[:-1]] == [("steady", "reasoning_message"), ("steady", "assistant_message")]
    error = chunks[-1]
    assert isinstance(error, LettaUsageStatistics)
    assert error.message_type is None
    assert getattr(error, "error", None) == "Stream failed (internal error occurred)"


def test_sdk_raises_pre_run_errors_as_api_errors(letta: Letta, objects: Objects) -> None:
    # Given an unknown group and an empty group
    empty = objects.group([])
    # When letta-client streams to them, Then the JSON errors are raised before any event (§4.8)
    with pytest.raises(ApiError) as missing:
        list(letta.groups.messages.create_stream(group_id="group-nope", messages=[MessageCreate(role="user", content="x")]))
    assert missing.value.status_code == 404
    assert "Group not found" in str(missing.value.body)
    with pytest.raises(ApiError) as empty_error:
        list(letta.groups.messages.create_stream(group_id=empty["id"], messages=[MessageCreate(role="user", content="x")]))
    assert empty_error.value.status_code == 400
    assert "Empty group" in str(empty_error.value.body)
