"""`POST /v1/voice-beta/{agent_id}/chat/completions` (issue #10): an OpenAI chat-completions request to a voice agent
(`voice_convo_agent`), which runs its voice_sleeptime group's pattern (contract §8.5) through the agent door:
the request's last user message is the input; a streaming request follows the run as chat-completion chunks
(`streaming/chat_chunks.py`), any other gets one `chat.completion`."""

from __future__ import annotations

from typing import Any

from ..errors import BadRequestError
from ..models.identity import Actor
from ..models.messages import LettaStreamingRequest
from ..models.voice import ChatCompletionRequest
from ..streaming.chat_chunks import completion
from . import agent_messages, sending


def user_text(request: ChatCompletionRequest) -> str:
    """The last user message's text (its string content, or its text parts joined)."""
    for message in reversed(request.messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str) and content.strip():
            return content
        if isinstance(content, list):
            text = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
            if text.strip():
                return text
    raise BadRequestError("The request has no user message with text content")


def _letta_request(request: ChatCompletionRequest) -> LettaStreamingRequest:
    return LettaStreamingRequest(messages=[{"role": "user", "content": user_text(request)}], stream_tokens=True)  # type: ignore[list-item]


def start_stream(actor: Actor, agent_id: str, request: ChatCompletionRequest) -> sending.Opened:
    target = agent_messages.target(actor, agent_id, voice_only=True)
    letta_request = _letta_request(request)
    return sending.send_stream(actor, target, letta_request, stream_tokens=letta_request.stream_tokens)


def complete(actor: Actor, agent_id: str, request: ChatCompletionRequest) -> dict[str, Any]:
    response = sending.send_sync(actor, agent_messages.target(actor, agent_id, voice_only=True), _letta_request(request))
    text = "\n".join(str(m.content) for m in response.messages if m.message_type == "assistant_message")  # type: ignore[attr-defined]
    usage = {k: int(getattr(response.usage, k)) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
    return completion(agent_id, request.model or "letta", text, usage)


def model_name(request: ChatCompletionRequest) -> str:
    return request.model or "letta"
