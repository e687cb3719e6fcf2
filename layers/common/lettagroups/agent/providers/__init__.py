"""Model providers behind one interface (`base.ModelProvider`), chosen from `llm_config.model_endpoint_type`.

| model_endpoint_type                                                      | provider                  |
|--------------------------------------------------------------------------|---------------------------|
| `offline`                                                                | built-in offline model    |
| `bedrock`                                                                | Bedrock Converse          |
| `openai`, `openai_compatible`, `vllm`, `ollama`, `lmstudio`,              | OpenAI-compatible HTTP    |
| `lmstudio-openai`, `groq`, `together`, `deepseek`, `xai`, `mistral`, `azure` |                           |
| anything else                                                            | UnsupportedModelError     |

An agent without a model configuration gets the offline model's config (`letta/offline`,
logic/llm_configs.py), so only agents that configure nothing use it. `LETTA_MODEL_MODE=offline` forces the
offline model for every agent: an explicit switch for tests, unset by default (also under `make run`).
Heavy clients (httpx, boto3 bedrock-runtime) are imported only when a call is made.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Union

from .base import ChatRequest, ChatResponse, DeltaCallback, ModelProvider, ProviderDelta, TokenUsage, ToolCallOut, estimate_tokens
from .errors import ModelError, UnsupportedModelError

if TYPE_CHECKING:
    from ...models.agents import LLMConfig

MODE_ENV = "LETTA_MODEL_MODE"
OPENAI_COMPATIBLE_TYPES = {
    "openai",
    "openai_compatible",
    "vllm",
    "ollama",
    "lmstudio",
    "lmstudio-openai",
    "groq",
    "together",
    "deepseek",
    "xai",
    "mistral",
    "azure",
}

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "DeltaCallback",
    "ModelError",
    "ModelProvider",
    "ProviderDelta",
    "TokenUsage",
    "ToolCallOut",
    "estimate_tokens",
    "provider_for",
    "supports_token_streaming",
]


def offline_forced() -> bool:
    return os.environ.get(MODE_ENV, "").strip().lower() == "offline"


def provider_for(llm_config: Union[LLMConfig, dict[str, Any]]) -> ModelProvider:
    config = dict(llm_config) if isinstance(llm_config, dict) else llm_config.model_dump()
    endpoint_type = str(config.get("model_endpoint_type") or "offline").lower()
    if offline_forced() or endpoint_type == "offline":
        from .offline import OfflineProvider

        return OfflineProvider(config)
    if endpoint_type == "bedrock":
        from .bedrock import BedrockProvider

        return BedrockProvider(config)
    if endpoint_type in OPENAI_COMPATIBLE_TYPES:
        from .openai_compatible import OpenAICompatibleProvider

        return OpenAICompatibleProvider(config)
    raise UnsupportedModelError(f"No model provider for model_endpoint_type '{endpoint_type}'", provider=endpoint_type)


def supports_token_streaming(llm_config: Union[LLMConfig, dict[str, Any]]) -> bool:
    """Whether an agent's model can stream tokens (decides token vs step streaming, contract §4.8)."""
    try:
        return bool(provider_for(llm_config).supports_token_streaming)
    except ModelError:
        return False
