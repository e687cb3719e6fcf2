"""OpenAI-compatible Chat Completions over httpx (no SDK): OpenAI itself, vLLM, Ollama, LM Studio, proxies.

- URL: `llm_config.model_endpoint`, else `OPENAI_BASE_URL`, else https://api.openai.com/v1; `/chat/completions`
  is appended.
- Key: `OPENAI_API_KEY` when set (local use), else the Secrets Manager secret or SSM SecureString parameter
  that `OPENAI_API_KEY_SECRET_ARN` names (deployed: template parameter `OpenAIApiKeySecretArn`), read once per
  process (`lettagroups.secrets_store`); none at all for local servers (Ollama, vLLM, LM Studio).
- One HTTP client per endpoint per process, re-used across calls and warm invocations (its connection pool and
  TLS context are built once); each call passes its own timeout.
- Deadline: the request's `timeout_s` bounds the whole call, streaming included.
- Failures name the provider and the endpoint (`openai_compatible model at <url> could not be reached: ...`):
  a configured model that cannot be used fails the run with that error, never a substitute answer.
- Streaming: Server-Sent Events, `data: {chunk}` lines until `data: [DONE]`; usage from the final chunk
  (`stream_options.include_usage`).
- A message `name` is sent only when it matches `^[^\\s<|\\\\/>]+$` (contract §7.3); OpenAI rejects others.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional

from .base import ChatRequest, ChatResponse, DeltaCallback, ProviderDelta, TokenUsage, ToolCallAccumulator, ToolCallOut
from .errors import ModelAuthError, ModelError, ModelServerError, ModelTimeoutError, ModelUnavailableError, error_for_status

if TYPE_CHECKING:
    import httpx

DEFAULT_BASE_URL = "https://api.openai.com/v1"
CONNECT_TIMEOUT_S = 10.0
_NAME_RE = re.compile(r"^[^\s<|\\/>]+$")
PROVIDER = "openai_compatible"


API_KEY_ENV = "OPENAI_API_KEY"
API_KEY_SECRET_ENV = "OPENAI_API_KEY_SECRET_ARN"
_clients: dict[str, httpx.Client] = {}
_clients_lock = threading.Lock()


def base_url(llm_config: dict[str, Any]) -> str:
    return str(llm_config.get("model_endpoint") or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def shared_client(base: str) -> httpx.Client:
    """The process's one client for an endpoint (httpx clients are thread-safe; the local runner's tasks share it)."""
    import httpx

    from ...observability import trace_httpx

    with _clients_lock:
        client = _clients.get(base)
        if client is None:
            trace_httpx()  # model calls show in X-Ray traces next to the AWS calls
            client = httpx.Client(timeout=httpx.Timeout(120.0, connect=CONNECT_TIMEOUT_S))
            _clients[base] = client
        return client


def configured_api_key() -> Optional[str]:
    """OPENAI_API_KEY, else the secret OPENAI_API_KEY_SECRET_ARN names (cached per process), else None."""
    key = os.environ.get(API_KEY_ENV)
    if key:
        return key
    reference = os.environ.get(API_KEY_SECRET_ENV)
    if not reference:
        return None
    from ... import secrets_store as secrets

    try:
        return secrets.read_secret(reference)
    except secrets.SecretUnavailable as exc:
        kind = ModelServerError if exc.retryable else ModelAuthError
        raise kind(f"{PROVIDER} API key could not be read from {reference}: {exc}", provider=PROVIDER) from exc


def to_openai_messages(system: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        item = {
            k: v for k, v in message.items() if k in ("role", "content", "name", "tool_calls", "tool_call_id") and v is not None
        }
        name = item.get("name")
        if name is not None and (item["role"] == "tool" or not _NAME_RE.match(str(name))):
            item.pop("name")
        if item["role"] == "assistant" and "content" not in item:
            item["content"] = None
        out.append(item)
    return out


def request_body(request: ChatRequest, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": request.model, "messages": to_openai_messages(request.system, request.messages)}
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens:
        body["max_tokens"] = request.max_tokens
    if request.tools:
        body["tools"] = [{"type": "function", "function": schema} for schema in request.tools]
        choice = request.tool_choice
        body["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}} if isinstance(choice, dict) else choice
        body["parallel_tool_calls"] = False  # Letta handles one tool call per model call
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


class OpenAICompatibleProvider:
    name = PROVIDER
    inner_thoughts_in_kwargs = True
    supports_token_streaming = True

    def __init__(
        self, llm_config: dict[str, Any], *, api_key: Optional[str] = None, transport: Optional[httpx.BaseTransport] = None
    ) -> None:
        self.llm_config = llm_config
        self.base = base_url(llm_config)
        self.url = self.base + "/chat/completions"
        self._api_key = api_key
        self.transport = transport
        self._own_client: Optional[httpx.Client] = None

    @property
    def api_key(self) -> Optional[str]:
        return self._api_key if self._api_key is not None else configured_api_key()

    def _client(self) -> httpx.Client:
        if self.transport is None:
            return shared_client(self.base)
        if self._own_client is None:  # an injected transport (tests) gets a client of its own
            import httpx

            self._own_client = httpx.Client(transport=self.transport)
        return self._own_client

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def complete(self, request: ChatRequest, on_delta: Optional[DeltaCallback] = None) -> ChatResponse:
        import httpx

        deadline = time.monotonic() + request.timeout_s
        timeout = httpx.Timeout(request.timeout_s, connect=min(CONNECT_TIMEOUT_S, request.timeout_s))
        stream = on_delta is not None
        body = request_body(request, stream)
        where = f"{PROVIDER} model at {self.base}"
        try:
            headers = self._headers()
            client = self._client()
            if not stream:
                response = client.post(self.url, json=body, headers=headers, timeout=timeout)
                _raise_for_status(response.status_code, response.text, response.headers, where)
                return _parse_completion(_json(response.text))
            with client.stream("POST", self.url, json=body, headers=headers, timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for_status(response.status_code, response.text, response.headers, where)
                assert on_delta is not None
                return _consume_stream(response.iter_lines(), on_delta, deadline, request.timeout_s)
        except ModelError:
            raise
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
            raise ModelUnavailableError(
                f"{where} could not be reached: {type(exc).__name__}: {exc or 'no answer'}", provider=PROVIDER
            ) from exc
        except httpx.TimeoutException as exc:
            raise ModelTimeoutError(
                f"{where} timed out after {request.timeout_s:.0f}s ({type(exc).__name__})", provider=PROVIDER
            ) from exc
        except httpx.HTTPError as exc:
            raise ModelServerError(f"{where} failed: {type(exc).__name__}: {exc}", provider=PROVIDER) from exc


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ModelServerError(f"model endpoint answered with non-JSON: {text[:200]!r}", provider=PROVIDER) from exc
    if not isinstance(value, dict):
        raise ModelServerError("model endpoint answered with a non-object", provider=PROVIDER)
    return value


def _raise_for_status(status: int, text: str, headers: Any, where: str = PROVIDER) -> None:
    if status < 400:
        return
    message, code = text[:500], None
    try:
        error = json.loads(text).get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or message)
            code = error.get("code") or error.get("type")
        elif isinstance(error, str):
            message = error
    except (ValueError, AttributeError):
        pass
    retry_after = None
    try:
        retry_after = float(headers.get("retry-after")) if headers.get("retry-after") else None
    except (TypeError, ValueError):
        retry_after = None
    raise error_for_status(status, f"{where} returned {status}: {message}", provider=PROVIDER, code=code, retry_after=retry_after)


def _usage(data: Optional[dict[str, Any]]) -> TokenUsage:
    data = data or {}
    return TokenUsage(
        prompt_tokens=int(data.get("prompt_tokens") or 0), completion_tokens=int(data.get("completion_tokens") or 0)
    )


def _parse_completion(data: dict[str, Any]) -> ChatResponse:
    if isinstance(data.get("error"), dict):
        raise ModelServerError(f"model endpoint error: {data['error'].get('message')}", provider=PROVIDER)
    choices = data.get("choices") or []
    if not choices:
        raise ModelServerError("model endpoint answered without choices", provider=PROVIDER)
    message = choices[0].get("message") or {}
    calls = [
        ToolCallOut(
            id=str(call.get("id") or ""),
            name=str((call.get("function") or {}).get("name") or ""),
            arguments=str((call.get("function") or {}).get("arguments") or ""),
        )
        for call in message.get("tool_calls") or []
    ]
    return ChatResponse(
        text=message.get("content") or None,
        reasoning=message.get("reasoning_content") or None,
        tool_calls=calls,
        usage=_usage(data.get("usage")),
        finish_reason=choices[0].get("finish_reason"),
    )


def iter_sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The `data:` payloads of an SSE stream (multi-line data joined; comments and other fields ignored)."""
    buffer: list[str] = []
    for line in lines:
        if line == "":
            if buffer:
                yield "\n".join(buffer)
                buffer = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            buffer.append(value[1:] if value.startswith(" ") else value)
    if buffer:
        yield "\n".join(buffer)


def _consume_stream(lines: Iterator[str], on_delta: DeltaCallback, deadline: float, timeout_s: float) -> ChatResponse:
    text: list[str] = []
    reasoning: list[str] = []
    calls = ToolCallAccumulator()
    usage = TokenUsage()
    finish = None
    for payload in iter_sse_data(lines):
        if time.monotonic() > deadline:
            raise ModelTimeoutError(f"model stream exceeded its {timeout_s:.0f}s deadline", provider=PROVIDER)
        if payload.strip() == "[DONE]":
            break
        chunk = _json(payload)
        if "error" in chunk and chunk["error"]:
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise ModelServerError(f"model stream error: {message}", provider=PROVIDER)
        if chunk.get("usage"):
            usage = _usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("reasoning_content"):
                reasoning.append(delta["reasoning_content"])
                on_delta(ProviderDelta(kind="reasoning", text=delta["reasoning_content"]))
            if delta.get("content"):
                text.append(delta["content"])
                on_delta(ProviderDelta(kind="text", text=delta["content"]))
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                index = int(call.get("index") or 0)
                calls.add(index, call.get("id"), function.get("name"), function.get("arguments"))
                on_delta(
                    ProviderDelta(
                        kind="tool_call",
                        index=index,
                        call_id=call.get("id"),
                        name=function.get("name"),
                        arguments=function.get("arguments") or "",
                    )
                )
            finish = choice.get("finish_reason") or finish
    return ChatResponse(
        text="".join(text) or None,
        reasoning="".join(reasoning) or None,
        tool_calls=calls.result(),
        usage=usage,
        finish_reason=finish,
    )
