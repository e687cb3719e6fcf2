"""The Bedrock Converse provider with botocore's Stubber (no network), and ConverseStream event parsing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lettagroups.agent.providers.base import ChatRequest, ProviderDelta
from lettagroups.agent.providers.bedrock import BedrockProvider, to_converse_messages
from lettagroups.agent.providers.errors import ContextWindowExceededError, ModelAuthError, ModelTimeoutError, RateLimitedError

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
SEND = {
    "name": "send_message",
    "description": "Send.",
    "parameters": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
}


@pytest.fixture
def bedrock() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def request(**fields: Any) -> ChatRequest:
    data: dict[str, Any] = {
        "model": MODEL,
        "system": "You are fred.",
        "messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "velma joined"}],
        "tools": [SEND],
        "tool_choice": "required",
        "max_tokens": 100,
        "temperature": 0.5,
        "timeout_s": 5,
    }
    data.update(fields)
    return ChatRequest(**data)


def test_converse_tool_use(bedrock):
    # Given Bedrock answering with text and a tool use
    answer = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"text": "I should greet."},
                    {"toolUse": {"toolUseId": "tooluse_1", "name": "send_message", "input": {"message": "hello"}}},
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 40, "outputTokens": 9, "totalTokens": 49},
        "metrics": {"latencyMs": 12},
    }
    expected = {
        "modelId": MODEL,
        "system": [{"text": "You are fred."}],
        # the mid-conversation system alert joins the user turn: Converse has only user/assistant turns
        "messages": [{"role": "user", "content": [{"text": "hi"}, {"text": "velma joined"}]}],
        "inferenceConfig": {"maxTokens": 100, "temperature": 0.5},
        "toolConfig": {
            "tools": [
                {"toolSpec": {"name": "send_message", "description": "Send.", "inputSchema": {"json": SEND["parameters"]}}}
            ],
            "toolChoice": {"any": {}},
        },
    }
    with Stubber(bedrock) as stub:
        stub.add_response("converse", answer, expected)
        # When the provider is called
        response = BedrockProvider({"model": MODEL}, client=bedrock).complete(request())
        stub.assert_no_pending_responses()
    # Then the text is the inner monologue and the tool use a tool call
    assert response.text == "I should greet." and response.finish_reason == "tool_use"
    assert [(c.id, c.name, json.loads(c.arguments)) for c in response.tool_calls] == [
        ("tooluse_1", "send_message", {"message": "hello"})
    ]
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (40, 9)


@pytest.mark.parametrize(
    ("code", "status", "message", "error", "retryable"),
    [
        ("ThrottlingException", 429, "Too many requests", RateLimitedError, True),
        ("ModelTimeoutException", 408, "Model timed out", ModelTimeoutError, True),
        ("ValidationException", 400, "Input is too long for requested model.", ContextWindowExceededError, False),
        ("AccessDeniedException", 403, "not allowed", ModelAuthError, False),
    ],
)
def test_errors_are_typed(bedrock, code, status, message, error, retryable):
    with Stubber(bedrock) as stub:
        stub.add_client_error("converse", service_error_code=code, service_message=message, http_status_code=status)
        with pytest.raises(error) as raised:
            BedrockProvider({"model": MODEL}, client=bedrock).complete(request())
    assert raised.value.retryable is retryable
    assert code in str(raised.value)


class _StreamingClient:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.params: dict[str, Any] = {}

    def converse_stream(self, **params: Any) -> dict[str, Any]:
        self.params = params
        return {"stream": iter(self.events)}


def test_converse_stream_reports_deltas_and_assembles_the_answer():
    # Given a ConverseStream event sequence with text, a tool use in fragments, and usage
    events = [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Hmm, "}}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "greeting."}}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"contentBlockStart": {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_9", "name": "send_message"}}}},
        {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"message": '}}}},
        {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '"hi"}'}}}},
        {"contentBlockStop": {"contentBlockIndex": 1}},
        {"messageStop": {"stopReason": "tool_use"}},
        {"metadata": {"usage": {"inputTokens": 30, "outputTokens": 6, "totalTokens": 36}, "metrics": {"latencyMs": 5}}},
    ]
    client = _StreamingClient(events)
    deltas: list[ProviderDelta] = []
    # When the provider streams
    response = BedrockProvider({"model": MODEL}, client=client).complete(request(), deltas.append)
    # Then deltas came through in order and the answer is complete
    assert [d.text for d in deltas if d.kind == "text"] == ["Hmm, ", "greeting."]
    assert [d.name for d in deltas if d.kind == "tool_call" and d.name] == ["send_message"]
    assert response.text == "Hmm, greeting." and response.tool_calls[0].arguments == '{"message": "hi"}'
    assert response.usage.total_tokens == 36 and client.params["modelId"] == MODEL


def test_an_error_event_in_the_stream_is_typed():
    client = _StreamingClient([{"throttlingException": {"message": "slow down"}}])
    with pytest.raises(RateLimitedError):
        BedrockProvider({"model": MODEL}, client=client).complete(request(), lambda d: None)


def test_history_conversion_pairs_tool_use_and_results():
    messages = [
        {"role": "assistant", "content": "earlier thought", "tool_calls": []},
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "t",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"status": "Failed", "message": "boom", "time": ""})},
        {"role": "system", "content": "alert"},
    ]
    turns = to_converse_messages(messages)
    # A leading assistant turn gets a user turn before it; roles alternate; the failed result is an error
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant", "user"]
    assert turns[3]["content"][1] == {"toolUse": {"toolUseId": "c1", "name": "f", "input": {"a": 1}}}
    result = turns[4]["content"][0]["toolResult"]
    assert result["toolUseId"] == "c1" and result["status"] == "error"
    assert turns[4]["content"][1] == {"text": "alert"}


def test_one_bedrock_client_per_region_per_process(monkeypatch):
    # Given two Bedrock agents' providers (no injected client), in one process
    from lettagroups.agent.providers import bedrock

    monkeypatch.setenv("BEDROCK_REGION", "eu-west-1")
    bedrock._client.cache_clear()
    first = bedrock.BedrockProvider({"model": "anthropic.claude"})._get_client()
    second = bedrock.BedrockProvider({"model": "amazon.nova"})._get_client()
    # Then they use the same bedrock-runtime client, made once
    assert first is second
    assert bedrock._client.cache_info().misses == 1
    assert first.meta.region_name == "eu-west-1"
    bedrock._client.cache_clear()
