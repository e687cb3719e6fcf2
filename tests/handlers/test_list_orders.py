"""`order`, `hidden` and the SDK-generation default on the two group lists, through their handlers.

Later Letta added `order` (`asc`/`desc`) and `order_by=created_at` to both lists, `hidden` to groups and
`show_hidden_groups` to the list. Cursors are relative to the order (with `desc`, `after` pages towards older
items) and every page is anchored at its cursor. A group-messages list that names no `order` keeps 0.7.7's
default (newest `limit`, oldest first) unless the request comes from a Stainless-generated 1.x SDK, which
gets later Letta's `desc` (lettagroups.api.clients).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lettagroups.dal import messages as messages_dal
from lettagroups.ids import new_id
from lettagroups.logic import groups as groups_logic
from lettagroups.models.identity import Actor
from lettagroups.models.stored import StoredMessage

from support.builders import make_group
from support.events import GROUP_PH, invoke, load_event, substitute, with_body, with_query
from support.shapes import assert_fastapi_422

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

STAINLESS_HEADERS = {"x-stainless-lang": "python", "x-stainless-package-version": "1.7.0"}


def with_headers(event: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    event = json.loads(json.dumps(event))
    event["headers"] = {k: v for k, v in event["headers"].items() if not k.startswith("x-fern-")}
    event["headers"].update(headers)
    return event


def list_ids(actor: Actor, query: dict[str, str], headers: dict[str, str] | None = None) -> list[str]:
    event = with_query(load_event("list-groups"), query)
    status, body = invoke(with_headers(event, headers) if headers else event, actor)
    assert status == 200, body
    return [g["id"] for g in body]


def write_transcript(actor: Actor, group_id: str, count: int) -> list[str]:
    """`count` stored messages: user inputs alternating with assistant replies (reasoning + send_message)."""
    messages = []
    for i in range(count):
        if i % 2 == 0:
            messages.append(
                StoredMessage(
                    id=new_id("message"),
                    organization_id=actor.organization_id,
                    conversation_id=group_id,
                    group_id=group_id,
                    role="user",
                    content=[{"type": "text", "text": f"input {i}"}],
                    created_at=datetime.now(UTC),
                )
            )
        else:
            call = {
                "id": f"call-{i}",
                "type": "function",
                "function": {"name": "send_message", "arguments": json.dumps({"message": f"reply {i}"})},
            }
            messages.append(
                StoredMessage(
                    id=new_id("message"),
                    organization_id=actor.organization_id,
                    conversation_id=group_id,
                    group_id=group_id,
                    role="assistant",
                    name="fred",
                    content=[{"type": "text", "text": f"thinking {i}"}],
                    tool_calls=[call],
                    created_at=datetime.now(UTC),
                )
            )
    messages_dal.put_messages(actor.organization_id, group_id, messages)
    return [m.id for m in messages]


def transcript(actor: Actor, group_id: str, query: dict[str, str], headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    event = with_query(substitute(load_event("list-group-messages"), {GROUP_PH: group_id}), query)
    status, body = invoke(with_headers(event, headers) if headers else event, actor)
    assert status == 200, body
    return body


def stored_ids(items: list[dict[str, Any]]) -> list[str]:
    """The stored message ids of a page, in order (the parts of one stored message share its id)."""
    return list(dict.fromkeys(item["id"] for item in items))


# --- groups ---------------------------------------------------------------------------------------


def test_list_groups_desc_is_newest_first_and_after_pages_towards_older_groups(actor: Actor):
    # Given seven groups
    created = [make_group(actor) for _ in range(7)]
    # When listed with order=desc, then paged with after=<last group of the page>
    pages = [list_ids(actor, {"order": "desc", "order_by": "created_at", "limit": "3"})]
    while pages[-1]:
        pages.append(list_ids(actor, {"order": "desc", "limit": "3", "after": pages[-1][-1]}))
    # Then each page is newest first, and the pages hold every group exactly once
    assert pages[0] == created[:-4:-1]
    assert [g for page in pages for g in page] == created[::-1]
    # And order=asc is the default: creation order
    assert list_ids(actor, {"order": "asc"}) == list_ids(actor, {}) == created


def test_list_groups_desc_before_is_anchored_and_inverted_windows_are_400(actor: Actor):
    created = [make_group(actor) for _ in range(6)]
    # When `before` is given with desc: the groups that precede it in that order, i.e. newer ones
    # Then the page holds the ones nearest to the cursor, newest first
    assert list_ids(actor, {"order": "desc", "before": created[1], "limit": "2"}) == [created[3], created[2]]
    # And with desc, `before` must name a group that comes later in the list than `after`: an older one
    assert list_ids(actor, {"order": "desc", "after": created[4], "before": created[1]}) == [created[3], created[2]]
    event = with_query(load_event("list-groups"), {"order": "desc", "after": created[1], "before": created[4]})
    assert invoke(event, actor) == (400, {"detail": "'before' reference must be later than 'after' reference"})


def test_list_groups_rejects_unknown_order_values(actor: Actor):
    for name, value, kind in (("order", "newest", "literal_error"), ("order_by", "name", "literal_error")):
        # When `order` or `order_by` is not one of later Letta's values
        status, body = invoke(with_query(load_event("list-groups"), {name: value}), actor)
        # Then a FastAPI-shaped 422 names the query parameter
        assert status == 422
        assert_fastapi_422(body, ["query", name], kind)


def test_hidden_groups_are_listed_only_with_show_hidden_groups(actor: Actor):
    # Given a visible group, a hidden one (created with hidden=true in the body), and another visible one
    first = make_group(actor)
    event = with_body(load_event("create-group"), {"agent_ids": [], "description": "secret", "hidden": True})
    status, hidden = invoke(event, actor)
    assert status == 200 and hidden["hidden"] is True
    last = make_group(actor)
    # When listed as before, then with show_hidden_groups=true
    # Then the hidden group is left out by default and listed on request; it is still retrievable and counted
    assert list_ids(actor, {}) == [first, last]
    assert list_ids(actor, {"show_hidden_groups": "true"}) == [first, hidden["id"], last]
    assert list_ids(actor, {"show_hidden_groups": "true", "order": "desc", "limit": "2"}) == [last, hidden["id"]]
    assert groups_logic.retrieve_group(actor, hidden["id"]).hidden is True
    assert groups_logic.count_groups(actor) == 3


def test_project_id_in_the_body_wins_over_the_x_project_header(actor: Actor):
    # When a group is created with project_id in the body (later Letta) and the X-Project header
    event = with_body(load_event("create-group"), {"agent_ids": [], "description": "", "project_id": "from-body"})
    status, body = invoke(event, actor)
    # Then the body's project is stored (the sample event's header says project-mystery-inc)
    assert status == 200 and body["project_id"] == "from-body" and body["hidden"] is False
    # When it is modified with project_id in the body
    modify = with_body(substitute(load_event("modify-group"), {GROUP_PH: body["id"]}), {"project_id": "moved"})
    status, modified = invoke(modify, actor)
    # Then the project changes, and the project filter follows it
    assert status == 200 and modified["project_id"] == "moved"
    assert list_ids(actor, {"project_id": "moved"}) == [body["id"]]
    assert list_ids(actor, {"project_id": "from-body"}) == []


# --- group messages ---------------------------------------------------------------------------------


def test_messages_without_order_keep_0_7_7s_page_for_every_client_but_stainless(actor: Actor):
    # Given a transcript of 9 stored messages
    group_id = make_group(actor)
    ids = write_transcript(actor, group_id, 9)
    # When listed with no order by letta-client 0.1.138 (the sample event's X-Fern headers) or a plain client
    fern = transcript(actor, group_id, {"limit": "4"})
    plain = transcript(actor, group_id, {"limit": "4"}, headers={"user-agent": "curl/8.0"})
    # Then both get the newest 4, oldest first, each assistant reply as reasoning then assistant message
    assert stored_ids(fern) == stored_ids(plain) == ids[-4:]
    assert [m["message_type"] for m in fern] == ["reasoning_message", "assistant_message", "user_message"] * 2
    # When a Stainless-generated SDK (letta-client 1.x) lists with no order
    stainless = transcript(actor, group_id, {"limit": "4"}, headers=STAINLESS_HEADERS)
    # Then it gets later Letta's default, desc: the newest 4, newest first (the exact reverse)
    assert stored_ids(stainless) == ids[:-5:-1]
    assert stainless == transcript(actor, group_id, {"limit": "4", "order": "desc"})
    # And an explicit order wins over the client's default
    assert stored_ids(transcript(actor, group_id, {"limit": "4", "order": "asc"}, headers=STAINLESS_HEADERS)) == ids[:4]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_messages_pages_with_after_cover_the_transcript_exactly_once(actor: Actor, order: str):
    # Given a transcript of 11 stored messages
    group_id = make_group(actor)
    ids = write_transcript(actor, group_id, 11)
    # When paged as letta-client 1.x auto-paginates: after=<id of the last item of the previous page>
    pages = [transcript(actor, group_id, {"limit": "3", "order": order})]
    while pages[-1]:
        pages.append(transcript(actor, group_id, {"limit": "3", "order": order, "after": pages[-1][-1]["id"]}))
    items = [item for page in pages for item in page]
    # Then every stored message comes once, in the requested order, and desc is the exact reverse of asc
    assert stored_ids(items) == (ids if order == "asc" else ids[::-1])
    everything = transcript(actor, group_id, {"limit": "100", "order": "asc"})
    assert items == (everything if order == "asc" else everything[::-1])


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_messages_before_pages_backwards_anchored_at_the_cursor(actor: Actor, order: str):
    # Given a transcript of 10 stored messages
    group_id = make_group(actor)
    ids = write_transcript(actor, group_id, 10)
    listed = ids if order == "asc" else ids[::-1]
    # When paging backwards from the last message of the list with before=<first item of the previous page>
    cursor, pages = listed[-1], []
    while True:
        page = stored_ids(transcript(actor, group_id, {"limit": "3", "order": order, "before": cursor}))
        if not page:
            break
        pages.append(page)
        cursor = page[0]
    # Then each page holds the messages right before the cursor, in list order, and nothing is skipped
    assert pages[0] == listed[-4:-1]
    assert [m for page in reversed(pages) for m in page] == listed[:-1]


def test_messages_order_rules_on_cursors(actor: Actor):
    group_id = make_group(actor)
    ids = write_transcript(actor, group_id, 6)
    # When desc names both cursors: after (newer) and before (older)
    # Then the window between them comes newest first
    assert stored_ids(transcript(actor, group_id, {"order": "desc", "after": ids[5], "before": ids[1]})) == ids[4:1:-1]
    # And a window inverted for its order is 400
    event = with_query(
        substitute(load_event("list-group-messages"), {GROUP_PH: group_id}), {"order": "desc", "after": ids[1], "before": ids[5]}
    )
    assert invoke(event, actor) == (400, {"detail": "'before' reference must be later than 'after' reference"})
    # And an order that is not asc/desc is 422
    event = with_query(substitute(load_event("list-group-messages"), {GROUP_PH: group_id}), {"order": "up"})
    status, body = invoke(event, actor)
    assert status == 422
    assert_fastapi_422(body, ["query", "order"], "literal_error")


def test_with_an_order_a_page_never_comes_back_empty_while_later_messages_follow(actor: Actor):
    # Given user input, a send_message reply and its tool return (which the list hides), twice
    group_id = make_group(actor)
    ids = write_transcript(actor, group_id, 2)
    tool_return = StoredMessage(
        id=new_id("message"),
        organization_id=actor.organization_id,
        conversation_id=group_id,
        group_id=group_id,
        role="tool",
        name="send_message",
        tool_call_id="call-1",
        content=[{"type": "text", "text": json.dumps({"status": "OK", "message": "None", "time": "now"})}],
        created_at=datetime.now(UTC),
    )
    messages_dal.put_messages(actor.organization_id, group_id, [tool_return])
    ids += write_transcript(actor, group_id, 2)
    for order in ("asc", "desc"):
        # When paged one stored message at a time with after=<last item> (limit counts stored messages)
        pages = [transcript(actor, group_id, {"limit": "1", "order": order})]
        while pages[-1]:
            pages.append(transcript(actor, group_id, {"limit": "1", "order": order, "after": pages[-1][-1]["id"]}))
        # Then no page but the last is empty: the hidden tool return is read past, and every message comes once
        assert all(pages[:-1]) and pages[-1] == []
        assert stored_ids([m for page in pages for m in page]) == (ids if order == "asc" else ids[::-1])
    # And without an order 0.7.7's page keeps counting the hidden message: limit=1 right after it shows nothing
    assert transcript(actor, group_id, {"limit": "1", "before": ids[2]}) == []
