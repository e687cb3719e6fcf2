"""The one place where a default depends on which SDK generation sent the request.

Letta's SDKs name themselves in their headers: the Fern-generated 0.1.x SDKs (letta-client 0.1.x for Python,
@letta-ai/letta-client 0.1.x for TypeScript) send `X-Fern-Language`, `X-Fern-SDK-Name` and
`X-Fern-SDK-Version`; the Stainless-generated 1.x SDKs send `X-Stainless-Lang`, `X-Stainless-Package-Version`
and more `X-Stainless-*` headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from ..models.groups import ListOrder

STAINLESS_PREFIX = "x-stainless-"
IDEMPOTENCY_KEY_MAX = 200  # characters of an `Idempotency-Key` header


def is_stainless_client(headers: Mapping[str, str]) -> bool:
    return any(name.lower().startswith(STAINLESS_PREFIX) for name in headers)


def default_message_order(headers: Mapping[str, str]) -> Optional[ListOrder]:
    """The `order` of a group-messages list that names none.

    Later Letta's default is `desc` (newest first, cursors relative to that order). The 1.x SDKs send no
    `order` and auto-paginate forward with `after=<last item>`, which only that order can serve, so they get
    it. Every other client gets Letta 0.7.7's default (None): the newest `limit` messages, oldest first,
    which letta-client 0.1.138 relies on.
    """
    return "desc" if is_stainless_client(headers) else None


def retried_header(value: Optional[str]) -> bool:
    """Whether an `x-stainless-retry-count` header marks a request as a 1.x SDK's retry (1 or more)."""
    try:
        return int(value or "0") > 0
    except ValueError:
        return False
