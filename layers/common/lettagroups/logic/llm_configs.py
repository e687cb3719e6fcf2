"""Resolving an agent's model and embedding settings from `llm_config` or a `provider/model` handle."""

from __future__ import annotations

from typing import Optional

from ..models.agents import EmbeddingConfig, LLMConfig

OFFLINE_HANDLE = "letta/offline"

_ENDPOINTS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com/v1",
    "bedrock": None,
    "ollama": "http://127.0.0.1:11434/v1",
}


def offline_llm_config() -> LLMConfig:
    return LLMConfig(model="letta-offline", model_endpoint_type="offline", context_window=16384, handle=OFFLINE_HANDLE)


def llm_config_from_handle(handle: Optional[str], context_window: Optional[int] = None) -> LLMConfig:
    if not handle or handle == OFFLINE_HANDLE:
        config = offline_llm_config()
    else:
        provider, _, model = handle.partition("/")
        if not model:
            provider, model = "openai", handle
        config = LLMConfig(
            model=model,
            model_endpoint_type=provider,
            model_endpoint=_ENDPOINTS.get(provider),
            context_window=context_window or 32000,
            handle=handle,
        )
    if context_window:
        config.context_window = context_window
    return config


def embedding_config_from_handle(handle: Optional[str]) -> EmbeddingConfig:
    if not handle:
        return EmbeddingConfig(
            embedding_endpoint_type="offline",
            embedding_model="letta-offline-embedding",
            embedding_dim=1536,
            handle="letta/offline-embedding",
        )
    provider, _, model = handle.partition("/")
    return EmbeddingConfig(
        embedding_endpoint_type=provider or "openai",
        embedding_endpoint=_ENDPOINTS.get(provider),
        embedding_model=model or handle,
        embedding_dim=1536,
        handle=handle,
    )
