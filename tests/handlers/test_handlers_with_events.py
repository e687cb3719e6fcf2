"""Every operation's Lambda handler, invoked with its sample event from events/.

Handlers are found the way the local runner and the deployment find them: template.yaml routes
→ `load_handler`. Each test acts in a fresh organization through the authorizer context
(`requestContext.authorizer.lambda`), so the placeholder ids in the sample events name nothing
there unless a test substitutes ids it created through the logic layer.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from lettagroups.errors import StorageUnavailableError
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import blocks as blocks_logic
from lettagroups.logic import groups as groups_logic
from lettagroups.models.groups import MAX_GROUP_AGENTS, SupervisorManager
from lettagroups.models.identity import Actor
from lettagroups_local.template import Route, functions, http_routes

from support import builders
from support.builders import make_block, make_group
from support.events import AGENT2_PH, AGENT_PH, BLOCK_PH, EVENTS, GROUP_PH, invoke, load_event, substitute, with_body, with_query
from support.shapes import GROUP_KEYS, assert_fastapi_422

# Powertools warns on every invocation that publishes no custom metric; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

ROOT = Path(__file__).resolve().parents[2]

# Every function's sample event is named after its code folder (functions/list_groups/ ->
# events/list-groups.json), so the template alone says which events must exist. The authorizer's
# event is named after what it does rather than its folder.
EVENT_NAME_OF_FOLDER = {"authorizer": "authorize-request"}


def event_name(code_dir: Path) -> str:
    return EVENT_NAME_OF_FOLDER.get(code_dir.name, code_dir.name.replace("_", "-"))


def template_functions() -> dict[str, str]:
    """Function logical id -> the name of its sample event, for every function in template.yaml."""
    return {name: event_name(ROOT / resource["Properties"]["CodeUri"]) for name, resource in functions().items()}


# Every HttpApi route of template.yaml, by the name of its sample event.
ROUTES = {event_name(r.code_dir): r for r in http_routes()}


# --- helpers ---------------------------------------------------------------------------------


def make_agent(actor: Actor, name: str, **fields: Any) -> str:
    """This module's agents have a persona and no human block (a shared `human` block can then be attached)."""
    return builders.make_agent(actor, name, human=None, **fields)


# --- the events themselves ----------------------------------------------------------------------


def openapi_operation(route: Route) -> dict[str, Any] | None:
    """The route's operation in the shipped OpenAPI document (None for routes it leaves out)."""
    document = json.loads((ROOT / "functions" / "openapi_document" / "openapi.json").read_text())
    return document["paths"].get(route.path, {}).get(route.method.lower())


def test_each_function_has_at_most_one_route():
    # Given template.yaml's HttpApi routes
    routed = [r.function for r in http_routes()]
    # Then no function serves two routes (its one sample event could not exercise both)
    assert len(routed) == len(set(routed)) == len(ROUTES), routed


def test_every_template_function_has_its_event():
    # Given every function in template.yaml, routed or not (the Step Functions task, the stream function)
    expected = template_functions()
    # Then each has its sample event, so adding a route or a function without one fails here
    missing = [
        f"{function} -> events/{name}.json" for function, name in expected.items() if not (EVENTS / f"{name}.json").is_file()
    ]
    assert not missing, missing


def test_every_event_belongs_to_a_function():
    # Given the events/ folder, and the functions of the template and of functions/ (the
    # authorizer's folder may exist before its function is in the template)
    names = {p.stem for p in EVENTS.glob("*.json")}
    known = set(template_functions().values()) | {event_name(d) for d in (ROOT / "functions").iterdir() if d.is_dir()}
    # Then no event is a leftover of a removed or renamed function
    assert not names - known, sorted(names - known)


@pytest.mark.parametrize("name", sorted(set(template_functions().values()) - set(ROUTES)))
def test_events_of_functions_without_a_route_are_not_route_payloads(name: str):
    # Given the event of a function that no HttpApi route reaches (a task input, a function URL event)
    event = load_event(name)
    # Then API Gateway's routing would not hand it to any route: it carries no route key of its own
    assert event.get("routeKey", "$default") == "$default" or event.get("type") == "REQUEST"


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_event_matches_exactly_one_template_route(name: str):
    # Given the sample event of a template route
    event = load_event(name)
    method = event["requestContext"]["http"]["method"]
    raw_path = event["rawPath"]
    # When it is routed the way API Gateway routes it: a trailing slash reaches the same route, and
    # among matching routes the most specific wins (literal segments beat {variables})
    path = raw_path.rstrip("/") or "/"
    matches = [r for r in http_routes() if r.method == method and r.pattern.match(path)]
    assert matches, f"no route for {method} {raw_path}"
    best = max(r.specificity for r in matches)
    winners = [r for r in matches if r.specificity == best]
    # Then exactly one route takes it: the one the event is named after
    assert len(winners) == 1, [f"{r.method} {r.path}" for r in winners]
    route = winners[0]
    assert route == ROUTES[name]
    # And the event is a consistent payload-2.0 event for that route
    assert event["version"] == "2.0"
    assert "type" not in event, "an authorizer payload, not a route invocation"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == f"{route.method} {route.path}"
    assert event["requestContext"]["http"]["path"] == raw_path
    names = [s[1:-1] for s in route.path.strip("/").split("/") if s.startswith("{")]
    values = [v for s, v in zip(route.path.strip("/").split("/"), path.strip("/").split("/")) if s.startswith("{")]
    assert event.get("pathParameters", {}) == dict(zip(names, values))
    assert event["rawQueryString"] == urlencode(event.get("queryStringParameters") or {})
    assert all(k == k.lower() for k in event["headers"]), "HTTP API lower-cases header names"
    # And it has a body exactly when the operation takes one (the OpenAPI document generated from the
    # handlers says; a route it leaves out takes one only on POST, PUT and PATCH), with only known query keys
    operation = openapi_operation(route)
    takes_body = "requestBody" in operation if operation is not None else method in ("POST", "PUT", "PATCH")
    if takes_body:
        assert isinstance(json.loads(event["body"]), dict)
        assert event["headers"]["content-type"] == "application/json"
        assert event["headers"]["content-length"] == str(len(event["body"].encode()))
    else:
        assert "body" not in event
        assert event["headers"].get("content-length", "0") == "0"
    if operation is not None:
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert set(event.get("queryStringParameters") or {}) <= documented
    assert event["isBase64Encoded"] is False


# --- health -------------------------------------------------------------------------------------


def test_health_check(emulation: object):
    # When the health event is invoked (no organization needed)
    status, body = invoke(load_event("health-check"), None)
    # Then the server reports itself healthy, as Letta's /v1/health/ does
    assert status == 200
    assert body["status"] == "ok"
    assert isinstance(body["version"], str) and body["version"]


# --- groups -------------------------------------------------------------------------------------


def test_list_groups_filters_by_manager_type_in_creation_order(actor: Actor):
    # Given round robin, supervisor and round robin groups, in that order
    manager = make_agent(actor, "scooby")
    first = make_group(actor, [])
    make_group(actor, [], manager_config=SupervisorManager(manager_agent_id=manager))
    second = make_group(actor, [])
    # When the list-groups event (manager_type=round_robin, limit=10, trailing slash) is invoked
    status, body = invoke(load_event("list-groups"), actor)
    # Then only the round robin groups come back, oldest first, as full Group objects
    assert status == 200
    assert [g["id"] for g in body] == [first, second]
    assert all(list(g) == GROUP_KEYS for g in body)
    assert {g["manager_type"] for g in body} == {"round_robin"}


def test_list_groups_without_limit_returns_every_group(actor: Actor):
    # Given 12 groups
    created = [make_group(actor, []) for _ in range(12)]
    # When listed with no query at all
    status, body = invoke(with_query(load_event("list-groups"), {}), actor)
    # Then all of them come back in creation order
    assert status == 200
    assert [g["id"] for g in body] == created


def test_list_groups_rejects_unknown_manager_type(actor: Actor):
    # When the manager type is not a ManagerType value
    status, body = invoke(with_query(load_event("list-groups"), {"manager_type": "bogus"}), actor)
    # Then it is a FastAPI-shaped 422 on the query parameter
    assert status == 422
    item = assert_fastapi_422(body, ["query", "manager_type"], "enum")
    assert item["input"] == "bogus"


def test_list_groups_rejects_negative_limit(actor: Actor):
    # When limit is negative (contract O-5)
    status, body = invoke(with_query(load_event("list-groups"), {"limit": "-1"}), actor)
    # Then 422 on the query parameter
    assert status == 422
    assert_fastapi_422(body, ["query", "limit"], "greater_than_equal")


def test_list_groups_unknown_cursor_is_404(actor: Actor):
    # When `after` names a group that does not exist in the organization
    status, body = invoke(with_query(load_event("list-groups"), {"after": GROUP_PH}), actor)
    # Then 404 with the contract's text
    assert status == 404
    assert body == {"detail": f"No Group found with id {GROUP_PH}"}


def test_count_groups_counts_the_organizations_groups(actor: Actor):
    # Given a fresh organization
    event = load_event("count-groups")
    status, body = invoke(event, actor)
    assert (status, body) == (200, 0)
    # When two groups are created
    make_group(actor, [])
    make_group(actor, [])
    # Then the count is a bare integer 2
    status, body = invoke(event, actor)
    assert (status, body) == (200, 2)


def test_retrieve_group(actor: Actor):
    # Given a group
    fred = make_agent(actor, "fred")
    group_id = make_group(actor, [fred])
    # When the retrieve-group event names it
    status, body = invoke(substitute(load_event("retrieve-group"), {GROUP_PH: group_id}), actor)
    # Then the group comes back with every Group field
    assert status == 200
    assert list(body) == GROUP_KEYS
    assert body["id"] == group_id
    assert body["agent_ids"] == [fred]
    assert body["manager_type"] == "round_robin"


def test_retrieve_unknown_group_is_404(actor: Actor):
    # When the event's placeholder id names nothing in this organization
    status, body = invoke(load_event("retrieve-group"), actor)
    # Then 404 with the contract's text
    assert status == 404
    assert body == {"detail": f"Group not found with id={GROUP_PH}"}


@pytest.mark.parametrize(
    ("raised", "status", "detail"),
    [
        (RuntimeError("a bug"), 500, "An internal server error occurred"),
        (StorageUnavailableError(), 503, "The database is temporarily unavailable. Please try again later."),
    ],
)
def test_unexpected_and_storage_failures_answer_the_contracts_bodies(
    actor: Actor, monkeypatch: pytest.MonkeyPatch, raised: Exception, status: int, detail: str
):
    # Given a logic function that fails with an unexpected error, or with the table unavailable (contract §2.3)
    def failing(*_: Any, **__: Any) -> Any:
        raise raised

    monkeypatch.setattr(groups_logic, "retrieve_group", failing)
    # When the retrieve-group event is invoked
    code, body = invoke(load_event("retrieve-group"), actor)
    # Then the answer is the contract's status and body, and nothing of the error leaks
    assert (code, body) == (status, {"detail": detail})


def test_retrieve_group_of_another_organization_is_404(actor: Actor):
    # Given a group in another organization
    other = Actor(user_id=f"user-{uuid.uuid4()}", organization_id=f"org-{uuid.uuid4()}")
    group_id = make_group(other, [])
    # When this organization asks for it
    status, body = invoke(substitute(load_event("retrieve-group"), {GROUP_PH: group_id}), actor)
    # Then it behaves exactly like a missing group
    assert status == 404
    assert body == {"detail": f"Group not found with id={group_id}"}


def test_create_group_with_project_and_shared_block(actor: Actor):
    # Given two agents and a block
    fred, velma = make_agent(actor, "fred"), make_agent(actor, "velma")
    block = make_block(actor)
    event = substitute(load_event("create-group"), {AGENT_PH: fred, AGENT2_PH: velma, BLOCK_PH: block})
    # When the create-group event is invoked (X-Project header, trailing slash)
    status, body = invoke(event, actor)
    # Then the group is created as sent
    assert status == 200
    assert list(body) == GROUP_KEYS
    assert body["id"].startswith("group-")
    assert body["manager_type"] == "round_robin"
    assert body["agent_ids"] == [fred, velma]
    assert body["max_turns"] == 2
    assert body["description"] == "Mystery Inc. round robin"
    assert body["shared_block_ids"] == [block]
    assert body["project_id"] == "project-mystery-inc"
    assert body["manager_agent_id"] is None and body["termination_token"] is None
    # And it is stored, counted, and the shared block is attached to every participant
    assert groups_logic.retrieve_group(actor, body["id"]).model_dump() == body
    assert groups_logic.count_groups(actor) == 1
    for agent_id in (fred, velma):
        labels = {b.label: b.id for b in agents_logic.retrieve_agent(actor, agent_id).memory.blocks}
        assert labels["human"] == block


def test_create_group_with_unknown_agents_is_404_and_writes_nothing(actor: Actor):
    # Given a block, but none of the agents the event names
    block = make_block(actor)
    event = substitute(load_event("create-group"), {BLOCK_PH: block})
    # When the group is created
    status, body = invoke(event, actor)
    # Then 404 names the missing agents, and nothing was written
    assert status == 404
    assert body["detail"].startswith("Items not found in agents: {")
    assert AGENT_PH in body["detail"] and AGENT2_PH in body["detail"]
    assert groups_logic.count_groups(actor) == 0
    assert groups_logic.list_groups(actor) == []


def test_create_group_without_description_is_422(actor: Actor):
    # When the body lacks the required `description`
    event = with_body(load_event("create-group"), {"agent_ids": []})
    status, body = invoke(event, actor)
    # Then FastAPI-shaped 422 at body.description
    assert status == 422
    assert_fastapi_422(body, ["body", "description"], "missing")
    assert groups_logic.count_groups(actor) == 0


def test_create_supervisor_group_without_manager_is_422(actor: Actor):
    # When a supervisor config lacks its required manager_agent_id (contract X-6)
    event = with_body(
        load_event("create-group"), {"agent_ids": [], "description": "", "manager_config": {"manager_type": "supervisor"}}
    )
    status, body = invoke(event, actor)
    # Then 422 located under the union tag
    assert status == 422
    assert_fastapi_422(body, ["body", "manager_config", "supervisor", "manager_agent_id"], "missing")


def test_create_group_manager_config_without_tag_is_422(actor: Actor):
    # When manager_config has no manager_type (contract X-2)
    event = with_body(load_event("create-group"), {"agent_ids": [], "description": "", "manager_config": {"max_turns": 2}})
    status, body = invoke(event, actor)
    # Then 422 union_tag_not_found
    assert status == 422
    assert_fastapi_422(body, ["body", "manager_config"], "union_tag_not_found")


def test_create_swarm_group_with_its_event(actor: Actor):
    # Given two agents
    fred, velma = make_agent(actor, "fred"), make_agent(actor, "velma")
    # When the swarm create-group event is invoked (a plain-object SwarmManager, swarm-handoffs.md)
    status, body = invoke(substitute(load_event("swarm/create-group"), {AGENT_PH: fred, AGENT2_PH: velma}), actor)
    # Then the group is a swarm with its max_turns and initial agent, who is also the agent the next input goes to
    assert status == 200
    assert list(body) == GROUP_KEYS
    assert (body["manager_type"], body["agent_ids"], body["max_turns"]) == ("swarm", [fred, velma], 4)
    assert (body["initial_agent_id"], body["active_agent_id"]) == (velma, velma)
    assert body["manager_agent_id"] is None and body["termination_token"] is None
    assert groups_logic.retrieve_group(actor, body["id"]).model_dump() == body


def test_other_manager_types_have_no_swarm_fields(actor: Actor):
    # When a round robin group is created
    status, body = invoke(with_body(load_event("create-group"), {"agent_ids": [], "description": ""}), actor)
    # Then both swarm fields are there, and null
    assert status == 200 and (body["initial_agent_id"], body["active_agent_id"]) == (None, None)


def test_swarm_initial_agent_must_be_a_participant(actor: Actor):
    # Given two agents, and a third that exists but is not in the group
    fred, velma, scooby = make_agent(actor, "fred"), make_agent(actor, "velma"), make_agent(actor, "scooby")
    event = substitute(load_event("swarm/create-group"), {AGENT_PH: fred, AGENT2_PH: velma})
    body = json.loads(event["body"])
    # When the initial agent is an agent outside agent_ids
    outside = {**body, "manager_config": {**body["manager_config"], "initial_agent_id": scooby}}
    status, error = invoke(with_body(event, outside), actor)
    # Then 400
    assert (status, error) == (400, {"detail": f"initial_agent_id {scooby} is not one of the group's agent_ids"})
    # When it is no agent at all
    nobody = {**body, "manager_config": {**body["manager_config"], "initial_agent_id": "agent-nope"}}
    status, error = invoke(with_body(event, nobody), actor)
    # Then 404, and nothing was written either time
    assert (status, error) == (404, {"detail": "Agent not found with id=agent-nope"})
    assert groups_logic.count_groups(actor) == 0


def test_modify_swarm_group_with_its_event(actor: Actor):
    # Given a swarm group of fred and velma, velma first
    fred, velma = make_agent(actor, "fred"), make_agent(actor, "velma")
    group_id = make_group(actor, [fred, velma], manager_config={"manager_type": "swarm", "initial_agent_id": velma})
    # When the swarm modify-group event is invoked (a plain-object SwarmManagerUpdate)
    status, body = invoke(substitute(load_event("swarm/modify-group"), {GROUP_PH: group_id, AGENT_PH: fred}), actor)
    # Then max_turns and the initial agent change, and with no run yet the next input goes to the new initial agent
    assert status == 200 and list(body) == GROUP_KEYS
    assert (body["max_turns"], body["initial_agent_id"], body["active_agent_id"]) == (6, fred, fred)
    # When the participants change without the initial agent
    status, error = invoke(with_body(substitute(load_event("modify-group"), {GROUP_PH: group_id}), {"agent_ids": [velma]}), actor)
    # Then 400, and the group is unchanged
    assert (status, error) == (400, {"detail": f"initial_agent_id {fred} is not one of the group's agent_ids"})
    assert groups_logic.retrieve_group(actor, group_id).model_dump() == body


def test_modify_group(actor: Actor):
    # Given a round robin group
    fred = make_agent(actor, "fred")
    group_id = make_group(actor, [fred])
    # When the modify-group event is invoked for it
    status, body = invoke(substitute(load_event("modify-group"), {GROUP_PH: group_id}), actor)
    # Then the description and max_turns change and everything else stays
    assert status == 200
    assert body["id"] == group_id
    assert body["description"] == "Mystery Inc. round robin, three turns"
    assert body["max_turns"] == 3
    assert body["agent_ids"] == [fred]
    assert body["project_id"] is None
    assert groups_logic.retrieve_group(actor, group_id).model_dump() == body


@pytest.fixture(scope="module")
def crowd(emulation: object) -> tuple[Actor, list[str]]:
    """An organization with MAX_GROUP_AGENTS (32) agents, the most GroupCreate/GroupUpdate.agent_ids accept."""
    actor = Actor(user_id=f"user-{uuid.uuid4()}", organization_id=f"org-{uuid.uuid4()}")
    return actor, [make_agent(actor, f"agent{i}") for i in range(MAX_GROUP_AGENTS)]


def test_create_group_with_the_most_participants_the_schema_allows(crowd: tuple[Actor, list[str]]):
    # Given MAX_GROUP_AGENTS agents
    actor, agent_ids = crowd
    assert len(agent_ids) == MAX_GROUP_AGENTS
    before = groups_logic.count_groups(actor)
    # When a round robin group of all of them is created
    status, body = invoke(with_body(load_event("create-group"), {"agent_ids": agent_ids, "description": "big"}), actor)
    # Then it is created like any other group (a valid request is never a 500, contract §2.3)
    assert (status, body.get("agent_ids")) == (200, agent_ids), body
    assert groups_logic.count_groups(actor) == before + 1


def test_modify_group_adding_the_most_participants_the_schema_allows(crowd: tuple[Actor, list[str]]):
    # Given an empty group and MAX_GROUP_AGENTS agents
    actor, agent_ids = crowd
    assert len(agent_ids) == MAX_GROUP_AGENTS
    group_id = make_group(actor, [])
    # When all of them join it through modify
    event = with_body(substitute(load_event("modify-group"), {GROUP_PH: group_id}), {"agent_ids": agent_ids})
    status, body = invoke(event, actor)
    # Then the new list is stored (a valid request is never a 500, contract §2.3)
    assert (status, body.get("agent_ids")) == (200, agent_ids), body
    assert groups_logic.retrieve_group(actor, group_id).agent_ids == agent_ids


def test_modify_group_with_empty_object_changes_nothing(actor: Actor):
    # Given a group
    group_id = make_group(actor, [])
    before = groups_logic.retrieve_group(actor, group_id).model_dump()
    # When the body is `{}` (contract X-13)
    event = with_body(substitute(load_event("modify-group"), {GROUP_PH: group_id}), {})
    status, body = invoke(event, actor)
    # Then 200 and the group is unchanged
    assert status == 200
    assert body == before


def test_modify_group_without_body_is_422(actor: Actor):
    # Given a group, and letta-client's `groups.modify(id)`, which sends no body at all
    group_id = make_group(actor, [])
    event = with_body(substitute(load_event("modify-group"), {GROUP_PH: group_id}), None)
    # When it is invoked
    status, body = invoke(event, actor)
    # Then exactly 0.7.7's 422 body
    assert status == 422
    assert body == {"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]}


def test_modify_group_pattern_change_is_400(actor: Actor):
    # Given a round robin group
    manager = make_agent(actor, "scooby")
    group_id = make_group(actor, [])
    # When the update tries to turn it into a supervisor group (contract MA-2)
    event = with_body(
        substitute(load_event("modify-group"), {GROUP_PH: group_id}),
        {"manager_config": {"manager_type": "supervisor", "manager_agent_id": manager}},
    )
    status, body = invoke(event, actor)
    # Then 400 with the contract's text
    assert status == 400
    assert body == {"detail": "Cannot change group pattern after creation"}


def test_modify_unknown_group_is_404(actor: Actor):
    # When the placeholder group does not exist (contract X-12)
    status, body = invoke(load_event("modify-group"), actor)
    # Then 404, not 500
    assert status == 404
    assert body == {"detail": f"Group not found with id={GROUP_PH}"}


def test_delete_group_twice(actor: Actor):
    # Given a group with a participant
    fred = make_agent(actor, "fred")
    group_id = make_group(actor, [fred])
    event = substitute(load_event("delete-group"), {GROUP_PH: group_id})
    # When it is deleted
    status, body = invoke(event, actor)
    # Then the contract's JSON message comes back, the count drops, and the agent stays
    assert status == 200
    assert body == {"message": f"Group id={group_id} successfully deleted"}
    assert groups_logic.count_groups(actor) == 0
    assert agents_logic.retrieve_agent(actor, fred).id == fred
    # And a second delete is 404 naming the acting user (contract X-9)
    status, body = invoke(event, actor)
    assert status == 404
    assert body == {"detail": f"Group id={group_id} not found for user_id={actor.user_id}."}
    assert groups_logic.count_groups(actor) == 0


def test_list_agent_groups(actor: Actor):
    # Given fred in a round robin group and as a worker of a supervisor group, and managing another
    fred, velma, scooby = make_agent(actor, "fred"), make_agent(actor, "velma"), make_agent(actor, "scooby")
    rr = make_group(actor, [fred, velma])
    sup = make_group(actor, [fred], manager_config=SupervisorManager(manager_agent_id=scooby))
    make_group(actor, [velma], manager_config=SupervisorManager(manager_agent_id=fred))
    event = substitute(load_event("list-agent-groups"), {AGENT_PH: fred})
    # When the event (manager_type=round_robin) is invoked
    status, body = invoke(event, actor)
    # Then only fred's round robin group comes back
    assert status == 200
    assert [g["id"] for g in body] == [rr]
    # And without the filter, both groups fred participates in (not the one he manages)
    status, body = invoke(with_query(event, {}), actor)
    assert status == 200
    assert sorted(g["id"] for g in body) == sorted([rr, sup])


def test_list_agent_groups_of_unknown_agent_is_404(actor: Actor):
    # When the placeholder agent does not exist
    status, body = invoke(load_event("list-agent-groups"), actor)
    # Then 404 naming it
    assert status == 404
    assert AGENT_PH in body["detail"] and "not found" in body["detail"]


def test_list_agent_groups_unknown_manager_type_matches_nothing(actor: Actor):
    # Given fred in a round robin group
    fred = make_agent(actor, "fred")
    make_group(actor, [fred])
    event = with_query(substitute(load_event("list-agent-groups"), {AGENT_PH: fred}), {"manager_type": "bogus"})
    # When the filter is not a manager type (contract §4.12 types it as a plain string, as 0.7.7 did)
    status, body = invoke(event, actor)
    # Then it is accepted and matches no group
    assert (status, body) == (200, [])


# --- agents -------------------------------------------------------------------------------------


def test_create_agent(actor: Actor):
    # When the create-agent event is invoked
    status, body = invoke(load_event("create-agent"), actor)
    # Then an AgentState comes back with the requested name, tags and persona block
    assert status == 200
    assert body["id"].startswith("agent-")
    assert body["name"] == "fred"
    assert body["tags"] == ["mystery-inc"]
    assert body["organization_id"] == actor.organization_id
    assert body["llm_config"]["handle"] == "letta/offline"
    assert [(b["label"], b["value"]) for b in body["memory"]["blocks"]] == [("persona", "I am Fred, the leader of Mystery Inc.")]
    assert body["multi_agent_group"] is None
    # And it is stored
    assert agents_logic.retrieve_agent(actor, body["id"]).name == "fred"


def test_create_agent_with_invalid_memory_block_is_422(actor: Actor):
    # When a memory block has no label
    event = with_body(load_event("create-agent"), {"name": "fred", "memory_blocks": [{"value": "x"}]})
    status, body = invoke(event, actor)
    # Then 422 points into the list item
    assert status == 422
    assert_fastapi_422(body, ["body", "memory_blocks", 0, "label"], "missing")


def test_list_agents_filters_by_tag(actor: Actor):
    # Given a tagged and an untagged agent
    fred = make_agent(actor, "fred", tags=["mystery-inc"])
    make_agent(actor, "velma")
    # When the list-agents event (tags=mystery-inc, limit=10) is invoked
    status, body = invoke(load_event("list-agents"), actor)
    # Then only the tagged agent comes back
    assert status == 200
    assert [a["id"] for a in body] == [fred]


def test_list_agents_in_creation_order(actor: Actor):
    # Given three agents
    created = [make_agent(actor, n) for n in ("fred", "velma", "daphne")]
    # When listed with no filter
    status, body = invoke(with_query(load_event("list-agents"), {}), actor)
    # Then all three, oldest first
    assert status == 200
    assert [a["id"] for a in body] == created


def test_retrieve_agent(actor: Actor):
    fred = make_agent(actor, "fred")
    # When the retrieve-agent event names fred
    status, body = invoke(substitute(load_event("retrieve-agent"), {AGENT_PH: fred}), actor)
    # Then his state comes back
    assert status == 200
    assert body["id"] == fred and body["name"] == "fred"


def test_retrieve_unknown_agent_is_404(actor: Actor):
    status, body = invoke(load_event("retrieve-agent"), actor)
    assert status == 404
    assert AGENT_PH in body["detail"] and "not found" in body["detail"]


def test_modify_agent(actor: Actor):
    fred = make_agent(actor, "fred")
    # When the modify-agent event is invoked for fred
    status, body = invoke(substitute(load_event("modify-agent"), {AGENT_PH: fred}), actor)
    # Then the description and tags change, the name stays
    assert status == 200
    assert body["description"] == "Leader of Mystery Inc."
    assert body["tags"] == ["mystery-inc", "leader"]
    assert body["name"] == "fred"
    assert agents_logic.retrieve_agent(actor, fred).tags == ["mystery-inc", "leader"]


def test_modify_agent_with_empty_name_is_422(actor: Actor):
    fred = make_agent(actor, "fred")
    event = with_body(substitute(load_event("modify-agent"), {AGENT_PH: fred}), {"name": ""})
    # When the name is empty
    status, body = invoke(event, actor)
    # Then 422 at body.name, and the agent keeps its name
    assert status == 422
    assert_fastapi_422(body, ["body", "name"], "string_too_short")
    assert agents_logic.retrieve_agent(actor, fred).name == "fred"


def test_modify_unknown_agent_is_404(actor: Actor):
    status, body = invoke(load_event("modify-agent"), actor)
    assert status == 404
    assert AGENT_PH in body["detail"]


def test_delete_agent(actor: Actor):
    fred = make_agent(actor, "fred")
    event = substitute(load_event("delete-agent"), {AGENT_PH: fred})
    # When the delete-agent event is invoked
    status, body = invoke(event, actor)
    # Then it is deleted, and a second delete is 404
    assert status == 200
    assert fred in body["message"]
    status, body = invoke(substitute(load_event("retrieve-agent"), {AGENT_PH: fred}), actor)
    assert status == 404
    status, body = invoke(event, actor)
    assert status == 404


def test_delete_agent_that_manages_a_supervisor_group_is_409(actor: Actor):
    # Given scooby managing a supervisor group (contract §9: non-cascading types block the delete)
    scooby = make_agent(actor, "scooby")
    group_id = make_group(actor, [], manager_config=SupervisorManager(manager_agent_id=scooby))
    # When scooby is deleted
    status, body = invoke(substitute(load_event("delete-agent"), {AGENT_PH: scooby}), actor)
    # Then 409, and both the agent and the group remain
    assert status == 409
    assert group_id in body["detail"]
    assert agents_logic.retrieve_agent(actor, scooby).multi_agent_group.id == group_id  # type: ignore[union-attr]
    assert groups_logic.count_groups(actor) == 1


def test_delete_sleeptime_manager_takes_its_group_along(actor: Actor):
    # Given an agent created with enable_sleeptime (it manages an implicit sleeptime group)
    main = make_agent(actor, "main", enable_sleeptime=True)
    group = agents_logic.retrieve_agent(actor, main).multi_agent_group
    assert group is not None and group.manager_type == "sleeptime"
    # When the main agent is deleted
    status, _ = invoke(substitute(load_event("delete-agent"), {AGENT_PH: main}), actor)
    # Then its group and the sleeptime agent are gone too (contract SL-7)
    assert status == 200
    status, _ = invoke(substitute(load_event("retrieve-group"), {GROUP_PH: group.id}), actor)
    assert status == 404
    status, _ = invoke(substitute(load_event("retrieve-agent"), {AGENT_PH: group.agent_ids[0]}), actor)
    assert status == 404
    assert groups_logic.count_groups(actor) == 0


# --- blocks -------------------------------------------------------------------------------------


def test_create_block(actor: Actor):
    status, body = invoke(load_event("create-block"), actor)
    # Then the block comes back with an id and the values sent
    assert status == 200
    assert body["id"].startswith("block-")
    assert (body["label"], body["value"], body["limit"]) == ("human", "The user is a fan of mysteries.", 5000)
    assert blocks_logic.retrieve_block(actor, body["id"]).value == body["value"]


def test_create_block_without_label_is_422(actor: Actor):
    status, body = invoke(with_body(load_event("create-block"), {"value": "x"}), actor)
    assert status == 422
    assert_fastapi_422(body, ["body", "label"], "missing")


def test_list_blocks_filters_by_label(actor: Actor):
    # Given a human block and a persona block
    human = make_block(actor, "human")
    make_block(actor, "persona")
    # When the list-blocks event (label=human) is invoked
    status, body = invoke(load_event("list-blocks"), actor)
    # Then only the human block comes back
    assert status == 200
    assert [b["id"] for b in body] == [human]


def test_retrieve_block(actor: Actor):
    block = make_block(actor)
    status, body = invoke(substitute(load_event("retrieve-block"), {BLOCK_PH: block}), actor)
    assert status == 200
    assert body["id"] == block and body["label"] == "human"


def test_retrieve_unknown_block_is_404(actor: Actor):
    status, body = invoke(load_event("retrieve-block"), actor)
    assert status == 404
    assert body == {"detail": f"Block not found with id={BLOCK_PH}"}


def test_modify_block(actor: Actor):
    block = make_block(actor)
    # When the modify-block event is invoked
    status, body = invoke(substitute(load_event("modify-block"), {BLOCK_PH: block}), actor)
    # Then the value changes and the label stays
    assert status == 200
    assert body["value"] == "The user is a fan of mysteries and Scooby Snacks."
    assert body["label"] == "human"
    assert blocks_logic.retrieve_block(actor, block).value == body["value"]


def test_modify_block_rejects_bad_limit(actor: Actor):
    block = make_block(actor)
    event = with_body(substitute(load_event("modify-block"), {BLOCK_PH: block}), {"limit": 0})
    status, body = invoke(event, actor)
    assert status == 422
    assert_fastapi_422(body, ["body", "limit"], "greater_than_equal")


def test_modify_unknown_block_is_404(actor: Actor):
    status, body = invoke(load_event("modify-block"), actor)
    assert status == 404
    assert body == {"detail": f"Block not found with id={BLOCK_PH}"}


def test_delete_block_twice(actor: Actor):
    block = make_block(actor)
    event = substitute(load_event("delete-block"), {BLOCK_PH: block})
    # When the block is deleted
    status, body = invoke(event, actor)
    # Then the deleted block is returned, and a second delete is 404
    assert status == 200
    assert body["id"] == block
    status, body = invoke(event, actor)
    assert status == 404
    assert body == {"detail": f"Block not found with id={block}"}


# --- identity -----------------------------------------------------------------------------------


def test_user_id_header_outside_the_callers_organization_is_403(actor: Actor):
    # Given an authenticated caller whose request names an unknown user (contract X-31)
    event = copy.deepcopy(load_event("count-groups"))
    event["headers"]["user_id"] = f"user-{uuid.uuid4()}"
    # When it is invoked
    status, body = invoke(event, actor)
    # Then 403 with a detail message
    assert status == 403
    assert isinstance(body["detail"], str) and body["detail"]


def test_modify_group_replacing_every_participant_at_the_limit(crowd: tuple[Actor, list[str]]):
    # Given a full group, and as many other agents again (the worst case for one transaction)
    actor, agent_ids = crowd
    others = [make_agent(actor, f"other{i}") for i in range(MAX_GROUP_AGENTS)]
    group_id = make_group(actor, agent_ids)
    # When every participant is replaced at once
    event = with_body(substitute(load_event("modify-group"), {GROUP_PH: group_id}), {"agent_ids": others})
    status, body = invoke(event, actor)
    # Then the swap is stored whole
    assert (status, body.get("agent_ids")) == (200, others), body


def test_create_group_above_the_participant_limit_is_422(crowd: tuple[Actor, list[str]]):
    # Given one agent id more than a group may hold (MAX_GROUP_AGENTS + 1)
    actor, agent_ids = crowd
    too_many = [*agent_ids, agent_ids[0]]
    assert len(too_many) == MAX_GROUP_AGENTS + 1
    before = groups_logic.count_groups(actor)
    # When the group is created
    status, body = invoke(with_body(load_event("create-group"), {"agent_ids": too_many, "description": "too big"}), actor)
    # Then the request is refused as invalid, naming the field, and nothing is written
    assert status == 422
    assert body["detail"][0]["loc"][:2] == ["body", "agent_ids"]
    assert body["detail"][0]["type"] == "too_long"
    assert groups_logic.count_groups(actor) == before
