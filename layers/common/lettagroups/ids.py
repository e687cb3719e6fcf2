"""Identifiers: `<prefix>-<uuid>` with UUIDv7 bodies, so ids sort by creation time.

Sorting by creation lets list cursors become plain DynamoDB key conditions
(`SK > GROUP#<after>`), with no extra lookup of the cursor item.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> uuid.UUID:
    """RFC 9562 UUIDv7, monotonic within this process (12-bit counter per millisecond)."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF  # leave headroom for increments
        counter = _counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= rand_b
    return uuid.UUID(int=value)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid7()}"


def uuid_part(object_id: str) -> str:
    """The uuid body of `<prefix>-<uuid>`."""
    _, _, body = object_id.partition("-")
    return body


def otid_for(message_id: str, index: int) -> str:
    """Letta's offline threading id of the index-th part of a stored message.

    The uuid of the message id with its low 7 bits replaced by the part index.
    """
    try:
        base = uuid.UUID(uuid_part(message_id))
    except ValueError:
        return uuid_part(message_id)
    return str(uuid.UUID(int=(base.int & ~0x7F) | (index & 0x7F)))


def created_ms(id_: str) -> int:
    """When a UUIDv7 id was minted, in epoch milliseconds (its first 48 bits)."""
    return uuid.UUID(uuid_part(id_)).int >> 80


def time_floor_id(prefix: str, epoch_ms: int) -> str:
    """The smallest id of `prefix` that a UUIDv7 minted at `epoch_ms` can have.

    Used as a key-range bound ("everything created after this instant").
    """
    value = (epoch_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | 0b10 << 62
    return f"{prefix}-{uuid.UUID(int=value)}"
