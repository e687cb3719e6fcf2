"""Tenant isolation across every API handler (contract §2.1: another organization's object behaves like a missing one).

Two organizations, A and B, each with a group, agents, a block, a transcript message and a finished run.
Every route of template.yaml is invoked as its Lambda would be (lettagroups_local.template.http_routes() →
load_handler, payload-2.0 events from the local gateway's builder) with A in the authorizer context and B's
ids in the path, query or body. Each call must answer 404 or 403 (or, for routes that name no object, only
A's own data), must never show B's data, and must leave B's data as B sees it through the logic layer.
A `user_id` header naming B's user while authorized as A is 403 on every route.

Routes whose handler does not import yet (work in progress elsewhere) are skipped with the import error.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Optional
from urllib.parse import urlencode

import pytest

from lettagroups.dal import messages as messages_dal
from lettagroups.dal import runs as runs_dal
from lettagroups.dal import users
from lettagroups.ids import new_id
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import blocks as blocks_logic
from lettagroups.logic import core_memory as core_memory_logic
from lettagroups.logic import group_history as messages_logic
from lettagroups.logic import groups as groups_logic
from lettagroups.logic import runs as runs_logic
from lettagroups.models.agents import CreateAgent
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.groups import GroupCreate
from lettagroups.models.identity import Actor
from lettagroups.models.records import RunRecord
from lettagroups.models.stored import StoredMessage
from lettagroups_local.gateway import build_event
from lettagroups_local.handlers import LocalContext, load_handler
from lettagroups_local.template import Route, http_routes

from support.events import authorizer_context

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

# Routes that hold no tenant data, with the reason they are outside the matrix.
UNSCOPED = {
    "GET /v1/health": "liveness only, no storage access",
    "GET /openapi.json": "a static document",
}


@dataclass
class World:
    """One organization's objects; `secret` marks every text it owns, so leaks are easy to spot."""

    actor: Actor
    secret: str
    group: str
    agent: str
    agent2: str
    block: str
    message: str
    run: str

    @property
    def block_label(self) -> str:
        """The label of `block` (attached to both agents by the group's shared blocks)."""
        return "human"

    @property
    def ids(self) -> list[str]:
        return [self.group, self.agent, self.agent2, self.block, self.message, self.run, self.actor.user_id]


def make_world(label: str) -> World:
    org_id, user_id = new_id("org"), new_id("user")
    users.create_organization(org_id, f"org {label}")
    users.create_user(org_id, user_id, f"user {label}")
    actor = Actor(user_id=user_id, organization_id=org_id)
    secret = f"secret-{label}-{uuid.uuid4().hex[:8]}"
    agent = agents_logic.create_agent(actor, CreateAgent(name=f"{secret}-fred", memory_blocks=[])).id
    agent2 = agents_logic.create_agent(actor, CreateAgent(name=f"{secret}-velma", memory_blocks=[])).id
    block = blocks_logic.create_block(actor, CreateBlock(label="human", value=f"{secret} likes mysteries")).id
    group = groups_logic.create_group(
        actor, GroupCreate(agent_ids=[agent, agent2], description=f"{secret} group", shared_block_ids=[block])
    ).id
    # A transcript message and a finished run, written as a completed send leaves them (no workflow needed).
    run_id = new_id("run")
    now = datetime.now(UTC)
    message = StoredMessage(
        id=new_id("message"),
        organization_id=org_id,
        conversation_id=group,
        group_id=group,
        role="user",
        content=[{"type": "text", "text": f"{secret} says hello"}],
        created_at=now,
        run_id=run_id,
    )
    messages_dal.put_messages(org_id, group, [message])
    runs_dal.create_run_once(
        org_id,
        RunRecord(
            id=run_id,
            status="completed",
            kind="group",
            created_at=now.isoformat(),
            updated_at=now.isoformat(),
            completed_at=now.isoformat(),
            created_by_id=user_id,
            last_updated_by_id=user_id,
            conversation_id=group,
            group_id=group,
            input_message_ids=[message.id],
            response_message_ids=[message.id],
            usage={"completion_tokens": 7, "prompt_tokens": 11, "total_tokens": 18, "step_count": 1},
            metadata={"group_id": group},
        ),
    )
    return World(actor, secret, group, agent, agent2, block, message.id, run_id)


def snapshot(world: World) -> dict[str, Any]:
    """Everything of the organization, as its own user sees it through the logic layer."""
    a = world.actor
    return json.loads(
        json.dumps(
            {
                "groups": [g.model_dump(mode="json") for g in groups_logic.list_groups(a)],
                "count": groups_logic.count_groups(a),
                "agents": [x.model_dump(mode="json") for x in agents_logic.list_agents(a)],
                "blocks": [b.model_dump(mode="json") for b in blocks_logic.list_blocks(a)],
                "messages": [m.model_dump(mode="json") for m in messages_logic.list_messages(a, world.group, limit=100)],
                "run": runs_logic.retrieve_run(a, world.run).model_dump(mode="json"),
                "agent_groups": [g.id for g in groups_logic.list_agent_groups(a, world.agent)],
                "block_agents": [x.id for x in core_memory_logic.list_agents_for_block(a, world.block)],
            },
            default=str,
        )
    )


@pytest.fixture(scope="module")
def worlds(emulation: object) -> tuple[World, World]:
    """Made once for the module: every case is refused or read-only, and each compares B before and after itself."""
    return make_world("a"), make_world("b")


# --- the matrix: for each route, requests naming B's objects ------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request: path parameters and body fields are filled from the worlds by name (`b.group`, `a.agent`, ...)."""

    path: dict[str, str]
    query: Optional[dict[str, str]] = None
    body: Any = None
    expect: tuple[int, ...] = (404,)  # another organization's object behaves exactly like a missing one (§2.1)


SEND = {"messages": [{"role": "user", "content": "what does B know?"}]}

# "METHOD /path" (template form) -> the calls that must not reach B. Names like "b.group" are replaced by ids.
CASES: dict[str, list[Call]] = {
    "GET /v1/groups": [
        Call({}, {"after": "b.group"}),
        Call({}, {"before": "b.group"}),
        Call({}, None, expect=(200,)),
    ],
    "GET /v1/groups/count": [Call({}, None, expect=(200,))],
    "GET /v1/groups/{group_id}": [Call({"group_id": "b.group"})],
    "POST /v1/groups": [
        Call({}, None, {"agent_ids": ["b.agent"], "description": "steal"}),
        Call({}, None, {"agent_ids": ["a.agent"], "description": "steal", "shared_block_ids": ["b.block"]}),
        Call(
            {},
            None,
            {
                "agent_ids": ["a.agent"],
                "description": "steal",
                "manager_config": {"manager_type": "supervisor", "manager_agent_id": "b.agent"},
            },
        ),
    ],
    "PATCH /v1/groups/{group_id}": [
        Call({"group_id": "b.group"}, None, {"description": "pwned"}),
        Call({"group_id": "a.group"}, None, {"agent_ids": ["b.agent"]}),
        # shared_block_ids on modify is ignored (contract O-7): 200, and B's block must not show up in A's group.
        Call({"group_id": "a.group"}, None, {"shared_block_ids": ["b.block"]}, expect=(200,)),
    ],
    "DELETE /v1/groups/{group_id}": [Call({"group_id": "b.group"})],
    "GET /v1/agents/{agent_id}/groups": [Call({"agent_id": "b.agent"})],
    "POST /v1/agents": [Call({}, None, {"name": "thief", "block_ids": ["b.block"], "memory_blocks": []})],
    "GET /v1/agents": [
        Call({}, {"after": "b.agent"}),
        Call({}, {"before": "b.agent"}),
        Call({}, None, expect=(200,)),
    ],
    "GET /v1/agents/{agent_id}": [Call({"agent_id": "b.agent"})],
    "PATCH /v1/agents/{agent_id}": [
        Call({"agent_id": "b.agent"}, None, {"name": "pwned"}),
        Call({"agent_id": "a.agent"}, None, {"block_ids": ["b.block"]}),
    ],
    "DELETE /v1/agents/{agent_id}": [Call({"agent_id": "b.agent"})],
    "POST /v1/blocks": [Call({}, None, {"label": "human", "value": "mine"}, expect=(200,))],
    "GET /v1/blocks": [Call({}, None, expect=(200,)), Call({}, {"label": "human"}, expect=(200,))],
    "GET /v1/blocks/{block_id}": [Call({"block_id": "b.block"})],
    "PATCH /v1/blocks/{block_id}": [Call({"block_id": "b.block"}, None, {"value": "pwned"})],
    "DELETE /v1/blocks/{block_id}": [Call({"block_id": "b.block"})],
    "GET /v1/blocks/{block_id}/agents": [Call({"block_id": "b.block"})],
    "GET /v1/agents/{agent_id}/core-memory/blocks": [
        Call({"agent_id": "b.agent"}),
        Call({"agent_id": "a.agent"}, {"after": "b.block"}),
    ],
    "GET /v1/agents/{agent_id}/core-memory/blocks/{block_label}": [Call({"agent_id": "b.agent", "block_label": "b.block_label"})],
    "PATCH /v1/agents/{agent_id}/core-memory/blocks/{block_label}": [
        Call({"agent_id": "b.agent", "block_label": "b.block_label"}, None, {"value": "pwned"})
    ],
    "PATCH /v1/agents/{agent_id}/core-memory/blocks/attach/{block_id}": [
        Call({"agent_id": "a.agent", "block_id": "b.block"}),
        Call({"agent_id": "b.agent", "block_id": "a.block"}),
    ],
    "PATCH /v1/agents/{agent_id}/core-memory/blocks/detach/{block_id}": [
        Call({"agent_id": "b.agent", "block_id": "b.block"}),
        Call({"agent_id": "a.agent", "block_id": "b.block"}),
    ],
    "POST /v1/groups/{group_id}/messages": [Call({"group_id": "b.group"}, None, SEND)],
    "POST /v1/groups/{group_id}/messages/async": [Call({"group_id": "b.group"}, None, SEND)],
    "GET /v1/groups/{group_id}/messages": [
        Call({"group_id": "b.group"}),
        Call({"group_id": "a.group"}, {"after": "b.message"}),
        Call({"group_id": "a.group"}, {"before": "b.message"}),
    ],
    "PATCH /v1/groups/{group_id}/messages/{message_id}": [
        Call({"group_id": "b.group", "message_id": "b.message"}, None, {"message_type": "user_message", "content": "pwned"}),
        Call({"group_id": "a.group", "message_id": "b.message"}, None, {"message_type": "user_message", "content": "pwned"}),
    ],
    "PATCH /v1/groups/{group_id}/reset-messages": [Call({"group_id": "b.group"})],
    "POST /v1/agents/{agent_id}/messages": [Call({"agent_id": "b.agent"}, None, SEND)],
    "POST /v1/agents/{agent_id}/messages/async": [Call({"agent_id": "b.agent"}, None, SEND)],
    "GET /v1/agents/{agent_id}/messages": [
        Call({"agent_id": "b.agent"}),
        Call({"agent_id": "a.agent"}, {"after": "b.message"}),
        # a group of another organization is no group of A's agent: nothing of it is listed
        Call({"agent_id": "a.agent"}, {"group_id": "b.group"}, expect=(200,)),
    ],
    "PATCH /v1/agents/{agent_id}/messages/{message_id}": [
        Call({"agent_id": "b.agent", "message_id": "b.message"}, None, {"message_type": "user_message", "content": "pwned"}),
        Call({"agent_id": "a.agent", "message_id": "b.message"}, None, {"message_type": "user_message", "content": "pwned"}),
    ],
    "PATCH /v1/agents/{agent_id}/reset-messages": [Call({"agent_id": "b.agent"})],
    "GET /v1/runs": [Call({}, None, expect=(200,)), Call({}, {"agent_ids": "b.agent"}, expect=(200,))],
    "GET /v1/runs/active": [Call({}, None, expect=(200,)), Call({}, {"agent_ids": "b.agent"}, expect=(200,))],
    "GET /v1/runs/{run_id}": [Call({"run_id": "b.run"})],
    "GET /v1/runs/{run_id}/messages": [Call({"run_id": "b.run"})],
    "GET /v1/runs/{run_id}/usage": [Call({"run_id": "b.run"})],
}


def _routes() -> dict[str, Route]:
    return {f"{r.method} {r.path}": r for r in http_routes()}


def _fill(value: Any, a: World, b: World) -> Any:
    """Replace "a.<field>" / "b.<field>" placeholders with the worlds' ids, recursively."""
    if isinstance(value, str) and value[:2] in ("a.", "b."):
        return getattr(a if value[0] == "a" else b, value[2:])
    if isinstance(value, dict):
        return {k: _fill(v, a, b) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, a, b) for v in value]
    return value


def _handler(route: Route) -> Any:
    return load_handler(route.function, route.code_dir, route.handler)


def invoke(route: Route, call: Call, a: World, b: World, as_actor: Actor, user_id: Optional[str] = None) -> tuple[int, str]:
    """The route's handler, invoked as API Gateway would after the authorizer allowed `as_actor`."""
    path = route.path
    for name, value in _fill(call.path, a, b).items():
        path = path.replace("{" + name + "}", value)
    query = urlencode(_fill(call.query or {}, a, b)).encode()
    body = json.dumps(_fill(call.body, a, b)).encode() if call.body is not None else b""
    headers = [
        (b"host", b"a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"),
        (b"authorization", b"Bearer <checked by the authorizer>"),
    ]
    if body:
        headers.append((b"content-type", b"application/json"))
    if user_id is not None:
        headers.append((b"user_id", user_id.encode()))
    event = build_event(route, route.method, path, query, headers, body, ("203.0.113.10", 443))
    event["requestContext"]["authorizer"] = authorizer_context(as_actor)
    result = _handler(route)(event, LocalContext(route.function, event["requestContext"]["requestId"]))
    return int(result["statusCode"]), str(result.get("body") or "")


MATRIX = [pytest.param(key, i, id=f"{key} #{i}") for key, calls in CASES.items() for i in range(len(calls))]


def test_every_tenant_route_of_the_template_is_in_the_matrix():
    # Given the routes template.yaml deploys
    declared = set(_routes()) - set(UNSCOPED)
    # Then each one has isolation cases here, and every case names a real route
    assert declared - set(CASES) == set(), "routes without isolation cases"
    assert set(CASES) - declared == set(), "cases for routes the template does not have"


@pytest.mark.parametrize(("key", "index"), MATRIX)
def test_organization_a_cannot_reach_organization_b(worlds: tuple[World, World], key: str, index: int):
    a, b = worlds
    route, call = _routes()[key], CASES[key][index]
    before_b, before_a_count = snapshot(b), groups_logic.count_groups(a.actor)
    # When A's caller sends the request naming B's objects
    status, body = invoke(route, call, a, b, a.actor)
    # Then it is refused as missing (or forbidden), or, for routes naming no object, answered with A's data only
    assert status in call.expect, f"{key}: {status} {body}"
    # And nothing of B shows: no B text, and no B id the request did not itself carry
    sent = json.dumps([call.path, call.query, call.body])
    sent_ids = {getattr(b, f[2:]) for f in ("b.group", "b.agent", "b.agent2", "b.block", "b.message", "b.run") if f in sent}
    if status == 200:
        sent_ids = set()  # a success may not even echo a B id it was given: that would mean B's object got linked
    assert b.secret not in body, f"{key} leaked B's data: {body}"
    for object_id in set(b.ids) - sent_ids:
        assert object_id not in body, f"{key} leaked B's id {object_id}: {body}"
    # And B's data is exactly as before, as B sees it
    assert snapshot(b) == before_b
    if status == 200 and route.method == "GET" and "count" in key:
        assert json.loads(body) == before_a_count


def test_list_routes_show_only_a_s_own_objects(worlds: tuple[World, World]):
    # Given both organizations' objects (the controls: A does see its own)
    a, b = worlds
    routes = _routes()
    for key, field in (("GET /v1/groups", a.group), ("GET /v1/agents", a.agent), ("GET /v1/blocks", a.block)):
        status, body = invoke(routes[key], Call({}), a, b, a.actor)
        # Then A's list holds A's object and none of B's
        assert status == 200, body
        ids = {item["id"] for item in json.loads(body)}
        assert field in ids, key
        assert ids.isdisjoint(b.ids), key


@pytest.mark.parametrize("key", sorted(CASES))
def test_user_id_header_naming_a_user_of_b_is_403(worlds: tuple[World, World], key: str):
    a, b = worlds
    route = _routes()[key]
    # Given a request A's caller may make (its own objects)
    call = Call(
        {name[1:-1]: f"a.{name[1:-1].removesuffix('_id')}" for name in route.path.split("/") if name.startswith("{")},
        None,
        CASES[key][0].body if CASES[key][0].body is None else _own_body(CASES[key][0].body),
    )
    before_b = snapshot(b)
    # When it names B's user in the user_id header, or a user id that exists nowhere
    for user_id in (b.actor.user_id, new_id("user")):
        status, body = invoke(route, call, a, b, a.actor, user_id=user_id)
        # Then 403 with a JSON detail, and B is untouched
        assert status == 403, f"{key}: {status} {body}"
        assert isinstance(json.loads(body)["detail"], str)
        assert b.secret not in body
    assert snapshot(b) == before_b


def _own_body(body: Any) -> Any:
    """The same body with every B reference turned into A's."""
    if isinstance(body, str) and body.startswith("b."):
        return "a." + body[2:]
    if isinstance(body, dict):
        return {k: _own_body(v) for k, v in body.items()}
    if isinstance(body, list):
        return [_own_body(v) for v in body]
    return body


def test_user_id_header_naming_a_colleague_acts_as_that_colleague(worlds: tuple[World, World]):
    # Given a second user in A's organization (the control for the 403 above)
    a, b = worlds
    colleague = new_id("user")
    users.create_user(a.actor.organization_id, colleague, "daphne")
    route = _routes()["POST /v1/groups"]
    # When A's caller creates a group on the colleague's behalf
    status, body = invoke(route, Call({}, None, {"agent_ids": ["a.agent"], "description": "team"}), a, b, a.actor, colleague)
    # Then it is allowed, in A's organization
    assert status == 200, body
    assert groups_logic.retrieve_group(a.actor, json.loads(body)["id"]).description == "team"
