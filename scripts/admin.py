#!/usr/bin/env python3
"""Tenant administration: organizations, users, and their API keys (create, list, revoke).

Works on the table named by TABLE_NAME (in the account and region of the usual AWS environment
variables or profile); set DYNAMODB_ENDPOINT_URL to use a local table instead. Every write is
conditional, so nothing existing is ever overwritten.

Usage (from the repository root, with the project venv):

    export TABLE_NAME=<the stack's TableName output>
    .venv/bin/python scripts/admin.py create-org --name "Mystery Inc"
        # prints {"id": "org-…", "name": "Mystery Inc", "created_at": …}
    .venv/bin/python scripts/admin.py create-user --org org-… --name fred
        # prints {"id": "user-…", "name": "fred", "organization_id": "org-…", …}
    .venv/bin/python scripts/admin.py create-key --user user-… --name laptop
        # prints the key (sk-lg-…) once on stdout (its id on stderr); only its SHA-256 is stored, so keep it now
    # then: Letta(base_url=<ApiUrl>, token="sk-lg-…")
    .venv/bin/python scripts/admin.py list-keys --org org-…          # or --user user-…: ids, users, names, dates
    .venv/bin/python scripts/admin.py revoke-key --org org-… --id key-…
        # the key stops working at once on the stream function, and within the HTTP API authorizer's
        # cache time (300 s, template.yaml ReauthorizeEvery) everywhere else

Against the local runner (`AUTH_MODE=apikey python -m lettagroups_local` logs "moto at http://127.0.0.1:<port>";
its table is `letta-groups`):

    DYNAMODB_ENDPOINT_URL=http://127.0.0.1:<port> TABLE_NAME=letta-groups AWS_ACCESS_KEY_ID=local \\
        AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 .venv/bin/python scripts/admin.py create-org --name dev

`--id` picks the organization or user id (e.g. the default organization
org-00000000-0000-4000-8000-000000000000); otherwise a new `org-…`/`user-…` id is generated. Where `--org`
is optional, the user's organization is used.
Exit status: 0 on success, 1 when a condition fails (organization exists or missing, user id taken,
user not in that organization, no such key).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

try:
    import lettagroups  # noqa: F401 - installed by `pip install -e .`
except ImportError:  # run from a checkout without the editable install
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "common"))

from lettagroups.auth.keys import issue_key_with_id
from lettagroups.dal import users
from lettagroups.ids import new_id


def _create_org(args: argparse.Namespace) -> Any:
    return users.create_organization(args.id or new_id("org"), args.name)


def _create_user(args: argparse.Namespace) -> Any:
    return users.create_user(args.org, args.id or new_id("user"), args.name)


def _org_of(args: argparse.Namespace) -> str:
    """--org, else the organization of --user (raises ConditionFailed for an unknown user)."""
    if args.org:
        return str(args.org)
    org = users.user_organization(args.user) if getattr(args, "user", None) else None
    if org is None:
        raise users.ConditionFailed(["NoSuchUser"])
    args.org = org
    return org


def _create_key(args: argparse.Namespace) -> Any:
    key, key_id = issue_key_with_id(_org_of(args), args.user, args.name)
    print(f"key id: {key_id} (organization {args.org}, user {args.user})", file=sys.stderr)
    return key


def _list_keys(args: argparse.Namespace) -> Any:
    return users.list_api_keys(_org_of(args), args.user)


def _revoke_key(args: argparse.Namespace) -> Any:
    return users.revoke_api_key(args.org, args.id)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="admin.py", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)

    org = commands.add_parser("create-org", help="create an organization")
    org.add_argument("--name", required=True)
    org.add_argument("--id", help="organization id (default: a new org-<uuid>)")
    org.set_defaults(run=_create_org, failure="organization {id} exists already")

    user = commands.add_parser("create-user", help="create a user in an existing organization")
    user.add_argument("--org", required=True, help="organization id")
    user.add_argument("--name", required=True)
    user.add_argument("--id", help="user id (default: a new user-<uuid>)")
    user.set_defaults(run=_create_user, failure="organization {org} does not exist, or user id {id} is taken")

    key = commands.add_parser("create-key", help="issue an API key for a user; prints it once")
    key.add_argument("--user", required=True, help="user id")
    key.add_argument("--org", help="organization id (default: the user's; when given, the user must belong to it)")
    key.add_argument("--name", default="", help="a label for the key (e.g. where it is used)")
    key.set_defaults(run=_create_key, failure="user {user} is not a user of organization {org}")

    listing = commands.add_parser("list-keys", help="list an organization's API keys (ids, users, names; never the keys)")
    scope = listing.add_mutually_exclusive_group(required=True)
    scope.add_argument("--org", help="organization id")
    scope.add_argument("--user", help="only this user's keys (in the user's organization)")
    listing.set_defaults(run=_list_keys, failure="user {user} does not exist")

    revoke = commands.add_parser("revoke-key", help="revoke an API key by its id (see list-keys)")
    revoke.add_argument("--org", required=True, help="organization id")
    revoke.add_argument("--id", required=True, help="key id (key-…)")
    revoke.set_defaults(run=_revoke_key, failure="organization {org} has no key {id}")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result = args.run(args)
    except users.ConditionFailed:
        print(f"error: {args.failure.format(**vars(args))}", file=sys.stderr)
        return 1
    print(result if isinstance(result, str) else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
