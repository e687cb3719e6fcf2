"""Pages of stored messages, anchored at a cursor (contract §4.10, §5), from one conversation or several.

A group's transcript is one conversation. An agent's messages are those of every conversation it takes part in (its
own, the group it manages, the groups it is a member of), each seen as that agent sees it (§7.2), merged by id:
ids are UUIDv7, so id order is time order across conversations too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from ..agent.visibility import visibility
from ..dal import messages as messages_dal
from ..errors import NotFoundError
from ..models import presentation
from ..models.groups import ListOrder
from ..models.messages import LettaMessageBase
from ..models.records import RequestConfig
from ..models.stored import StoredMessage
from .paging import check_window


@dataclass(frozen=True)
class Source:
    conversation_id: str
    viewer: Optional[str] = None  # only what this agent sees of it (None: everything)
    since: Optional[str] = None  # and only after where its view starts (its membership of the group)

    def shows(self, message: StoredMessage) -> bool:
        if self.since is not None and message.id <= self.since:
            return False
        return self.viewer is None or visibility(message, self.viewer) is not None


def find(org_id: str, sources: Sequence[Source], message_id: str) -> Optional[tuple[Source, StoredMessage]]:
    """A message in one of the sources (one BatchGetItem), if its viewer sees it."""
    found = messages_dal.find_message(org_id, [s.conversation_id for s in sources], message_id)
    if found is None:
        return None
    source = next(s for s in sources if s.conversation_id == found.conversation_id)
    return (source, found) if source.shows(found) else None


def _scan(
    org_id: str, source: Source, older: Optional[str], newer: Optional[str], limit: int, from_newest: bool
) -> list[StoredMessage]:
    """Up to `limit` messages of one source strictly between the cursors, from the anchor inwards."""
    if source.since is not None and (older is None or older < source.since):
        older = source.since  # nothing before the viewer's view starts is read
    if source.viewer is None:
        return messages_dal.list_messages(
            org_id, source.conversation_id, after=older, before=newer, limit=limit, descending=from_newest
        )
    out: list[StoredMessage] = []
    page = min(max(limit * 2, 20), 500)
    for message in messages_dal.iter_messages(
        org_id, source.conversation_id, after=older, before=newer, descending=from_newest, page_size=page
    ):
        if source.shows(message):
            out.append(message)
            if len(out) >= limit:
                break
    return out


def _present(message: StoredMessage, source: Source, config: RequestConfig) -> list[LettaMessageBase]:
    """A message as its source's viewer sees it: another agent's reply is what it said, not its reasoning (§7.2)."""
    presented = presentation.present_all([message], config)
    if source.viewer is not None and visibility(message, source.viewer) == "peer":
        return [p for p in presented if p.message_type == "assistant_message"]
    return presented


def page(
    org_id: str,
    sources: Sequence[Source],
    *,
    after: Optional[str],
    before: Optional[str],
    limit: int,
    order: Optional[ListOrder],
    config: RequestConfig,
) -> list[LettaMessageBase]:
    """One page, presented.

    `order` is later Letta's: `asc` (oldest first) or `desc` (newest first, the exact reverse), with cursors relative to
    it (with `desc`, `after` pages towards older messages). Without it (None) the page is 0.7.7's: as `asc`, except
    that with no cursor it holds the newest `limit` messages.
    """
    for cursor in (after, before):
        if cursor and find(org_id, sources, cursor) is None:
            raise NotFoundError(f"No message found with id '{cursor}'")
    check_window(after, before, order or "asc")
    if limit == 0:
        return []
    descending = order == "desc"
    # In time order the window is (older, newer); the scan starts at the page's anchor: `after`, else `before`, else
    # the start of the list (0.7.7's default starts at the newest end).
    older, newer = (before, after) if descending else (after, before)
    from_newest = bool(after) == descending if (after or before) else order != "asc"
    while True:
        scanned = [(m, s) for s in sources for m in _scan(org_id, s, older, newer, limit, from_newest)]
        scanned = sorted(scanned, key=lambda pair: pair[0].id, reverse=from_newest)[:limit]
        stored = [m for m, _ in scanned]
        presented = [p for m, s in sorted(scanned, key=lambda pair: pair[0].id) for p in _present(m, s, config)]
        if presented or len(stored) < limit or order is None:
            break
        # Every stored message of this page presents as nothing (e.g. send_message tool returns): an empty page would
        # end an auto-paginating client (letta-client 1.x) although more messages follow, so read on past them.
        # 0.7.7's page (no order) keeps counting them and may come back empty (contract §4.10).
        if from_newest:
            newer = stored[-1].id
        else:
            older = stored[-1].id
    return presented[::-1] if descending else presented
