"""The message, run, OpenAPI and group-run task handlers, invoked with their sample events from events/.

Sends run a real group run: the group-run state machine of template.yaml runs in moto with its task
Lambda in this process (the `workflows` fixture) and the built-in offline model answers. Each test
acts in a fresh organization through the authorizer context, as test_handlers_with_events.py does,
substituting the ids it created for the placeholders of the sample events.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest

from lettagroups.dal import messages as messages_dal
from lettagroups.dal import runs as runs_dal
from lettagroups.logic import groups as groups_logic
from lettagroups.models.groups import GroupCreate
from lettagroups.models.identity import Actor
from lettagroups.orchestration.failure import RunFailure
from lettagroups.orchestration.state import RunState
from lettagroups_local.handlers import LocalContext, load_handler
from lettagroups_local.template import ROOT, functions, http_routes

from support.builders import make_agent
from support.events import (
    DEFAULT_ORG,
    DEFAULT_USER,
    GROUP_PH,
    MESSAGE_PH,
    RUN_PH,
    invoke,
    load_event,
    substitute,
    with_body,
    with_query,
)
from support.runs import group_runs
from support.shapes import assert_fastapi_422

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

GROUP_EVENTS = ["send-group-message", "send-group-message-async", "list-group-messages", "reset-group-messages"]
RUN_EVENTS = ["retrieve-run", "list-run-messages", "retrieve-run-usage"]
SPOKEN = ["reasoning_message", "assistant_message"]


@pytest.fixture
def group_actor(workflows: dict[str, str], actor: Actor, monkeypatch: pytest.MonkeyPatch) -> Actor:
    """A fresh organization whose sends run through the deployed state machine with the offline model."""
    monkeypatch.setenv("LETTA_MODEL_MODE", "offline")
    return actor


# --- helpers ---------------------------------------------------------------------------------


def make_round_robin(actor: Actor, names: tuple[str, ...] = ("fred", "velma")) -> str:
    agent_ids = [make_agent(actor, n) for n in names]
    return groups_logic.create_group(actor, GroupCreate(agent_ids=agent_ids, description="Mystery Inc.")).id


def group_event(name: str, group_id: str, message_id: str = MESSAGE_PH) -> dict[str, Any]:
    return substitute(load_event(name), {GROUP_PH: group_id, MESSAGE_PH: message_id})


def run_event(name: str, run_id: str) -> dict[str, Any]:
    return substitute(load_event(name), {RUN_PH: run_id})


def group_run_ids(actor: Actor, group_id: str) -> list[str]:
    """The group's send runs, oldest first."""
    return [r.id for r in group_runs(actor, group_id)]


def send(actor: Actor, group_id: str) -> tuple[dict[str, Any], str]:
    """The send-group-message event for `group_id`: its LettaResponse and the id of the run it made."""
    before = set(group_run_ids(actor, group_id))
    status, body = invoke(group_event("send-group-message", group_id), actor)
    assert status == 200, body
    (run_id,) = set(group_run_ids(actor, group_id)) - before
    return body, run_id


def transcript(actor: Actor, group_id: str, **query: str) -> list[dict[str, Any]]:
    status, body = invoke(with_query(group_event("list-group-messages", group_id), {"limit": "100", **query}), actor)
    assert status == 200, body
    return body


def wait_until_finished(actor: Actor, run_id: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, run = invoke(run_event("retrieve-run", run_id), actor)
        assert status == 200, run
        if run["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


# --- sending ----------------------------------------------------------------------------------


def test_send_group_message_runs_the_round(group_actor: Actor):
    # Given fred and velma in a round robin group
    actor = group_actor
    group_id = make_round_robin(actor)
    # When the send-group-message event is invoked for it
    body, run_id = send(actor, group_id)
    # Then a LettaResponse holds each agent's reasoning and reply, in turn order, without the input, and (later Letta's
    # addition) why it stopped
    assert list(body) == ["messages", "usage", "stop_reason"]
    assert body["stop_reason"] == {"message_type": "stop_reason", "stop_reason": "max_steps"}
    assert [m["message_type"] for m in body["messages"]] == SPOKEN * 2
    assert [m["name"] for m in body["messages"]] == ["fred", "fred", "velma", "velma"]
    assert all(m["content"] for m in body["messages"] if m["message_type"] == "assistant_message")
    # And the messages are live ones: no sender or step ids, dates in UTC to the second (contract §2.5, §3.8)
    assert all(m["sender_id"] is None and m["step_id"] is None for m in body["messages"])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", m["date"]) for m in body["messages"])
    # And usage counts one step per agent turn, with tokens that add up
    usage = body["usage"]
    assert usage["message_type"] == "usage_statistics"
    assert (usage["steps_messages"], usage["run_ids"]) == (None, None)
    assert usage["step_count"] == 2
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # And the run it made is completed and free of the group lock: a second send runs at once
    status, run = invoke(run_event("retrieve-run", run_id), actor)
    assert status == 200
    assert run["status"] == "completed"
    assert run["metadata"]["group_id"] == group_id
    assert run["metadata"]["stop_reason"] == "max_turns"
    again, second_run = send(actor, group_id)
    assert [m["message_type"] for m in again["messages"]] == SPOKEN * 2
    assert second_run != run_id


def test_run_messages_and_usage_equal_the_sync_response(group_actor: Actor):
    # Given a completed sync send
    actor = group_actor
    group_id = make_round_robin(actor)
    body, run_id = send(actor, group_id)
    # When the list-run-messages event (limit=50, order=asc) is invoked for its run
    status, messages = invoke(run_event("list-run-messages", run_id), actor)
    # Then it returns exactly the messages the sync send returned (contract §12a)
    assert status == 200
    assert messages == body["messages"]
    # And in descending order the stored messages come newest first
    status, newest_first = invoke(with_query(run_event("list-run-messages", run_id), {"order": "desc"}), actor)
    assert status == 200
    assert [m["id"] for m in newest_first] == [m["id"] for m in reversed(messages)]
    # And the retrieve-run-usage event gives the same tokens as the response's usage
    status, usage = invoke(run_event("retrieve-run-usage", run_id), actor)
    assert status == 200
    assert usage == {k: body["usage"][k] for k in ("completion_tokens", "prompt_tokens", "total_tokens")}


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_run_messages_page_by_page_in_either_order_give_every_message_once(group_actor: Actor, order: str):
    # Given a completed send whose run also stored hidden messages (each agent's send_message tool return)
    actor = group_actor
    group_id = make_round_robin(actor)
    body, run_id = send(actor, group_id)
    expected = body["messages"] if order == "asc" else list(reversed(body["messages"]))
    # When its messages are paged one stored message at a time, as letta-client 1.x auto-paginates: after=<last item>
    # until a page comes back empty
    pages: list[list[dict[str, Any]]] = []
    query = {"limit": "1", "order": order}
    while True:
        status, page = invoke(with_query(run_event("list-run-messages", run_id), query), actor)
        assert status == 200, page
        if not page:
            break
        pages.append(page)
        query = {**query, "after": page[-1]["id"]}
    # Then every page holds one shown message (hidden ones neither count nor end the paging early), and together
    # they are the response's messages in that order, each once
    assert [len({m["id"] for m in page}) for page in pages] == [1, 1]
    assert sorted((m["id"], m["message_type"]) for page in pages for m in page) == sorted(
        (m["id"], m["message_type"]) for m in expected
    )
    assert [m["id"] for page in pages for m in page] == [m["id"] for m in expected]


def test_send_group_message_async_returns_the_run_then_completes(group_actor: Actor):
    # Given fred and velma in a round robin group
    actor = group_actor
    group_id = make_round_robin(actor)
    # When the send-group-message-async event is invoked
    status, run = invoke(group_event("send-group-message-async", group_id), actor)
    # Then a Run comes back at once, not yet finished
    assert status == 200, run
    assert run["id"].startswith("run-")
    assert run["status"] in ("created", "running")
    assert run["job_type"] == "run"
    assert run["metadata"]["group_id"] == group_id
    assert run["created_by_id"] == actor.user_id
    assert run["completed_at"] is None
    # And the retrieve-run event later shows it completed, with its usage
    finished = wait_until_finished(actor, run["id"])
    assert finished["status"] == "completed", finished
    assert finished["completed_at"] is not None
    assert finished["metadata"]["usage"]["step_count"] == 2
    # And its messages are the two turns, as a sync send would have returned them
    status, messages = invoke(run_event("list-run-messages", run["id"]), actor)
    assert status == 200
    assert [m["message_type"] for m in messages] == SPOKEN * 2
    assert [m["name"] for m in messages] == ["fred", "fred", "velma", "velma"]
    # And the transcript holds the async input once, then the replies
    listed = transcript(actor, group_id)
    assert [m["message_type"] for m in listed] == ["user_message", *SPOKEN * 2]
    assert listed[0]["content"] == "Split up, gang: who searches the lighthouse?"


# --- the transcript -----------------------------------------------------------------------------


def test_list_group_messages_with_limit_and_cursors(group_actor: Actor):
    # Given a group that ran three times (three inputs, six replies and their six hidden send_message tool
    # returns: 15 stored messages)
    actor = group_actor
    group_id = make_round_robin(actor)
    send(actor, group_id)
    send(actor, group_id)
    send(actor, group_id)
    everything = transcript(actor, group_id)
    assert [m["message_type"] for m in everything] == (["user_message", *SPOKEN * 2]) * 3
    inputs = [m for m in everything if m["message_type"] == "user_message"]
    assert [m["content"] for m in inputs] == ["Where did the Mystery Machine go?"] * 3
    stored = messages_dal.list_messages(actor.organization_id, group_id)
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant", "tool"] * 3
    # When the list-group-messages event is invoked without query parameters (the handler's default limit)
    status, page = invoke(with_query(group_event("list-group-messages", group_id), {}), actor)
    # Then it returns the newest 10 stored messages, oldest first: the second and third rounds, each stored
    # message shown as its LettaMessages (a user input as one, a reply as its reasoning and assistant message,
    # a send_message tool return not at all)
    assert status == 200
    newest = list(reversed(messages_dal.list_messages(actor.organization_id, group_id, limit=10, descending=True)))
    assert [m.id for m in newest] == [m.id for m in stored[-10:]]
    shown_as = {"user": ["user_message"], "assistant": SPOKEN, "tool": []}
    expected = [(m.id, kind) for m in newest for kind in shown_as[m.role]]
    assert [(m["id"], m["message_type"]) for m in page] == expected
    assert page == everything[5:]
    # And after the first input, limit=1 is the one stored message after it: fred's reasoning and reply
    after_first = transcript(actor, group_id, after=inputs[0]["id"], limit="1")
    assert [(m["message_type"], m["name"]) for m in after_first] == [("reasoning_message", "fred"), ("assistant_message", "fred")]
    assert after_first == everything[1:3]
    # And before the second input, limit counts stored messages (contract §4.10): the newest one is velma's
    # send_message tool return, which the listing drops, so limit=1 shows nothing and limit=2 shows her reply
    assert transcript(actor, group_id, before=inputs[1]["id"], limit="1") == []
    before_second = transcript(actor, group_id, before=inputs[1]["id"], limit="2")
    assert [(m["message_type"], m["name"]) for m in before_second] == [
        ("reasoning_message", "velma"),
        ("assistant_message", "velma"),
    ]
    assert before_second == everything[3:5]
    # And both cursors bound the window: strictly between the two inputs lies the first round's replies
    between = transcript(actor, group_id, after=inputs[0]["id"], before=inputs[1]["id"])
    assert between == everything[1:5]
    # And limit=0 is an empty page
    assert transcript(actor, group_id, limit="0") == []
    # And without use_assistant_message the send_message calls and their returns show as tool messages
    raw = transcript(actor, group_id, use_assistant_message="false")
    assert [m["message_type"] for m in raw] == (
        ["user_message", *["reasoning_message", "tool_call_message", "tool_return_message"] * 2]
    ) * 3
    assert {m["tool_call"]["name"] for m in raw if m["message_type"] == "tool_call_message"} == {"send_message"}
    # And listed replies carry the step that produced them
    assert all(m["step_id"].startswith("step-") for m in everything if m["message_type"] in SPOKEN)


def test_list_group_messages_cursor_errors(group_actor: Actor):
    # Given a group with a transcript
    actor = group_actor
    group_id = make_round_robin(actor)
    send(actor, group_id)
    listed = transcript(actor, group_id)
    first, last = listed[0]["id"], listed[-1]["id"]
    # When a cursor names no message of this group
    status, body = invoke(with_query(group_event("list-group-messages", group_id), {"after": MESSAGE_PH}), actor)
    # Then 404 with the contract's text
    assert status == 404
    assert body == {"detail": f"No message found with id '{MESSAGE_PH}'"}
    # And an inverted window is 400
    status, body = invoke(with_query(group_event("list-group-messages", group_id), {"after": last, "before": first}), actor)
    assert status == 400
    assert body == {"detail": "'before' reference must be later than 'after' reference"}
    # And a negative limit is a FastAPI-shaped 422 on the query parameter
    status, body = invoke(with_query(group_event("list-group-messages", group_id), {"limit": "-1"}), actor)
    assert status == 422
    assert_fastapi_422(body, ["query", "limit"], "greater_than_equal")


def test_modify_group_message_without_message_type(group_actor: Actor):
    # Given a group whose transcript holds fred's reply
    actor = group_actor
    group_id = make_round_robin(actor)
    send(actor, group_id)
    freds = [m for m in transcript(actor, group_id) if m["message_type"] == "assistant_message" and m["name"] == "fred"]
    message_id = freds[0]["id"]
    # When the modify-group-message event (body {"content": ...}, no message_type, as letta-client sends) names it
    status, body = invoke(group_event("modify-group-message", group_id, message_id), actor)
    # Then the assistant message comes back with the new content
    new_text = "Jinkies! The Mystery Machine is parked at the old mill."
    assert status == 200, body
    assert body["message_type"] == "assistant_message"
    assert body["id"] == message_id
    assert body["content"] == new_text
    # And later listings show the edit in place of the old reply
    edited = [m for m in transcript(actor, group_id) if m["id"] == message_id and m["message_type"] == "assistant_message"]
    assert [m["content"] for m in edited] == [new_text]
    assert freds[0]["content"] != new_text


def test_modify_group_message_errors(group_actor: Actor):
    # Given a group with a transcript
    actor = group_actor
    group_id = make_round_robin(actor)
    send(actor, group_id)
    user_message = transcript(actor, group_id)[0]
    assert user_message["message_type"] == "user_message"
    event = group_event("modify-group-message", group_id, user_message["id"])
    # When the message id is not in the group's transcript
    status, body = invoke(group_event("modify-group-message", group_id), actor)
    # Then 404
    assert status == 404
    assert body == {"detail": f"No message found with id '{MESSAGE_PH}'"}
    # And an assistant edit of a user message is a type mismatch, 400
    status, body = invoke(with_body(event, {"message_type": "assistant_message", "content": "x"}), actor)
    assert status == 400
    assert body == {"detail": "Message type got modified: assistant_message"}
    # And a message type outside the four updatable ones is 422 on the discriminator
    status, body = invoke(with_body(event, {"message_type": "tool_call_message", "content": "x"}), actor)
    assert status == 422
    assert_fastapi_422(body, ["body", "message_type"], "literal_error")
    # And a body with neither content nor reasoning is 422
    status, body = invoke(with_body(event, {}), actor)
    assert status == 422
    assert body["detail"][0]["loc"][0] == "body"
    # And the user message is unchanged
    assert transcript(actor, group_id)[0] == user_message


def test_reset_group_messages(group_actor: Actor):
    # Given a group with a transcript
    actor = group_actor
    group_id = make_round_robin(actor)
    send(actor, group_id)
    assert transcript(actor, group_id)
    status, before = invoke(group_event("retrieve-group", group_id), actor)
    assert status == 200
    # When the reset-group-messages event (no body) is invoked
    status, body = invoke(group_event("reset-group-messages", group_id), actor)
    # Then it answers JSON null, the transcript is empty and the group itself is unchanged
    assert (status, body) == (200, None)
    assert transcript(actor, group_id) == []
    assert invoke(group_event("retrieve-group", group_id), actor) == (200, before)
    # And the group runs again afterwards, on a clean transcript
    send(actor, group_id)
    assert [m["message_type"] for m in transcript(actor, group_id)] == ["user_message", *SPOKEN * 2]


# --- errors before anything runs ----------------------------------------------------------------


@pytest.mark.parametrize("name", GROUP_EVENTS)
def test_group_routes_of_an_unknown_group_are_404(group_actor: Actor, name: str):
    # When the placeholder group does not exist in the organization
    status, body = invoke(load_event(name), group_actor)
    # Then 404 with the contract's text, and no run was started
    assert status == 404
    assert body == {"detail": f"Group not found with id={GROUP_PH}"}
    assert group_run_ids(group_actor, GROUP_PH) == []


def test_modify_message_of_an_unknown_group_is_404(group_actor: Actor):
    # When the modify-group-message event names a group that does not exist (and a message it cannot hold)
    status, body = invoke(load_event("modify-group-message"), group_actor)
    # Then the group is reported missing first (contract §4.9, step 1)
    assert status == 404
    assert body == {"detail": f"Group not found with id={GROUP_PH}"}


def test_list_run_messages_rejects_an_unknown_order(group_actor: Actor):
    # When order is neither asc nor desc (checked before the run is looked up)
    status, body = invoke(with_query(load_event("list-run-messages"), {"order": "sideways"}), group_actor)
    # Then a FastAPI-shaped 422 on the query parameter
    assert status == 422
    assert_fastapi_422(body, ["query", "order"], "literal_error")


@pytest.mark.parametrize("name", RUN_EVENTS)
def test_run_routes_of_an_unknown_run_are_404(group_actor: Actor, name: str):
    # When the placeholder run does not exist
    status, body = invoke(load_event(name), group_actor)
    # Then 404 naming it
    assert status == 404
    assert body == {"detail": f"Run not found with id={RUN_PH}"}


def test_run_of_another_organization_is_404(group_actor: Actor):
    # Given a completed run in another organization
    other = Actor(user_id=f"user-{uuid.uuid4()}", organization_id=f"org-{uuid.uuid4()}")
    _, run_id = send(other, make_round_robin(other))
    for name in RUN_EVENTS:
        # When this organization asks for it
        status, body = invoke(run_event(name, run_id), group_actor)
        # Then it is not found
        assert (name, status, body) == (name, 404, {"detail": f"Run not found with id={run_id}"})


@pytest.mark.parametrize("name", ["send-group-message", "send-group-message-async"])
@pytest.mark.parametrize(
    ("payload", "loc", "type_"),
    [
        ({}, ["body", "messages"], "missing"),
        ({"messages": "hello"}, ["body", "messages"], "list_type"),
        ({"messages": [{"content": "hello"}]}, ["body", "messages", 0, "role"], "missing"),
        ({"messages": [{"role": "robot", "content": "hello"}]}, ["body", "messages", 0, "role"], "literal_error"),
    ],
)
def test_send_with_a_bad_body_is_422(group_actor: Actor, name: str, payload: dict[str, Any], loc: list[Any], type_: str):
    # Given a runnable group
    actor = group_actor
    group_id = make_round_robin(actor)
    # When the send's body fails the schema
    status, body = invoke(with_body(group_event(name, group_id), payload), actor)
    # Then a FastAPI-shaped 422 points at the field, and nothing ran
    assert status == 422
    assert_fastapi_422(body, loc, type_)
    assert group_run_ids(actor, group_id) == []


@pytest.mark.parametrize("name", ["send-group-message", "send-group-message-async"])
def test_send_to_an_empty_group_is_400(group_actor: Actor, name: str):
    # Given a group without agents
    actor = group_actor
    group_id = groups_logic.create_group(actor, GroupCreate(agent_ids=[], description="nobody home")).id
    # When a message is sent to it
    status, body = invoke(group_event(name, group_id), actor)
    # Then 400 with the contract's text, before any run starts
    assert status == 400
    assert body == {"detail": "Empty group: group must have at least one agent"}
    assert group_run_ids(actor, group_id) == []


@pytest.mark.parametrize("name", ["send-group-message", "send-group-message-async"])
def test_send_with_an_assistant_input_is_400(group_actor: Actor, name: str):
    # Given a runnable group
    actor = group_actor
    group_id = make_round_robin(actor)
    # When the input message claims the assistant role (schema-valid, refused by the send)
    event = with_body(group_event(name, group_id), {"messages": [{"role": "assistant", "content": "I did it"}]})
    status, body = invoke(event, actor)
    # Then 400, and nothing ran
    assert status == 400
    assert body == {"detail": "Invalid message role: assistant"}
    assert group_run_ids(actor, group_id) == []


# --- OpenAPI document ---------------------------------------------------------------------------


def test_openapi_document_describes_every_routed_operation(emulation: object):
    # When the openapi-document event is invoked (no organization needed)
    status, document = invoke(load_event("openapi-document"), None)
    # Then an OpenAPI 3 document comes back
    assert status == 200
    assert document["openapi"].startswith("3.")
    # And it describes every HttpApi route of the template except itself, with a distinct operation id
    routes = [r for r in http_routes() if r.path != "/openapi.json"]
    missing = [f"{r.method} {r.path}" for r in routes if r.method.lower() not in document["paths"].get(r.path, {})]
    assert not missing
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


# --- the group-run task ---------------------------------------------------------------------------


def task_handler() -> Any:
    resource = functions()["GroupRunTaskFunction"]["Properties"]
    return load_handler("GroupRunTaskFunction", ROOT / resource["CodeUri"], resource.get("Handler", "app.lambda_handler"))


def test_group_run_task_event_is_what_the_state_machine_sends_first():
    # Given the group-run-task event and the state machine definition
    event = load_event("group-run-task")
    definition = json.loads((ROOT / "statemachines" / "group-run.asl.json").read_text())
    # Then the event is the Turn state's task input: its action, the run state a send starts with, the start time
    turn = definition["States"]["Turn"]["Parameters"]
    assert event["action"] == turn["action"] == "turn"
    assert {k.removesuffix(".$") for k in turn} == set(event)
    state = RunState.model_validate(event["run"])
    assert (state.kind, state.turn, state.next, state.seq) == ("group", 0, "turn", 0)
    assert (state.group_id, state.run_id) == (GROUP_PH, RUN_PH)


def test_group_run_task_with_an_unknown_agent_raises_a_final_404(actor: Actor):
    # Given the group-run-task event in a fresh organization, where the placeholder agents do not exist
    event = substitute(load_event("group-run-task"), {DEFAULT_ORG: actor.organization_id, DEFAULT_USER: actor.user_id})
    assert event["run"]["org_id"] == actor.organization_id
    # When the task handler is invoked with it
    with pytest.raises(Exception) as raised:
        task_handler()(event, LocalContext("GroupRunTaskFunction", "local"))
    # Then it raises the error the state machine catches as a final failure (not a retry), carrying a 404
    assert type(raised.value).__name__ == "StepFailedError"
    failure = RunFailure.decode(str(raised.value))
    assert failure is not None and (failure.status, failure.kind) == (404, "not_found")
    assert failure.detail == f"Agent not found with id={event['run']['agent_ids'][0]}"
    # And no run record was touched
    assert runs_dal.get_run(actor.organization_id, RUN_PH) is None


def test_swarm_group_run_task_event_steps_the_active_agent_first(actor: Actor):
    # Given the swarm group-run-task event (velma, the second participant, is active) in a fresh organization
    event = substitute(load_event("swarm/group-run-task"), {DEFAULT_ORG: actor.organization_id, DEFAULT_USER: actor.user_id})
    state = RunState.model_validate(event["run"])
    assert state.manager_type == "swarm" and state.active_agent_id == state.agent_ids[1]
    # When the task handler is invoked with it
    with pytest.raises(Exception) as raised:
        task_handler()(event, LocalContext("GroupRunTaskFunction", "local"))
    # Then the swarm policy stepped the active agent, not agent_ids[0]: its 404 is a final failure
    failure = RunFailure.decode(str(raised.value))
    assert type(raised.value).__name__ == "StepFailedError" and failure is not None
    assert failure.detail == f"Agent not found with id={state.active_agent_id}"


def test_send_to_a_swarm_group_hands_off(group_actor: Actor):
    # Given fred and velma in a swarm group
    actor = group_actor
    fred, velma = make_agent(actor, "fred"), make_agent(actor, "velma")
    swarm = {"manager_type": "swarm"}
    group_id = groups_logic.create_group(
        actor, GroupCreate.model_validate({"agent_ids": [fred, velma], "description": "", "manager_config": swarm})
    ).id
    event = group_event("send-group-message", group_id)
    body = json.loads(event["body"])
    body["messages"][0]["content"] = "Please ask velma about the footprints."
    # When the send-group-message event asks fred to pass the question on
    status, response = invoke(with_body(event, body), actor)
    # Then fred hands off and velma answers, in one response
    assert status == 200, response
    assert [(m["message_type"], m["name"]) for m in response["messages"]] == [
        ("reasoning_message", "fred"),
        ("tool_call_message", "fred"),
        ("tool_return_message", "handoff_to_agent"),
        ("reasoning_message", "velma"),
        ("assistant_message", "velma"),
    ]
    assert response["usage"]["step_count"] == 2
    # And velma is the group's active agent
    status, group = invoke(substitute(load_event("retrieve-group"), {GROUP_PH: group_id}), actor)
    assert status == 200 and group["active_agent_id"] == velma
