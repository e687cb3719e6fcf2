"""Messages of a conversation (a group's transcript, or an agent's direct traffic) and step records.

Key schema (see `keys.py`): messages live at `PK=ORG#o#CONV#<conversation_id>`, `SK=MSG#<message_id>`, with no
index: a run's messages are read from its conversation from the run's creation on (`run_messages`), or by the
ids its record holds, so no message write pays for an index entry. Message ids are UUIDv7, so the sort key is the
transcript's total order and id cursors are plain key conditions.

One agent step is written with ONE `TransactWriteItems`: its messages, an optional step record
(`PK=ORG#o#RUN#<run_id>`, `SK=STEP#<key>`, put only if absent) and optional memory-block replacements (guarded by
their version). A failed step therefore writes nothing, and a retried step with the same key is refused as a
whole (`StepAlreadyRecorded`), so the caller reads the stored record instead of writing twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any, Optional, Union

from ..errors import PayloadTooLargeError, StorageUnavailableError
from ..ids import created_ms, time_floor_id
from ..models.records import StepRecord
from ..models.stored import StoredMessage
from ..models.stored_entities import BlockRecord
from . import keys
from .agents import block_item
from .items import ConditionFailed, get, put_action, replace_action, transact, write_if
from .runs import step_record_action
from .table import Expr, batch_get, client, deserialize, key, query_all, sort_key_range, storage_request, table_name, without_keys

# DynamoDB limits: 100 actions and 4 MB per transaction, 400 KB per item. Steps are bounded by the caller
# (chained calls, one tool call per call), never chunked: chunking would break all-or-nothing.
MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4_000_000
MAX_ITEM_BYTES = 350_000  # headroom under 400 KB for attribute names and type overhead
TRUNCATION_MARKER = "\n[... truncated {removed} characters to fit the storage item limit ...]"


class StepAlreadyRecorded(Exception):
    """The step record of this key exists: the step ran before. Read it with `get_step_record`."""

    def __init__(self, run_id: str, step_key: str) -> None:
        super().__init__(f"step {step_key!r} of run {run_id} is already recorded")
        self.run_id = run_id
        self.step_key = step_key


class BlockVersionConflict(Exception):
    """A memory block changed since the step read it (another agent edited a shared block). Retryable."""

    retryable = True

    def __init__(self, block_ids: list[str]) -> None:
        super().__init__(f"memory block(s) changed concurrently: {', '.join(block_ids)}")
        self.block_ids = block_ids


class MessageConflict(Exception):
    """A message id of the step exists already (never expected: ids are fresh UUIDv7)."""


# ---------------------------------------------------------------------------------------------------------------
# Item mapping
# ---------------------------------------------------------------------------------------------------------------


def message_item(org_id: str, message: StoredMessage) -> dict[str, Any]:
    data = message.model_dump(mode="json", exclude_none=True)
    item: dict[str, Any] = {
        **data,
        "PK": keys.conversation_pk(org_id, message.conversation_id),
        "SK": keys.message_sk(message.id),
        "entity": "message",
    }
    return _fit_item(item)


def to_message(item: dict[str, Any]) -> StoredMessage:
    return StoredMessage.model_validate(without_keys(item))


def _size(item: dict[str, Any]) -> int:
    return len(json.dumps(item, ensure_ascii=False, default=str).encode("utf-8"))


def _text_slots(item: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """The (container, key) pairs holding free text that may be shortened: content texts and raw tool returns."""
    slots: list[tuple[dict[str, Any], str]] = []
    for part in item.get("content") or []:
        for field in ("text", "reasoning", "content", "data"):
            if isinstance(part.get(field), str):
                slots.append((part, field))
    for ret in item.get("tool_returns") or []:
        for field in ("raw", "stdout", "stderr"):
            if isinstance(ret.get(field), str):
                slots.append((ret, field))
    return slots


def _fit_item(item: dict[str, Any]) -> dict[str, Any]:
    """Shorten the longest texts (with a visible marker) until the item fits under the item limit."""
    excess = _size(item) - MAX_ITEM_BYTES
    if excess <= 0:
        return item
    for _ in range(8):
        slots = sorted(_text_slots(item), key=lambda s: len(s[0][s[1]]), reverse=True)
        if not slots:
            break
        container, field = slots[0]
        text: str = container[field]
        # Bytes per character can be up to 4 in UTF-8, so cut by characters with a generous margin.
        keep = max(0, len(text) - excess - 256)
        removed = len(text) - keep
        container[field] = text[:keep] + TRUNCATION_MARKER.format(removed=removed)
        excess = _size(item) - MAX_ITEM_BYTES
        if excess <= 0:
            return item
    raise PayloadTooLargeError(f"Message {item.get('id')} is too large to store")


# ---------------------------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------------------------


class ExtraConditionFailed(Exception):
    """A condition of one of the caller's own actions failed (`indexes` into `extra_actions`); nothing was written."""

    def __init__(self, indexes: list[int]) -> None:
        super().__init__(f"condition failed on extra action(s) {indexes}")
        self.indexes = indexes


def put_step(
    org_id: str,
    conversation_id: str,
    messages: Sequence[StoredMessage],
    record: Optional[StepRecord] = None,
    *,
    run_id: Optional[str] = None,
    block_updates: Sequence[tuple[BlockRecord, int]] = (),
    extra_actions: Sequence[dict[str, Any]] = (),
) -> None:
    """Write one step all-or-nothing, in ONE transaction.

    - `messages` must all belong to `conversation_id`;
    - `record`: the step's idempotency record (needs `run_id`), put only if absent; if it exists, nothing is written
      and `StepAlreadyRecorded` is raised;
    - `block_updates`: `(block, version_read)` pairs, replaced only if still at that version, else
      `BlockVersionConflict` (nothing written);
    - `extra_actions`: the caller's own actions in the same transaction (the run's lock renewal, its event frames,
      its completion); a failed condition among them is `ExtraConditionFailed` with their indexes.
    """
    actions: list[dict[str, Any]] = []
    for message in messages:
        if message.conversation_id != conversation_id or message.organization_id != org_id:
            raise ValueError(f"message {message.id} does not belong to conversation {conversation_id}")
        actions.append(put_action(message_item(org_id, message)))
    record_index = None
    if record is not None:
        if not run_id:
            raise ValueError("a step record needs a run id")
        record_index = len(actions)
        actions.append(step_record_action(org_id, run_id, record))
    block_start = len(actions)
    actions += [replace_action(block_item(org_id, block), version) for block, version in block_updates]
    extra_start = len(actions)
    actions += list(extra_actions)
    if not actions:
        return
    if len(actions) > MAX_TRANSACTION_ACTIONS:
        raise PayloadTooLargeError(f"A step may write at most {MAX_TRANSACTION_ACTIONS} items (got {len(actions)})")
    if sum(_size(a["Put"]["Item"]) for a in actions if "Put" in a) > MAX_TRANSACTION_BYTES:
        raise PayloadTooLargeError("A step's output is too large to store in one transaction")
    try:
        transact(actions)
    except ConditionFailed as exc:
        failed = {i for i, code in enumerate(exc.reasons) if code == "ConditionalCheckFailed"}
        if record_index is not None and record_index in failed:
            raise StepAlreadyRecorded(run_id or "", record.step_key if record else "") from exc
        conflicted = [block_updates[i - block_start][0].id for i in sorted(failed) if block_start <= i < extra_start]
        if conflicted:
            raise BlockVersionConflict(conflicted) from exc
        extras = [i - extra_start for i in sorted(failed) if i >= extra_start]
        if extras:
            raise ExtraConditionFailed(extras) from exc
        raise MessageConflict("a message of this step exists already") from exc


def put_messages(org_id: str, conversation_id: str, messages: Sequence[StoredMessage]) -> None:
    """Write messages outside any step (e.g. a run's inputs), all-or-nothing."""
    put_step(org_id, conversation_id, messages)


def put_items(org_id: str, messages: Sequence[StoredMessage]) -> list[dict[str, Any]]:
    """The `TransactWriteItems` Put actions of these messages, for a caller's own transaction
    (e.g. a run's inputs written together with the run record)."""
    return [put_action(message_item(org_id, m)) for m in messages]


def update_message(
    org_id: str,
    conversation_id: str,
    message: Union[str, StoredMessage],
    *,
    content: Optional[list[dict[str, Any]]] = None,
    tool_calls: Optional[list[dict[str, Any]]] = None,
) -> Optional[StoredMessage]:
    """Replace the content and/or tool calls of an existing message; None when it does not exist.

    `message` is an id (then `content`/`tool_calls` say what changes) or an edited `StoredMessage`, whose
    content and tool calls are written.
    """
    if isinstance(message, StoredMessage):
        message_id = message.id
        content = message.content if content is None else content
        tool_calls = message.tool_calls if tool_calls is None else tool_calls
    else:
        message_id = message
    expr = Expr()
    sets = []
    if content is not None:
        sets.append(f"{expr.name('content')} = {expr.value(content)}")
    if tool_calls is not None:
        sets.append(f"{expr.name('tool_calls')} = {expr.value(tool_calls)}")
    if not sets:
        return get_message(org_id, conversation_id, message_id)
    response = write_if(
        "update_item",
        Key=key(keys.conversation_pk(org_id, conversation_id), keys.message_sk(message_id)),
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression=f"attribute_exists({expr.name('SK')})",
        ReturnValues="ALL_NEW",
        **expr.params(),
    )
    return to_message(deserialize(response["Attributes"])) if response else None


def delete_conversation_messages(org_id: str, conversation_id: str) -> int:
    """Delete every message of a conversation (reset). Keys only are read; deletes go in batches of 25."""
    expr = Expr()
    params: dict[str, Any] = {
        "KeyConditionExpression": f"{expr.name('PK')} = {expr.value(keys.conversation_pk(org_id, conversation_id))}"
        f" AND begins_with({expr.name('SK')}, {expr.value(keys.MSG)})",
        "ProjectionExpression": f"{expr.name('PK')}, {expr.name('SK')}",
        "ConsistentRead": True,
        **expr.params(),
    }
    keys_ = [key(item["PK"], item["SK"]) for item in query_all(**params)]
    for start in range(0, len(keys_), 25):
        _batch_delete(keys_[start : start + 25])
    return len(keys_)


def _batch_delete(keys_: list[dict[str, Any]]) -> None:
    request: dict[str, Any] = {table_name(): [{"DeleteRequest": {"Key": k}} for k in keys_]}
    for attempt in range(8):
        with storage_request():
            response = client().batch_write_item(RequestItems=request)
        request = response.get("UnprocessedItems") or {}
        if not request:
            return
        time.sleep(min(1.0, 0.05 * 2**attempt))
    raise StorageUnavailableError()


# ---------------------------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------------------------


def get_message(org_id: str, conversation_id: str, message_id: str) -> Optional[StoredMessage]:
    item = get(keys.conversation_pk(org_id, conversation_id), keys.message_sk(message_id))
    return to_message(item) if item else None


def find_message(org_id: str, conversation_ids: Sequence[str], message_id: str) -> Optional[StoredMessage]:
    """A message that may be in any of these conversations (one BatchGetItem)."""
    if not conversation_ids:
        return None
    items = batch_get(
        [key(keys.conversation_pk(org_id, c), keys.message_sk(message_id)) for c in dict.fromkeys(conversation_ids)]
    )
    return to_message(items[0]) if items else None


def get_messages(org_id: str, conversation_id: str, message_ids: Sequence[str]) -> list[StoredMessage]:
    """The messages of these ids that exist, in id (= chronological) order."""
    if not message_ids:
        return []
    pk = keys.conversation_pk(org_id, conversation_id)
    items = batch_get([key(pk, keys.message_sk(m)) for m in message_ids])
    return sorted((to_message(i) for i in items), key=lambda m: m.id)


def _range_params(
    expr: Expr, pk_attr: str, pk: str, after: Optional[str], before: Optional[str], descending: bool
) -> dict[str, Any]:
    return {
        "KeyConditionExpression": sort_key_range(expr, pk_attr, pk, "SK", keys.MSG, after, before),
        "ScanIndexForward": not descending,
        **expr.params(),
    }


def _iterate(params: dict[str, Any], exclude: set[str], page_size: Optional[int]) -> Iterator[StoredMessage]:
    """Messages of a query, lazily across pages, without the (inclusive) cursor items."""
    if page_size:
        params["Limit"] = page_size
    return (to_message(item) for item in query_all(**params) if item.get("id") not in exclude)


def iter_messages(
    org_id: str,
    conversation_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    descending: bool = False,
    page_size: Optional[int] = 100,
) -> Iterator[StoredMessage]:
    """Messages strictly between the cursors, in order (newest first when `descending`), paged lazily."""
    expr = Expr()
    params = _range_params(expr, "PK", keys.conversation_pk(org_id, conversation_id), after, before, descending)
    params["ConsistentRead"] = True
    return _iterate(params, {x for x in (after, before) if x}, page_size)


def run_messages(org_id: str, conversation_id: str, run_id: str) -> list[StoredMessage]:
    """A run's messages in order: the conversation from shortly before the run's creation on (ids are UUIDv7, so they
    sort by creation; the minute of slack covers clock skew between machines), filtered to that run (a background
    pass may write meanwhile). One strongly consistent Query per 1 MB page."""
    expr = Expr()
    since = time_floor_id("message", max(0, created_ms(run_id) - 60_000))
    pk = keys.conversation_pk(org_id, conversation_id)
    params = {
        "KeyConditionExpression": sort_key_range(expr, "PK", pk, "SK", keys.MSG, since, None),
        "FilterExpression": f"{expr.name('run_id')} = {expr.value(run_id)}",
        "ConsistentRead": True,
        **expr.params(),
    }
    return [to_message(item) for item in query_all(**params)]


def list_messages(
    org_id: str,
    conversation_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: Optional[int] = None,
    descending: bool = False,
) -> list[StoredMessage]:
    """Up to `limit` messages strictly between the cursors, anchored at the start of the scan order.

    Ascending gives the oldest `limit` after `after`; descending gives the newest `limit` before `before`
    (returned newest first: reverse for chronological output). `limit=None` means all.
    """
    if limit is not None and limit <= 0:
        return []
    # +2: the inclusive BETWEEN may return both cursor items, which are then dropped.
    page = None if limit is None else min(max(limit + 2, 10), 500)
    out: list[StoredMessage] = []
    for message in iter_messages(org_id, conversation_id, after=after, before=before, descending=descending, page_size=page):
        out.append(message)
        if limit is not None and len(out) >= limit:
            break
    return out
