"""Cursor pages of a list already in memory (a user's runs, an agent's groups, the organization's blocks).

letta-client 1.x pages every list it can (`for item in client.runs.list()`): it asks again with `after=<last id>`
until a page comes back empty, so a list route that ignored `after` would be read forever. The cursors are positions
in the list as ordered for the request, as in later Letta: with `order=desc`, `after` means older."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, TypeVar

from ..errors import BadRequestError, NotFoundError
from ..models.groups import ListOrder

T = TypeVar("T")
CROSSED = "'before' reference must be later than 'after' reference"


def window(
    items: Sequence[T],
    ids: Sequence[str],
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: Optional[int] = None,
    order: ListOrder = "asc",
    what: str = "item",
) -> list[T]:
    """The items strictly between the cursors, in `order` (`items` come oldest first): the first `limit` after
    `after`, or with `before` alone the last `limit` before it. A cursor that names nothing in the list is a 404."""
    ordered, positions = list(items), list(ids)
    if order == "desc":
        ordered.reverse()
        positions.reverse()
    for cursor in (after, before):
        if cursor and cursor not in positions:
            raise NotFoundError(f"No {what} found with id '{cursor}'")
    start = positions.index(after) + 1 if after else 0
    end = positions.index(before) if before else len(ordered)
    if start > end:
        raise BadRequestError(CROSSED)
    chosen = ordered[start:end]
    if limit is None:
        return chosen
    return chosen[-limit:] if (before and not after and limit) else chosen[:limit]


def check_window(after: Optional[str], before: Optional[str], order: ListOrder = "asc") -> None:
    """`before` must come later in the list than `after` in `order` (ids sort by creation, so compare them)."""
    if after and before and (before <= after if order == "asc" else before >= after):
        raise BadRequestError(CROSSED)
