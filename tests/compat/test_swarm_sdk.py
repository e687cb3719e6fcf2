"""A swarm group through letta-client 0.1.138 over real HTTP (swarm-handoffs.md), on the built-in offline model:
letta-client has no SwarmManager class, so the config travels as a plain object; the Group's additions
(`initial_agent_id`, `active_agent_id`) arrive as extra fields, which the SDK keeps."""

from __future__ import annotations

import json

import httpx
import pytest
from letta_client import Letta
from letta_client.core.api_error import ApiError

from support.runs import wait_for_run_sdk
from support.sdk import say
from support.shapes import GROUP_KEYS
from support.swarm import HANDOFF, handed_off, spoken
from support.trackers import Tracker

pytestmark = pytest.mark.compat


def test_a_swarm_hands_off_through_sync_stream_and_async_sends(letta: Letta, made: Tracker, http: httpx.Client):
    # Given fred and velma in a swarm group created with a plain-object manager_config
    ids = {a.name: a.id for a in made.personas(["fred", "velma"], unique=False)}
    group = made.group(list(ids.values()), "help desk", manager_config={"manager_type": "swarm", "max_turns": 6})
    assert (group.manager_type, group.max_turns) == ("swarm", 6)
    assert (group.initial_agent_id, group.active_agent_id) == (None, ids["fred"])  # type: ignore[attr-defined]
    assert list(http.get(f"/v1/groups/{group.id}").json()) == GROUP_KEYS

    # When the user asks fred to pass the question on (synchronous send)
    response = letta.groups.messages.create(group.id, messages=say("Please ask velma about the van."))
    # Then the response holds fred's handoff and velma's reply
    assert spoken(response.messages) == handed_off("fred", "velma")
    call, ret = response.messages[1], response.messages[2]
    assert call.tool_call.name == HANDOFF and json.loads(call.tool_call.arguments)["agent_name"] == "velma"
    assert (ret.tool_return, ret.status) == ("Handed off to velma", "success")
    assert response.usage.step_count == 2
    # And the group says velma will receive the next input
    assert letta.groups.retrieve(group.id).active_agent_id == ids["velma"]  # type: ignore[attr-defined]

    # When the user sends again
    again = letta.groups.messages.create(group.id, messages=say("And the footprints?"))
    # Then velma answers first
    assert spoken(again.messages) == [("reasoning_message", "velma"), ("assistant_message", "velma")]

    # When the user streams (steps), asking velma to hand over to fred
    chunks = list(letta.groups.messages.create_stream(group.id, messages=say("Hand over to fred, please.")))
    # Then both speakers stream: velma's handoff, fred's reply, then usage
    assert spoken(chunks) == handed_off("velma", "fred")
    assert chunks[-1].message_type == "usage_statistics" and chunks[-1].step_count == 2

    # When the user streams tokens, asking fred to involve velma
    chunks = list(letta.groups.messages.create_stream(group.id, messages=say("@velma, your view?"), stream_tokens=True))
    # Then the same shape arrives in chunks, the handoff call's arguments among them
    assert spoken(chunks) == handed_off("fred", "velma")
    assert len([c for c in chunks if c.message_type == "tool_call_message"]) > 1

    # When the user sends asynchronously, asking velma to ask fred
    run = http.post(f"/v1/groups/{group.id}/messages/async", json={"messages": [{"role": "user", "content": "ask fred"}]})
    finished = wait_for_run_sdk(letta, run.json()["id"])
    # Then the run completes with velma's handoff and fred's reply
    assert finished.status == "completed" and finished.metadata["stop_reason"] == "end_turn"
    assert spoken(letta.runs.messages.list(finished.id)) == handed_off("velma", "fred")
    assert letta.groups.retrieve(group.id).active_agent_id == ids["fred"]  # type: ignore[attr-defined]

    # And the transcript holds every message once, in order
    listed = letta.groups.messages.list(group.id, limit=100)
    assert len({(m.id, m.message_type) for m in listed}) == len(listed)
    assert [m.message_type for m in listed].count("user_message") == 5


def test_max_turns_and_the_initial_agent_through_modify(letta: Letta, made: Tracker):
    # Given a swarm of fred and velma, modified (plain object) to start with velma and stop after 2 turns
    ids = {a.name: a.id for a in made.personas(["fred", "velma"], unique=False)}
    group = made.group(list(ids.values()), "", manager_config={"manager_type": "swarm"})
    modified = letta.groups.modify(
        group.id, manager_config={"manager_type": "swarm", "max_turns": 2, "initial_agent_id": ids["velma"]}
    )
    assert modified.max_turns == 2 and modified.initial_agent_id == ids["velma"]  # type: ignore[attr-defined]
    # When the user asks for a ping-pong
    response = letta.groups.messages.create(group.id, messages=say("velma, ask fred; fred, ask velma."))
    # Then velma hands to fred, fred hands back, and the request stops there: nobody replied
    assert [m.name for m in response.messages if m.message_type == "tool_call_message"] == ["velma", "fred"]
    assert "assistant_message" not in [m.message_type for m in response.messages]
    assert response.usage.step_count == 2
    # And fred, the last to speak, stays active
    assert letta.groups.retrieve(group.id).active_agent_id == ids["fred"]  # type: ignore[attr-defined]


def test_swarm_rules_over_http(letta: Letta, made: Tracker):
    # Given two agents named alike, and a third outside the group
    twins = [made.agent("twin").id, made.agent("twin").id]
    outsider = made.agent("outsider").id
    # When a swarm names an initial agent outside agent_ids, or no agent at all
    for initial, status in ((outsider, 400), ("agent-nope", 404)):
        with pytest.raises(ApiError) as caught:
            letta.groups.create(
                agent_ids=twins, description="", manager_config={"manager_type": "swarm", "initial_agent_id": initial}
            )
        # Then 400 / 404 as JSON
        assert caught.value.status_code == status
    # When an existing swarm is modified to start with an agent outside it, or with no agent at all
    pair = [made.agent("fred").id, made.agent("velma").id]
    existing = made.group(pair, "", manager_config={"manager_type": "swarm"})
    before = letta.groups.retrieve(existing.id)
    for initial, status in ((outsider, 400), ("agent-nope", 404)):
        with pytest.raises(ApiError) as caught:
            letta.groups.modify(existing.id, manager_config={"manager_type": "swarm", "initial_agent_id": initial})  # type: ignore[arg-type]
        # Then 400 / 404, and the group is unchanged
        assert caught.value.status_code == status
    assert letta.groups.retrieve(existing.id) == before
    # When a swarm whose participants share a name is sent to
    group = made.group(twins, "", manager_config={"manager_type": "swarm"})
    with pytest.raises(ApiError) as caught:
        letta.groups.messages.create(group.id, messages=say("which twin?"))
    # Then 400 before anything runs
    assert caught.value.status_code == 400
    assert caught.value.body == {"detail": "participant names must be unique for handoffs"}
    assert letta.groups.messages.list(group.id) == []
