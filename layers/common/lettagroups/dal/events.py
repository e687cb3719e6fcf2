"""The run event log: the SSE frames of a run, sequence-numbered, so streams can resume.

One item holds a batch of consecutive frames (`SK=EVT#<first seq>`, `frames=[…]`): an agent step's frames are one
item written in the step's own transaction, token deltas one item per batch. The key is the first sequence number,
so two writers that both think they are next collide on the same key and the second one's conditional put fails
(it re-reads where the log ends and writes after it): frames are numbered 1, 2, 3… with no gap and no duplicate,
with no counter item to keep. An item holds at most `MAX_FRAMES_PER_ITEM` frames, so the item holding frame n starts
no earlier than n - MAX_FRAMES_PER_ITEM + 1, which is where a read after n begins.
"""

from __future__ import annotations

import time
from typing import Any

from . import keys
from .items import put_action, write_if
from .table import Expr, client, deserialize, serialize, storage_request, table_name

EVENT_TTL_SECONDS = 3 * 3600  # as Letta's resumable streams
MAX_FRAMES_PER_ITEM = 50
MAX_ITEM_FRAME_BYTES = 300_000  # under DynamoDB's 400 KB item limit
MAX_ATTEMPTS = 20


class EventLogConflict(Exception):
    pass


def _item(org_id: str, run_id: str, first_seq: int, frames: list[str]) -> dict[str, Any]:
    return {
        "PK": keys.run_pk(org_id, run_id),
        "SK": keys.event_sk(first_seq),
        "entity": "event",
        "seq": first_seq,
        "frames": frames,
        "expires_at": int(time.time()) + EVENT_TTL_SECONDS,
    }


def batches(frames: list[str]) -> list[list[str]]:
    """Frames split into items: at most MAX_FRAMES_PER_ITEM frames and about MAX_ITEM_FRAME_BYTES each."""
    out: list[list[str]] = []
    size = 0
    for frame in frames:
        length = len(frame.encode("utf-8"))
        if not out or len(out[-1]) >= MAX_FRAMES_PER_ITEM or (out[-1] and size + length > MAX_ITEM_FRAME_BYTES):
            out.append([])
            size = 0
        out[-1].append(frame)
        size += length
    return out


def put_actions(org_id: str, run_id: str, after_seq: int, frames: list[str]) -> list[dict[str, Any]]:
    """Transaction actions that write `frames` right after `after_seq` (each refused if that sequence is taken)."""
    actions = []
    seq = after_seq + 1
    for batch in batches(frames):
        actions.append(put_action(_item(org_id, run_id, seq, batch)))
        seq += len(batch)
    return actions


def last_seq(org_id: str, run_id: str) -> int:
    """The sequence number of the last frame in the log (0 when it is empty)."""
    expr = Expr()
    with storage_request():
        response = client().query(
            TableName=table_name(),
            KeyConditionExpression=f"{expr.name('PK')} = {expr.value(keys.run_pk(org_id, run_id))} AND begins_with({expr.name('SK')}, {expr.value(keys.EVT)})",
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
            **expr.params(),
        )
    items = response.get("Items") or []
    if not items:
        return 0
    item = deserialize(items[0])
    return int(item["seq"]) + len(item.get("frames") or []) - 1


def append(org_id: str, run_id: str, frames: list[str], after_seq: int | None = None) -> int:
    """Append frames after the log's end (`after_seq` is where the caller believes it ends; wrong or None costs one
    read). Returns the new last sequence number."""
    seq = last_seq(org_id, run_id) if after_seq is None else after_seq
    for batch in batches(frames):
        for _ in range(MAX_ATTEMPTS):
            expr = Expr()
            written = write_if(
                "put_item",
                Item=serialize(_item(org_id, run_id, seq + 1, batch)),
                ConditionExpression=f"attribute_not_exists({expr.name('SK')})",
                **expr.params(),
            )
            if written is not None:
                seq += len(batch)
                break
            seq = last_seq(org_id, run_id)  # someone else wrote there: go after them
        else:
            raise EventLogConflict(f"could not append to the event log of {run_id}")
    return seq


def read(org_id: str, run_id: str, after_seq: int, limit: int = 50, *, item_boundary: bool = False) -> list[tuple[int, str]]:
    """Frames with a sequence number above `after_seq`, in order (strongly consistent): every frame of the first page
    of items that holds any (a page reads `limit` items past the ones that may only hold frames up to `after_seq`).

    With `item_boundary`, `after_seq` is known to end an item (the caller has read everything up to it, and reads
    return whole items; sequence numbers have no gaps), so the next item starts right after it and no earlier item
    is read again; otherwise the read looks back for the item that may hold `after_seq + 1`."""
    expr = Expr()
    start = after_seq + 1 if item_boundary else max(1, after_seq + 2 - MAX_FRAMES_PER_ITEM)
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": f"{expr.name('PK')} = {expr.value(keys.run_pk(org_id, run_id))} AND {expr.name('SK')} BETWEEN {expr.value(keys.event_sk(start))} AND {expr.value(keys.event_sk(9_999_999_999))}",
        "ConsistentRead": True,
        "Limit": MAX_FRAMES_PER_ITEM + limit,
        **expr.params(),
    }
    now = int(time.time())
    out: list[tuple[int, str]] = []
    while True:
        with storage_request():
            response = client().query(**params)
        for raw in response.get("Items", []):
            item = deserialize(raw)
            if int(item.get("expires_at", now + 1)) < now:
                continue  # TTL deletes lazily; expired frames are gone as far as readers are concerned
            first = int(item["seq"])
            out.extend((first + i, str(f)) for i, f in enumerate(item.get("frames") or []) if first + i > after_seq)
        last_key = response.get("LastEvaluatedKey")
        if out or not last_key:
            return out
        params["ExclusiveStartKey"] = last_key  # a 1 MB page of older items only: read on
