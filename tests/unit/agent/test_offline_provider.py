"""The offline model's rules and fault injection, called directly (no storage)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lettagroups.agent import catalog
from lettagroups.agent.prompts import compose_system_prompt
from lettagroups.agent.providers import provider_for
from lettagroups.agent.providers.base import ChatRequest, ProviderDelta
from lettagroups.agent.providers.errors import (
    ModelBadRequestError,
    ModelServerError,
    ModelTimeoutError,
    RateLimitedError,
    UnsupportedModelError,
)
from lettagroups.agent.providers.offline import OfflineProvider
from lettagroups.agent.providers.offline_faults import parse_specs, reset_counters
from lettagroups.models.presentation import pack_user
from lettagroups.models.stored_entities import BlockRecord

PERSONA = BlockRecord(id="block-p", label="persona", value="I am Daphne. I love fashion and travel.", limit=5000)
HUMAN = BlockRecord(id="block-h", label="human", value="", limit=5000)


def request(
    text: str,
    tools: list[str],
    *,
    blocks: list[BlockRecord] = (PERSONA, HUMAN),
    messages: list[dict[str, Any]] | None = None,
    **kw: Any,
) -> ChatRequest:  # type: ignore[assignment]
    return ChatRequest(
        model="letta-offline",
        system=compose_system_prompt("You are an agent.", list(blocks)),
        messages=messages if messages is not None else [{"role": "user", "content": pack_user(text)}],
        tools=[catalog.SCHEMAS[t] for t in tools],
        tool_choice="required",
        metadata={"agent_name": "daphne", "agent_id": "agent-d"},
        **kw,
    )


def answer(req: ChatRequest, provider: OfflineProvider | None = None) -> tuple[str, dict[str, Any], str]:
    response = (provider or OfflineProvider({})).complete(req)
    call = response.tool_calls[0]
    return call.name, json.loads(call.arguments), response.text or ""


def test_reply_reflects_name_persona_and_input_deterministically():
    req = request("Where should we go next summer?", catalog.BASE_TOOLS)
    name, args, reasoning = answer(req)
    assert name == "send_message" and reasoning
    assert args["message"].startswith("I'm daphne. I am Daphne. About 'Where should we go next summer?'")
    assert answer(req)[1] == args  # same prompt, same answer


def test_choosing_a_speaker_names_one_option_and_rotates_with_the_history():
    # Given selection prompts listing options with names, differing only in their chat history
    def pick(history: str) -> str:
        text = f"Choose the most suitable agent ... from the following options: [agent-1 (fred), agent-2 (velma), agent-3 (shaggy)]. \nChat history:\n{history}"
        return answer(request(text, ["send_message"]))[1]["message"]

    picks = {pick(f"user: question {i}") for i in range(12)}
    # Then every reply names exactly one participant, and not always the same one
    names = {"fred", "velma", "shaggy"}
    assert all(sum(n in p for n in names) == 1 for p in picks)
    assert len({next(n for n in names if n in p) for p in picks}) > 1


def test_termination_token_from_input_or_persona():
    assert answer(request("We are finished, say DONE! please", ["send_message"]))[1]["message"].endswith("DONE!")
    persona = BlockRecord(id="block-p", label="persona", value="I always say FINISHED when I speak.", limit=5000)
    assert "FINISHED" in answer(request("hi", ["send_message"], blocks=[persona]))[1]["message"]
    assert "DONE" not in answer(request("hi", ["send_message"]))[1]["message"]


def test_broadcast_first_then_summary():
    tools = ["send_message", catalog.BROADCAST_TOOL]
    name, args, _ = answer(request("ask everyone about hobbies", tools))
    assert name == catalog.BROADCAST_TOOL and "hobbies" in args["message"]
    history = [
        {"role": "user", "content": pack_user("ask everyone about hobbies")},
        {
            "role": "assistant",
            "content": "x",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": catalog.BROADCAST_TOOL, "arguments": "{}"}}],
        },
        {
            "role": "tool",
            "tool_call_id": "c1",
            "content": json.dumps({"status": "OK", "message": "[\"a said: 'chess'\"]", "time": ""}),
        },
    ]
    name, args, _ = answer(request("", tools, messages=history))
    assert name == "send_message" and "chess" in args["message"]


def test_sleeptime_tools_insert_a_note_then_finish():
    name, args, _ = answer(request("user: I moved to Lisbon", catalog.SLEEPTIME_TOOLS))
    assert (
        name == "memory_insert" and args["label"] == "human" and "Lisbon" in args["new_str"] and args["request_heartbeat"] is True
    )
    history = [
        {"role": "user", "content": pack_user("user: I moved to Lisbon")},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "memory_insert", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "{}"},
    ]
    assert answer(request("", catalog.SLEEPTIME_TOOLS, messages=history))[0] == "memory_finish_edits"
    # Voice sleeptime agents store memories instead
    assert answer(request("1. user: hi", catalog.VOICE_SLEEPTIME_TOOLS))[0] == "store_memories"


def test_a_forced_tool_choice_is_obeyed():
    req = request("hello", catalog.BASE_TOOLS)
    req.tool_choice = {"name": "conversation_search"}
    name, args, _ = answer(req)
    assert name == "conversation_search" and "query" in args


def test_streaming_deltas_rebuild_the_answer():
    deltas: list[ProviderDelta] = []
    response = OfflineProvider({}).complete(request("hi", ["send_message"]), deltas.append)
    text = "".join(d.text for d in deltas if d.kind == "text")
    arguments = "".join(d.arguments for d in deltas if d.kind == "tool_call")
    assert text == response.text and arguments == response.tool_calls[0].arguments
    assert sum(1 for d in deltas if d.name) == 1


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("fail=1", ModelServerError),
        ("fail=throttle", RateLimitedError),
        ("fail=timeout", ModelTimeoutError),
        ("fail=bad_request", ModelBadRequestError),
    ],
)
def test_fault_kinds_map_to_typed_errors(spec, error):
    with pytest.raises(error) as raised:
        OfflineProvider({"model": f"letta-offline?{spec}"}).complete(request("hi", ["send_message"]))
    assert raised.value.retryable == (error is not ModelBadRequestError)


def test_faults_by_call_number_count_and_agent(monkeypatch):
    # on_call: only the second call of one provider instance (one step) fails
    provider = OfflineProvider({"model": "letta-offline?fail_on_call=2"})
    provider.complete(request("hi", ["send_message"]))
    with pytest.raises(ModelServerError):
        provider.complete(request("hi", ["send_message"]))
    # times: the environment spec fails this agent once per process, then lets it through
    reset_counters()
    monkeypatch.setenv("LETTA_OFFLINE_FAULTS", "fail=throttle&times=1&agent=daphne;fail=error&agent=somebody-else")
    with pytest.raises(RateLimitedError):
        OfflineProvider({}).complete(request("hi", ["send_message"]))
    assert OfflineProvider({}).complete(request("hi", ["send_message"])).tool_calls
    # delay beyond the call's timeout is a timeout
    with pytest.raises(ModelTimeoutError):
        OfflineProvider({"offline_faults": "delay_ms=500"}).complete(request("hi", ["send_message"], timeout_s=0.05))
    assert parse_specs("") == [] and parse_specs("malformed_on_call=3")[0].on_call == 3


def test_provider_selection(monkeypatch):
    monkeypatch.delenv("LETTA_MODEL_MODE", raising=False)
    assert provider_for({"model": "gpt-4o", "model_endpoint_type": "openai"}).name == "openai_compatible"
    assert provider_for({"model": "anthropic.claude", "model_endpoint_type": "bedrock"}).name == "bedrock"
    assert provider_for({"model": "letta-offline", "model_endpoint_type": "offline"}).name == "offline"
    with pytest.raises(UnsupportedModelError):
        provider_for({"model": "x", "model_endpoint_type": "carrier-pigeon"})
    # LETTA_MODEL_MODE=offline forces the offline model for every agent
    monkeypatch.setenv("LETTA_MODEL_MODE", "offline")
    assert provider_for({"model": "gpt-4o", "model_endpoint_type": "openai"}).name == "offline"
