"""The ASGI application `make run` serves."""

from __future__ import annotations

from .gateway import Gateway


def build_app() -> Gateway:
    return Gateway()
