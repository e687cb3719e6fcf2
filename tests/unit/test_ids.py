"""Ids keep Letta's `<prefix>-<uuid>` shape and sort by creation."""

from __future__ import annotations

import re

from lettagroups.ids import new_id, otid_for, time_floor_id


def test_ids_sort_by_creation_time():
    # Given many ids minted in a tight loop
    ids = [new_id("group") for _ in range(2000)]
    # Then their lexical order is their creation order, and every one is unique
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_id_shape_matches_letta_validation_pattern():
    # When an id is minted
    value = new_id("message")
    # Then it passes Letta's `^<prefix>-[a-fA-F0-9]{8}` check and is a hyphenated uuid
    assert re.match(r"^message-[a-f0-9]{8}-[a-f0-9]{4}-7[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$", value)


def test_otid_replaces_low_bits_with_part_index():
    # Given a stored message id
    mid = new_id("message")
    # When the otids of its parts are derived
    first, second = otid_for(mid, 0), otid_for(mid, 1)
    # Then each is the message's uuid with only its low 7 bits replaced by the part index, as Letta's are
    body = mid.removeprefix("message-")
    assert len(body) == 36
    for index, otid in ((0, first), (1, second), (5, otid_for(mid, 5)), (127, otid_for(mid, 127))):
        assert len(otid) == 36, otid
        assert otid[:-2] == body[:-2], (index, otid)
        low = int(otid[-2:], 16)
        assert low & 0x7F == index, (index, otid)
        assert low & 0x80 == int(body[-2:], 16) & 0x80, (index, otid)


def test_time_floor_id_bounds_later_ids():
    # Given a floor for "now"
    import time

    floor = time_floor_id("message", int(time.time() * 1000) - 1)
    # Then an id minted afterwards sorts after it
    assert new_id("message") > floor
