"""The OpenAI-compatible provider against a real local HTTP server (see conftest.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lettagroups.agent.providers.base import ChatRequest, ProviderDelta
from lettagroups.agent.providers.errors import (
    ContextWindowExceededError,
    ModelAuthError,
    ModelServerError,
    ModelTimeoutError,
    RateLimitedError,
)
from lettagroups.agent.providers.openai_compatible import OpenAICompatibleProvider

SEND = {
    "name": "send_message",
    "description": "Send.",
    "parameters": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
}


def request(**fields: Any) -> ChatRequest:
    data: dict[str, Any] = {
        "model": "gpt-test",
        "system": "You are fred.",
        "messages": [
            {"role": "user", "content": "hi", "name": "Ann Lee"},
            {"role": "system", "content": "alert", "name": "velma"},
        ],
        "tools": [SEND],
        "tool_choice": "required",
        "max_tokens": 64,
        "temperature": 0.2,
        "timeout_s": 5,
    }
    data.update(fields)
    return ChatRequest(**data)


def provider(server: Any, **kw: Any) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider({"model": "gpt-test", "model_endpoint_type": "openai", "model_endpoint": server.url}, **kw)


def test_tool_call_answer_and_request_shape(fake_openai):
    # Given a server answering with a tool call
    fake_openai.script.append(fake_openai.tool_call_answer("send_message", {"message": "hello"}, content="thinking"))
    # When the provider is called with an API key
    response = provider(fake_openai, api_key="sk-test").complete(request(tool_choice={"name": "send_message"}))
    # Then the answer is parsed
    assert response.text == "thinking" and response.finish_reason == "tool_calls"
    assert [(c.id, c.name, json.loads(c.arguments)) for c in response.tool_calls] == [
        ("call_abc", "send_message", {"message": "hello"})
    ]
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (120, 12)
    # And the request was OpenAI's shape: system first, invalid names dropped, tools wrapped, one tool call at a time
    sent = fake_openai.requests[0]
    body = sent["body"]
    assert sent["path"] == "/v1/chat/completions" and sent["headers"]["Authorization"] == "Bearer sk-test"
    assert body["messages"] == [
        {"role": "system", "content": "You are fred."},
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "alert", "name": "velma"},
    ]
    assert body["tools"] == [{"type": "function", "function": SEND}]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "send_message"}}
    assert body["parallel_tool_calls"] is False and body["max_tokens"] == 64 and "stream" not in body


def test_no_key_means_no_authorization_header(fake_openai, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    provider(fake_openai).complete(request())
    assert "Authorization" not in fake_openai.requests[0]["headers"]


def test_base_url_from_the_environment(fake_openai, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    OpenAICompatibleProvider({"model": "gpt-test", "model_endpoint_type": "openai"}).complete(request())
    assert len(fake_openai.requests) == 1


def test_streaming_deltas_and_final_answer(fake_openai):
    # Given a server streaming content, a fragmented tool call and a final usage chunk
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    fake_openai.script.append(
        {
            "sse": [
                chunk({"role": "assistant", "content": "Let me "}),
                chunk({"content": "answer."}),
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_s",
                                "type": "function",
                                "function": {"name": "send_message", "arguments": ""},
                            }
                        ]
                    }
                ),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"mess'}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'age": "hey"}'}}]}),
                chunk({}, "tool_calls"),
                {"object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 7}},
            ]
        }
    )
    deltas: list[ProviderDelta] = []
    # When the provider streams
    response = provider(fake_openai).complete(request(), deltas.append)
    # Then every delta was reported as it came, and the final answer is assembled
    assert [d.text for d in deltas if d.kind == "text"] == ["Let me ", "answer."]
    assert "".join(d.arguments for d in deltas if d.kind == "tool_call") == '{"message": "hey"}'
    assert response.text == "Let me answer." and response.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [("call_s", "send_message", '{"message": "hey"}')]
    assert response.usage.total_tokens == 57
    body = fake_openai.requests[0]["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("status", "payload", "error", "retryable"),
    [
        (429, {"error": {"message": "slow down", "type": "rate_limit"}}, RateLimitedError, True),
        (500, {"error": {"message": "oops"}}, ModelServerError, True),
        (503, {"error": "unavailable"}, ModelServerError, True),
        (400, {"error": {"message": "too many tokens", "code": "context_length_exceeded"}}, ContextWindowExceededError, False),
        (401, {"error": {"message": "bad key"}}, ModelAuthError, False),
    ],
)
def test_http_errors_map_to_typed_errors(fake_openai, status, payload, error, retryable):
    fake_openai.script.append({"status": status, "json": payload, "headers": {"Retry-After": "3"}})
    with pytest.raises(error) as raised:
        provider(fake_openai).complete(request())
    assert raised.value.retryable is retryable and raised.value.status == status
    if status == 429:
        assert raised.value.retry_after == 3.0


def test_errors_while_streaming_are_typed_too(fake_openai):
    fake_openai.script.append({"status": 429, "json": {"error": {"message": "slow"}}})
    with pytest.raises(RateLimitedError):
        provider(fake_openai).complete(request(), lambda d: None)


def test_a_slow_server_is_a_timeout(fake_openai):
    fake_openai.script.append({"sleep": 1.0, **fake_openai.tool_call_answer("send_message", {"message": "late"})})
    with pytest.raises(ModelTimeoutError) as raised:
        provider(fake_openai).complete(request(timeout_s=0.2))
    assert raised.value.retryable


def test_an_unreachable_endpoint_is_a_retryable_server_error():
    from lettagroups_local.emulation import free_port

    dead = OpenAICompatibleProvider(
        {"model": "m", "model_endpoint_type": "openai", "model_endpoint": f"http://127.0.0.1:{free_port()}/v1"}
    )
    with pytest.raises(ModelServerError) as raised:
        dead.complete(request(timeout_s=2))
    assert raised.value.retryable


def test_an_agent_step_through_the_openai_provider(fake_openai, actor, monkeypatch):
    # Given an agent configured for an OpenAI-compatible endpoint (inner thoughts travel as an argument)
    from lettagroups.agent.inputs import build_input_message
    from lettagroups.agent.step import StepRequest, run_and_commit
    from lettagroups.ids import new_id
    from lettagroups.logic.agents import create_agent
    from lettagroups.models.agents import CreateAgent, LLMConfig
    from lettagroups.models.presentation import to_letta_messages

    monkeypatch.delenv("LETTA_MODEL_MODE", raising=False)
    llm = LLMConfig(model="gpt-test", model_endpoint_type="openai", model_endpoint=fake_openai.url, context_window=8000)
    agent = create_agent(actor, CreateAgent(name="fred", memory_blocks=[], llm_config=llm))
    fake_openai.script.append(
        fake_openai.tool_call_answer("send_message", {"inner_thoughts": "Greet back.", "message": "Hi from fred"})
    )
    group = new_id("group")
    inputs = [build_input_message(actor.organization_id, group, role="user", text="hello", group_id=group)]
    # When it steps
    request = StepRequest(
        org_id=actor.organization_id,
        agent_id=agent.id,
        conversation_id=group,
        group_id=group,
        run_id=new_id("run"),
        inputs=inputs,
    )
    result = run_and_commit(request)
    # Then the model was offered tools whose first required argument is inner_thoughts
    tool = fake_openai.requests[0]["body"]["tools"][0]["function"]
    assert tool["parameters"]["required"][0] == "inner_thoughts"
    assert fake_openai.requests[0]["body"]["tool_choice"] == "required"
    # And the thoughts became reasoning, the message the reply, with the provider's usage
    listed = to_letta_messages(result.outputs)
    assert [(m.message_type, getattr(m, "reasoning", None) or getattr(m, "content", None)) for m in listed] == [
        ("reasoning_message", "Greet back."),
        ("assistant_message", "Hi from fred"),
    ]
    assert "inner_thoughts" not in result.outputs[0].tool_calls[0]["function"]["arguments"]  # type: ignore[index]
    assert result.usage.total_tokens == 132


# --- one client per endpoint, errors that name the endpoint, keys from a secret --------------------------


def test_one_http_client_per_endpoint_is_reused_across_calls_and_providers(fake_openai):
    # Given two providers (two agents, or two invocations of a warm container) for the same endpoint
    first, second = provider(fake_openai), provider(fake_openai)
    # When each makes a call
    first.complete(request())
    second.complete(request())
    # Then they share the process's one client for that endpoint, and the second call re-used its connection
    from lettagroups.agent.providers.openai_compatible import shared_client

    assert shared_client(fake_openai.url) is shared_client(fake_openai.url.rstrip("/"))
    assert len(fake_openai.requests) == 2
    assert fake_openai.requests[0]["client"] == fake_openai.requests[1]["client"]


def test_an_unreachable_endpoint_is_named_in_the_error():
    from lettagroups_local.emulation import free_port

    endpoint = f"http://127.0.0.1:{free_port()}/v1"
    dead = OpenAICompatibleProvider({"model": "m", "model_endpoint_type": "ollama", "model_endpoint": endpoint})
    with pytest.raises(ModelServerError) as raised:
        dead.complete(request(timeout_s=2))
    assert str(raised.value).startswith(f"openai_compatible model at {endpoint} could not be reached: ConnectError")


def test_an_error_status_names_the_endpoint(fake_openai):
    fake_openai.script.append({"status": 404, "json": {"error": {"message": "model 'llama9' not found"}}})
    with pytest.raises(Exception) as raised:
        provider(fake_openai).complete(request())
    assert str(raised.value) == f"openai_compatible model at {fake_openai.url} returned 404: model 'llama9' not found"


@pytest.mark.parametrize("kind", ["secretsmanager", "ssm"])
def test_the_api_key_comes_from_a_secret_read_once(kind, fake_openai, emulation, monkeypatch):
    import boto3

    from lettagroups import secrets_store

    # Given the key stored in Secrets Manager (as a key/value secret) or as an SSM SecureString, named by
    # OPENAI_API_KEY_SECRET_ARN as the deployed task function's environment names it
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", emulation.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", emulation.endpoint_url)
    secrets_store.clear_cache()
    name = f"openai-key-{kind}-{id(fake_openai)}"
    if kind == "secretsmanager":
        client = boto3.client("secretsmanager", endpoint_url=emulation.endpoint_url, region_name="us-east-1")
        arn = client.create_secret(Name=name, SecretString=json.dumps({"api_key": "sk-from-secret"}))["ARN"]
    else:
        client = boto3.client("ssm", endpoint_url=emulation.endpoint_url, region_name="us-east-1")
        client.put_parameter(Name=f"/{name}", Value="sk-from-secret", Type="SecureString")
        arn = f"arn:aws:ssm:us-east-1:123456789012:parameter/{name}"
    monkeypatch.setenv("OPENAI_API_KEY_SECRET_ARN", arn)
    calls: list[str] = []
    original = secrets_store._fetch
    monkeypatch.setattr(secrets_store, "_fetch", lambda ref: calls.append(ref) or original(ref))
    # When two calls are made
    provider(fake_openai).complete(request())
    provider(fake_openai).complete(request())
    # Then both carry the key, read from the store once
    assert [r["headers"]["Authorization"] for r in fake_openai.requests] == ["Bearer sk-from-secret"] * 2
    assert calls == [arn]
    secrets_store.clear_cache()


def test_a_secret_that_cannot_be_read_fails_the_call_naming_it(fake_openai, emulation, monkeypatch):
    from lettagroups import secrets_store
    from lettagroups.agent.providers.errors import ModelAuthError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", emulation.endpoint_url)
    secrets_store.clear_cache()
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-key-AbCdEf"
    monkeypatch.setenv("OPENAI_API_KEY_SECRET_ARN", arn)
    with pytest.raises(ModelAuthError) as raised:
        provider(fake_openai).complete(request())
    assert f"openai_compatible API key could not be read from {arn}" in str(raised.value)
    assert fake_openai.requests == []
    secrets_store.clear_cache()
