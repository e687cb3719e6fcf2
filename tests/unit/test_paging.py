"""Cursor pages of in-memory lists (logic/paging.py): what letta-client 1.x's auto-pagination relies on."""

import pytest

from lettagroups.errors import BadRequestError, NotFoundError
from lettagroups.logic.paging import window

IDS = ["a", "b", "c", "d", "e"]


def page(**kwargs):
    return window(IDS, IDS, **kwargs)


def test_after_reads_on_from_the_cursor_in_the_order_asked():
    # Given five items, oldest first; When paged after "b", Then ascending reads newer and descending reads older
    assert page(after="b", limit=2) == ["c", "d"]
    assert page(after="b", limit=2, order="desc") == ["a"]
    assert page(order="desc", limit=2) == ["e", "d"]


def test_before_alone_is_the_page_closest_to_its_cursor():
    # Given a cursor and a limit, When only `before` is given, Then the page ends right before it
    assert page(before="e", limit=2) == ["c", "d"]
    assert page(before="a", limit=2, order="desc") == ["c", "b"]
    assert page(after="a", before="d") == ["b", "c"]


def test_the_last_page_is_empty_so_an_auto_paginating_client_stops():
    # When a client asks after the last item, Then it gets nothing (and stops)
    assert page(after="e") == []
    assert page(after="a", order="desc") == []


def test_bad_cursors_are_clear_errors():
    # When a cursor names nothing in the list, Then 404; when the window is inside out, Then 400
    with pytest.raises(NotFoundError, match="No run found with id 'zz'"):
        window(IDS, IDS, after="zz", what="run")
    with pytest.raises(BadRequestError):
        page(after="d", before="b")
