"""The run event log: one item per SSE frame, sequence-numbered, so streams can resume.

Sequence numbers come from a counter on the run record, advanced in the same transaction
that writes the frames (optimistic: the counter's old value is the condition), so frames of
one run are numbered 1, 2, 3... with no gap and no duplicate, whoever writes them.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from botocore.exceptions import ClientError

from ..errors import StorageUnavailableError
from . import keys
from .items import ConditionFailed, get, transact
from .runs import RUN_META, meta_key
from .table import Expr, client, deserialize, raise_if_unavailable, serialize, table_name

EVENT_TTL_SECONDS = 3 * 3600  # as Letta's resumable streams
MAX_FRAMES_PER_WRITE = 90  # TransactWriteItems takes 100 actions; one is the counter
MAX_ATTEMPTS = 20


class EventLogConflict(Exception):
    pass


def _last_seq(org_id: str, run_id: str) -> tuple[int, set[str]]:
    run = get(keys.run_pk(org_id, run_id), RUN_META) or {}
    return int(run.get("last_seq", 0)), set(run.get("streamed_keys") or [])


def append(org_id: str, run_id: str, frames: list[str], once_key: Optional[str] = None) -> list[int]:
    """Append frames (the text after `data: `) and return their sequence numbers.

    With `once_key`, the append happens at most once per run for that key, so a retried task
    does not stream the same step twice. `frames` may then be empty: the key is only marked done.
    """
    if not frames and not once_key:
        return []
    if len(frames) > MAX_FRAMES_PER_WRITE:
        out: list[int] = []
        for start in range(0, len(frames), MAX_FRAMES_PER_WRITE):
            chunk_key = f"{once_key}#{start}" if once_key else None
            out += append(org_id, run_id, frames[start : start + MAX_FRAMES_PER_WRITE], chunk_key)
        return out
    for attempt in range(MAX_ATTEMPTS):
        last, done_keys = _last_seq(org_id, run_id)
        if once_key and once_key in done_keys:
            return []
        expr = Expr()
        counter = expr.name("last_seq")
        condition = f"attribute_exists({expr.name('SK')}) AND ("
        condition += (
            f"{counter} = {expr.value(last)}" if last else f"attribute_not_exists({counter}) OR {counter} = {expr.value(0)}"
        )
        condition += ")"
        update = f"SET {counter} = {expr.value(last + len(frames))}"
        if once_key:
            update += f" ADD {expr.name('streamed_keys')} {expr.value({once_key})}"
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": meta_key(org_id, run_id),
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    **expr.params(),
                }
            }
        ]
        expires = int(time.time()) + EVENT_TTL_SECONDS
        seqs = list(range(last + 1, last + len(frames) + 1))
        for seq, frame in zip(seqs, frames, strict=True):
            item = {
                "PK": keys.run_pk(org_id, run_id),
                "SK": keys.event_sk(seq),
                "entity": "event",
                "seq": seq,
                "data": frame,
                "expires_at": expires,
            }
            actions.append({"Put": {"TableName": table_name(), "Item": serialize(item)}})
        try:
            transact(actions)
            return seqs
        except (ConditionFailed, StorageUnavailableError):
            time.sleep(min(0.01 * (attempt + 1), 0.2))  # someone else appended meanwhile: re-read the counter
    raise EventLogConflict(f"could not append to the event log of {run_id}")


def read(org_id: str, run_id: str, after_seq: int, limit: int = 500) -> list[tuple[int, str]]:
    """Frames with a sequence number above `after_seq`, in order (strongly consistent)."""
    expr = Expr()
    now = int(time.time())
    try:
        response = client().query(
            TableName=table_name(),
            KeyConditionExpression=f"{expr.name('PK')} = {expr.value(keys.run_pk(org_id, run_id))} AND {expr.name('SK')} BETWEEN {expr.value(keys.event_sk(after_seq + 1))} AND {expr.value(keys.event_sk(9_999_999_999))}",
            ConsistentRead=True,
            Limit=limit,
            **expr.params(),
        )
    except ClientError as exc:
        raise_if_unavailable(exc)
        raise
    frames = []
    for raw in response.get("Items", []):
        item = deserialize(raw)
        if int(item.get("expires_at", now + 1)) < now:
            continue  # TTL deletes lazily; expired frames are gone as far as readers are concerned
        frames.append((int(item["seq"]), str(item["data"])))
    return frames
