"""Runs, their step records and the per-group run lock."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Optional

from . import keys
from .groups import fields_update_action
from .items import ConditionFailed, get, put_action, transact, write_if
from .table import Expr, key, query_all, serialize, table_name

TERMINAL = ("completed", "failed", "cancelled")
LOCK_LEASE_SECONDS = 15 * 60
RUN_META = "META"


class GroupBusy(Exception):
    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id


def meta_key(org_id: str, run_id: str) -> dict[str, Any]:
    """The key of a run's record (the event log's counter lives on it too)."""
    return key(keys.run_pk(org_id, run_id), RUN_META)


def run_item(org_id: str, run: dict[str, Any]) -> dict[str, Any]:
    item = {**run, "PK": keys.run_pk(org_id, run["id"]), "SK": RUN_META, "entity": "run", "organization_id": org_id}
    if run.get("conversation_id"):
        item["GSI1PK"] = keys.conversation_pk(org_id, run["conversation_id"])
        item["GSI1SK"] = f"RUN#{run['id']}"
    return item


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in {"PK", "SK", "GSI1PK", "GSI1SK", "entity"}}


def get_run(org_id: str, run_id: str) -> Optional[dict[str, Any]]:
    item = get(keys.run_pk(org_id, run_id), RUN_META)
    return _strip(item) if item else None


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
    written = write_if(
        "update_item",
        Key=meta_key(org_id, run_id),
        UpdateExpression=update.strip(),
        ConditionExpression=condition,
        **expr.params(),
    )
    return written is not None


def create_run_once(org_id: str, run: dict[str, Any]) -> bool:
    """Create the run record unless it exists (a retried task re-creating a planned run). True when created."""
    try:
        transact([put_action(run_item(org_id, run))])
        return True
    except ConditionFailed:
        return False


def commit_background_plan(
    org_id: str, run_id: str, group_id: str, group_version: int, group_fields: dict[str, Any], plan: dict[str, Any]
) -> bool:
    """One transaction: the group's run bookkeeping (`turns_counter`, `last_processed_message_id`, the voice
    context cut), applied only if the group is still at `group_version`, and the run's `background_plan`, put
    only if the run has none yet. A retried finalize finds the plan and neither counts the turn twice nor
    plans a second pass. False when either condition failed (re-read and decide again)."""
    run_expr = Expr()
    run_update = {
        "Update": {
            "TableName": table_name(),
            "Key": meta_key(org_id, run_id),
            "UpdateExpression": f"SET {run_expr.name('background_plan')} = {run_expr.value(plan)}",
            "ConditionExpression": f"attribute_exists({run_expr.name('SK')}) AND attribute_not_exists({run_expr.name('background_plan')})",
            **run_expr.params(),
        }
    }
    actions = [run_update]
    if group_fields:
        actions.append(fields_update_action(org_id, group_id, group_version, group_fields))
    try:
        transact(actions)
    except ConditionFailed:
        return False
    return True


def list_conversation_runs(org_id: str, conversation_id: str) -> list[dict[str, Any]]:
    """The runs of a group (its own and its background passes), oldest first (GSI1; eventually consistent)."""
    expr = Expr()
    items = query_all(
        IndexName="GSI1",
        KeyConditionExpression=f"{expr.name('GSI1PK')} = {expr.value(keys.conversation_pk(org_id, conversation_id))}"
        f" AND begins_with({expr.name('GSI1SK')}, {expr.value('RUN#')})",
        **expr.params(),
    )
    return [_strip(item) for item in items]


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
    if write_if("put_item", Item=serialize(item), ConditionExpression=condition, **expr.params()) is None:
        holder = get(keys.org_pk(org_id), keys.lock_sk(group_id)) or {}
        raise GroupBusy(str(holder.get("run_id", "")))


def renew_group_lock(org_id: str, group_id: str, run_id: str) -> bool:
    """Extend the lease of the run's lock before a step (a step is bounded by the task timeout, shorter than
    the lease). False when the run no longer holds the lock (its lease ran out and another run took it)."""
    expr = Expr()
    renewed = write_if(
        "update_item",
        Key=key(keys.org_pk(org_id), keys.lock_sk(group_id)),
        UpdateExpression=f"SET {expr.name('lease_until')} = {expr.value(int(time.time()) + LOCK_LEASE_SECONDS)}",
        ConditionExpression=f"{expr.name('run_id')} = {expr.value(run_id)}",
        **expr.params(),
    )
    return renewed is not None


def release_group_lock(org_id: str, group_id: str, run_id: str) -> None:
    expr = Expr()
    # No match means released already, or taken over after the lease ran out: nothing to do either way.
    write_if(
        "delete_item",
        Key=key(keys.org_pk(org_id), keys.lock_sk(group_id)),
        ConditionExpression=f"{expr.name('run_id')} = {expr.value(run_id)}",
        **expr.params(),
    )


__all__ = ["ConditionFailed", "GroupBusy", "TERMINAL"]
