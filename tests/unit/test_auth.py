"""Authentication: key hashing and verification, the tenant rows behind them, the HTTP API's Lambda
authorizer invoked with REQUEST (payload 2.0) events, and the streaming function's own credential check."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lettagroups.api.stream_auth import actor_for_stream
from lettagroups.auth import credentials
from lettagroups.auth.keys import KEY_PREFIX, generate_key, hash_key, issue_key, verify_key, verify_password
from lettagroups.dal import keys as table_keys
from lettagroups.dal import table, users
from lettagroups.errors import ForbiddenError, UnauthorizedError
from lettagroups.ids import new_id
from lettagroups.models.identity import DEFAULT_ACTOR, Actor
from lettagroups.settings import get_settings
from lettagroups_local.handlers import LocalContext, load_handler
from lettagroups_local.template import ROOT, functions

EVENT = Path(__file__).resolve().parents[2] / "events" / "authorize-request.json"
PASSWORD = "correct horse battery staple"

DENIED = {"isAuthorized": True, "context": {"denied": True}}


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def auth_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Switch AUTH_MODE / SERVER_PASSWORD / ORIGIN_SECRET for one test (settings are cached per process)."""

    def set_env(mode: str | None = None, password: str | None = None, origin_secret: str | None = None) -> None:
        for name, value in (("AUTH_MODE", mode), ("SERVER_PASSWORD", password), ("ORIGIN_SECRET", origin_secret)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_env
    get_settings.cache_clear()


def make_tenant(name: str = "mystery-inc") -> Actor:
    org_id, user_id = new_id("org"), new_id("user")
    users.create_organization(org_id, name)
    users.create_user(org_id, user_id, "fred")
    return Actor(user_id=user_id, organization_id=org_id)


@pytest.fixture
def tenant(emulation: object) -> Actor:
    return make_tenant()


def api_key_items(user_id: str) -> list[dict[str, Any]]:
    """Every API key row of a user (a scan: tests only)."""
    expr = table.Expr()
    condition = f"begins_with({expr.name('PK')}, {expr.value('APIKEY#')}) AND {expr.name('user_id')} = {expr.value(user_id)}"
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": table.table_name(), "FilterExpression": condition, **expr.params()}
    while True:
        page = table.client().scan(**params)
        found += [table.deserialize(i) for i in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            return found
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def authorizer() -> Callable[[dict[str, Any], Any], Any]:
    props = functions()["AuthorizerFunction"]["Properties"]
    return load_handler("AuthorizerFunction", ROOT / props["CodeUri"], props.get("Handler", "app.lambda_handler"))


def authorize(headers: dict[str, str]) -> dict[str, Any]:
    """Invoke the authorizer with the sample REQUEST event, its headers replaced."""
    event = json.loads(EVENT.read_text())
    event["headers"] = {**{k: v for k, v in event["headers"].items() if k != "authorization"}, **headers}
    event["identitySource"] = [v for k, v in headers.items() if k == "authorization"]
    return authorizer()(copy.deepcopy(event), LocalContext("AuthorizerFunction", event["requestContext"]["requestId"]))


# --- hashing and key material ---------------------------------------------------------------------


def test_hash_key_is_lowercase_hex_sha256_of_the_utf8_key():
    # Given the FIPS 180-2 test vector "abc"
    # Then the stored form is its SHA-256 in lower-case hex
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    # And non-ASCII keys hash their UTF-8 bytes
    assert hash_key("clé") == hashlib.sha256("clé".encode()).hexdigest()
    assert hash_key("a") != hash_key("A")


def test_generated_keys_are_prefixed_long_and_unique():
    # When many keys are generated
    generated = [generate_key() for _ in range(200)]
    # Then each carries the prefix and at least 256 bits of url-safe randomness, and none repeats
    assert all(k.startswith(KEY_PREFIX) for k in generated)
    assert all(len(k) - len(KEY_PREFIX) >= 43 for k in generated)
    assert all(c.isalnum() or c in "-_" for k in generated for c in k)
    assert len(set(generated)) == len(generated)


@pytest.mark.parametrize(
    ("given", "expected", "ok"),
    [
        (PASSWORD, PASSWORD, True),
        (PASSWORD + " ", PASSWORD, False),
        (PASSWORD[:-1], PASSWORD, False),
        ("", PASSWORD, False),
        (None, PASSWORD, False),
        (PASSWORD, None, False),
        ("", "", False),
    ],
)
def test_verify_password(given: str | None, expected: str | None, ok: bool):
    # Then only an exact match of a configured password passes (an unset password matches nothing)
    assert verify_password(given, expected) is ok


# --- keys and tenants in the table -----------------------------------------------------------------


def test_issued_key_verifies_to_its_user_and_only_its_hash_is_stored(tenant: Actor):
    # When a key is issued for the tenant's user
    key = issue_key(tenant.organization_id, tenant.user_id, "laptop")
    # Then it verifies to that user and organization
    assert verify_key(key) == tenant
    # And the table holds the hash as the key of the item, never the key itself
    raw = table.client().get_item(TableName=table.table_name(), Key=table.key(table_keys.api_key_pk(hash_key(key)), "APIKEY"))
    assert "Item" in raw
    assert key not in json.dumps(raw["Item"])
    assert users.get_api_key(hash_key(key)) == {
        "key_id": raw["Item"]["key_id"]["S"],
        "organization_id": tenant.organization_id,
        "user_id": tenant.user_id,
        "name": "laptop",
        "created_at": raw["Item"]["created_at"]["S"],
    }


@pytest.mark.parametrize("key", [None, "", "sk-lg-not-a-real-key", " "])
def test_unknown_or_missing_key_verifies_to_nobody(tenant: Actor, key: str | None):
    issue_key(tenant.organization_id, tenant.user_id)
    assert verify_key(key) is None


def test_key_for_a_user_of_another_organization_is_refused_and_nothing_is_written(tenant: Actor):
    # Given a second organization
    other = make_tenant("other")
    ghost = new_id("user")
    # When a key is requested for the tenant's user under the other organization, or for no user at all
    with pytest.raises(users.ConditionFailed):
        issue_key(other.organization_id, tenant.user_id)
    with pytest.raises(users.ConditionFailed):
        issue_key(tenant.organization_id, ghost)
    # Then no key item names either user
    assert api_key_items(tenant.user_id) == [] and api_key_items(ghost) == []
    # While a proper issue does write exactly one (so the check above can see keys)
    issue_key(tenant.organization_id, tenant.user_id)
    assert len(api_key_items(tenant.user_id)) == 1


def test_tenant_rows_are_never_overwritten(tenant: Actor):
    # When the organization is created again, a user joins a missing organization, or a user id is reused elsewhere
    with pytest.raises(users.ConditionFailed):
        users.create_organization(tenant.organization_id, "again")
    with pytest.raises(users.ConditionFailed):
        users.create_user(new_id("org"), new_id("user"), "ghost")
    other = make_tenant("other")
    with pytest.raises(users.ConditionFailed):
        users.create_user(other.organization_id, tenant.user_id, "impostor")
    # Then the originals are untouched, and the user still resolves to its own organization
    assert users.get_organization(tenant.organization_id)["name"] == "mystery-inc"  # type: ignore[index]
    assert users.user_organization(tenant.user_id) == tenant.organization_id
    assert users.get_user(tenant.organization_id, tenant.user_id)["name"] == "fred"  # type: ignore[index]
    assert users.get_user(other.organization_id, tenant.user_id) is None


# --- modes and bearer parsing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "password", "effective"),
    [
        (None, None, "open"),
        ("open", None, "open"),
        (None, "pw", "password"),
        ("open", "pw", "password"),
        ("password", None, "password"),
        ("apikey", "pw", "apikey"),
        (" APIKEY ", None, "apikey"),
    ],
)
def test_auth_mode(auth_env: Callable[..., None], mode: str | None, password: str | None, effective: str):
    # Given AUTH_MODE and SERVER_PASSWORD
    auth_env(mode=mode, password=password)
    # Then a configured password is never ignored, and modes are read case-insensitively
    assert credentials.auth_mode() == effective


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("abc", None),
        ("", None),
    ],
)
def test_bearer_token(value: str, token: str | None):
    assert credentials.bearer_token({"Authorization": value}) == token
    assert credentials.bearer_token({"authorization": value}) == token


# --- the authorizer handler -------------------------------------------------------------------------


def test_sample_event_is_a_request_authorizer_v2_event():
    event = json.loads(EVENT.read_text())
    assert (event["version"], event["type"]) == ("2.0", "REQUEST")
    assert event["identitySource"] == [event["headers"]["authorization"]]
    assert event["routeArn"].startswith("arn:aws:execute-api:")


def test_authorizer_allows_a_valid_key_with_its_organization_and_user(tenant: Actor, auth_env: Callable[..., None]):
    # Given API-key mode and a key of the tenant's user
    auth_env(mode="apikey")
    key = issue_key(tenant.organization_id, tenant.user_id)
    # When the authorizer gets a request carrying it
    result = authorize({"authorization": f"Bearer {key}"})
    # Then it allows, naming the organization and user for the handlers (simple response format)
    assert result == {
        "isAuthorized": True,
        "context": {"organization_id": tenant.organization_id, "user_id": tenant.user_id},
    }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": ""},
        {"authorization": "Bearer sk-lg-unknown"},
        {"authorization": "Basic Zm9vOmJhcg=="},
        {"authorization": "KEY"},  # the bare key without the Bearer scheme
        {"x-api-key": "KEY"},
    ],
)
def test_authorizer_denies_missing_or_invalid_keys(tenant: Actor, auth_env: Callable[..., None], headers: dict[str, str]):
    # Given API-key mode and a valid key that the request does not present correctly
    auth_env(mode="apikey")
    key = issue_key(tenant.organization_id, tenant.user_id)
    headers = {k: v.replace("KEY", key) for k, v in headers.items()}
    # Then the authorizer marks the request denied (handlers answer 401; a plain deny would be API Gateway's 403)
    assert authorize(headers) == DENIED


def test_authorizer_in_password_mode_accepts_only_the_password(tenant: Actor, auth_env: Callable[..., None]):
    # Given password mode, and a valid API key that means nothing in this mode
    key = issue_key(tenant.organization_id, tenant.user_id)
    auth_env(mode="password", password=PASSWORD)
    # When the bearer is the password, then the default organization and user act
    assert authorize({"authorization": f"Bearer {PASSWORD}"}) == {
        "isAuthorized": True,
        "context": {"organization_id": DEFAULT_ACTOR.organization_id, "user_id": DEFAULT_ACTOR.user_id},
    }
    # And anything else is denied
    for value in (f"Bearer {key}", f"Bearer {PASSWORD}x", PASSWORD, ""):
        assert authorize({"authorization": value}) == DENIED, value


def test_authorizer_in_password_mode_without_a_password_denies_everything(auth_env: Callable[..., None]):
    auth_env(mode="password")
    assert authorize({"authorization": "Bearer "}) == DENIED
    assert authorize({"authorization": "Bearer anything"}) == DENIED


def test_authorizer_in_open_mode_allows_without_context(auth_env: Callable[..., None]):
    # Given open mode: handlers then apply the open-mode actor rules themselves
    auth_env(mode="open")
    assert authorize({"authorization": "Bearer bogus"}) == {"isAuthorized": True}


def test_authorizer_with_an_unknown_mode_fails_closed(tenant: Actor, auth_env: Callable[..., None]):
    key = issue_key(tenant.organization_id, tenant.user_id)
    auth_env(mode="apikeys")
    assert authorize({"authorization": f"Bearer {key}"}) == DENIED


# --- the streaming function's own check --------------------------------------------------------------


def test_stream_auth_in_api_key_mode(tenant: Actor, auth_env: Callable[..., None]):
    auth_env(mode="apikey")
    key = issue_key(tenant.organization_id, tenant.user_id)
    # Given a second user in the tenant's organization, and a user of another organization
    colleague = new_id("user")
    users.create_user(tenant.organization_id, colleague, "velma")
    stranger = make_tenant("other")
    # Then a valid key names its user, and a user_id header may pick a colleague
    assert actor_for_stream({"Authorization": f"Bearer {key}"}) == tenant
    assert actor_for_stream({"authorization": f"Bearer {key}", "user_id": colleague}) == Actor(
        user_id=colleague, organization_id=tenant.organization_id
    )
    # But not a user of another organization, nor an id naming nobody (403)
    for other in (stranger.user_id, new_id("user")):
        with pytest.raises(ForbiddenError):
            actor_for_stream({"authorization": f"Bearer {key}", "user_id": other})
    # And missing or unknown credentials are 401 "Unauthorized"
    for headers in ({}, {"authorization": "Bearer sk-lg-unknown"}, {"user_id": tenant.user_id}):
        with pytest.raises(UnauthorizedError) as raised:
            actor_for_stream(headers)
        assert raised.value.detail == "Unauthorized"
        assert raised.value.status_code == 401


def test_stream_auth_in_password_mode(auth_env: Callable[..., None]):
    auth_env(password=PASSWORD)
    assert actor_for_stream({"authorization": f"Bearer {PASSWORD}"}) == DEFAULT_ACTOR
    with pytest.raises(UnauthorizedError):
        actor_for_stream({"authorization": "Bearer nope"})


def test_stream_auth_in_open_mode_ignores_authorization(emulation: object, auth_env: Callable[..., None]):
    auth_env(mode="open")
    assert actor_for_stream({"authorization": "Bearer bogus"}) == DEFAULT_ACTOR


def test_stream_auth_requires_the_origin_secret_when_set(tenant: Actor, auth_env: Callable[..., None]):
    # Given a deployment behind CloudFront (ORIGIN_SECRET set)
    auth_env(mode="apikey", origin_secret="s3cret")
    key = issue_key(tenant.organization_id, tenant.user_id)
    # Then valid credentials alone are refused (403) until the origin header matches
    for origin in (None, "", "wrong", "s3cret "):
        headers = {"authorization": f"Bearer {key}"}
        if origin is not None:
            headers["X-Origin-Verify"] = origin
        with pytest.raises(ForbiddenError):
            actor_for_stream(headers)
    assert actor_for_stream({"authorization": f"Bearer {key}", "x-origin-verify": "s3cret"}) == tenant


def test_stream_app_answers_401_and_403_as_json(tenant: Actor, auth_env: Callable[..., None]):
    # Given the streaming function's ASGI app (as the local runner loads it)
    from lettagroups_local.handlers import load_module

    props = functions()["StreamFunction"]["Properties"]
    app = load_module("functions_StreamFunction_main", ROOT / props["CodeUri"] / "main.py").app
    auth_env(mode="apikey")
    key = issue_key(tenant.organization_id, tenant.user_id)
    path = f"/v1/groups/{new_id('group')}/messages/stream"
    body = {"messages": [{"role": "user", "content": "hi"}]}

    async def call(method: str, url: str, headers: dict[str, str]) -> tuple[int, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stream") as client:
            response = await client.request(method, url, json=body if method == "POST" else None, headers=headers)
            return response.status_code, response.json()

    # When a stream is requested without credentials, or with an unknown key, then 401 {"detail": "Unauthorized"}
    assert asyncio.run(call("POST", path, {})) == (401, {"detail": "Unauthorized"})
    unknown = {"Authorization": "Bearer sk-lg-unknown"}
    assert asyncio.run(call("GET", f"/v1/runs/{new_id('run')}/stream", unknown)) == (401, {"detail": "Unauthorized"})
    # And with a valid key it gets past authentication (the group is unknown there: 404)
    status, _ = asyncio.run(call("POST", path, {"Authorization": f"Bearer {key}"}))
    assert status == 404
    # And with ORIGIN_SECRET set, a valid key without the origin header is 403
    auth_env(mode="apikey", origin_secret="s3cret")
    status, _ = asyncio.run(call("POST", path, {"Authorization": f"Bearer {key}"}))
    assert status == 403


# --- scripts/admin.py ---------------------------------------------------------------------------------


def test_admin_cli_creates_org_user_and_a_key_that_verifies(emulation: object, capsys: pytest.CaptureFixture[str]):
    import importlib.util

    spec = importlib.util.spec_from_file_location("admin_cli", ROOT / "scripts" / "admin.py")
    assert spec is not None and spec.loader is not None
    admin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(admin)
    # When an organization, a user and a key are created through the CLI (table from TABLE_NAME, as in the session)
    assert admin.main(["create-org", "--name", "Mystery Inc"]) == 0
    org = json.loads(capsys.readouterr().out)
    assert admin.main(["create-user", "--org", org["id"], "--name", "fred"]) == 0
    user = json.loads(capsys.readouterr().out)
    assert admin.main(["create-key", "--org", org["id"], "--user", user["id"], "--name", "laptop"]) == 0
    key = capsys.readouterr().out.strip()
    # Then the printed key verifies to that user, and only its hash is stored
    assert org["id"].startswith("org-") and user["organization_id"] == org["id"]
    assert key.startswith(KEY_PREFIX)
    assert verify_key(key) == Actor(user_id=user["id"], organization_id=org["id"])
    assert [i["PK"] for i in api_key_items(user["id"])] == [f"APIKEY#{hash_key(key)}"]
    # And refused writes exit 1 with a message, writing nothing
    assert admin.main(["create-org", "--name", "again", "--id", org["id"]]) == 1
    assert admin.main(["create-key", "--org", new_id("org"), "--user", user["id"]]) == 1
    assert admin.main(["create-user", "--org", new_id("org"), "--name", "ghost"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("error: ") == 3
    assert len(api_key_items(user["id"])) == 1


def test_denied_context_and_missing_authorizer_are_401_in_handlers(auth_env: Callable[..., None]):
    # Given an authenticated mode
    from lettagroups.api.identity import actor_from_event
    from lettagroups.errors import UnauthorizedError

    auth_env(mode="apikey")
    # When a handler sees credentials the authorizer refused, or no authorizer context at all
    for authorizer in ({"lambda": {"denied": True}}, {}):
        event = {"headers": {}, "requestContext": {"authorizer": authorizer}}
        # Then it refuses before touching data
        with pytest.raises(UnauthorizedError):
            actor_from_event(event)


def _admin_cli() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("admin_cli", ROOT / "scripts" / "admin.py")
    assert spec is not None and spec.loader is not None
    admin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(admin)
    return admin


def test_admin_cli_lists_and_revokes_keys(emulation: object, capsys: pytest.CaptureFixture[str]):
    admin = _admin_cli()
    # Given an organization with two users, and keys made for them without naming the organization (as the README shows)
    assert admin.main(["create-org", "--name", "Mystery Inc"]) == 0
    org = json.loads(capsys.readouterr().out)["id"]
    people = []
    for name in ("fred", "velma"):
        assert admin.main(["create-user", "--org", org, "--name", name]) == 0
        people.append(json.loads(capsys.readouterr().out)["id"])
    keys = []
    for user, label in ((people[0], "laptop"), (people[0], "ci"), (people[1], "phone")):
        assert admin.main(["create-key", "--user", user, "--name", label]) == 0
        captured = capsys.readouterr()
        keys.append(captured.out.strip())
        assert captured.err.startswith("key id: key-")
    assert [verify_key(k) for k in keys] == [Actor(user_id=u, organization_id=org) for u in (people[0], people[0], people[1])]
    # When the organization's keys are listed, and one user's
    assert admin.main(["list-keys", "--org", org]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert admin.main(["list-keys", "--user", people[0]]) == 0
    freds = json.loads(capsys.readouterr().out)
    # Then each key appears with its id, user, name and date, never the key or its hash
    assert [(k["user_id"], k["name"]) for k in listed] == [(people[0], "laptop"), (people[0], "ci"), (people[1], "phone")]
    assert set(listed[0]) == {"key_id", "user_id", "name", "created_at"}
    assert not any(k in json.dumps(listed) for k in keys) and hash_key(keys[0]) not in json.dumps(listed)
    assert freds == listed[:2]
    # When fred's laptop key is revoked
    assert admin.main(["revoke-key", "--org", org, "--id", listed[0]["key_id"]]) == 0
    capsys.readouterr()
    # Then it no longer verifies (the authorizer and the stream function both verify this way), the others still do
    assert verify_key(keys[0]) is None
    assert verify_key(keys[1]) is not None and verify_key(keys[2]) is not None
    assert admin.main(["list-keys", "--org", org]) == 0
    assert [k["name"] for k in json.loads(capsys.readouterr().out)] == ["ci", "phone"]
    # And revoking it again, or through another organization, or a key for an unknown user, exits 1
    other = make_tenant("other")
    assert admin.main(["revoke-key", "--org", org, "--id", listed[0]["key_id"]]) == 1
    assert admin.main(["revoke-key", "--org", other.organization_id, "--id", listed[1]["key_id"]]) == 1
    assert admin.main(["create-key", "--user", new_id("user")]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("error: ") == 3
    assert verify_key(keys[1]) is not None
