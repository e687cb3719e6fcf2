"""API keys and the server password: generation, hashing, verification. Nothing HTTP-specific.

A key is shown once when issued; the table holds only its SHA-256 (dal/users.py), and a request's
key is verified by hashing it and reading that one item.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Optional

from ..dal import users
from ..models.identity import Actor

KEY_PREFIX = "sk-lg-"  # recognisable in logs and secret scanners; not secret
KEY_BYTES = 32  # 256 bits of randomness: a hash lookup needs no rate limiting to stay unguessable


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def hash_key(key: str) -> str:
    """Lower-case hex SHA-256 of the key's UTF-8 bytes: the stored form and the lookup key.

    A plain (unsalted) hash is enough for 256-bit random keys and lets verification be one GetItem.
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_key(organization_id: str, user_id: str, name: str = "") -> str:
    """Create a key for an existing user of the organization; returns the key (the only time it exists in clear).

    Raises dal.users.ConditionFailed when the user does not belong to the organization.
    """
    return issue_key_with_id(organization_id, user_id, name)[0]


def issue_key_with_id(organization_id: str, user_id: str, name: str = "") -> tuple[str, str]:
    """`issue_key`, also returning the key's id (listed by `list-keys`, used to revoke it)."""
    from ..ids import new_id

    key, key_id = generate_key(), new_id("key")
    users.put_api_key(hash_key(key), organization_id, user_id, name, key_id)
    return key, key_id


def verify_key(key: Optional[str]) -> Optional[Actor]:
    """The user a key belongs to, or None for a missing or unknown key."""
    if not key:
        return None
    record = users.get_api_key(hash_key(key))
    if record is None:
        return None
    return Actor(user_id=str(record["user_id"]), organization_id=str(record["organization_id"]))


def verify_password(given: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time password check; an unset expected password matches nothing.

    Both sides are hashed first so the comparison takes the same time whatever the given length
    (compare_digest alone returns early on a length mismatch).
    """
    if not expected or given is None:
        return False
    return hmac.compare_digest(hash_key(given).encode(), hash_key(expected).encode())
