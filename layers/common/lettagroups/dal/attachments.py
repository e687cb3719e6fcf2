"""Block attachments, indexed from the block's side: which agents hold a block.

An agent item lists its blocks (`block_ids`, and `block_labels`: one block per label). That list is the source of
truth; this module keeps its back-reference, one item per (block, agent) pair in the block's own partition
(`ORG#o#BLOCK#<block>` / `AGENT#<agent>`), so "the agents holding a block" is one Query, never a read of every
agent of the organization.

Every write that attaches or detaches blocks passes the pairs it changes to `transact_with`, which writes their
back-references in the same transaction when everything fits in one (at most 100 actions). A larger write (a
group sharing many blocks with many agents) writes the new back-references in transactions before it and
deletes the old ones after it, so a back-reference exists whenever its attachment does. Readers therefore
keep only the agents whose item still lists the block; a back-reference left by a write that failed halfway
is skipped, never shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Optional

from . import keys
from .items import delete_action, put_action, transact
from .table import Expr, key, query_all, sort_key_range, table_name

TRANSACTION_MAX = 100

Pair = tuple[str, str]  # (agent id, block id)


def _put(org_id: str, agent_id: str, block_id: str) -> dict[str, Any]:
    item = {
        "PK": keys.attachment_pk(org_id, block_id),
        "SK": keys.attachment_sk(agent_id),
        "entity": "attachment",
        "agent_id": agent_id,
        "block_id": block_id,
    }
    return put_action(item, must_be_new=False)  # idempotent: a retried write puts the same item again


def _delete(org_id: str, agent_id: str, block_id: str) -> dict[str, Any]:
    return delete_action(keys.attachment_pk(org_id, block_id), keys.attachment_sk(agent_id))


def block_exists_check(org_id: str, block_id: str) -> dict[str, Any]:
    """A transaction action that fails unless the block still exists (an attachment must not outlive it)."""
    expr = Expr()
    return {
        "ConditionCheck": {
            "TableName": table_name(),
            "Key": key(keys.org_pk(org_id), keys.block_sk(block_id)),
            "ConditionExpression": f"attribute_exists({expr.name('SK')})",
            **expr.params(),
        }
    }


def _chunks(actions: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(actions), TRANSACTION_MAX):
        yield actions[start : start + TRANSACTION_MAX]


def transact_with(
    org_id: str, actions: Sequence[dict[str, Any]], attached: Iterable[Pair] = (), detached: Iterable[Pair] = ()
) -> None:
    """`actions` (one transaction, at most 100) together with the back-references of the attachments they make
    (`attached`) and undo (`detached`)."""
    added = set(attached)
    removed = set(detached) - added
    puts = [_put(org_id, a, b) for a, b in sorted(added)]
    deletes = [_delete(org_id, a, b) for a, b in sorted(removed)]
    if len(actions) + len(puts) + len(deletes) <= TRANSACTION_MAX:
        transact([*actions, *puts, *deletes])
        return
    for chunk in _chunks(puts):
        transact(chunk)
    transact(list(actions))
    for chunk in _chunks(deletes):
        transact(chunk)


def iter_agent_ids(
    org_id: str,
    block_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    descending: bool = False,
    page_size: Optional[int] = None,
) -> Iterator[str]:
    """The ids of the agents the block's back-references name, strictly between two agent ids (creation order;
    newest first when `descending`), one Query followed page by page as the caller consumes it."""
    expr = Expr()
    condition = sort_key_range(expr, "PK", keys.attachment_pk(org_id, block_id), "SK", keys.AGENT, after, before)
    params: dict[str, Any] = {
        "KeyConditionExpression": condition,
        "ConsistentRead": True,
        "ScanIndexForward": not descending,
        **expr.params(),
    }
    if page_size is not None:
        params["Limit"] = page_size
    exclude = {x for x in (after, before) if x}
    for item in query_all(**params):
        if item.get("entity") == "attachment" and item["agent_id"] not in exclude:
            yield item["agent_id"]
