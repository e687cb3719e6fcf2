"""Group data access against moto: items, the counter, conditional writes, listings and memberships.

Each test works in its own organization (the `actor` fixture), since every key starts with it.
"""

from __future__ import annotations

from typing import Any

import pytest

from lettagroups.dal import agents as agents_dal
from lettagroups.dal import groups as groups_dal
from lettagroups.dal import keys, table
from lettagroups.dal.items import ConditionFailed
from lettagroups.ids import new_id
from lettagroups.models.identity import Actor
from lettagroups.models.stored_entities import AgentRecord, GroupRecord

SINCE = "message-00000000-0000-7000-8000-000000000000"


def new_group(manager_type: str = "round_robin", agent_ids: list[str] | None = None, **fields: Any) -> GroupRecord:
    return GroupRecord.model_validate(
        {"id": new_id("group"), "manager_type": manager_type, "agent_ids": list(agent_ids or []), "description": "", **fields}
    )


def create(org: str, manager_type: str = "round_robin", agent_ids: list[str] | None = None, **fields: Any) -> GroupRecord:
    group = new_group(manager_type, agent_ids, **fields)
    groups_dal.create_group(org, group, [], SINCE)
    return group


def new_agent(org: str, name: str = "fred", **fields: Any) -> str:
    agent = AgentRecord.model_validate(
        {
            "id": new_id("agent"),
            "name": name,
            "system": "",
            "agent_type": "memgpt_agent",
            "llm_config": {},
            "embedding_config": {},
            "block_ids": [],
            "block_labels": {},
        }
        | fields
    )
    agents_dal.create_agent(org, agent, [])
    return agent.id


def since(org: str, agent_id: str, group_id: str) -> str | None:
    """Where the agent's view of the group starts, as a send reads it."""
    return groups_dal.get_run_roster(org, group_id, [agent_id])[1].get(agent_id)


def ids(records: list[GroupRecord]) -> list[str]:
    return [r.id for r in records]


def list_groups(org: str, **kwargs: Any) -> list[GroupRecord]:
    params = {"manager_type": None, "project_id": None, "after": None, "before": None, "limit": None, **kwargs}
    return groups_dal.list_groups(org, **params)


class SmallPages:
    """Wraps the DynamoDB client so every Query returns at most `page` items (as the 1 MB cap would)."""

    def __init__(self, real: Any, page: int) -> None:
        self.real = real
        self.page = page
        self.queries = 0

    def query(self, **params: Any) -> Any:
        self.queries += 1
        params["Limit"] = min(params.get("Limit", self.page), self.page)
        return self.real.query(**params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch, emulation: object) -> SmallPages:
    wrapper = SmallPages(table.client(), page=4)
    monkeypatch.setattr(table, "client", lambda: wrapper)
    return wrapper


@pytest.fixture
def org(actor: Actor) -> str:
    return actor.organization_id


# --- single items -------------------------------------------------------------------------------


def test_create_then_get_round_trips_every_field(org: str):
    # Given a group with every field of the record set (whatever its type: the store does not care)
    fields = {
        "description": "the gang",
        "shared_block_ids": ["block-1"],
        "project_id": "p1",
        "hidden": True,
        "organization_id": org,
        "manager_agent_id": "agent-m",
        "termination_token": "DONE!",
        "max_turns": 4,
        "sleeptime_agent_frequency": 3,
        "max_message_buffer_length": 30,
        "min_message_buffer_length": 15,
        "initial_agent_id": "agent-a",
        "turns_counter": -1,
        "last_processed_message_id": "message-1",
        "context_after_message_id": "message-2",
        "active_agent_id": "agent-b",
    }
    group = new_group("dynamic", ["agent-b", "agent-a"], **fields)
    assert set(GroupRecord.model_fields) == {"id", "manager_type", "agent_ids", "version", *fields}
    # When it is created and read back
    groups_dal.create_group(org, group, [], SINCE)
    stored = groups_dal.get_group(org, group.id)
    # Then every field survives (agent order included), at version 0, and numbers are ints (no Decimal)
    assert stored is not None
    assert stored == group
    assert stored.agent_ids == ["agent-b", "agent-a"]
    assert type(stored.max_turns) is int and type(stored.turns_counter) is int and type(stored.version) is int


def test_unset_lists_read_back_as_empty_lists(org: str):
    # Given a group created without optional fields (None values are not written to the item)
    group = create(org)
    # When it is read
    stored = groups_dal.get_group(org, group.id)
    # Then the list fields are lists and absent optionals are None
    assert stored is not None
    assert stored.agent_ids == [] and stored.shared_block_ids == []
    assert stored.manager_agent_id is None and stored.project_id is None
    # And the organization the item was written under is on the record
    assert stored.organization_id == org


def test_a_group_stored_without_later_fields_reads_back_with_their_defaults(org: str):
    # Given a group item written before `hidden` existed, holding an attribute this code does not know
    group_id = new_id("group")
    item = {
        "PK": keys.org_pk(org),
        "SK": keys.group_sk(group_id),
        "entity": "group",
        "id": group_id,
        "manager_type": "round_robin",
        "agent_ids": [],
        "description": "",
        "version": 2,
        "retired_attribute": "x",
    }
    table.client().put_item(TableName=table.table_name(), Item=table.serialize(item))
    # When it is read
    stored = groups_dal.get_group(org, group_id)
    # Then it is visible, keeps its version, and the unknown attribute is not part of the record
    assert stored is not None
    assert (stored.hidden, stored.version, stored.shared_block_ids) == (False, 2, [])
    assert "retired_attribute" not in stored.model_dump()


def test_groups_are_invisible_to_other_organizations(org: str):
    # Given a group in this organization
    group = create(org)
    other = f"org-{new_id('x')}"
    # Then another organization neither reads, counts nor lists it
    assert groups_dal.get_group(other, group.id) is None
    assert groups_dal.count_groups(other) == 0
    assert list_groups(other) == []
    assert groups_dal.get_groups(other, [group.id]) == []


def test_get_groups_keeps_requested_order_and_skips_missing(org: str):
    first, second = create(org), create(org)
    # When several groups are fetched in one batch, one of them missing
    found = groups_dal.get_groups(org, [second.id, "group-missing", first.id])
    # Then the found ones come back in the requested order
    assert ids(found) == [second.id, first.id]


# --- the counter --------------------------------------------------------------------------------


def test_counter_moves_with_create_and_delete(org: str):
    # Given a fresh organization
    assert groups_dal.count_groups(org) == 0
    # When two groups are created and one deleted
    first, _ = create(org), create(org)
    assert groups_dal.count_groups(org) == 2
    groups_dal.delete_group(org, first)
    # Then the counter follows
    assert groups_dal.count_groups(org) == 1


def test_failed_create_does_not_move_the_counter(org: str):
    # Given an existing group
    group = create(org)
    # When a create reuses its id (the conditional put fails)
    with pytest.raises(groups_dal.ConditionFailed):
        groups_dal.create_group(org, group.model_copy(update={"description": "impostor"}), [], SINCE)
    # Then the counter was in the same transaction and did not move, and the original is intact
    assert groups_dal.count_groups(org) == 1
    assert groups_dal.get_group(org, group.id).description == ""  # type: ignore[union-attr]


def test_create_with_missing_agent_writes_nothing(org: str):
    # Given a participant that does not exist as an agent item
    group = new_group(agent_ids=["agent-ghost"])
    change = groups_dal.AgentChange(agent_id="agent-ghost")
    # When the group is created with a change on that agent
    with pytest.raises(groups_dal.ConditionFailed) as raised:
        groups_dal.create_group(org, group, [change], SINCE)
    # Then the agent's condition is what failed, and nothing was written: no group, no count, no membership
    assert raised.value.reasons[-1] == "ConditionalCheckFailed"
    assert groups_dal.get_group(org, group.id) is None
    assert groups_dal.count_groups(org) == 0
    assert groups_dal.list_memberships(org, "agent-ghost") == []


def test_delete_twice_fails_the_second_time_and_counts_once(org: str):
    # Given two groups
    group, _ = create(org), create(org)
    # When one is deleted twice
    groups_dal.delete_group(org, group)
    with pytest.raises(groups_dal.ConditionFailed):
        groups_dal.delete_group(org, group)
    # Then it is gone and the counter dropped by exactly one
    assert groups_dal.get_group(org, group.id) is None
    assert groups_dal.count_groups(org) == 1


# --- optimistic locking -------------------------------------------------------------------------


def test_update_with_current_version_bumps_the_version(org: str):
    group = groups_dal.get_group(org, create(org).id)
    assert group is not None
    # When it is updated at the version it was read at
    changed = group.model_copy(update={"description": "new"})
    groups_dal.update_group(org, changed, group.version, [], [], [], SINCE)
    # Then the change is stored at the next version, and the caller's record knows it
    stored = groups_dal.get_group(org, group.id)
    assert stored is not None
    assert (stored.description, stored.version) == ("new", 1)
    assert changed.version == 1


def test_update_with_stale_version_conflicts_and_keeps_the_winner(org: str):
    # Given two writers that read the same version
    group = groups_dal.get_group(org, create(org).id)
    assert group is not None
    first, second = group.model_copy(update={"description": "first"}), group.model_copy(update={"description": "second"})
    groups_dal.update_group(org, first, group.version, [], [], [], SINCE)
    # When the second writes with its stale version
    with pytest.raises(groups_dal.ConditionFailed):
        groups_dal.update_group(org, second, group.version, [], [], [], SINCE)
    # Then the first write stands
    stored = groups_dal.get_group(org, group.id)
    assert stored is not None
    assert (stored.description, stored.version) == ("first", 1)


def test_modify_racing_a_delete_never_resurrects_the_group(org: str):
    # Given a group read by a modifier
    read = groups_dal.get_group(org, create(org).id)
    assert read is not None
    # When a delete lands before the modifier writes
    groups_dal.delete_group(org, read)
    with pytest.raises(groups_dal.ConditionFailed):
        groups_dal.update_group(org, read.model_copy(update={"description": "late"}), read.version, [], [], [], SINCE)
    # Then the group stays deleted and uncounted
    assert groups_dal.get_group(org, read.id) is None
    assert groups_dal.count_groups(org) == 0
    assert list_groups(org) == []


def test_field_update_after_delete_conflicts_without_creating_an_item(org: str):
    read = groups_dal.get_group(org, create(org).id)
    assert read is not None
    groups_dal.delete_group(org, read)
    # When run bookkeeping tries to bump turns_counter on the deleted group
    with pytest.raises(groups_dal.ConditionFailed):
        groups_dal.transact([groups_dal.fields_update_action(org, read.id, read.version, {"turns_counter": 3})])
    # Then no partial item appears
    assert groups_dal.get_group(org, read.id) is None


def test_field_update_checks_the_version(org: str):
    group = create(org)
    # When bookkeeping updates at the right version, then at a stale one
    groups_dal.transact(
        [groups_dal.fields_update_action(org, group.id, 0, {"turns_counter": 1, "last_processed_message_id": "message-1"})]
    )
    with pytest.raises(groups_dal.ConditionFailed):
        groups_dal.transact([groups_dal.fields_update_action(org, group.id, 0, {"turns_counter": 99})])
    # Then only the first applied
    stored = groups_dal.get_group(org, group.id)
    assert stored is not None
    assert (stored.turns_counter, stored.last_processed_message_id, stored.version) == (1, "message-1", 1)


# --- listing ------------------------------------------------------------------------------------


def test_list_without_limit_returns_everything_across_store_pages(org: str, small_pages: SmallPages):
    # Given 33 groups, and a store that pages every 4 items
    created = [create(org).id for _ in range(33)]
    # When listed without a limit
    listed = ids(list_groups(org))
    # Then every group comes back once, in creation order, after following every page
    assert listed == created
    assert small_pages.queries >= 9


def test_forward_pages_with_after_cover_every_group_once(org: str, small_pages: SmallPages):
    created = [create(org).id for _ in range(31)]
    # When paging forward 7 at a time from the start
    seen: list[str] = []
    page = ids(list_groups(org, limit=7))
    while page:
        assert len(page) <= 7
        seen += page
        page = ids(list_groups(org, after=page[-1], limit=7))
    # Then the pages concatenate to the whole list
    assert seen == created


def test_backward_pages_with_before_are_anchored_at_the_cursor(org: str, small_pages: SmallPages):
    created = [create(org).id for _ in range(31)]
    # When paging backward 7 at a time from the newest group
    pages = []
    cursor = created[-1]
    while True:
        page = ids(list_groups(org, before=cursor, limit=7))
        if not page:
            break
        pages.append(page)
        cursor = page[0]
    # Then each page holds the 7 groups right before the cursor, ascending, and nothing is skipped
    assert pages[0] == created[-8:-1]
    assert [g for p in reversed(pages) for g in p] == created[:-1]


def test_window_between_two_cursors_excludes_both(org: str):
    created = [create(org).id for _ in range(10)]
    # When both cursors are given
    window = ids(list_groups(org, after=created[2], before=created[8]))
    limited = ids(list_groups(org, after=created[2], before=created[8], limit=3))
    # Then the groups strictly between them, ascending; a limit keeps the first ones (contract O-4)
    assert window == created[3:8]
    assert limited == created[3:6]


def test_descending_pages_with_after_cover_every_group_once_newest_first(org: str, small_pages: SmallPages):
    created = [create(org).id for _ in range(23)]
    # When paging newest first, 5 at a time, with `after` = the last group of the previous page
    seen: list[str] = []
    page = ids(list_groups(org, limit=5, descending=True))
    while page:
        seen += page
        page = ids(list_groups(org, after=page[-1], limit=5, descending=True))
    # Then the pages concatenate to the whole list, newest first
    assert seen == created[::-1]


def test_descending_before_is_anchored_at_the_cursor_and_both_cursors_bound_a_window(org: str):
    created = [create(org).id for _ in range(12)]
    # When listing newest first with `before` (the groups that precede it in that order: newer ones)
    page = ids(list_groups(org, before=created[3], limit=4, descending=True))
    # Then the page holds the 4 groups right before the cursor in that order, still newest first
    assert page == [created[7], created[6], created[5], created[4]]
    # And `after` (newer) with `before` (older) bounds the window strictly, newest first
    assert ids(list_groups(org, after=created[9], before=created[2], descending=True)) == created[8:2:-1]
    assert ids(list_groups(org, after=created[9], before=created[2], limit=2, descending=True)) == [created[8], created[7]]


def test_hidden_groups_are_left_out_unless_included(org: str, small_pages: SmallPages):
    # Given visible and hidden groups interleaved, and a store that pages every 4 items
    made = [create(org, hidden=i % 3 == 0) for i in range(15)]
    visible = [g.id for g in made if not g.hidden]
    # When listed without hidden groups, with and without a limit
    # Then only visible ones come back, and a limited page is filled across store pages
    assert ids(list_groups(org, include_hidden=False)) == visible
    assert ids(list_groups(org, include_hidden=False, limit=6)) == visible[:6]
    assert ids(list_groups(org, include_hidden=False, limit=3, descending=True)) == visible[::-1][:3]
    # And including them gives everything
    assert ids(list_groups(org)) == [g.id for g in made]


def test_listing_ignores_non_group_items_of_the_partition(org: str):
    # Given an agent and the counter in the same partition as the groups
    new_agent(org)
    group = create(org)
    # Then only the group is listed
    assert ids(list_groups(org)) == [group.id]


def test_manager_type_filter_uses_gsi1(org: str, small_pages: SmallPages):
    # Given groups of three types, interleaved
    made = [create(org, t) for t in ["round_robin", "dynamic", "supervisor"] * 5]
    dynamic = [g.id for g in made if g.manager_type == "dynamic"]
    # When listed by manager type
    listed = ids(list_groups(org, manager_type="dynamic"))
    first_two = ids(list_groups(org, manager_type="dynamic", limit=2))
    after = ids(list_groups(org, manager_type="dynamic", after=dynamic[1], limit=2))
    # Then only that type, in creation order, and cursors work within it
    assert listed == dynamic
    assert first_two == dynamic[:2]
    assert after == dynamic[2:4]
    assert list_groups(org, manager_type="swarm") == []


def test_project_filter_uses_gsi2(org: str):
    in_p1 = [create(org, project_id="p1").id for _ in range(3)]
    create(org, project_id="p2")
    create(org)
    # When listed by project
    # Then exactly the groups of that project, in creation order
    assert ids(list_groups(org, project_id="p1")) == in_p1
    assert list_groups(org, project_id="nope") == []


def test_project_and_manager_type_loop_until_the_page_is_full(org: str, small_pages: SmallPages):
    # Given a project whose first groups are all round robin, with dynamic groups further on,
    # and dynamic groups in another project
    made = [create(org, t, project_id="p1") for t in ["round_robin"] * 6 + ["dynamic", "round_robin"] * 4]
    for _ in range(3):
        create(org, "dynamic", project_id="p2")
    dynamic_p1 = [g.id for g in made if g.manager_type == "dynamic"]
    # When the first 3 dynamic groups of p1 are asked for (Limit applies before the filter)
    small_pages.queries = 0
    listed = ids(list_groups(org, project_id="p1", manager_type="dynamic", limit=3))
    # Then the listing kept querying past pages with no match until it had 3
    assert listed == dynamic_p1[:3]
    assert small_pages.queries > 1
    # And without a limit, all 4, and none from p2
    assert ids(list_groups(org, project_id="p1", manager_type="dynamic")) == dynamic_p1


def test_changing_project_moves_the_group_between_project_listings(org: str):
    group = groups_dal.get_group(org, create(org, project_id="p1").id)
    assert group is not None
    # When its project changes
    groups_dal.update_group(org, group.model_copy(update={"project_id": "p2"}), group.version, [], [], [], SINCE)
    # Then it is listed under the new project only
    assert list_groups(org, project_id="p1") == []
    assert ids(list_groups(org, project_id="p2")) == [group.id]


# --- memberships and agent changes ---------------------------------------------------------------


def test_membership_items_follow_the_participants(org: str):
    # Given a group of fred and velma
    fred, velma, daphne = new_agent(org, "fred"), new_agent(org, "velma"), new_agent(org, "daphne")
    group = create(org, agent_ids=[fred, velma])
    assert groups_dal.list_memberships(org, fred) == [group.id]
    assert since(org, fred, group.id) == SINCE
    # When velma is swapped for daphne
    read = groups_dal.get_group(org, group.id)
    assert read is not None
    later = "message-00000000-0000-7000-8000-0000000000ff"
    swapped = read.model_copy(update={"agent_ids": [fred, daphne]})
    groups_dal.update_group(org, swapped, read.version, [daphne], [velma], [], later)
    # Then memberships follow, and the newcomer's starts at the update
    assert groups_dal.list_memberships(org, velma) == []
    assert groups_dal.list_memberships(org, daphne) == [group.id]
    assert since(org, daphne, group.id) == later
    assert since(org, fred, group.id) == SINCE
    # And deleting the group removes the remaining memberships
    groups_dal.delete_group(org, swapped)
    assert groups_dal.list_memberships(org, fred) == []
    assert groups_dal.list_memberships(org, daphne) == []


def test_an_agent_lists_every_group_it_joined(org: str):
    fred, velma = new_agent(org, "fred"), new_agent(org, "velma")
    a = create(org, agent_ids=[fred, velma])
    b = create(org, agent_ids=[fred])
    # Then fred's memberships name both groups, velma's only the first
    assert sorted(groups_dal.list_memberships(org, fred)) == sorted([a.id, b.id])
    assert groups_dal.list_memberships(org, velma) == [a.id]


def test_agent_changes_attach_blocks_and_record_the_managed_group(org: str):
    # Given a participant and a manager
    fred, scooby = new_agent(org, "fred"), new_agent(org, "scooby")
    group = new_group("supervisor", [fred], manager_agent_id=scooby, shared_block_ids=["block-h"])
    changes = [
        groups_dal.AgentChange(agent_id=fred, attach_blocks={"human": "block-h"}),
        groups_dal.AgentChange(agent_id=scooby, attach_blocks={"human": "block-h"}, add_managed_group=group.id),
    ]
    # When the group is created with those changes
    groups_dal.create_group(org, group, changes, SINCE)
    # Then both agents carry the block under its label, and the manager knows its group
    for agent_id in (fred, scooby):
        agent = agents_dal.get_agent(org, agent_id)
        assert agent is not None
        assert agent.block_labels == {"human": "block-h"}
        assert agent.block_ids == ["block-h"]
    assert agents_dal.get_agent(org, scooby).managed_group_ids == {group.id}  # type: ignore[union-attr]
    # And deleting the group clears the manager's record but keeps the attachments
    groups_dal.delete_group(org, group)
    scooby_after = agents_dal.get_agent(org, scooby)
    assert scooby_after is not None
    assert not scooby_after.managed_group_ids
    assert scooby_after.block_labels == {"human": "block-h"}


def test_label_clash_cancels_the_whole_create(org: str):
    # Given fred already has a different block under the label "human"
    fred = new_agent(org, "fred", block_ids=["block-old"], block_labels={"human": "block-old"})
    group = new_group(agent_ids=[fred])
    change = groups_dal.AgentChange(agent_id=fred, attach_blocks={"human": "block-new"})
    # When a group would attach another "human" block to him
    with pytest.raises(groups_dal.ConditionFailed):
        groups_dal.create_group(org, group, [change], SINCE)
    # Then nothing was written anywhere
    assert groups_dal.get_group(org, group.id) is None
    assert groups_dal.count_groups(org) == 0
    assert groups_dal.list_memberships(org, fred) == []
    assert agents_dal.get_agent(org, fred).block_labels == {"human": "block-old"}  # type: ignore[union-attr]


def test_delete_succeeds_when_the_manager_is_already_gone(org: str):
    # Given a supervisor group whose manager item has disappeared (a cascading agent delete)
    scooby = new_agent(org, "scooby")
    group = new_group("supervisor", [], manager_agent_id=scooby)
    groups_dal.create_group(org, group, [groups_dal.AgentChange(agent_id=scooby, add_managed_group=group.id)], SINCE)
    agents_dal.transact_write(org, deleted_agents=[scooby])
    # When the group is deleted
    groups_dal.delete_group(org, group)
    # Then the group and its count are gone, and no agent item was recreated by the manager update
    assert groups_dal.get_group(org, group.id) is None
    assert groups_dal.count_groups(org) == 0
    assert agents_dal.get_agent(org, scooby) is None


def test_keys_put_every_entity_under_its_organization(org: str):
    # The tenancy rule that the tests above rely on: every key starts with the organization
    group = create(org, project_id="p1")
    raw = table.client().get_item(TableName=table.table_name(), Key=table.key(keys.org_pk(org), keys.group_sk(group.id)))
    item = table.deserialize(raw["Item"])
    assert item["PK"] == f"ORG#{org}"
    assert item["GSI1PK"] == f"ORG#{org}#MT#round_robin"
    assert item["GSI2PK"] == f"ORG#{org}#PRJ#p1"
    assert item["GSI1SK"] == item["GSI2SK"] == item["SK"] == f"GROUP#{group.id}"


def test_a_group_write_to_an_agent_item_is_a_new_version_of_the_agent(actor: Actor):
    # Given an agent as a modify would read it (version 0)
    org = actor.organization_id
    agent_id = new_agent(org)
    read_before = agents_dal.get_agent(org, agent_id)
    assert read_before is not None and read_before.version == 0
    # When a group write changes the agent item in place (it becomes the group's manager)
    group = new_group("supervisor", manager_agent_id=agent_id)
    groups_dal.create_group(org, group, [groups_dal.AgentChange(agent_id, add_managed_group=group.id)], SINCE)
    # Then the agent is at a new version holding the change
    after = agents_dal.get_agent(org, agent_id)
    assert after is not None and after.version == 1 and group.id in after.managed_group_ids
    # And a whole-item replace prepared from the earlier read fails instead of dropping the change
    with pytest.raises(ConditionFailed):
        agents_dal.replace_agent(org, read_before.model_copy(update={"name": "stale"}), read_before.version)
    # And deleting the group is a new version again
    groups_dal.delete_group(org, group)
    final = agents_dal.get_agent(org, agent_id)
    assert final is not None and final.version == 2 and group.id not in final.managed_group_ids
