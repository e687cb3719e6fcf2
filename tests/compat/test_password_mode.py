"""Local password mode: `SERVER_PASSWORD=<pw> python -m lettagroups_local` (contract §2.1, 0.7.7 password mode).

Every route but GET /v1/health/ needs `Authorization: Bearer <pw>` (letta-client's `token=`) and answers
401 {"detail": "Unauthorized"} without it, the streaming routes included (the stream app checks itself).
A second server subprocess, started like the `server_url` fixture with the password set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from letta_client import Letta, MessageCreate
from letta_client.core.api_error import ApiError

pytestmark = pytest.mark.compat

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "scooby-snacks-7f3a"
UNAUTHORIZED = {"detail": "Unauthorized"}
UNKNOWN_GROUP = "group-00000000-0000-4000-8000-0000000000ff"


@pytest.fixture(scope="module")
def secure_url(start_local_server) -> Iterator[str]:
    """The local server with SERVER_PASSWORD set, on a free port; yields its base URL."""
    with start_local_server({"SERVER_PASSWORD": PASSWORD}, "local-server-password.log") as url:
        yield url


@pytest.fixture(scope="module")
def http(secure_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=secure_url, timeout=30, follow_redirects=False) as client:
        yield client


def test_health_is_open(http: httpx.Client):
    # When health is asked without credentials, with and without the trailing slash
    for path in ("/v1/health/", "/v1/health"):
        response = http.get(path)
        # Then it answers as in open mode
        assert response.status_code == 200, path
        assert response.json()["status"] == "ok"


def test_letta_client_with_the_password_as_token_works(secure_url: str):
    # Given letta-client with token=<password>
    letta = Letta(base_url=secure_url, token=PASSWORD, timeout=30)
    # When it creates, lists, counts, retrieves and deletes a group
    before = letta.groups.count()
    group = letta.groups.create(agent_ids=[], description="password mode")
    try:
        # Then every call succeeds, acting as the default user
        assert group.id in [g.id for g in letta.groups.list()]
        assert letta.groups.count() == before + 1
        assert letta.groups.retrieve(group.id).description == "password mode"
    finally:
        letta.groups.delete(group.id)
    assert letta.groups.count() == before


@pytest.mark.parametrize("token", [None, "wrong-password", PASSWORD + "x", PASSWORD[:-1]])
def test_letta_client_without_the_password_gets_401(secure_url: str, token: str | None):
    # Given letta-client with no token, or a wrong one
    letta = Letta(base_url=secure_url, token=token, timeout=30)
    # When it lists, counts or creates groups
    calls = [letta.groups.list, letta.groups.count, lambda: letta.groups.create(agent_ids=[], description="nope")]
    for call in calls:
        with pytest.raises(ApiError) as raised:
            call()
        # Then each is refused with 401 {"detail": "Unauthorized"}
        assert raised.value.status_code == 401
        assert raised.value.body == UNAUTHORIZED


def test_refused_create_writes_nothing(secure_url: str):
    letta = Letta(base_url=secure_url, token=PASSWORD, timeout=30)
    before = letta.groups.count()
    with pytest.raises(ApiError) as raised:
        Letta(base_url=secure_url, timeout=30).groups.create(agent_ids=[], description="nope")
    assert raised.value.status_code == 401
    assert raised.value.body == UNAUTHORIZED
    assert letta.groups.count() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/groups/"),
        ("GET", "/v1/groups"),
        ("GET", "/v1/groups/count"),
        ("GET", f"/v1/groups/{UNKNOWN_GROUP}"),
        ("POST", "/v1/groups/"),
        ("DELETE", f"/v1/groups/{UNKNOWN_GROUP}"),
        ("GET", f"/v1/groups/{UNKNOWN_GROUP}/messages"),
        ("POST", f"/v1/groups/{UNKNOWN_GROUP}/messages"),
        ("PATCH", f"/v1/groups/{UNKNOWN_GROUP}/reset-messages"),
        ("GET", "/v1/agents/"),
        ("POST", "/v1/agents/"),
        ("GET", "/v1/blocks/"),
        ("GET", "/v1/runs/run-00000000-0000-4000-8000-0000000000ff"),
        ("GET", "/openapi.json"),
    ],
)
def test_every_other_route_needs_the_password(http: httpx.Client, method: str, path: str):
    body = {"agent_ids": [], "description": "x", "messages": [{"role": "user", "content": "hi"}], "name": "x"}
    kwargs = {"json": body} if method in ("POST", "PATCH") else {}
    # When asked with no Authorization, a wrong bearer, the right password under another scheme, or the bare password
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {PASSWORD}"}, {"Authorization": PASSWORD}):
        response = http.request(method, path, headers=headers, **kwargs)
        # Then 401 {"detail": "Unauthorized"}, before any handler runs
        assert response.status_code == 401, (headers, response.text)
        assert response.json() == UNAUTHORIZED
    # And with the password the route is reached (any answer but 401)
    response = http.request(method, path, headers={"Authorization": f"Bearer {PASSWORD}"}, **kwargs)
    assert response.status_code != 401, response.text


def test_stream_routes_need_the_password(http: httpx.Client):
    body = {"messages": [{"role": "user", "content": "hi"}]}
    stream = f"/v1/groups/{UNKNOWN_GROUP}/messages/stream"
    runs = "/v1/runs/run-00000000-0000-4000-8000-0000000000ff/stream"
    # When the stream routes are asked without the password
    for method, path in (("POST", stream), ("POST", stream + "/"), ("GET", runs)):
        for headers in ({}, {"Authorization": "Bearer nope"}):
            response = http.request(method, path, json=body if method == "POST" else None, headers=headers)
            # Then the stream app itself answers 401 {"detail": "Unauthorized"}
            assert response.status_code == 401, (path, headers, response.text)
            assert response.json() == UNAUTHORIZED
    # And with it, the request gets through to the group lookup (unknown group: 404)
    response = http.post(stream, json=body, headers={"Authorization": f"Bearer {PASSWORD}"})
    assert response.status_code == 404, response.text


def test_letta_client_stream_without_token_raises_401(secure_url: str):
    # Given a real group of one agent (so an authorized send would write), created with the password
    letta = Letta(base_url=secure_url, token=PASSWORD, timeout=30)
    agent = letta.agents.create(name="stream-auth")
    group = letta.groups.create(agent_ids=[agent.id], description="stream auth")
    try:
        # When letta-client streams to it without a token
        anonymous = Letta(base_url=secure_url, timeout=30)
        with pytest.raises(ApiError) as raised:
            list(anonymous.groups.messages.create_stream(group.id, messages=[MessageCreate(role="user", content="hi")]))
        # Then 401 {"detail": "Unauthorized"}, and nothing was written to the group's transcript
        assert raised.value.status_code == 401
        assert raised.value.body == UNAUTHORIZED
        assert letta.groups.messages.list(group.id) == []
        # And the same stream with the password does write (the check above is not vacuous)
        list(letta.groups.messages.create_stream(group.id, messages=[MessageCreate(role="user", content="hi")]))
        written = letta.groups.messages.list(group.id)
        assert [m.message_type for m in written] == ["user_message", "reasoning_message", "assistant_message"]
    finally:
        letta.groups.delete(group.id)
        letta.agents.delete(agent.id)
