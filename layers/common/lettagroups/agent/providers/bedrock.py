"""Amazon Bedrock Converse / ConverseStream through boto3 `bedrock-runtime`.

- Model: `llm_config.model` (a model id or an inference-profile id/ARN).
- Region: `BEDROCK_REGION`, else `AWS_REGION` / `AWS_DEFAULT_REGION`.
- IAM: `bedrock:InvokeModel` (Converse) and `bedrock:InvokeModelWithResponseStream` (ConverseStream) on the
  foundation-model / inference-profile ARNs in use.
- Messages arrive in OpenAI chat format and are converted: system prompt → `system`; mid-conversation system
  messages → user text (Converse has only user/assistant turns); tool results → user `toolResult` blocks;
  consecutive same-role turns are merged, and a leading assistant turn gets a user turn before it.
- Text blocks are the agent's inner monologue; `reasoningContent` blocks are native reasoning.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any, Optional

from .base import ChatRequest, ChatResponse, DeltaCallback, ProviderDelta, TokenUsage, ToolCallAccumulator, ToolCallOut
from .errors import (
    ContextWindowExceededError,
    ModelAuthError,
    ModelBadRequestError,
    ModelError,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    RateLimitedError,
)

PROVIDER = "bedrock"
_RATE_LIMITED = {"ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException", "throttlingException"}
_TIMEOUT = {"ModelTimeoutException", "modelTimeoutException"}
_SERVER = {
    "InternalServerException",
    "ServiceUnavailableException",
    "ModelNotReadyException",
    "ModelErrorException",
    "ModelStreamErrorException",
    "internalServerException",
    "serviceUnavailableException",
    "modelStreamErrorException",
}
_AUTH = {"AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException", "InvalidSignatureException"}


def _region() -> str:
    return os.environ.get("BEDROCK_REGION") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


# botocore's read timeout bounds each socket read (the gap between stream events), not the whole call; the
# step's own deadline bounds the call. One value for every call keeps one client per region per process.
READ_TIMEOUT_S = 300


@lru_cache(maxsize=8)
def _client(region: str) -> Any:
    """The process's one bedrock-runtime client for a region, re-used across calls and warm invocations."""
    import boto3
    from botocore.config import Config

    # One botocore retry at most: the orchestrator retries whole steps, and the step has a deadline.
    config = Config(connect_timeout=5, read_timeout=READ_TIMEOUT_S, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client("bedrock-runtime", region_name=region, config=config)


def map_error(exc: BaseException, where: str = "Bedrock") -> ModelError:
    """The typed error for a botocore failure (API error, event-stream error, timeout, connection); `where` names
    the model and region in connection failures."""
    from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, EventStreamError, ReadTimeoutError

    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError)):
        return ModelTimeoutError(f"Bedrock call timed out: {exc}", provider=PROVIDER)
    if isinstance(exc, EndpointConnectionError):
        return ModelUnavailableError(f"{where} could not be reached: {exc}", provider=PROVIDER)
    if isinstance(exc, (ClientError, EventStreamError)):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        message = f"Bedrock {code}: {error.get('Message') or exc}"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _RATE_LIMITED:
            return RateLimitedError(message, status=429, provider=PROVIDER)
        if code in _TIMEOUT:
            return ModelTimeoutError(message, status=status, provider=PROVIDER)
        if code in _SERVER:
            return ModelServerError(message, status=status, provider=PROVIDER)
        if code in _AUTH:
            return ModelAuthError(message, status=status, provider=PROVIDER)
        lowered = message.lower()
        if code == "ValidationException" and ("too long" in lowered or "context" in lowered or "too many tokens" in lowered):
            return ContextWindowExceededError(message, status=status, provider=PROVIDER)
        if isinstance(status, int) and status >= 500:
            return ModelServerError(message, status=status, provider=PROVIDER)
        return ModelBadRequestError(message, status=status, code=code or None, provider=PROVIDER)
    return ModelServerError(f"Bedrock call failed: {type(exc).__name__}: {exc}", provider=PROVIDER)


def _tool_use_input(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def to_converse_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        blocks: list[dict[str, Any]] = []
        if role == "assistant":
            if message.get("content"):
                blocks.append({"text": _text(message["content"])})
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                blocks.append(
                    {
                        "toolUse": {
                            "toolUseId": call.get("id"),
                            "name": function.get("name"),
                            "input": _tool_use_input(function.get("arguments")),
                        }
                    }
                )
            turn_role = "assistant"
        elif role == "tool":
            status = "success"
            try:
                if json.loads(_text(message.get("content"))).get("status") == "Failed":
                    status = "error"
            except (ValueError, AttributeError):
                pass
            blocks.append(
                {
                    "toolResult": {
                        "toolUseId": message.get("tool_call_id"),
                        "content": [{"text": _text(message.get("content"))}],
                        "status": status,
                    }
                }
            )
            turn_role = "user"
        else:
            blocks.append({"text": _text(message.get("content")) or " "})
            turn_role = "user"
        if not blocks:
            continue
        if turns and turns[-1]["role"] == turn_role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": turn_role, "content": blocks})
    if turns and turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": [{"text": "(conversation continues)"}]})
    return turns


def converse_params(request: ChatRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"modelId": request.model, "messages": to_converse_messages(request.messages)}
    if request.system:
        params["system"] = [{"text": request.system}]
    inference: dict[str, Any] = {}
    if request.max_tokens:
        inference["maxTokens"] = request.max_tokens
    if request.temperature is not None:
        inference["temperature"] = request.temperature
    if inference:
        params["inferenceConfig"] = inference
    if request.tools and request.tool_choice != "none":
        config: dict[str, Any] = {
            "tools": [
                {
                    "toolSpec": {
                        "name": t["name"],
                        "description": t.get("description") or t["name"],
                        "inputSchema": {"json": t.get("parameters") or {"type": "object"}},
                    }
                }
                for t in request.tools
            ]
        }
        choice = request.tool_choice
        if isinstance(choice, dict):
            config["toolChoice"] = {"tool": {"name": choice["name"]}}
        elif choice == "required":
            config["toolChoice"] = {"any": {}}
        else:
            config["toolChoice"] = {"auto": {}}
        params["toolConfig"] = config
    return params


class BedrockProvider:
    name = PROVIDER
    inner_thoughts_in_kwargs = False
    supports_token_streaming = True

    def __init__(self, llm_config: dict[str, Any], client: Any = None) -> None:
        self.llm_config = llm_config
        self.client = client

    def _get_client(self) -> Any:
        return self.client if self.client is not None else _client(_region())

    def complete(self, request: ChatRequest, on_delta: Optional[DeltaCallback] = None) -> ChatResponse:
        params = converse_params(request)
        client = self._get_client()
        try:
            if on_delta is None:
                return parse_converse(client.converse(**params))
            return consume_converse_stream(client.converse_stream(**params)["stream"], on_delta)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - every botocore failure is mapped to a typed error
            raise map_error(exc, where=f"{PROVIDER} model {request.model} in {_region()}") from exc


def parse_converse(response: dict[str, Any]) -> ChatResponse:
    content = ((response.get("output") or {}).get("message") or {}).get("content") or []
    texts, reasoning, calls = [], [], []
    signature = redacted = None
    for block in content:
        if "text" in block:
            texts.append(block["text"])
        elif "toolUse" in block:
            use = block["toolUse"]
            calls.append(
                ToolCallOut(
                    id=str(use.get("toolUseId") or ""),
                    name=str(use.get("name") or ""),
                    arguments=json.dumps(use.get("input") or {}),
                )
            )
        elif "reasoningContent" in block:
            rc = block["reasoningContent"]
            if "reasoningText" in rc:
                reasoning.append(rc["reasoningText"].get("text", ""))
                signature = rc["reasoningText"].get("signature") or signature
            elif "redactedContent" in rc:
                data = rc["redactedContent"]
                redacted = data.decode("latin-1") if isinstance(data, (bytes, bytearray)) else str(data)
    usage = response.get("usage") or {}
    return ChatResponse(
        text="\n".join(texts) or None,
        reasoning="".join(reasoning) or None,
        reasoning_signature=signature,
        redacted_reasoning=redacted,
        tool_calls=calls,
        usage=TokenUsage(prompt_tokens=int(usage.get("inputTokens") or 0), completion_tokens=int(usage.get("outputTokens") or 0)),
        finish_reason=response.get("stopReason"),
    )


def _raise_stream_error(event: dict[str, Any]) -> None:
    for key, value in event.items():
        if key.endswith("Exception"):
            message = f"Bedrock {key}: {(value or {}).get('message', '')}"
            if key == "throttlingException":
                raise RateLimitedError(message, status=429, provider=PROVIDER)
            if key == "validationException":
                raise ModelBadRequestError(message, status=400, provider=PROVIDER)
            if key == "modelTimeoutException":
                raise ModelTimeoutError(message, provider=PROVIDER)
            raise ModelServerError(message, provider=PROVIDER)


def consume_converse_stream(events: Any, on_delta: DeltaCallback) -> ChatResponse:
    texts: list[str] = []
    reasoning: list[str] = []
    calls = ToolCallAccumulator()
    tool_blocks: dict[int, int] = {}  # content block index -> tool call index
    usage = TokenUsage()
    finish = None
    signature = None
    for event in events:
        _raise_stream_error(event)
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]
            use = (start.get("start") or {}).get("toolUse")
            if use:
                index = tool_blocks.setdefault(int(start.get("contentBlockIndex", 0)), len(tool_blocks))
                calls.add(index, use.get("toolUseId"), use.get("name"), None)
                on_delta(ProviderDelta(kind="tool_call", index=index, call_id=use.get("toolUseId"), name=use.get("name")))
        elif "contentBlockDelta" in event:
            block = event["contentBlockDelta"]
            delta = block.get("delta") or {}
            if "text" in delta:
                texts.append(delta["text"])
                on_delta(ProviderDelta(kind="text", text=delta["text"]))
            elif "toolUse" in delta:
                index = tool_blocks.setdefault(int(block.get("contentBlockIndex", 0)), len(tool_blocks))
                fragment = delta["toolUse"].get("input") or ""
                calls.add(index, None, None, fragment)
                on_delta(ProviderDelta(kind="tool_call", index=index, arguments=fragment))
            elif "reasoningContent" in delta:
                rc = delta["reasoningContent"]
                if rc.get("text"):
                    reasoning.append(rc["text"])
                    on_delta(ProviderDelta(kind="reasoning", text=rc["text"]))
                signature = rc.get("signature") or signature
        elif "messageStop" in event:
            finish = event["messageStop"].get("stopReason")
        elif "metadata" in event:
            raw = event["metadata"].get("usage") or {}
            usage = TokenUsage(
                prompt_tokens=int(raw.get("inputTokens") or 0), completion_tokens=int(raw.get("outputTokens") or 0)
            )
    result = calls.result()
    for call in result:
        call.arguments = call.arguments or "{}"  # a tool without arguments streams no input deltas
    return ChatResponse(
        text="".join(texts) or None,
        reasoning="".join(reasoning) or None,
        reasoning_signature=signature,
        tool_calls=result,
        usage=usage,
        finish_reason=finish,
    )
