"""Contract rules no other compatibility test pins down, over real HTTP against the local server: letta-client
0.1.138 wherever the SDK has the method, raw httpx otherwise (async send, bodies the SDK cannot express).

Covered: modify-message type inference (§3.9/§4.9), MA-4e, the send's pre-run checks (§4.7), deleted participants
(§9), client inputs in the transcript (§3.5/§3.8), `use_assistant_message=false` (§3.6/§6), MA-5c, one run at a
time (§7.6a), in-run failure (§2.3/§4.7), buffer rules on create (VO-4/§3.3), the order of create checks (§4.4),
sleeptime reset and delete (§4.11/§4.6), voice_sleeptime and `messages: []` sends (§4.7/O-13), null and unknown
keys (§3.3/§2.5), and the run-messages filters (§12a).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from letta_client import (
    CreateBlock,
    Letta,
    MessageCreate,
    RoundRobinManagerUpdate,
    SupervisorManager,
    SupervisorManagerUpdate,
    TextContent,
    UpdateAssistantMessage,
    UpdateReasoningMessage,
    UpdateSystemMessage,
    VoiceSleeptimeManager,
)

from support.runs import wait_for_run_sdk
from support.sdk import api_error, offline_llm, say
from support.shapes import assert_error
from support.trackers import Tracker, unique

pytestmark = pytest.mark.compat


def _transcript(letta: Letta, group_id: str) -> list[dict[str, Any]]:
    return [m.model_dump() for m in letta.groups.messages.list(group_id, limit=100)]


def _groups_described(letta: Letta, description: str) -> list[str]:
    return [g.id for g in letta.groups.list() if g.description == description]


# 1. §3.9 / §4.9: modify a message without message_type


def test_modify_message_infers_reasoning_and_system_edits(letta: Letta, made: Tracker):
    # Given a one-agent group whose transcript holds a user input, a system input and the agent's reply
    (fred,) = made.personas(["fred"])
    group = made.group([fred.id], description="edits")
    letta.groups.messages.create(
        group.id, messages=[MessageCreate(role="user", content="hi"), MessageCreate(role="system", content="a note")]
    )
    listed = letta.groups.messages.list(group.id, limit=50)
    assert [m.message_type for m in listed] == ["user_message", "system_message", "reasoning_message", "assistant_message"]
    system, reasoning, assistant = listed[1], listed[2], listed[3]

    # When the reasoning is edited the way the SDK sends it ({"reasoning": "x"}, no message_type)
    edited = letta.groups.messages.modify(group.id, reasoning.id, request=UpdateReasoningMessage(reasoning="x"))
    # Then the answer is that reasoning message with the new text
    assert (edited.message_type, edited.id, edited.reasoning) == ("reasoning_message", reasoning.id, "x")

    # When the system input is edited with {"content": ...} (UpdateSystemMessage, no message_type)
    edited_system = letta.groups.messages.modify(group.id, system.id, request=UpdateSystemMessage(content="edited note"))
    # Then the answer is that system message with the new content
    assert (edited_system.message_type, edited_system.id, edited_system.content) == ("system_message", system.id, "edited note")

    # And both edits are listed afterwards; the assistant part of the edited message is untouched
    after = letta.groups.messages.list(group.id, limit=50)
    assert [(m.id, m.message_type) for m in after] == [(m.id, m.message_type) for m in listed]
    assert after[1].content == "edited note"
    assert after[2].reasoning == "x"
    assert after[3].content == assistant.content


def test_modify_message_refuses_assistant_edit_of_a_tool_call_and_unknown_types(letta: Letta, made: Tracker, http: httpx.Client):
    # Given a supervisor run, whose broadcast is a tool call other than send_message
    workers = made.personas(["fred", "velma"])
    (boss,) = made.personas(["scooby"])
    group = made.group([w.id for w in workers], manager_config=SupervisorManager(manager_agent_id=boss.id))
    response = letta.groups.messages.create(group.id, messages=say("ask everyone what they like"))
    broadcast = response.messages[1]
    assert broadcast.message_type == "tool_call_message"
    assert broadcast.tool_call.name == "send_message_to_all_agents_in_group"
    before = _transcript(letta, group.id)

    # When an assistant edit ({"content": ...}, no message_type) targets that tool-call message
    body = api_error(
        lambda: letta.groups.messages.modify(group.id, broadcast.id, request=UpdateAssistantMessage(content="x")), 400
    )
    # Then it is refused with the type it resolved to, and nothing changed
    assert body == {"detail": "Message type got modified: assistant_message"}
    assert _transcript(letta, group.id) == before

    # When a message_type outside the four updatable types is sent
    refused = http.patch(
        f"/v1/groups/{group.id}/messages/{broadcast.id}", json={"message_type": "tool_call_message", "content": "x"}
    )
    # Then it is a schema error on message_type, and nothing changed
    detail = assert_error(refused, 422)
    assert any(item["loc"][:2] == ["body", "message_type"] for item in detail), detail
    assert _transcript(letta, group.id) == before


# 2. MA-4e


def test_reversed_round_robin_after_reset_ma_4e(letta: Letta, made: Tracker):
    # Given four agents in a round robin group that has already talked once
    agents = made.personas(["fred", "velma", "daphne", "shaggy"])
    group = made.group([a.id for a in agents], description="holiday chat")
    assert letta.groups.messages.create(group.id, messages=say("what is everyone up to?")).usage.step_count == 4
    # And its order reversed with max_turns 3 (MA-4d), then its transcript reset
    reversed_agents = list(reversed(agents))
    modified = letta.groups.modify(
        group.id, agent_ids=[a.id for a in reversed_agents], manager_config=RoundRobinManagerUpdate(max_turns=3)
    )
    assert (modified.agent_ids, modified.max_turns) == ([a.id for a in reversed_agents], 3)
    assert letta.groups.messages.reset(group.id) is None

    # When the user sends again
    response = letta.groups.messages.create(group.id, messages=say("and after that?"))

    # Then three speakers answer, in reversed order, reasoning then assistant each
    speakers = [a.name for a in reversed_agents[:3]]
    assert response.usage.step_count == 3
    assert [m.message_type for m in response.messages] == ["reasoning_message", "assistant_message"] * 3
    assert [m.name for m in response.messages] == [n for n in speakers for _ in range(2)]
    # And the transcript holds exactly the new input and those six parts
    listed = letta.groups.messages.list(group.id, limit=50)
    assert len(listed) == 7
    assert [(m.message_type, m.name) for m in listed] == [("user_message", None)] + [
        (t, n) for n in speakers for t in ("reasoning_message", "assistant_message")
    ]
    assert listed[0].content == "and after that?"
    assert [m.id for m in listed[1:]] == [m.id for m in response.messages]


# 3. §4.7 pre-run checks on the non-streaming send


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        ({"role": "user", "content": ""}, "Message content is empty or invalid"),
        (
            {"role": "user", "content": [{"type": "tool_call", "id": "c", "name": "x", "input": {}}]},
            "Message content is empty or invalid",
        ),
        ({"role": "assistant", "content": "I am the assistant"}, "Invalid message role: assistant"),
    ],
    ids=["empty-string", "first-part-not-text", "assistant-role"],
)
def test_send_pre_run_checks_write_nothing(letta: Letta, made: Tracker, http: httpx.Client, message: dict[str, Any], detail: str):
    # Given a round robin group with one earlier exchange
    group = made.group([a.id for a in made.personas(["fred", "velma"])], description="pre-run")
    letta.groups.messages.create(group.id, messages=say("first"))
    before = _transcript(letta, group.id)
    assert len(before) == 5

    # When a non-streaming send carries an invalid input after a valid one
    if isinstance(message["content"], str):
        body = api_error(lambda: letta.groups.messages.create(group.id, messages=[*say("valid"), MessageCreate(**message)]), 400)
    else:  # letta-client 0.1.138's ToolCallContent serialises as type "tool_return", so the SDK cannot send this part
        answer = http.post(f"/v1/groups/{group.id}/messages", json={"messages": [{"role": "user", "content": "valid"}, message]})
        assert answer.status_code == 400, answer.text
        body = answer.json()

    # Then it is refused before running, with the contract's text, and nothing is written
    assert body == {"detail": detail}
    assert _transcript(letta, group.id) == before


# 4. §9: a deleted participant


def test_send_after_participant_deleted_is_404_before_running(letta: Letta, made: Tracker):
    # Given a round robin group that has talked once
    fred, velma = made.personas(["fred", "velma"])
    group = made.group([fred.id, velma.id], description="lost member")
    letta.groups.messages.create(group.id, messages=say("hello"))
    before = _transcript(letta, group.id)

    # When a participant is deleted and the group is sent a message
    letta.agents.delete(velma.id)
    body = api_error(lambda: letta.groups.messages.create(group.id, messages=say("anyone there?")), 404)

    # Then the send is a 404 naming the missing agent, and nothing ran or was written
    assert set(body) == {"detail"} and velma.id in body["detail"]
    assert _transcript(letta, group.id) == before
    # And the group still lists the deleted id among its participants
    assert letta.groups.retrieve(group.id).agent_ids == [fred.id, velma.id]


# 5. §3.5 / §3.8: client inputs in the transcript


def test_inputs_keep_text_parts_name_otid_sender_and_system_role(letta: Letta, made: Tracker):
    # Given a one-agent group
    group = made.group([a.id for a in made.personas(["fred"])], description="inputs")
    otid = str(uuid.uuid4())

    # When the user sends a text-part list with name, otid and sender_id, followed by a system input
    response = letta.groups.messages.create(
        group.id,
        messages=[
            MessageCreate(role="user", content=[TextContent(text="hello from bob")], name="bob", otid=otid, sender_id="sender-1"),
            MessageCreate(role="system", content="the user is in a hurry"),
        ],
    )

    # Then neither input is echoed
    assert [m.message_type for m in response.messages] == ["reasoning_message", "assistant_message"]
    # And the transcript starts with the user message, its text unpacked and its name/otid/sender_id as sent
    listed = letta.groups.messages.list(group.id, limit=50)
    assert [m.message_type for m in listed] == ["user_message", "system_message", "reasoning_message", "assistant_message"]
    user, system = listed[0], listed[1]
    assert (user.content, user.name, user.otid, user.sender_id) == ("hello from bob", "bob", otid, "sender-1")
    # And the system message is listed with its stored content: the system_alert envelope, as is
    envelope = json.loads(system.content)
    assert list(envelope) == ["type", "message", "time"]
    assert (envelope["type"], envelope["message"]) == ("system_alert", "the user is in a hurry")
    assert system.content.startswith('{"type": "system_alert", "message": "the user is in a hurry", "time": "')
    assert (system.name, system.sender_id) == (None, None)


# 6. §3.6 / §6: use_assistant_message=False


def _assert_send_message_as_tool(messages: list[Any], names: list[str]) -> None:
    assert [m.message_type for m in messages] == ["reasoning_message", "tool_call_message", "tool_return_message"] * len(names)
    for i, name in enumerate(names):
        reasoning, call, result = messages[3 * i : 3 * i + 3]
        assert (reasoning.name, call.name) == (name, name)
        assert call.tool_call.name == "send_message"
        assert json.loads(call.tool_call.arguments)["message"]
        assert (result.name, result.status, result.tool_call_id) == ("send_message", "success", call.tool_call.tool_call_id)
        assert result.id != call.id


def test_use_assistant_message_false_shows_send_message_call_and_return(letta: Letta, made: Tracker):
    # Given a two-agent round robin group
    agents = made.personas(["fred", "velma"])
    group = made.group([a.id for a in agents], description="raw tools")
    names = [a.name for a in agents]

    # When the non-streaming send asks for use_assistant_message=False
    response = letta.groups.messages.create(group.id, messages=say("hi"), use_assistant_message=False)
    # Then each speaker's send_message is a tool call followed by its tool return, and no assistant message
    _assert_send_message_as_tool(response.messages, names)

    # When the stream route is asked the same through the SDK
    chunks = list(letta.groups.messages.create_stream(group.id, messages=say("again"), use_assistant_message=False))
    # Then the streamed messages have the same shape, followed by exactly one usage event
    assert chunks[-1].message_type == "usage_statistics" and chunks[-1].step_count == 2
    _assert_send_message_as_tool(chunks[:-1], names)


# 7. MA-5c


def test_supervisor_tool_rules_not_persisted_ma_5c(letta: Letta, made: Tracker):
    # Given a supervisor group and the supervisor's stored tool rules
    workers = made.personas(["fred", "velma"])
    (boss,) = made.personas(["shaggy"])
    group = made.group([w.id for w in workers], manager_config=SupervisorManager(manager_agent_id=boss.id))
    rules_before = [r.model_dump() for r in letta.agents.retrieve(boss.id).tool_rules or []]

    # When the supervisor runs (broadcasts, then answers)
    response = letta.groups.messages.create(group.id, messages=say("ask everyone what they like to do for fun"))
    assert response.messages[1].tool_call.name == "send_message_to_all_agents_in_group"

    # Then the supervisor's stored tool rules are exactly what they were
    assert [r.model_dump() for r in letta.agents.retrieve(boss.id).tool_rules or []] == rules_before


# 8. §7.6a: one run at a time per group


def test_second_send_while_running_is_409_on_every_route(letta: Letta, made: Tracker, http: httpx.Client):
    # Given a group of two slow agents (each model call takes 1.5 s)
    slow = made.personas(["sloth", "snail"], llm_config=offline_llm("delay_ms=1500"))
    group = made.group([a.id for a in slow], description="busy")
    # And a synchronous SDK send running in a thread
    outcome: dict[str, Any] = {}

    def first_send() -> None:
        try:
            outcome["response"] = letta.groups.messages.create(group.id, messages=say("first"))
        except Exception as exc:  # reported by the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=first_send)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not letta.groups.messages.list(group.id):  # the run has written its input: it holds the group
            assert time.monotonic() < deadline, "the first run never started"
            time.sleep(0.05)

        # When a second send arrives on each route while the first runs
        answers = {
            route: http.post(f"/v1/groups/{group.id}{route}", json={"messages": [{"role": "user", "content": "second"}]})
            for route in ("/messages", "/messages/async", "/messages/stream")
        }
    finally:
        worker.join(30)

    # Then each is refused with 409 and the contract's JSON body (no SSE on the stream route)
    for route, answer in answers.items():
        assert_error(answer, 409)
        assert answer.json() == {"detail": f"Group {group.id} is already running a conversation"}, route
    # And the first send finished normally, and the refused sends wrote nothing
    assert "error" not in outcome, outcome.get("error")
    assert outcome["response"].usage.step_count == 2
    listed = letta.groups.messages.list(group.id, limit=50)
    assert [m.message_type for m in listed] == ["user_message"] + ["reasoning_message", "assistant_message"] * 2
    assert listed[0].content == "first"


# 9. §2.3 / §4.7: in-run failure on the sync send


def test_non_retryable_model_failure_is_a_424_naming_the_run_and_keeps_completed_steps(letta: Letta, made: Tracker):
    # Given a round robin group whose second speaker's model refuses every call (400, not retryable)
    (good,) = made.personas(["fred"])
    (bad,) = made.personas(["broken"], llm_config=offline_llm("fail=bad_request"))
    group = made.group([good.id, bad.id], description="fails mid-run")

    # When the user sends a message
    body = api_error(lambda: letta.groups.messages.create(group.id, messages=say("boom")), 424)

    # Then the answer names the failed run and the model's error, with no partial response
    assert re.fullmatch(r"Run run-[0-9a-f-]{36} failed: offline model: injected bad_request fault.*", body["detail"]), body
    # And the transcript keeps the input and the first speaker's completed step, nothing from the failed one
    listed = letta.groups.messages.list(group.id, limit=50)
    assert [(m.message_type, m.name) for m in listed] == [
        ("user_message", None),
        ("reasoning_message", good.name),
        ("assistant_message", good.name),
    ]
    assert listed[0].content == "boom"


# 10. VO-4 / §3.3 buffer rules on create


@pytest.mark.parametrize(
    ("bounds", "detail"),
    [
        ({"max_message_buffer_length": 4, "min_message_buffer_length": 3}, "greater than 4"),
        ({"max_message_buffer_length": 5, "min_message_buffer_length": 6}, "must be greater than 'min_message_buffer_length'"),
        ({"max_message_buffer_length": 10}, "must be provided together"),
    ],
    ids=["B2", "B3", "B1"],
)
def test_voice_buffer_rules_on_create(letta: Letta, made: Tracker, bounds: dict[str, int], detail: str):
    # Given a voice agent and a participant
    voice, sleeper = made.personas(["voice", "sleeper"])
    description = unique("buffers")

    # When a voice_sleeptime group is created with buffer bounds that break a rule
    body = api_error(
        lambda: letta.groups.create(
            agent_ids=[sleeper.id],
            description=description,
            manager_config=VoiceSleeptimeManager(manager_agent_id=voice.id, **bounds),
        ),
        400,
    )

    # Then it is a 400 naming the rule, and no group was created
    assert set(body) == {"detail"} and detail in body["detail"], body
    assert _groups_described(letta, description) == []


# 11. §4.11: reset keeps the sleeptime state


def _sleeptime_main(letta: Letta, made: Tracker) -> tuple[Any, str]:
    main = made.agent(
        unique("main"),
        memory_blocks=[CreateBlock(label="persona", value="I am helpful."), CreateBlock(label="human", value="")],
        enable_sleeptime=True,
    )
    group_id = main.multi_agent_group.id
    made.groups.append(group_id)
    made.agents.extend(letta.groups.retrieve(group_id).agent_ids)
    return main, group_id


def test_reset_on_sleeptime_group_keeps_turns_counter_and_last_processed(letta: Letta, made: Tracker):
    # Given a sleeptime group whose first turn started a background pass (turn counter and last processed id set)
    _, group_id = _sleeptime_main(letta, made)
    response = letta.groups.messages.create(group_id, messages=say("remember that I like tea"))
    assert len(response.usage.run_ids or []) == 1
    assert wait_for_run_sdk(letta, response.usage.run_ids[0]).status == "completed"
    before = letta.groups.retrieve(group_id)
    assert before.turns_counter == 0 and before.last_processed_message_id.startswith("message-")

    # When its transcript is reset
    assert letta.groups.messages.reset(group_id) is None

    # Then the transcript is empty and the group, turns_counter and last_processed_message_id included, is unchanged
    assert letta.groups.messages.list(group_id) == []
    after = letta.groups.retrieve(group_id)
    assert (after.turns_counter, after.last_processed_message_id) == (before.turns_counter, before.last_processed_message_id)
    assert after.model_dump() == before.model_dump()


# 12. §4.6: deleting a sleeptime group


def test_deleting_sleeptime_group_leaves_a_plain_agent(letta: Letta, made: Tracker, http: httpx.Client):
    # Given a sleeptime group that ran once through the async route
    main, group_id = _sleeptime_main(letta, made)
    run = http.post(f"/v1/groups/{group_id}/messages/async", json={"messages": [{"role": "user", "content": "I like tea"}]})
    assert run.status_code == 200, run.text
    run_id = run.json()["id"]
    assert wait_for_run_sdk(letta, run_id).status == "completed"
    run_messages = [m.model_dump() for m in letta.runs.messages.list(run_id)]
    assert [m["message_type"] for m in run_messages] == ["reasoning_message", "assistant_message"]

    # When the group is deleted
    assert letta.groups.delete(group_id) == {"message": f"Group id={group_id} successfully deleted"}

    # Then the former manager keeps enable_sleeptime, manages nothing, and its messages are still listed with its run
    former = letta.agents.retrieve(main.id)
    assert former.enable_sleeptime is True
    assert former.multi_agent_group is None
    assert [m.model_dump() for m in letta.runs.messages.list(run_id)] == run_messages
    # And it takes part in a new round robin group as a plain agent (no background passes)
    (other,) = made.personas(["velma"])
    group = made.group([main.id, other.id], description="after sleeptime")
    response = letta.groups.messages.create(group.id, messages=say("hello both"))
    assert [(m.message_type, m.name) for m in response.messages] == [
        (t, n) for n in (main.name, other.name) for t in ("reasoning_message", "assistant_message")
    ]
    assert response.usage.step_count == 2 and not response.usage.run_ids


# 13. §4.7 voice_sleeptime participants; O-13 empty messages


def test_voice_sleeptime_group_with_two_participants_cannot_send(letta: Letta, made: Tracker):
    # Given a voice_sleeptime group created with two participants
    voice, first, second = made.personas(["voice", "sleeper-a", "sleeper-b"])
    group = made.group([first.id, second.id], manager_config=VoiceSleeptimeManager(manager_agent_id=voice.id))
    assert (group.manager_type, group.agent_ids) == ("voice_sleeptime", [first.id, second.id])

    # When the group is sent a message
    body = api_error(lambda: letta.groups.messages.create(group.id, messages=say("hello")), 400)

    # Then it is refused before running, and nothing is written
    assert set(body) == {"detail"} and body["detail"], body
    assert letta.groups.messages.list(group.id, limit=50) == []


def test_send_with_no_messages_still_steps_every_agent_o_13(letta: Letta, made: Tracker):
    # Given a two-agent round robin group
    agents = made.personas(["fred", "velma"])
    group = made.group([a.id for a in agents], description="no input")

    # When the send carries messages=[]
    response = letta.groups.messages.create(group.id, messages=[])

    # Then it is accepted and each agent steps once
    assert response.usage.step_count == 2
    assert [(m.message_type, m.name) for m in response.messages] == [
        (t, a.name) for a in agents for t in ("reasoning_message", "assistant_message")
    ]
    # And the transcript holds the replies and no input
    listed = letta.groups.messages.list(group.id, limit=50)
    assert [m.id for m in listed] == [m.id for m in response.messages]


# 14. §4.4: the order of create checks


@pytest.mark.parametrize(
    ("agent_ids", "manager_config", "detail"),
    [
        (
            ["agent-nope-1", "agent-nope-1"],
            {"manager_type": "dynamic", "manager_agent_id": "agent-nope-2"},
            "Duplicate agent ids",
        ),
        (["agent-nope-1"], {"manager_type": "swarm", "initial_agent_id": "EXISTING"}, "is not one of the group's agent_ids"),
        (
            ["agent-nope-1"],
            {
                "manager_type": "voice_sleeptime",
                "manager_agent_id": "agent-nope-2",
                "max_message_buffer_length": 5,
                "min_message_buffer_length": 6,
            },
            "must be greater than 'min_message_buffer_length'",
        ),
    ],
    ids=["dynamic-duplicates", "swarm", "voice-buffers"],
)
def test_rule_checks_come_before_existence_checks(
    letta: Letta, made: Tracker, agent_ids: list[str], manager_config: dict[str, Any], detail: str
):
    # Given ids that name no agent, in a body that also breaks a rule checked earlier (a swarm's initial agent
    # that exists but is not a participant)
    description = unique("order")
    if manager_config.get("initial_agent_id") == "EXISTING":
        manager_config = {**manager_config, "initial_agent_id": made.personas(["scooby"])[0].id}

    # When the group is created
    body = api_error(
        lambda: letta.groups.create(agent_ids=agent_ids, description=description, manager_config=manager_config), 400
    )

    # Then the rule's 400 wins over the agents' 404, and nothing is written
    assert set(body) == {"detail"} and detail in body["detail"], body
    assert "Items not found" not in body["detail"]
    assert _groups_described(letta, description) == []


# 15. §3.3 null manager on modify; §2.5 unknown keys


def test_supervisor_update_with_null_manager_changes_nothing(letta: Letta, made: Tracker):
    # Given a supervisor group
    workers = made.personas(["fred", "velma"])
    (boss,) = made.personas(["scooby"])
    group = made.group([w.id for w in workers], manager_config=SupervisorManager(manager_agent_id=boss.id))
    before = letta.groups.retrieve(group.id).model_dump()

    # When it is modified with SupervisorManagerUpdate(manager_agent_id=None)
    modified = letta.groups.modify(group.id, manager_config=SupervisorManagerUpdate(manager_agent_id=None))

    # Then it is accepted and the group, in the answer and in storage, is unchanged
    assert modified.model_dump() == before
    assert letta.groups.retrieve(group.id).model_dump() == before
    assert before["manager_agent_id"] == boss.id


def test_unknown_body_keys_on_modify_and_send_are_ignored(letta: Letta, made: Tracker, http: httpx.Client):
    # Given a round robin group
    agents = made.personas(["fred"])
    group = made.group([a.id for a in agents], description="before")
    before = letta.groups.retrieve(group.id).model_dump()

    # When it is modified with an unknown key next to a known one
    modified = letta.groups.modify(
        group.id, description="after", request_options={"additional_body_parameters": {"colour": "blue"}}
    )
    # Then it is accepted: the known key is applied, nothing else changes, and the unknown key is not echoed
    assert modified.model_dump() == {**before, "description": "after"}

    # When a send carries unknown keys at the top level and inside a message
    answer = http.post(
        f"/v1/groups/{group.id}/messages",
        json={"messages": [{"role": "user", "content": "hello", "mood": "happy"}], "temperature": 3, "max_steps": 1},
    )
    # Then it is accepted and runs as usual
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert set(payload) == {"messages", "usage", "stop_reason"}
    assert [m["message_type"] for m in payload["messages"]] == ["reasoning_message", "assistant_message"]
    assert payload["usage"]["step_count"] == 1
    listed = http.get(f"/v1/groups/{group.id}/messages", params={"limit": 50}).json()
    assert listed[0]["message_type"] == "user_message" and "mood" not in listed[0]


# 16. §12a: run messages filters


def test_run_messages_filters(letta: Letta, made: Tracker, http: httpx.Client):
    # Given a completed async run of a three-agent round robin group, send_message shown as a tool
    group = made.group([a.id for a in made.personas(["fred", "velma", "daphne"])], description="run filters")
    started = http.post(
        f"/v1/groups/{group.id}/messages/async",
        json={"messages": [{"role": "user", "content": "hi"}], "use_assistant_message": False},
    )
    assert started.status_code == 200, started.text
    run_id = started.json()["id"]
    assert wait_for_run_sdk(letta, run_id).status == "completed"
    full = [(m.id, m.message_type) for m in letta.runs.messages.list(run_id)]
    assert [t for _, t in full] == ["reasoning_message", "tool_call_message", "tool_return_message"] * 3
    ids = list(dict.fromkeys(i for i, _ in full))  # the stored messages, in order: assistant, tool, assistant, ...
    assert len(ids) == 6

    def listed(**query: Any) -> list[tuple[str, str]]:
        return [(m.id, m.message_type) for m in letta.runs.messages.list(run_id, **query)]

    # When the run's messages are listed with each filter, then each answers the matching slice of the full list
    assert listed(after=ids[1]) == [m for m in full if m[0] > ids[1]]
    assert listed(before=ids[3]) == [m for m in full if m[0] < ids[3]]
    assert listed(after=ids[0], before=ids[4]) == [m for m in full if ids[0] < m[0] < ids[4]]
    assert listed(limit=2) == [m for m in full if m[0] in ids[:2]]  # limit counts stored messages
    assert listed(role="tool") == [m for m in full if m[1] == "tool_return_message"]
    assert listed(role="assistant", limit=2) == [m for m in full if m[0] in (ids[0], ids[2])]
    assert listed(role="assistant", after=ids[2]) == [m for m in full if m[0] == ids[4]]
    assert listed(role="user") == []
    assert listed(after=ids[-1]) == []
