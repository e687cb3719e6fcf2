"""Organizations, users and API keys (the rows behind authentication and the `user_id` header).

Rows (see keys.py; the organization row is new here):

| Entity        | PK                | SK             | attributes                                   |
|---------------|-------------------|----------------|----------------------------------------------|
| organization  | ORG#o             | ORG            | id, name, created_at                         |
| user          | ORG#o             | USER#<user_id> | id, name, organization_id, created_at        |
| user lookup   | USER#<user_id>    | USER           | organization_id (read by api/identity.py)    |
| api key       | APIKEY#<sha256>   | APIKEY         | key_id, organization_id, user_id, name, created_at |
| key listing   | ORG#o             | APIKEY#<key_id> | key_id, key_hash, user_id, name, created_at |

Only the SHA-256 of an API key is stored, so a leaked table does not leak usable keys. Every write is
conditional: nothing is ever overwritten, a user needs an existing organization, and a key needs a user
of the organization it names. A key and its listing row are written and deleted together (one transaction):
the listing is how an organization's keys are listed (one Query) and revoked by id without the key itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Optional

from . import keys
from .items import ConditionFailed, delete_action, get, put_action, put_new, transact
from .table import Expr, key, query_all, table_name

ORG_SK = "ORG"
USER_LOOKUP_SK = "USER"
API_KEY_SK = "APIKEY"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _exists_check(pk: str, sk: str, **equals: str) -> dict[str, Any]:
    """A transaction ConditionCheck: the item exists (and has these attribute values)."""
    expr = Expr()
    conditions = [f"attribute_exists({expr.name('SK')})"]
    conditions += [f"{expr.name(attr)} = {expr.value(value)}" for attr, value in equals.items()]
    return {
        "ConditionCheck": {
            "TableName": table_name(),
            "Key": key(pk, sk),
            "ConditionExpression": " AND ".join(conditions),
            **expr.params(),
        }
    }


def _strip(item: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    if item is None:
        return None
    return {k: v for k, v in item.items() if k not in ("PK", "SK")}


# --- organizations ------------------------------------------------------------------------------


def create_organization(org_id: str, name: str) -> dict[str, Any]:
    """Raises ConditionFailed when the organization exists already."""
    org = {"id": org_id, "name": name, "created_at": _now()}
    put_new({**org, "PK": keys.org_pk(org_id), "SK": ORG_SK})
    return org


def get_organization(org_id: str) -> Optional[dict[str, Any]]:
    return _strip(get(keys.org_pk(org_id), ORG_SK))


# --- users --------------------------------------------------------------------------------------


def create_user(org_id: str, user_id: str, name: str) -> dict[str, Any]:
    """The user row and its lookup row, in one transaction that also requires the organization.

    Raises ConditionFailed when the organization is missing or the user id is taken (in any organization:
    the lookup row is global, so one user id can never belong to two organizations).
    """
    user = {"id": user_id, "name": name, "organization_id": org_id, "created_at": _now()}
    transact(
        [
            _exists_check(keys.org_pk(org_id), ORG_SK),
            put_action({**user, "PK": keys.org_pk(org_id), "SK": keys.user_sk(user_id)}),
            put_action({"PK": keys.user_lookup_pk(user_id), "SK": USER_LOOKUP_SK, "organization_id": org_id}),
        ]
    )
    return user


def get_user(org_id: str, user_id: str) -> Optional[dict[str, Any]]:
    return _strip(get(keys.org_pk(org_id), keys.user_sk(user_id)))


def user_organization(user_id: str) -> Optional[str]:
    """The organization a user id belongs to, from the global lookup row (None: no such user)."""
    item = get(keys.user_lookup_pk(user_id), USER_LOOKUP_SK)
    return str(item["organization_id"]) if item else None


# --- API keys -----------------------------------------------------------------------------------


def put_api_key(key_hash: str, org_id: str, user_id: str, name: str, key_id: str) -> dict[str, Any]:
    """Store a key's hash for a user, and its listing row; the user must exist in that organization.

    Raises ConditionFailed when the user is missing, belongs to another organization, or the hash is taken.
    """
    record = {"key_id": key_id, "organization_id": org_id, "user_id": user_id, "name": name, "created_at": _now()}
    listing = {"key_id": key_id, "key_hash": key_hash, "user_id": user_id, "name": name, "created_at": record["created_at"]}
    transact(
        [
            _exists_check(keys.user_lookup_pk(user_id), USER_LOOKUP_SK, organization_id=org_id),
            put_action({**record, "PK": keys.api_key_pk(key_hash), "SK": API_KEY_SK}),
            put_action({**listing, "PK": keys.org_pk(org_id), "SK": keys.api_key_listing_sk(key_id)}),
        ]
    )
    return record


def list_api_keys(org_id: str, user_id: Optional[str] = None) -> list[dict[str, Any]]:
    """The organization's keys ({key_id, user_id, name, created_at}; never the hash), oldest first: one Query."""
    expr = Expr()
    condition = f"{expr.name('PK')} = {expr.value(keys.org_pk(org_id))} AND begins_with({expr.name('SK')}, {expr.value(keys.API_KEY_LISTING)})"
    rows = query_all(KeyConditionExpression=condition, ConsistentRead=True, **expr.params())
    fields: tuple[str, ...] = ("key_id", "user_id", "name", "created_at")
    listed = [{k: row[k] for k in fields if k in row} for row in rows]
    return [row for row in listed if user_id is None or row.get("user_id") == user_id]


def revoke_api_key(org_id: str, key_id: str) -> dict[str, Any]:
    """Delete a key of the organization (the key row and its listing, together). Returns what was revoked.

    Raises ConditionFailed when the organization has no such key (never another organization's).
    """
    listing = get(keys.org_pk(org_id), keys.api_key_listing_sk(key_id))
    if listing is None:
        raise ConditionFailed(["NoSuchKey"])
    transact(
        [
            delete_action(keys.org_pk(org_id), keys.api_key_listing_sk(key_id), must_exist=True),
            delete_action(keys.api_key_pk(str(listing["key_hash"])), API_KEY_SK, must_exist=True),
        ]
    )
    return {k: listing[k] for k in ("key_id", "user_id", "name", "created_at") if k in listing}


def get_api_key(key_hash: str) -> Optional[dict[str, Any]]:
    """The key record ({organization_id, user_id, name, created_at}) or None: one consistent GetItem."""
    return _strip(get(keys.api_key_pk(key_hash), API_KEY_SK))


__all__ = [
    "ConditionFailed",
    "create_organization",
    "get_organization",
    "create_user",
    "get_user",
    "user_organization",
    "put_api_key",
    "get_api_key",
    "list_api_keys",
    "revoke_api_key",
]
