"""Runs, their step records and the per-group run lock."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Optional

from botocore.exceptions import ClientError

from . import keys
from .items import ConditionFailed, put_action, transact
from .table import Expr, client, deserialize, error_code, key, query_all, raise_if_unavailable, serialize, table_name

TERMINAL = ("completed", "failed", "cancelled")
LOCK_LEASE_SECONDS = 15 * 60
RUN_TTL_SECONDS = 30 * 24 * 3600


class GroupBusy(Exception):
    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id


def _meta_key(org_id: str, run_id: str) -> dict[str, Any]:
    return key(keys.run_pk(org_id, run_id), "META")


def run_item(org_id: str, run: dict[str, Any]) -> dict[str, Any]:
    item = {**run, "PK": keys.run_pk(org_id, run["id"]), "SK": "META", "entity": "run", "organization_id": org_id}
    if run.get("conversation_id"):
        item["GSI1PK"] = keys.conversation_pk(org_id, run["conversation_id"])
        item["GSI1SK"] = f"RUN#{run['id']}"
    return item


def get_run(org_id: str, run_id: str) -> Optional[dict[str, Any]]:
    try:
        response = client().get_item(TableName=table_name(), Key=_meta_key(org_id, run_id), ConsistentRead=True)
    except ClientError as exc:
        raise_if_unavailable(exc)
        raise
    item = response.get("Item")
    if not item:
        return None
    run = deserialize(item)
    return {k: v for k, v in run.items() if k not in {"PK", "SK", "GSI1PK", "GSI1SK", "entity"}}


def create_run(org_id: str, run: dict[str, Any], extra_actions: Sequence[dict[str, Any]] = ()) -> None:
    """The run record and the transaction actions written with it (the input messages), all or nothing."""
    transact([put_action(run_item(org_id, run)), *extra_actions])


def update_run(org_id: str, run_id: str, fields: dict[str, Any], *, unless_terminal: bool = True) -> bool:
    """Set fields on the run. Returns False when the run was already finished (a replayed task)."""
    expr = Expr()
    sets = [f"{expr.name(k)} = {expr.value(v)}" for k, v in fields.items() if v is not None]
    removes = [expr.name(k) for k, v in fields.items() if v is None]
    update = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
    condition = f"attribute_exists({expr.name('SK')})"
    if unless_terminal:
        status = expr.name("status")
        condition += f" AND NOT {status} IN ({', '.join(expr.value(s) for s in TERMINAL)})"
    try:
        client().update_item(
            TableName=table_name(),
            Key=_meta_key(org_id, run_id),
            UpdateExpression=update.strip(),
            ConditionExpression=condition,
            **expr.params(),
        )
        return True
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise_if_unavailable(exc)
        raise


def list_step_records(org_id: str, run_id: str) -> list[dict[str, Any]]:
    expr = Expr()
    return list(
        query_all(
            KeyConditionExpression=f"{expr.name('PK')} = {expr.value(keys.run_pk(org_id, run_id))} AND begins_with({expr.name('SK')}, {expr.value(keys.STEP)})",
            ConsistentRead=True,
            **expr.params(),
        )
    )


def acquire_group_lock(org_id: str, group_id: str, run_id: str) -> None:
    """One run at a time per group (contract §7.6a). A lease, so a crashed run cannot lock a group forever."""
    now = int(time.time())
    expr = Expr()
    item = {
        "PK": keys.org_pk(org_id),
        "SK": keys.lock_sk(group_id),
        "entity": "lock",
        "run_id": run_id,
        "lease_until": now + LOCK_LEASE_SECONDS,
    }
    condition = f"attribute_not_exists({expr.name('SK')}) OR {expr.name('lease_until')} < {expr.value(now)} OR {expr.name('run_id')} = {expr.value(run_id)}"
    try:
        client().put_item(TableName=table_name(), Item=serialize(item), ConditionExpression=condition, **expr.params())
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            current = client().get_item(
                TableName=table_name(), Key=key(keys.org_pk(org_id), keys.lock_sk(group_id)), ConsistentRead=True
            )
            holder = deserialize(current["Item"]).get("run_id", "") if current.get("Item") else ""
            raise GroupBusy(holder) from exc
        raise_if_unavailable(exc)
        raise


def release_group_lock(org_id: str, group_id: str, run_id: str) -> None:
    expr = Expr()
    try:
        client().delete_item(
            TableName=table_name(),
            Key=key(keys.org_pk(org_id), keys.lock_sk(group_id)),
            ConditionExpression=f"{expr.name('run_id')} = {expr.value(run_id)}",
            **expr.params(),
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return  # released already, or taken over after the lease ran out
        raise_if_unavailable(exc)
        raise


__all__ = ["ConditionFailed", "GroupBusy", "TERMINAL"]
