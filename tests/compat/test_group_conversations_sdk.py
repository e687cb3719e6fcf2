"""letta-client 0.1.138 holds a conversation with a group of each manager type against the local
server: groups.messages.create / list / modify / reset, runs, and the acceptance checklist's
multi-agent cases (contract §11.1, §11.3, §11.5)."""

from __future__ import annotations

import ast
import time

import pytest
from letta_client import (
    CreateBlock,
    DynamicManager,
    Letta,
    SleeptimeManagerUpdate,
    SupervisorManager,
    UpdateAssistantMessage,
)

from support.runs import wait_for_run_sdk
from support.sdk import say
from support.trackers import Tracker

pytestmark = pytest.mark.compat
NAMES = ["fred", "velma", "daphne", "shaggy"]


def test_round_robin_conversation_create_list_modify_reset(letta: Letta, made: Tracker):
    # Given four agents in a round robin group
    agents = [a.id for a in made.personas(NAMES)]
    group = made.group(agents, description="holiday chat")
    # When the user sends one message (MA-4b)
    response = letta.groups.messages.create(group.id, messages=say("what is everyone up to for the holidays?"))
    # Then each agent answers once, in order: reasoning then assistant, named after the speaker
    assert response.usage.step_count == 4
    assert [m.message_type for m in response.messages] == ["reasoning_message", "assistant_message"] * 4
    names = [letta.agents.retrieve(a).name for a in agents]
    assert [m.name for m in response.messages] == [n for n in names for _ in range(2)]
    # And the transcript holds the input once, then each speaker's parts, each once (MA-4c)
    listed = letta.groups.messages.list(group.id, limit=50)
    assert [m.message_type for m in listed] == ["user_message"] + ["reasoning_message", "assistant_message"] * 4
    assert listed[0].content == "what is everyone up to for the holidays?"
    # When it is listed without assistant messages (§4.10's query parameters), Then each reply is its send_message
    # call and that call's return
    raw = letta.groups.messages.list(group.id, limit=50, use_assistant_message=False)
    parts = ["reasoning_message", "tool_call_message", "tool_return_message"]
    assert [m.message_type for m in raw] == ["user_message"] + parts * 4
    assert {m.tool_call.name for m in raw if m.message_type == "tool_call_message"} == {"send_message"}
    assert [m.id for m in raw if m.message_type != "tool_return_message"] == [m.id for m in listed]
    # When it is listed naming another tool as the assistant's, Then no call is presented as an assistant message
    other = letta.groups.messages.list(group.id, limit=50, assistant_message_tool_name="some_other_tool")
    assert "assistant_message" not in {m.message_type for m in other}
    # When an assistant message is edited the way the SDK sends it (no message_type on the wire, X-25)
    target = next(m for m in listed if m.message_type == "assistant_message")
    edited = letta.groups.messages.modify(group.id, target.id, request=UpdateAssistantMessage(content="edited reply"))
    # Then the edit is answered and listed
    assert edited.message_type == "assistant_message" and edited.content == "edited reply"
    assert any(
        m.id == target.id and getattr(m, "content", None) == "edited reply"
        for m in letta.groups.messages.list(group.id, limit=50)
    )
    # When the transcript is reset
    assert letta.groups.messages.reset(group.id) is None
    # Then it is empty, and a fresh send works again with max_turns from a modify (MA-4d/4e)
    assert letta.groups.messages.list(group.id) == []
    letta.groups.modify(
        group.id, agent_ids=list(reversed(agents)), manager_config={"manager_type": "round_robin", "max_turns": 3}
    )
    again = letta.groups.messages.create(group.id, messages=say("and after that?"))
    assert again.usage.step_count == 3
    assert [m.name for m in again.messages][::2] == list(reversed(names))[:3]


def test_supervisor_conversation(letta: Letta, made: Tracker):
    # Given a supervisor and four workers (MA-5)
    workers = [a.id for a in made.personas(NAMES)]
    supervisor = made.personas(["scooby"])[0].id
    group = made.group(workers, manager_config=SupervisorManager(manager_agent_id=supervisor))
    # When the user asks the supervisor to consult everyone
    response = letta.groups.messages.create(group.id, messages=say("ask everyone what they like to do for fun"))
    # Then the supervisor broadcasts, gets a list of four replies back, and answers
    types = [m.message_type for m in response.messages]
    assert types == ["reasoning_message", "tool_call_message", "tool_return_message", "reasoning_message", "assistant_message"]
    assert response.messages[1].tool_call.name == "send_message_to_all_agents_in_group"
    results = ast.literal_eval(response.messages[2].tool_return)
    assert isinstance(results, list) and len(results) == 4
    for worker, result in zip(workers, results):
        assert isinstance(result, str) and result.startswith(f"{worker} said: "), (worker, result)
    assert response.usage.step_count == 2
    # And the final reply is in the transcript
    assert response.messages[4].id in {m.id for m in letta.groups.messages.list(group.id, limit=100)}


def test_dynamic_conversation(letta: Letta, made: Tracker):
    # Given a dynamic group of four participants and a manager (MA-6c)
    agents = [a.id for a in made.personas(NAMES)]
    manager = made.personas(["scooby"])[0].id
    group = made.group(agents, manager_config=DynamicManager(manager_agent_id=manager))
    assert letta.groups.retrieve(group.id).termination_token == "DONE!"
    # When the user sends a message
    response = letta.groups.messages.create(group.id, messages=say("who wants to solve the mystery?"))
    # Then the manager and a participant step each turn, four turns
    assert response.usage.step_count == 8
    assert len(response.messages) == 16


def test_sleeptime_conversation_through_the_sdk(letta: Letta, made: Tracker):
    # Given an agent created with enable_sleeptime, whose group's frequency is set to 2 (SL-1, SL-2)
    main = made.agent(
        f"main-{time.monotonic_ns()}",
        memory_blocks=[CreateBlock(label="persona", value="I am helpful."), CreateBlock(label="human", value="")],
        enable_sleeptime=True,
    )
    group_id = main.multi_agent_group.id
    made.groups.append(group_id)
    group = letta.groups.modify(group_id, manager_config=SleeptimeManagerUpdate(sleeptime_agent_frequency=2))
    assert group.manager_type == "sleeptime" and group.sleeptime_agent_frequency == 2 and len(group.agent_ids) == 1
    made.agents.append(group.agent_ids[0])
    # When six messages are sent to the group (SL-5)
    run_ids: list[str] = []
    for i in range(6):
        response = letta.groups.messages.create(group_id, messages=say(f"remember fact number {i}"))
        # Then every reply is non-empty and a background run starts on turns 1, 3 and 5
        assert response.messages
        assert len(response.usage.run_ids or []) == (i + 1) % 2
        run_ids += response.usage.run_ids or []
    # And the background runs finish (SL-6)
    assert [wait_for_run_sdk(letta, r).status for r in run_ids] == ["completed"] * 3
    # When the main agent is deleted (SL-7), then its group and sleeptime agent are gone
    letta.agents.delete(main.id)
    made.agents.remove(main.id)
    with pytest.raises(Exception) as missing:
        letta.groups.retrieve(group_id)
    assert getattr(missing.value, "status_code", None) == 404


def test_async_send_and_runs_resource(letta: Letta, made: Tracker, http):
    # Given a two-agent round robin group
    group = made.group([a.id for a in made.personas(["fred", "velma"])], description="async")
    # When a message is sent asynchronously (no SDK method: raw HTTP, contract §12a)
    run = http.post(f"/v1/groups/{group.id}/messages/async", json={"messages": [{"role": "user", "content": "hi"}]}).json()
    assert run["id"].startswith("run-") and run["status"] in ("created", "running")
    finished = wait_for_run_sdk(letta, run["id"])
    # Then the SDK's runs resource reports it: completed, with usage and messages like a sync send's
    assert finished.status == "completed"
    assert finished.metadata["stop_reason"] and finished.metadata["usage"]["step_count"] == 2
    assert letta.runs.usage.retrieve(run["id"]).total_tokens > 0
    messages = letta.runs.messages.list(run["id"])
    assert [m.message_type for m in messages] == ["reasoning_message", "assistant_message"] * 2
