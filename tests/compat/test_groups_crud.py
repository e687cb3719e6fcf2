"""Group CRUD through letta-client 0.1.138 (and raw httpx where the SDK cannot say it) against the local server.

Contract: letta-groups-contract.md §1-§5, checklist §11.1 (MA-1..MA-4a, MA-4d, MA-6a/b), §11.2 (SDK-1..5),
§11.4 (VO-4) and §11.5 (X-1..X-19, X-32).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from letta_client import (
    CreateBlock,
    DynamicManager,
    DynamicManagerUpdate,
    Letta,
    RoundRobinManager,
    RoundRobinManagerUpdate,
    SleeptimeManager,
    SleeptimeManagerUpdate,
    SupervisorManager,
    VoiceSleeptimeManager,
    VoiceSleeptimeManagerUpdate,
)
from letta_client.errors.unprocessable_entity_error import UnprocessableEntityError

from support.sdk import api_status
from support.shapes import GROUP_KEYS, assert_error
from support.trackers import Tracker, unique

pytestmark = pytest.mark.compat

DEFAULT_USER = "user-00000000-0000-4000-8000-000000000000"


def scooby_gang(made: Tracker) -> tuple[list[str], str]:
    """The fixture of Letta's tests: four participants with personas and a manager with persona + empty human."""
    agents = [
        made.agent(name, memory_blocks=[CreateBlock(label="persona", value=f"I am {name}")]).id
        for name in ("fred", "velma", "daphne", "shaggy")
    ]
    manager = made.agent(
        "scooby",
        memory_blocks=[CreateBlock(label="persona", value="I am scooby"), CreateBlock(label="human", value="")],
    ).id
    return agents, manager


# --- create ---------------------------------------------------------------------------------------------------


def test_sdk_create_retrieve_modify_list_delete(letta: Letta, made: Tracker) -> None:
    """SDK-1..SDK-5: the flow of Letta's tests/sdk/groups_test.py."""
    # Given caren, an agent
    caren = made.agent("caren").id
    # When a round-robin and a supervisor group are created with empty agent lists and descriptions
    rr = made.group([], "")
    sup = made.group([], "", manager_config=SupervisorManager(manager_agent_id=caren))
    # Then the params are echoed and the types set (SDK-1)
    assert (rr.manager_type, rr.agent_ids, rr.description) == ("round_robin", [], "")
    assert (sup.manager_type, sup.agent_ids, sup.description, sup.manager_agent_id) == ("supervisor", [], "", caren)
    # And retrieve returns them (SDK-2)
    assert letta.groups.retrieve(rr.id).id == rr.id
    assert letta.groups.retrieve(sup.id).id == sup.id
    # When the round robin gets max_turns=10 (SDK-3)
    modified = letta.groups.modify(rr.id, manager_config=RoundRobinManagerUpdate(max_turns=10))
    # Then the response and a re-read agree
    for group in (modified, letta.groups.retrieve(rr.id)):
        assert (group.manager_type, group.max_turns) == ("round_robin", 10)
    # And both are listed, and exactly one of them with the round_robin filter (SDK-4)
    listed = {g.id for g in letta.groups.list()}
    assert {rr.id, sup.id} <= listed
    filtered = {g.id for g in letta.groups.list(manager_type="round_robin")} & {rr.id, sup.id}
    assert filtered == {rr.id}
    # When both are deleted (SDK-5)
    for group_id in (rr.id, sup.id):
        letta.groups.delete(group_id)
        # Then they are gone
        status, _ = api_status(lambda gid=group_id: letta.groups.retrieve(gid))
        assert status == 404


def test_create_without_manager_config_is_round_robin_with_the_wire_shape(http: httpx.Client, made: Tracker) -> None:
    """X-1 and §2.5: every Group key, in schema order, no timestamps."""
    # When a group is created with the bare minimum, without the trailing slash
    response = http.post("/v1/groups", json={"agent_ids": [], "description": ""})
    # Then it is a round robin with every optional field null, keys in the contract's order
    assert response.status_code == 200, response.text
    body = response.json()
    made.groups.append(body["id"])
    assert list(body) == GROUP_KEYS
    assert body["id"].startswith("group-") and len(body["id"]) == len("group-") + 36
    assert body["manager_type"] == "round_robin" and body["max_turns"] is None
    assert body["shared_block_ids"] == [] and body["project_id"] is None
    assert all(body[k] is None for k in GROUP_KEYS[5:] if k != "hidden")  # the swarm's fields included
    # And `hidden` (later Letta's, appended after the contract's fields) is false
    assert body["hidden"] is False


def test_round_robin_create_with_four_agents(made: Tracker) -> None:
    """MA-4a."""
    # Given the four participants
    agents, _ = scooby_gang(made)
    # When a round robin group is created with them
    group = made.group(agents, "This is a group chat between best friends all like to hang out together.")
    # Then it echoes everything and has no manager fields
    assert group.manager_type == "round_robin"
    assert group.description == "This is a group chat between best friends all like to hang out together."
    assert group.agent_ids == agents
    assert group.max_turns is None and group.manager_agent_id is None and group.termination_token is None


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (RoundRobinManager(max_turns=3), {"manager_type": "round_robin", "max_turns": 3, "manager_agent_id": None}),
        (SupervisorManager(manager_agent_id="$M"), {"manager_type": "supervisor", "manager_agent_id": "$M", "max_turns": None}),
        (
            DynamicManager(manager_agent_id="$M", max_turns=4),
            {"manager_type": "dynamic", "manager_agent_id": "$M", "max_turns": 4, "termination_token": "DONE!"},
        ),
        (
            SleeptimeManager(manager_agent_id="$M", sleeptime_agent_frequency=3),
            {"manager_type": "sleeptime", "sleeptime_agent_frequency": 3, "turns_counter": -1, "last_processed_message_id": None},
        ),
        (
            SleeptimeManager(manager_agent_id="$M"),
            {"manager_type": "sleeptime", "sleeptime_agent_frequency": None, "turns_counter": None},
        ),
        (
            VoiceSleeptimeManager(manager_agent_id="$M", max_message_buffer_length=30, min_message_buffer_length=15),
            {"manager_type": "voice_sleeptime", "max_message_buffer_length": 30, "min_message_buffer_length": 15},
        ),
    ],
    ids=["round_robin", "supervisor", "dynamic", "sleeptime", "sleeptime-no-frequency", "voice_sleeptime"],
)
def test_create_with_each_manager_config(letta: Letta, made: Tracker, config: Any, expected: dict[str, Any]) -> None:
    # Given a manager and a participant
    manager, participant = made.agent("boss").id, made.agent("worker").id
    if getattr(config, "manager_agent_id", None) == "$M":
        config = config.model_copy(update={"manager_agent_id": manager})
    expected = {k: (manager if v == "$M" else v) for k, v in expected.items()}
    # When the group is created with that manager config
    group = made.group([participant], "typed", manager_config=config)
    # Then the type-specific fields are stored and come back on retrieve
    for shown in (group, letta.groups.retrieve(group.id)):
        assert {k: getattr(shown, k) for k in expected} == expected
        assert shown.agent_ids == [participant]


def test_dynamic_explicit_null_termination_token_is_kept(http: httpx.Client, made: Tracker) -> None:
    """§3.3: `termination_token` gets "DONE!" only when the key is absent."""
    # Given a manager
    manager = made.agent("orchestrator").id
    # When a dynamic group is created with an explicit null termination token
    config = {"manager_type": "dynamic", "manager_agent_id": manager, "termination_token": None}
    response = http.post("/v1/groups/", json={"agent_ids": [], "description": "", "manager_config": config})
    # Then null is stored
    assert response.status_code == 200, response.text
    made.groups.append(response.json()["id"])
    assert response.json()["termination_token"] is None


def test_create_ignores_unknown_body_fields(http: httpx.Client, made: Tracker) -> None:
    """X-7."""
    response = http.post("/v1/groups/", json={"agent_ids": [], "description": "x", "surprise": {"a": 1}})
    assert response.status_code == 200, response.text
    made.groups.append(response.json()["id"])
    assert "surprise" not in response.json()


def test_project_header_sets_project_and_filters(letta: Letta, made: Tracker) -> None:
    """X-15, and §2.2: X-Project on modify replaces the project, its absence keeps it."""
    project = unique("proj")
    # When a group is created with project= (sent as X-Project)
    group = made.group([], "p", project=project)
    # Then its project_id is the header value and the project filter finds it (only it)
    assert group.project_id == project
    assert [g.id for g in letta.groups.list(project_id=project)] == [group.id]
    # When it is modified without a project, then with another one
    assert letta.groups.modify(group.id, description="kept").project_id == project
    other = unique("proj")
    moved = letta.groups.modify(group.id, project=other, description="moved")
    # Then the header replaced the project, and the filters follow
    assert moved.project_id == other and letta.groups.retrieve(group.id).project_id == other
    assert letta.groups.list(project_id=project) == []
    assert [g.id for g in letta.groups.list(project_id=other)] == [group.id]


def test_shared_blocks_are_attached_to_every_participant_and_the_manager(letta: Letta, made: Tracker) -> None:
    """X-16 and §4.4: the real ids, on every participant and on the manager; existing attachments kept as they are."""
    # Given the gang, a shared block, and fred already holding that block
    agents, manager = scooby_gang(made)
    notes = made.block("group_notes", "Mystery Inc. case notes")
    letta.agents.modify(agents[0], block_ids=[b.id for b in letta.agents.retrieve(agents[0]).memory.blocks] + [notes.id])
    # When a supervisor group shares the block
    group = made.group(agents, "shared", manager_config=SupervisorManager(manager_agent_id=manager), shared_block_ids=[notes.id])
    # Then the response names the real block id
    assert group.shared_block_ids == [notes.id]
    assert letta.groups.retrieve(group.id).shared_block_ids == [notes.id]
    # And every participant and the manager hold it exactly once, next to their own blocks
    for agent_id in [*agents, manager]:
        blocks = letta.agents.retrieve(agent_id).memory.blocks
        assert [b.id for b in blocks].count(notes.id) == 1
        assert {b.label for b in blocks} >= {"persona", "group_notes"}
    assert {b.label for b in letta.agents.retrieve(manager).memory.blocks} == {"persona", "human", "group_notes"}


def test_shared_block_label_clash_is_409_and_writes_nothing(letta: Letta, made: Tracker) -> None:
    """§4.4 check 9."""
    # Given an agent whose persona block would clash with a shared block labelled persona
    agent = made.agent("fred", memory_blocks=[CreateBlock(label="persona", value="I am fred")]).id
    other_persona = made.block("persona", "someone else")
    own_blocks = [b.id for b in letta.agents.retrieve(agent).memory.blocks]
    own_persona = [b.id for b in letta.agents.retrieve(agent).memory.blocks if b.label == "persona"]
    assert len(own_persona) == 1 and own_persona != [other_persona.id]
    before = letta.groups.count()
    # When a group tries to share it
    status, body = api_status(lambda: letta.groups.create(agent_ids=[agent], description="", shared_block_ids=[other_persona.id]))
    # Then 409, and neither the group nor the attachment exists: the agent keeps its own persona block
    assert status == 409 and "persona" in body["detail"]
    assert letta.groups.count() == before
    assert [b.id for b in letta.agents.retrieve(agent).memory.blocks if b.label == "persona"] == own_persona
    assert [b.id for b in letta.agents.retrieve(agent).memory.blocks] == own_blocks
    assert other_persona.id not in [b.id for b in letta.agents.retrieve(agent).memory.blocks]


def test_unknown_ids_in_create_are_404_and_write_nothing(letta: Letta, made: Tracker) -> None:
    """X-11, §4.4 checks 5, 6 and 8."""
    # Given a real agent and the current count
    real = made.agent().id
    before = letta.groups.count()
    # When a participant, the manager or a shared block does not exist
    cases = [
        (lambda: letta.groups.create(agent_ids=["agent-nope"], description=""), "Items not found in agents: {'agent-nope'}"),
        (lambda: letta.groups.create(agent_ids=[real, "agent-nope"], description=""), "{'agent-nope'}"),
        (
            lambda: letta.groups.create(
                agent_ids=[real], description="", manager_config=SupervisorManager(manager_agent_id="agent-gone")
            ),
            "agent-gone",
        ),
        (lambda: letta.groups.create(agent_ids=[real], description="", shared_block_ids=["block-nope"]), "block-nope"),
    ]
    for call, detail in cases:
        status, body = api_status(call)
        # Then each is a 404 naming the missing id
        assert status == 404 and detail in body["detail"], body
    # And nothing was written
    assert letta.groups.count() == before
    assert letta.agents.groups.list(real) == []


def test_bad_manager_configs_are_422_or_404(http: httpx.Client, letta: Letta) -> None:
    """X-4, X-2 and X-6; swarm (swarm-handoffs.md, no longer X-3's 400) with an initial agent that is no agent."""
    before = letta.groups.count()
    base = {"agent_ids": [], "description": ""}
    # When a swarm's initial agent is no agent at all
    swarm = {"manager_type": "swarm", "initial_agent_id": "agent-nope"}
    assert_error(http.post("/v1/groups/", json={**base, "manager_config": swarm}), 404, "Agent not found with id=agent-nope")
    # When manager_type is unknown
    detail = assert_error(http.post("/v1/groups/", json={**base, "manager_config": {"manager_type": "bogus"}}), 422)
    assert detail[0]["type"] == "union_tag_invalid" and detail[0]["loc"] == ["body", "manager_config"]
    # When the discriminator is missing although every variant could default it
    detail = assert_error(http.post("/v1/groups/", json={**base, "manager_config": {"max_turns": 3}}), 422)
    assert detail[0]["type"] == "union_tag_not_found"
    # When a supervisor has no manager
    detail = assert_error(http.post("/v1/groups/", json={**base, "manager_config": {"manager_type": "supervisor"}}), 422)
    assert detail[0]["loc"] == ["body", "manager_config", "supervisor", "manager_agent_id"]
    assert detail[0]["type"] == "missing"
    # Then the SDK sees the 422 as UnprocessableEntityError with a parsed body
    with pytest.raises(UnprocessableEntityError) as caught:
        letta.groups.create(agent_ids=[], description="", manager_config={"manager_type": "bogus"})
    assert caught.value.body.detail[0].loc == ["body", "manager_config"]
    # And nothing was created
    assert letta.groups.count() == before


def test_dynamic_duplicates_are_400(letta: Letta, made: Tracker) -> None:
    """MA-6a and MA-6b, on create and on modify."""
    # Given the gang and a second agent named shaggy
    agents, manager = scooby_gang(made)
    other_shaggy = made.agent("shaggy").id
    before = letta.groups.count()
    # When a dynamic group repeats an agent id
    status, body = api_status(
        lambda: letta.groups.create(
            agent_ids=[agents[0], agents[0]], description="", manager_config=DynamicManager(manager_agent_id=manager)
        )
    )
    assert (status, body["detail"]) == (400, "Duplicate agent ids found in list")
    # When two participants share a name
    status, body = api_status(
        lambda: letta.groups.create(
            agent_ids=[agents[3], other_shaggy], description="", manager_config=DynamicManager(manager_agent_id=manager)
        )
    )
    assert (status, body["detail"]) == (400, "Duplicate agent names found in the provided agent IDs.")
    assert letta.groups.count() == before
    # When a valid dynamic group is modified into either case
    group = made.group(agents, "", manager_config=DynamicManager(manager_agent_id=manager))
    assert api_status(lambda: letta.groups.modify(group.id, agent_ids=[agents[1], agents[1]]))[0] == 400
    assert api_status(lambda: letta.groups.modify(group.id, agent_ids=[agents[3], other_shaggy]))[0] == 400
    # Then the stored group is unchanged
    assert letta.groups.retrieve(group.id).agent_ids == agents


def test_empty_group_create_and_delete(letta: Letta) -> None:
    """MA-1 (the send part belongs to the messages suite)."""
    group = letta.groups.create(agent_ids=[], description="empty")
    assert group.agent_ids == []
    assert letta.groups.delete(group.id) == {"message": f"Group id={group.id} successfully deleted"}


def test_manager_may_also_participate_and_round_robin_may_repeat(letta: Letta, made: Tracker) -> None:
    """O-6 (the manager is also a participant) and repeated ids outside dynamic groups: both allowed."""
    boss, worker = made.agent("boss").id, made.agent("worker").id
    # When the supervisor is also one of the workers
    sup = made.group([boss, worker], "", manager_config=SupervisorManager(manager_agent_id=boss))
    # Then it is stored as sent, listed among the manager's participations, and shown as its managed group
    assert (sup.agent_ids, sup.manager_agent_id) == ([boss, worker], boss)
    assert sup.id in [g.id for g in letta.agents.groups.list(boss)]
    assert letta.agents.retrieve(boss).multi_agent_group.id == sup.id
    # When a round robin repeats a participant
    rr = made.group([worker, worker], "twice")
    # Then the order is kept with the repeat, and the agent lists the group once
    assert rr.agent_ids == [worker, worker]
    assert [g.id for g in letta.agents.groups.list(worker)].count(rr.id) == 1


def test_the_largest_group_is_written_whole(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    """32 participants, a manager and 32 shared blocks: create, a modify that replaces everyone, delete (never a 500)."""
    agents = [made.agent(f"member-{i}").id for i in range(66)]
    blocks = [made.block(f"label-{i}", "v").id for i in range(32)]
    # When a group of the maximum size shares the maximum number of blocks
    group = made.group(agents[:32], "", manager_config=SupervisorManager(manager_agent_id=agents[64]), shared_block_ids=blocks)
    assert len(group.agent_ids) == 32 and group.shared_block_ids == blocks
    # And every participant and its manager are replaced at once
    replaced = letta.groups.modify(
        group.id, agent_ids=agents[32:64], manager_config={"manager_type": "supervisor", "manager_agent_id": agents[65]}
    )
    # Then the whole change is stored, and the newcomers got the shared blocks
    assert (replaced.agent_ids, replaced.manager_agent_id) == (agents[32:64], agents[65])
    assert {b.id for b in letta.agents.retrieve(agents[63]).memory.blocks} == set(blocks)
    assert letta.agents.groups.list(agents[0]) == []
    # And one participant more is a 422, not a storage error
    detail = assert_error(http.post("/v1/groups/", json={"agent_ids": agents[:33], "description": ""}), 422)
    assert detail[0]["loc"] == ["body", "agent_ids"]


def test_modify_ignores_shared_block_ids(letta: Letta, made: Tracker) -> None:
    """O-7: blocks are shared at create; `shared_block_ids` on modify is ignored."""
    agent = made.agent().id
    notes = made.block("notes", "n")
    group = made.group([agent], "")
    modified = letta.groups.modify(group.id, shared_block_ids=[notes.id], description="changed")
    assert (modified.shared_block_ids, modified.description) == ([], "changed")
    assert notes.id not in [b.id for b in letta.agents.retrieve(agent).memory.blocks]


# --- voice buffers (VO-4) ---------------------------------------------------------------------------------------

# Contract §3.3: B2 ("… must be greater than 4 (got …)") and B3, whose message names both bounds.
B2 = "must be greater than 4 (got "
B3 = "'max_message_buffer_length' must be greater than 'min_message_buffer_length' (got max={max} <= min={min})"
BUFFER_CASES = [
    ((10, 5), (10, 5), None),
    ((31, None), (31, 15), None),
    ((None, 16), (30, 16), None),
    ((None, 30), None, B3.format(max=30, min=30)),
    ((15, None), None, B3.format(max=15, min=15)),
    ((5, 5), None, B3.format(max=5, min=5)),
    ((6, 7), None, B3.format(max=6, min=7)),
    ((4, 5), None, B2),
    ((5, 4), None, B2),
    ((1, 10), None, B2),
    ((10, 1), None, B2),
]


@pytest.mark.parametrize(("sent", "effective", "error"), BUFFER_CASES, ids=[f"{m}-{n}" for (m, n), _, _ in BUFFER_CASES])
def test_voice_buffer_rules_on_modify(
    letta: Letta, made: Tracker, sent: tuple[int | None, int | None], effective: tuple[int, int] | None, error: str | None
) -> None:
    # Given a fresh voice_sleeptime group with max 30 / min 15
    voice = made.agent("voice").id
    group = made.group(
        [made.agent("voice-sleeptime").id],
        "",
        manager_config=VoiceSleeptimeManager(manager_agent_id=voice, max_message_buffer_length=30, min_message_buffer_length=15),
    )
    update = VoiceSleeptimeManagerUpdate(max_message_buffer_length=sent[0], min_message_buffer_length=sent[1])
    if error is None:
        # When the bounds are modified within the rules, then both effective bounds are saved
        modified = letta.groups.modify(group.id, manager_config=update)
        stored = letta.groups.retrieve(group.id)
        assert (modified.max_message_buffer_length, modified.min_message_buffer_length) == effective
        assert (stored.max_message_buffer_length, stored.min_message_buffer_length) == effective
    else:
        # When they break B2/B3, then 400 and nothing changes
        status, body = api_status(lambda: letta.groups.modify(group.id, manager_config=update))
        assert status == 400 and error in body["detail"], body
        stored = letta.groups.retrieve(group.id)
        assert (stored.max_message_buffer_length, stored.min_message_buffer_length) == (30, 15)


def test_voice_buffer_b1_on_create(letta: Letta, made: Tracker) -> None:
    voice = made.agent("voice").id
    before = letta.groups.count()
    # When only the max bound is given at create
    status, body = api_status(
        lambda: letta.groups.create(
            agent_ids=[],
            description="",
            manager_config=VoiceSleeptimeManager(manager_agent_id=voice, max_message_buffer_length=30),
        )
    )
    # Then B1, and nothing created
    assert status == 400 and "must be provided together" in body["detail"]
    assert letta.groups.count() == before


# --- list ---------------------------------------------------------------------------------------------------------


def test_list_without_limit_returns_every_group_in_creation_order(letta: Letta, made: Tracker) -> None:
    """X-17: 200 groups with 6 KB descriptions span more than one 1 MB storage page."""
    # Given 200 groups in a project of their own
    project = unique("x17")
    created = [made.group([], f"{i:03d}" + "x" * 6000, project=project).id for i in range(200)]
    # When listed by project, and unfiltered, with no limit
    by_project = [g.id for g in letta.groups.list(project_id=project)]
    everything = [g.id for g in letta.groups.list()]
    # Then all 200 come back in creation order
    assert by_project == created
    assert [g for g in everything if g in set(created)] == created
    # And the unfiltered list is the whole organization
    assert len(everything) == letta.groups.count()


def test_list_cursors_are_anchored(letta: Letta, made: Tracker) -> None:
    """§4.1 and §5: after → first `limit` after; before → last `limit` before; both → strictly between."""
    # Given 7 groups of one project, oldest first
    project = unique("cursors")
    ids = [made.group([], f"g{i}", project=project).id for i in range(7)]

    def page(**kwargs: Any) -> list[str]:
        return [g.id for g in letta.groups.list(project_id=project, **kwargs)]

    # Then each window is anchored at its cursor and ascending
    assert page(after=ids[1], limit=2) == ids[2:4]
    assert page(after=ids[1]) == ids[2:]
    assert page(before=ids[5], limit=2) == ids[3:5]
    assert page(before=ids[5]) == ids[:5]
    assert page(after=ids[1], before=ids[5]) == ids[2:5]
    assert page(after=ids[1], before=ids[6], limit=2) == ids[2:4]
    assert page(limit=3) == ids[:3]
    assert page(limit=0) == []
    # And paging backwards from the newest visits every group once
    seen, cursor = [ids[6]], ids[6]
    while chunk := page(before=cursor, limit=3):
        seen, cursor = chunk + seen, chunk[0]
    assert seen == ids
    # And without a project filter the cursors anchor the same way
    assert [g.id for g in letta.groups.list(before=ids[5], limit=2)] == ids[3:5]


def test_list_cursor_errors(letta: Letta, made: Tracker) -> None:
    """X-18 and the inverted window."""
    first, second = made.group([], "a").id, made.group([], "b").id
    # When a cursor names no group
    status, body = api_status(lambda: letta.groups.list(after="group-nope"))
    assert (status, body["detail"]) == (404, "No Group found with id group-nope")
    assert api_status(lambda: letta.groups.list(before="group-nope"))[0] == 404
    # When before is not later than after
    for after, before in ((second, first), (first, first)):
        status, body = api_status(lambda a=after, b=before: letta.groups.list(after=a, before=b))
        assert (status, body["detail"]) == (400, "'before' reference must be later than 'after' reference")


def test_list_manager_type_filter(letta: Letta, made: Tracker) -> None:
    """X-19, and swarm as a filter like any other type."""
    # Given one group of each of three types
    manager = made.agent().id
    rr = made.group([], "rr").id
    sup = made.group([], "sup", manager_config=SupervisorManager(manager_agent_id=manager)).id
    swarm = made.group([], "swarm", manager_config={"manager_type": "swarm"}).id
    # Then each filter sees its own type only
    supervisors = [g for g in letta.groups.list(manager_type="supervisor")]
    assert sup in [g.id for g in supervisors] and rr not in [g.id for g in supervisors]
    assert all(g.manager_type == "supervisor" for g in supervisors)
    swarms = letta.groups.list(manager_type="swarm")
    assert swarm in [g.id for g in swarms] and {g.manager_type for g in swarms} == {"swarm"}
    # And the type and project filters combine
    project = unique("both")
    in_project = made.group([], "p-sup", manager_config=SupervisorManager(manager_agent_id=made.agent().id), project=project).id
    made.group([], "p-rr", project=project)
    assert [g.id for g in letta.groups.list(manager_type="supervisor", project_id=project)] == [in_project]
    assert [g.id for g in letta.groups.list(manager_type="supervisor", project_id=project, limit=1)] == [in_project]
    # And an unknown type is a 422 on the query parameter
    with pytest.raises(UnprocessableEntityError) as caught:
        letta.groups.list(manager_type="bogus")
    assert caught.value.body.detail[0].loc == ["query", "manager_type"]


def test_collection_routes_answer_with_and_without_slash(http: httpx.Client, made: Tracker) -> None:
    """X-10: no 307."""
    for path in ("/v1/groups", "/v1/groups/"):
        created = http.post(path, json={"agent_ids": [], "description": path})
        assert created.status_code == 200, created.text
        made.groups.append(created.json()["id"])
        listed = http.get(path)
        assert listed.status_code == 200 and created.json()["id"] in [g["id"] for g in listed.json()]


# --- count --------------------------------------------------------------------------------------------------------


def test_count_follows_create_and_delete(http: httpx.Client, letta: Letta) -> None:
    """X-8 and §1: `count` is never read as a group id; the body is a bare integer."""
    before = letta.groups.count()
    group = letta.groups.create(agent_ids=[], description="counted")
    assert letta.groups.count() == before + 1
    letta.groups.delete(group.id)
    assert letta.groups.count() == before
    raw = http.get("/v1/groups/count")
    assert raw.status_code == 200 and raw.text.strip() == str(before)


# --- modify -------------------------------------------------------------------------------------------------------


def test_modify_reverses_agents_and_sets_max_turns(letta: Letta, made: Tracker) -> None:
    """MA-4d."""
    agents, _ = scooby_gang(made)
    group = made.group(agents, "friends")
    # When agent_ids are reversed and max_turns set
    modified = letta.groups.modify(group.id, agent_ids=agents[::-1], manager_config=RoundRobinManagerUpdate(max_turns=3))
    # Then both changed and nothing else did
    for shown in (modified, letta.groups.retrieve(group.id)):
        assert shown.agent_ids == agents[::-1] and shown.max_turns == 3
        assert (shown.description, shown.manager_type, shown.manager_agent_id, shown.termination_token) == (
            "friends",
            "round_robin",
            None,
            None,
        )
    # And the membership index follows: fred is still a participant, listed by his groups
    assert group.id in [g.id for g in letta.agents.groups.list(agents[0])]


def test_modify_ignores_falsy_values(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    """X-14 and §4.5: null, 0, "" and [] never change a field."""
    agents, manager = scooby_gang(made)
    group = made.group(agents[:2], "keep me", manager_config=DynamicManager(manager_agent_id=manager, max_turns=4))
    # When every field is sent falsy
    body = {
        "agent_ids": [],
        "description": "",
        "manager_config": {"manager_type": "dynamic", "manager_agent_id": None, "termination_token": "", "max_turns": 0},
    }
    response = http.patch(f"/v1/groups/{group.id}", json=body)
    # Then nothing changed
    assert response.status_code == 200, response.text
    assert response.json() == letta.groups.retrieve(group.id).model_dump() == group.model_dump()
    # And X-14 literally
    assert http.patch(f"/v1/groups/{group.id}", json={"agent_ids": None, "description": ""}).json() == group.model_dump()
    # When only one field is truthy, only that one changes
    changed = letta.groups.modify(group.id, manager_config=DynamicManagerUpdate(termination_token="STOP"))
    assert (changed.termination_token, changed.max_turns, changed.agent_ids) == ("STOP", 4, agents[:2])


def test_modify_without_body_is_422_and_empty_object_is_200(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    """X-13 and C-4."""
    group = made.group([], "same")
    # When the SDK modifies with no arguments (PATCH, no body)
    with pytest.raises(UnprocessableEntityError) as caught:
        letta.groups.modify(group.id)
    # Then FastAPI's missing-body 422
    error = caught.value.body.detail[0]
    assert (error.loc, error.type, error.msg) == (["body"], "missing", "Field required")
    # When the body is {}
    response = http.patch(f"/v1/groups/{group.id}", json={})
    # Then 200 and unchanged
    assert response.status_code == 200 and response.json() == group.model_dump()


def test_modify_errors(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    """MA-2, X-5, X-12, swarm, unknown agents."""
    agents, manager = scooby_gang(made)
    rr = made.group(agents, "rr")
    sup = made.group(agents, "sup", manager_config=SupervisorManager(manager_agent_id=manager))
    # When the pattern changes
    status, body = api_status(lambda: letta.groups.modify(rr.id, manager_config=DynamicManagerUpdate(manager_agent_id=manager)))
    assert (status, body["detail"]) == (400, "Cannot change group pattern after creation")
    # When a SupervisorManagerUpdate omits its required key
    detail = assert_error(http.patch(f"/v1/groups/{sup.id}", json={"manager_config": {"manager_type": "supervisor"}}), 422)
    assert detail[0]["loc"][-1] == "manager_agent_id"
    # When the config is swarm on a round robin group
    swarm = {"manager_config": {"manager_type": "swarm"}}
    assert_error(http.patch(f"/v1/groups/{rr.id}", json=swarm), 400, "Cannot change group pattern after creation")
    # When the group does not exist
    assert_error(http.patch("/v1/groups/group-nope", json={"description": "x"}), 404, "Group not found with id=group-nope")
    # When a new participant or manager does not exist
    status, body = api_status(lambda: letta.groups.modify(rr.id, agent_ids=["agent-nope"]))
    assert (status, body["detail"]) == (404, "Items not found in agents: {'agent-nope'}")
    status, _ = api_status(
        lambda: letta.groups.modify(sup.id, manager_config={"manager_type": "supervisor", "manager_agent_id": "agent-x"})
    )
    assert status == 404
    # Then nothing was changed
    assert letta.groups.retrieve(rr.id).model_dump() == rr.model_dump()
    assert letta.groups.retrieve(sup.id).model_dump() == sup.model_dump()


def test_modify_sleeptime_frequency(letta: Letta, made: Tracker) -> None:
    """§4.5: a truthy frequency on a null turns_counter sets it to -1."""
    main, sleeper = made.agent("main").id, made.agent("main-sleeptime").id
    group = made.group([sleeper], "", manager_config=SleeptimeManager(manager_agent_id=main))
    assert group.turns_counter is None
    modified = letta.groups.modify(group.id, manager_config=SleeptimeManagerUpdate(sleeptime_agent_frequency=2))
    assert (modified.sleeptime_agent_frequency, modified.turns_counter, modified.agent_ids) == (2, -1, [sleeper])


def test_modify_manager_moves_the_managed_group(letta: Letta, made: Tracker) -> None:
    """The group an agent manages is `AgentState.multi_agent_group` (§4.12)."""
    old, new = made.agent("old-boss").id, made.agent("new-boss").id
    group = made.group([], "", manager_config=SupervisorManager(manager_agent_id=old))
    assert letta.agents.retrieve(old).multi_agent_group.id == group.id
    letta.groups.modify(group.id, manager_config={"manager_type": "supervisor", "manager_agent_id": new})
    assert letta.agents.retrieve(new).multi_agent_group.id == group.id
    assert letta.agents.retrieve(old).multi_agent_group is None


# --- delete -------------------------------------------------------------------------------------------------------


def test_delete_twice(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    """X-9 and §4.6: agents stay."""
    agent = made.agent().id
    group = letta.groups.create(agent_ids=[agent], description="")
    # When deleted
    assert letta.groups.delete(group.id) == {"message": f"Group id={group.id} successfully deleted"}
    # Then the agent stays, without the group
    assert letta.agents.retrieve(agent).id == agent
    assert letta.agents.groups.list(agent) == []
    # And every group route answers 404
    detail = f"Group id={group.id} not found for user_id={DEFAULT_USER}."
    assert_error(http.delete(f"/v1/groups/{group.id}"), 404, detail)
    assert_error(http.get(f"/v1/groups/{group.id}"), 404, f"Group not found with id={group.id}")
    assert_error(http.patch(f"/v1/groups/{group.id}", json={}), 404)


# --- agent groups (§4.12, MA-3) -----------------------------------------------------------------------------------


def test_agent_groups_lists_participations_only(http: httpx.Client, letta: Letta, made: Tracker) -> None:
    # Given group A with the four, group B with fred, and a supervisor group that scooby manages
    agents, manager = scooby_gang(made)
    group_a = made.group(agents, "A")
    group_b = made.group([agents[0]], "B")
    sup = made.group([agents[0]], "S", manager_config=SupervisorManager(manager_agent_id=manager))
    # Then fred is in A, B and S (creation order), velma only in A, and scooby (manager only) in none
    assert [g.id for g in letta.agents.groups.list(agents[0])] == [group_a.id, group_b.id, sup.id]
    assert [g.id for g in letta.agents.groups.list(agents[1])] == [group_a.id]
    assert letta.agents.groups.list(manager) == []
    # And the manager_type filter narrows it; an unknown type matches nothing
    assert [g.id for g in letta.agents.groups.list(agents[0], manager_type="supervisor")] == [sup.id]
    assert letta.agents.groups.list(agents[0], manager_type="bogus") == []
    raw = http.get(f"/v1/agents/{agents[0]}/groups", params={"manager_type": "round_robin"})
    assert raw.status_code == 200 and [g["id"] for g in raw.json()] == [group_a.id, group_b.id]
    assert list(raw.json()[0]) == GROUP_KEYS
    # When fred leaves group A
    letta.groups.modify(group_a.id, agent_ids=agents[1:])
    # Then A is no longer his
    assert [g.id for g in letta.agents.groups.list(agents[0])] == [group_b.id, sup.id]
    # And an unknown agent is a 404
    assert_error(http.get("/v1/agents/agent-nope/groups"), 404, "agent-nope")


# --- identity (§2.1, X-32) ----------------------------------------------------------------------------------------


def test_unknown_user_header_and_bogus_token_act_as_the_default_user(server_url: str, letta: Letta, made: Tracker) -> None:
    """X-32, C-13, C-14."""
    stranger = {"user_id": f"user-{uuid.uuid4()}"}
    # Given a group created without any user header
    group = made.group([], "mine")
    # When an unknown user_id header is sent, and when a bogus bearer token is
    as_stranger = letta.groups.retrieve(group.id, request_options={"additional_headers": stranger})
    with_token = Letta(base_url=server_url, token="bogus-token")
    # Then both act as the default user and see the same organization
    assert as_stranger.id == group.id
    assert with_token.groups.retrieve(group.id).id == group.id
    assert letta.groups.count(request_options={"additional_headers": stranger}) == letta.groups.count()
    assert letta.groups.count(request_options={"additional_headers": {"user_id": ""}}) == letta.groups.count()
