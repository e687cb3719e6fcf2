"""Runs, their step records, and each conversation's head (the one-run-at-a-time lock and its last run).

| Item              | PK                  | SK               |
|-------------------|---------------------|------------------|
| run               | ORG#o#RUN#<run>     | META             | (GSI2: ORG#o#USERRUNS#<user> / RUN#<run>)
| run start state   | ORG#o#RUN#<run>     | START            | (what a failed run resumes from; no index)
| step record       | ORG#o#RUN#<run>     | STEP#<step key>  |
| conversation head | ORG#o               | LOCK#<conv>      |

Everything that changes a run is an action for the caller's transaction (`*_action`), so a send writes its lock,
run and inputs in one transaction and a run's last turn writes its step, completion and lock release in one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, Optional

from ..models.records import TERMINAL, ConversationHead, RunRecord, StepRecord
from . import keys
from .items import ConditionFailed, get, put_action, transact, write_if
from .table import Expr, batch_get, key, query_all, sort_key_range, table_name, without_keys

RUN_META = "META"
RUN_START = "START"
# A run renews its hold at every turn; an execution that dies without releasing it frees the conversation when this
# runs out. Longer than an Express execution may last (5 minutes), so a live run never loses it between turns.
LEASE_SECONDS = 6 * 60


class ConversationBusy(Exception):
    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id


def meta_key(org_id: str, run_id: str) -> dict[str, Any]:
    return key(keys.run_pk(org_id, run_id), RUN_META)


def _run_item(org_id: str, run: RunRecord) -> dict[str, Any]:
    item = {
        **run.model_dump(mode="json", exclude_none=True),
        "PK": keys.run_pk(org_id, run.id),
        "SK": RUN_META,
        "entity": "run",
        "organization_id": org_id,
    }
    if run.created_by_id:
        item["GSI2PK"] = keys.user_runs_pk(org_id, run.created_by_id)
        item["GSI2SK"] = f"RUN#{run.id}"
    return item


def _to_run(item: dict[str, Any]) -> RunRecord:
    return RunRecord.model_validate(without_keys(item))


# --- runs -------------------------------------------------------------------------------------------------------


def get_run(org_id: str, run_id: str) -> Optional[RunRecord]:
    item = get(keys.run_pk(org_id, run_id), RUN_META)
    return _to_run(item) if item else None


def put_run_action(org_id: str, run: RunRecord) -> dict[str, Any]:
    """Create the run (refused if it exists)."""
    return put_action(_run_item(org_id, run))


def create_run_once(org_id: str, run: RunRecord) -> bool:
    """Create the run unless it exists (a retried task re-creating a planned run). True when created."""
    try:
        transact([put_run_action(org_id, run)])
        return True
    except ConditionFailed:
        return False


def _set_fields(expr: Expr, fields: dict[str, Any]) -> str:
    sets = [f"{expr.name(k)} = {expr.value(v)}" for k, v in fields.items() if v is not None]
    removes = [expr.name(k) for k, v in fields.items() if v is None]
    return (("SET " + ", ".join(sets)) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")


def update_run_action(
    org_id: str, run_id: str, fields: dict[str, Any], *, unless_terminal: bool = True, only_from: Optional[str] = None
) -> dict[str, Any]:
    """Set (None: remove) fields of a run; refused once the run is finished unless `unless_terminal` is False, and
    unless its status is `only_from` when that is given."""
    expr = Expr()
    update = _set_fields(expr, fields).strip()
    condition = f"attribute_exists({expr.name('SK')})"
    if unless_terminal:
        condition += f" AND NOT {expr.name('status')} IN ({', '.join(expr.value(s) for s in TERMINAL)})"
    if only_from is not None:
        condition += f" AND {expr.name('status')} = {expr.value(only_from)}"
    return {
        "Update": {
            "TableName": table_name(),
            "Key": meta_key(org_id, run_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            **expr.params(),
        }
    }


def update_run(
    org_id: str, run_id: str, fields: dict[str, Any], *, unless_terminal: bool = True, only_from: Optional[str] = None
) -> bool:
    """Set fields of a run. False when its conditions did not hold (finished, missing, not in `only_from`)."""
    action = update_run_action(org_id, run_id, fields, unless_terminal=unless_terminal, only_from=only_from)["Update"]
    params = {k: v for k, v in action.items() if k != "TableName"}
    return write_if("update_item", **params) is not None


def iter_user_runs(
    org_id: str,
    user_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    descending: bool = False,
    page_size: int = 100,
) -> Iterator[RunRecord]:
    """The runs a user started (their sends and the background passes those started) strictly between two run-id
    cursors, oldest first (or newest), read a page at a time as the caller consumes them (GSI2; eventually
    consistent on AWS)."""
    expr = Expr()
    pk = keys.user_runs_pk(org_id, user_id)
    for item in query_all(
        IndexName="GSI2",
        KeyConditionExpression=sort_key_range(expr, "GSI2PK", pk, "GSI2SK", "RUN#", after, before),
        ScanIndexForward=not descending,
        Limit=page_size,
        **expr.params(),
    ):
        if item.get("id") not in (after, before):  # BETWEEN holds the cursors themselves
            yield _to_run(item)


# --- step records -----------------------------------------------------------------------------------------------


def step_record_action(org_id: str, run_id: str, record: StepRecord) -> dict[str, Any]:
    """Put the step's record, refused if the step was recorded already (its idempotency check)."""
    item = {
        **record.model_dump(mode="json", exclude_none=True),
        "PK": keys.run_pk(org_id, run_id),
        "SK": f"{keys.STEP}{record.step_key}",
        "entity": "step",
    }
    return put_action(item)


def put_step_record(org_id: str, run_id: str, record: StepRecord) -> None:
    """Record a step that wrote nothing else (ConditionFailed when it is recorded already)."""
    transact([step_record_action(org_id, run_id, record)])


def get_step_records(org_id: str, run_id: str, step_keys: Sequence[str]) -> dict[str, StepRecord]:
    if not step_keys:
        return {}
    pk = keys.run_pk(org_id, run_id)
    items = batch_get([key(pk, f"{keys.STEP}{k}") for k in step_keys])
    return {str(i["step_key"]): StepRecord.model_validate(without_keys(i)) for i in items}


def list_step_records(org_id: str, run_id: str, prefix: str = "") -> list[StepRecord]:
    expr = Expr()
    items = query_all(
        KeyConditionExpression=f"{expr.name('PK')} = {expr.value(keys.run_pk(org_id, run_id))} AND begins_with({expr.name('SK')}, {expr.value(keys.STEP + prefix)})",
        ConsistentRead=True,
        **expr.params(),
    )
    return [StepRecord.model_validate(without_keys(i)) for i in items]


# --- the conversation head: one run at a time (contract §7.6a) ----------------------------------------------------


def head_keys(org_id: str, conversation_id: str) -> tuple[str, str]:
    return keys.org_pk(org_id), keys.lock_sk(conversation_id)


def to_head(item: Optional[dict[str, Any]]) -> ConversationHead:
    return ConversationHead.model_validate(without_keys(item or {}))


def get_head(org_id: str, conversation_id: str) -> ConversationHead:
    return to_head(get(*head_keys(org_id, conversation_id)))


def _update_head(org_id: str, conversation_id: str, expr: Expr, update: str, condition: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(*head_keys(org_id, conversation_id)),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            **expr.params(),
        }
    }


def acquire_action(org_id: str, conversation_id: str, run_id: str, fingerprint: Optional[str] = None) -> dict[str, Any]:
    """Take the conversation for `run_id`: refused while another run holds it within its lease."""
    now = int(time.time())
    expr = Expr()
    holder, lease = expr.name("holder"), expr.name("lease_until")
    update = (
        f"SET {holder} = {expr.value(run_id)}, {lease} = {expr.value(now + LEASE_SECONDS)}, "
        f"{expr.name('last_run_id')} = {expr.value(run_id)}, {expr.name('entity')} = {expr.value('head')}"
    )
    if fingerprint:
        update += f", {expr.name('last_fingerprint')} = {expr.value(fingerprint)}"
    condition = f"attribute_not_exists({holder}) OR {lease} < {expr.value(now)} OR {holder} = {expr.value(run_id)}"
    return _update_head(org_id, conversation_id, expr, update, condition)


def renew_action(org_id: str, conversation_id: str, run_id: str) -> dict[str, Any]:
    """Extend the run's hold (refused when the run no longer holds the conversation)."""
    expr = Expr()
    update = f"SET {expr.name('lease_until')} = {expr.value(int(time.time()) + LEASE_SECONDS)}"
    return _update_head(org_id, conversation_id, expr, update, f"{expr.name('holder')} = {expr.value(run_id)}")


def release_action(org_id: str, conversation_id: str, run_id: str) -> dict[str, Any]:
    """Free the conversation (refused when the run no longer holds it)."""
    expr = Expr()
    update = f"SET {expr.name('lease_until')} = {expr.value(0)} REMOVE {expr.name('holder')}"
    return _update_head(org_id, conversation_id, expr, update, f"{expr.name('holder')} = {expr.value(run_id)}")


def release(org_id: str, conversation_id: str, run_id: str) -> None:
    """Free the conversation if the run still holds it (no match: released already, or taken over after its lease)."""
    action = release_action(org_id, conversation_id, run_id)["Update"]
    write_if("update_item", **{k: v for k, v in action.items() if k != "TableName"})


def begin(
    org_id: str, conversation_id: str, run: RunRecord, actions: Sequence[dict[str, Any]], *, fingerprint: Optional[str] = None
) -> None:
    """Take the conversation, create the run and write `actions` (its inputs), all or nothing.
    ConversationBusy when another run holds the conversation."""
    try:
        transact([acquire_action(org_id, conversation_id, run.id, fingerprint), put_run_action(org_id, run), *actions])
    except ConditionFailed as exc:
        if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
            raise ConversationBusy(get_head(org_id, conversation_id).holder or "") from exc
        raise


def start_state_action(org_id: str, run_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """Put the state a run started from (orchestration.state.RunState), read only to resume the run after a
    failure. An item of its own, so that the run record the sends, turns and lists read and update stays small:
    every write of the record is charged per KB, once for the table and once for each of its two indexes."""
    return put_action({"PK": keys.run_pk(org_id, run_id), "SK": RUN_START, "entity": "run_start", "state": state})


def get_start_state(org_id: str, run_id: str) -> Optional[dict[str, Any]]:
    item = get(keys.run_pk(org_id, run_id), RUN_START)
    return item.get("state") if item else None


def resume(org_id: str, run: RunRecord, fields: dict[str, Any]) -> None:
    """Take the conversation again for a failed run and set it going (`fields`), if it is still the failed attempt
    it was read as. ConversationBusy when another run holds the conversation; ConditionFailed when the run moved on."""
    expr = Expr()
    update = {
        "Update": {
            "TableName": table_name(),
            "Key": meta_key(org_id, run.id),
            "UpdateExpression": _set_fields(expr, fields).strip(),
            "ConditionExpression": f"{expr.name('status')} = {expr.value('failed')} AND {expr.name('attempt')} = {expr.value(run.attempt)}",
            **expr.params(),
        }
    }
    try:
        transact([acquire_action(org_id, run.conversation_id, run.id, run.fingerprint), update])
    except ConditionFailed as exc:
        if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
            raise ConversationBusy(get_head(org_id, run.conversation_id).holder or "") from exc
        raise


__all__ = ["ConditionFailed", "ConversationBusy", "TERMINAL"]
