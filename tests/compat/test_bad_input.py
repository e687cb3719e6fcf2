"""Bad input on every CRUD endpoint, over raw HTTP: always a clear 4xx JSON with `detail` (422 as FastAPI's list of
{loc, msg, type}), never a 500, and a rejected create writes nothing (contract §2.3, §2.4, §4.4)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from letta_client import Letta

from lettagroups.models.groups import MAX_GROUP_AGENTS

from support.shapes import assert_error

pytestmark = pytest.mark.compat

ONE_MB = 1024 * 1024
LONG_ID_SUFFIX = "x" * 3000

BODY_ROUTES = [
    ("POST", "/v1/groups/"),
    ("PATCH", "/v1/groups/{group}"),
    ("POST", "/v1/agents/"),
    ("PATCH", "/v1/agents/{agent}"),
    ("POST", "/v1/blocks/"),
    ("PATCH", "/v1/blocks/{block}"),
    ("PATCH", "/v1/agents/{agent}/core-memory/blocks/{label}"),
]
ID_ROUTES = [
    ("GET", "/v1/groups/{id}", "group"),
    ("PATCH", "/v1/groups/{id}", "group"),
    ("DELETE", "/v1/groups/{id}", "group"),
    ("GET", "/v1/agents/{id}", "agent"),
    ("PATCH", "/v1/agents/{id}", "agent"),
    ("DELETE", "/v1/agents/{id}", "agent"),
    ("GET", "/v1/agents/{id}/groups", "agent"),
    ("GET", "/v1/blocks/{id}", "block"),
    ("PATCH", "/v1/blocks/{id}", "block"),
    ("DELETE", "/v1/blocks/{id}", "block"),
    ("GET", "/v1/blocks/{id}/agents", "block"),
    ("GET", "/v1/agents/{id}/core-memory/blocks", "agent"),
    ("GET", "/v1/agents/{id}/core-memory/blocks/human", "agent"),
    ("PATCH", "/v1/agents/{id}/core-memory/blocks/human", "agent"),
    ("PATCH", "/v1/agents/{id}/core-memory/blocks/attach/block-nope", "agent"),
    ("PATCH", "/v1/agents/{id}/core-memory/blocks/detach/block-nope", "agent"),
]
LIST_ROUTES = ["/v1/groups/", "/v1/agents/", "/v1/blocks/"]


def nested_lists(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


# Bodies no endpoint may accept: (id, raw bytes, expected status).
BAD_BODIES: list[tuple[str, bytes, int]] = [
    ("truncated", b'{"description": "x"', 422),
    ("not-json", b"{bad", 422),
    ("not-utf8", b"\xff\xfe\x00", 422),
    ("nan", b'{"description": NaN}', 422),
    ("infinity", b'{"limit": Infinity}', 422),
    ("list", b"[1, 2]", 422),
    ("empty-list", b"[]", 422),
    ("number", b"1", 422),
    ("string", b'"text"', 422),
    ("bool", b"true", 422),
    ("null", b"null", 422),
    ("deep-lists-10k", nested_lists(10_000), 422),
    ("deep-objects-40", json.dumps({"metadata": nested_objects(40)}).encode(), 422),
    ("huge-int", b'{"metadata": {"n": 123456789012345678901234567890123456789012345}}', 422),
    ("huge-float", b'{"metadata": {"f": 1e300}}', 422),
    ("tiny-float", b'{"metadata": {"f": 1e-300}}', 422),
    ("empty-key", b'{"metadata": {"": 1}}', 422),
    ("over-1mb", b'{"description": "' + b"x" * (2 * ONE_MB) + b'"}', 413),
]


@pytest.fixture(scope="module")
def targets(letta: Letta) -> Iterator[dict[str, str]]:
    """One real group, agent and block (the agent's, under `label`) for the routes that need an id."""
    block = letta.blocks.create(label="bad-input", value="v")
    agent = letta.agents.create(name="bad-input", block_ids=[block.id])
    group = letta.groups.create(agent_ids=[agent.id], description="bad input")
    yield {"group": group.id, "agent": agent.id, "block": block.id, "label": "bad-input"}
    letta.groups.delete(group.id)
    letta.agents.delete(agent.id)
    letta.blocks.delete(block.id)


def snapshot(http: httpx.Client, targets: dict[str, str], path: str) -> Any:
    """What a rejected request must leave as it was: the collection a POST creates into, or the PATCHed object."""
    if "{" in path:
        return http.get(path.format(**targets)).json()
    if path.startswith("/v1/groups"):
        return http.get("/v1/groups/count").json()
    return len(http.get(path, params={"limit": 10_000} if path.startswith("/v1/agents") else {}).json())


def organization(letta: Letta) -> tuple[int, int, int]:
    """How many groups, agents and blocks the organization has."""
    return letta.groups.count(), len(letta.agents.list(limit=10_000)), len(letta.blocks.list())


def send(http: httpx.Client, method: str, path: str, body: bytes | None, targets: dict[str, str]) -> httpx.Response:
    headers = {"content-type": "application/json"} if body is not None else {}
    return http.request(method, path.format(**targets), content=body, headers=headers)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
@pytest.mark.parametrize(("body", "status"), [(b, s) for _, b, s in BAD_BODIES], ids=[i for i, _, _ in BAD_BODIES])
def test_bad_bodies_are_clear_4xx(
    http: httpx.Client, targets: dict[str, str], method: str, path: str, body: bytes, status: int
) -> None:
    # Given the collection or the object as it is
    before = snapshot(http, targets, path)
    # When the route gets a body it cannot accept
    response = send(http, method, path, body, targets)
    # Then a clear JSON error, and nothing was written
    assert_error(response, status)
    assert snapshot(http, targets, path) == before


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_missing_body_is_422_on_body(http: httpx.Client, targets: dict[str, str], method: str, path: str) -> None:
    detail = assert_error(send(http, method, path, None, targets), 422)
    assert detail == [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]


def test_non_object_body_names_the_input(http: httpx.Client) -> None:
    detail = assert_error(http.post("/v1/groups/", content=b"[1, 2]", headers={"content-type": "application/json"}), 422)
    assert detail[0]["loc"] == ["body"] and detail[0]["input"] == [1, 2] and detail[0]["type"] == "model_attributes_type"


def test_out_of_range_number_points_at_its_field(http: httpx.Client) -> None:
    body = (
        b'{"agent_ids": [], "description": "", "manager_config": {"manager_type": "round_robin", "max_turns": 1'
        + b"0" * 40
        + b"}}"
    )
    detail = assert_error(http.post("/v1/groups/", content=body, headers={"content-type": "application/json"}), 422)
    assert detail[0]["loc"] == ["body", "manager_config", "max_turns"]


# (route, body, the loc that must be reported)
SCHEMA_CASES: list[tuple[str, str, dict[str, Any], list[Any]]] = [
    ("POST", "/v1/groups/", {}, ["body", "agent_ids"]),
    ("POST", "/v1/groups/", {"agent_ids": []}, ["body", "description"]),
    ("POST", "/v1/groups/", {"agent_ids": "abc", "description": ""}, ["body", "agent_ids"]),
    ("POST", "/v1/groups/", {"agent_ids": [None], "description": ""}, ["body", "agent_ids", 0]),
    ("POST", "/v1/groups/", {"agent_ids": [], "description": 1}, ["body", "description"]),
    ("POST", "/v1/groups/", {"agent_ids": [], "description": "x" * 200_000}, ["body", "description"]),
    ("POST", "/v1/groups/", {"agent_ids": ["a" * 300], "description": ""}, ["body", "agent_ids", 0]),
    # one participant more than a group may hold (MAX_GROUP_AGENTS, 32)
    (
        "POST",
        "/v1/groups/",
        {"agent_ids": [f"agent-{i}" for i in range(MAX_GROUP_AGENTS + 1)], "description": ""},
        ["body", "agent_ids"],
    ),
    ("POST", "/v1/groups/", {"agent_ids": [], "description": "", "manager_config": []}, ["body", "manager_config"]),
    (
        "POST",
        "/v1/groups/",
        {"agent_ids": [], "description": "", "manager_config": {"manager_type": "round_robin", "max_turns": "x"}},
        ["body", "manager_config", "round_robin", "max_turns"],
    ),
    ("POST", "/v1/groups/", {"agent_ids": [], "description": "", "shared_block_ids": "b"}, ["body", "shared_block_ids"]),
    ("PATCH", "/v1/groups/{group}", {"agent_ids": "x"}, ["body", "agent_ids"]),
    ("PATCH", "/v1/groups/{group}", {"description": "x" * 200_000}, ["body", "description"]),
    ("PATCH", "/v1/groups/{group}", {"manager_config": {"manager_type": "bogus"}}, ["body", "manager_config"]),
    ("POST", "/v1/agents/", {"name": 5}, ["body", "name"]),
    ("POST", "/v1/agents/", {"name": "n", "description": "x" * 200_000}, ["body", "description"]),
    ("POST", "/v1/agents/", {"name": "n", "memory_blocks": [{"value": "x"}]}, ["body", "memory_blocks", 0, "label"]),
    ("POST", "/v1/agents/", {"name": "n", "llm_config": {"model": "x"}}, ["body", "llm_config", "model_endpoint_type"]),
    ("POST", "/v1/agents/", {"name": "n", "agent_type": "bogus"}, ["body", "agent_type"]),
    ("POST", "/v1/agents/", {"name": "n", "tags": "abc"}, ["body", "tags"]),
    ("POST", "/v1/agents/", {"name": "n", "block_ids": ["b" * 300]}, ["body", "block_ids", 0]),
    ("POST", "/v1/agents/", {"name": "n", "metadata": [1]}, ["body", "metadata"]),
    ("PATCH", "/v1/agents/{agent}", {"name": ""}, ["body", "name"]),
    ("PATCH", "/v1/agents/{agent}", {"enable_sleeptime": "maybe"}, ["body", "enable_sleeptime"]),
    ("PATCH", "/v1/agents/{agent}", {"system": "x" * 200_000}, ["body", "system"]),
    ("POST", "/v1/blocks/", {"label": "x"}, ["body", "value"]),
    ("POST", "/v1/blocks/", {"value": "x"}, ["body", "label"]),
    ("POST", "/v1/blocks/", {"label": "x", "value": 5}, ["body", "value"]),
    ("POST", "/v1/blocks/", {"label": "x", "value": "v", "limit": -1}, ["body", "limit"]),
    ("POST", "/v1/blocks/", {"label": "x", "value": "v" * 200_000}, ["body", "value"]),
    ("PATCH", "/v1/blocks/{block}", {"limit": 0}, ["body", "limit"]),
    ("PATCH", "/v1/blocks/{block}", {"label": ""}, ["body", "label"]),
    ("PATCH", "/v1/blocks/{block}", {"metadata": "x"}, ["body", "metadata"]),
    ("PATCH", "/v1/blocks/{block}", {"value": "x" * 11, "limit": 10}, ["body"]),
    ("POST", "/v1/blocks/", {"label": "x", "value": "x" * 11, "limit": 10}, ["body"]),
    ("PATCH", "/v1/agents/{agent}/core-memory/blocks/{label}", {"limit": 0}, ["body", "limit"]),
    ("PATCH", "/v1/agents/{agent}/core-memory/blocks/{label}", {"label": ""}, ["body", "label"]),
    ("PATCH", "/v1/agents/{agent}/core-memory/blocks/{label}", {"value": "x" * 11, "limit": 10}, ["body"]),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    SCHEMA_CASES,
    ids=[f"{m} {p} {'/'.join(map(str, loc[1:]))}" for m, p, _, loc in SCHEMA_CASES],
)
def test_schema_errors_are_422_at_the_field(
    http: httpx.Client, targets: dict[str, str], method: str, path: str, body: dict[str, Any], loc: list[Any]
) -> None:
    # Given the collection or the object as it is
    before = snapshot(http, targets, path)
    # When a body breaks the schema
    detail = assert_error(send(http, method, path, json.dumps(body).encode(), targets), 422)
    # Then the error points at the field, and nothing was written or changed
    assert loc in [d["loc"] for d in detail], detail
    assert snapshot(http, targets, path) == before


@pytest.mark.parametrize(("method", "path", "kind"), ID_ROUTES, ids=[f"{m} {p}" for m, p, _ in ID_ROUTES])
@pytest.mark.parametrize(
    "suffix", ["nope", LONG_ID_SUFFIX, "00000000-0000-4000-8000-000000000000"], ids=["unknown", "overlong", "uuid"]
)
def test_unknown_and_malformed_ids_are_404(http: httpx.Client, method: str, path: str, kind: str, suffix: str) -> None:
    """§2.4: path ids are not format-validated; an unknown or malformed id is simply not found."""
    object_id = f"{kind}-{suffix}"
    body = b'{"description": "x"}' if method == "PATCH" else None
    response = send(http, method, path.replace("{id}", object_id), body, {})
    assert_error(response, 404, object_id)


def test_rejected_creates_with_unknown_references_write_nothing(
    http: httpx.Client, letta: Letta, targets: dict[str, str]
) -> None:
    before = organization(letta)
    cases = [
        ("/v1/groups/", {"agent_ids": [targets["agent"], "agent-nope"], "description": ""}, 404),
        ("/v1/groups/", {"agent_ids": [targets["agent"]], "description": "", "shared_block_ids": ["block-nope"]}, 404),
        ("/v1/agents/", {"name": "n", "memory_blocks": [{"label": "persona", "value": "p"}], "block_ids": ["block-nope"]}, 404),
        ("/v1/agents/", {"name": "n", "memory_blocks": [{"label": "p", "value": "1"}, {"label": "p", "value": "2"}]}, 400),
        # Too big for one stored item (400 KB) although under the body limit: 413, never a storage 500
        ("/v1/agents/", {"name": "n", "system": "\U0001f600" * 100_000, "description": "\U0001f600" * 10_000}, 413),
        (
            "/v1/blocks/",
            {"label": "big", "value": "\U0001f600" * 100_000, "limit": 100_000, "description": "\U0001f600" * 10_000},
            413,
        ),
    ]
    for path, body, status in cases:
        assert_error(http.post(path, json=body), status)
    assert organization(letta) == before


@pytest.mark.parametrize("path", LIST_ROUTES)
@pytest.mark.parametrize("limit", ["abc", "-1", "1.5", "", "99999999999999999999999", "1e3"])
def test_bad_limit_is_422_on_the_query(http: httpx.Client, path: str, limit: str) -> None:
    detail = assert_error(http.get(path, params={"limit": limit}), 422)
    assert detail[0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v1/groups/", {"manager_type": "bogus"}, 422),
        ("/v1/groups/", {"manager_type": ""}, 422),
        ("/v1/groups/", {"after": "x" * 300}, 422),
        ("/v1/groups/", {"before": "group-nope"}, 404),
        ("/v1/agents/", {"after": "agent-nope"}, 404),
        ("/v1/agents/", {"name": "x" * 1000}, 422),
        ("/v1/agents/", {"match_all_tags": "perhaps"}, 422),
        ("/v1/blocks/", {"templates_only": "perhaps"}, 422),
    ],
)
def test_bad_list_queries(http: httpx.Client, path: str, params: dict[str, str], status: int) -> None:
    assert_error(http.get(path, params=params), status)


def test_header_limits(http: httpx.Client, letta: Letta) -> None:
    before = letta.groups.count()
    detail = assert_error(
        http.post("/v1/groups/", json={"agent_ids": [], "description": ""}, headers={"X-Project": "p" * 1000}), 422
    )
    assert detail[0]["loc"] == ["header", "x-project"]
    assert letta.groups.count() == before


def test_unrouted_requests_are_json_404(http: httpx.Client) -> None:
    for method, path in (("PUT", "/v1/groups/"), ("GET", "/v1/nothing"), ("GET", "/v1/groups/count/extra")):
        assert_error(http.request(method, path), 404)
