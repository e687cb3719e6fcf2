"""Groups, their membership items and the per-organization group counter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..models.records import ConversationHead
from ..models.stored_entities import AgentRecord, GroupRecord
from . import attachments, keys
from .agents import to_agent_record
from .items import ConditionFailed, delete_action, get, put_action, replace_action, transact
from .runs import head_keys, to_head
from .table import Expr, batch_get, key, query_all, sort_key_range, table_name

__all__ = ["ConditionFailed"]


@dataclass
class AgentChange:
    """What a group write does to one agent item (one action per item in a transaction)."""

    agent_id: str
    attach_blocks: dict[str, str] = field(default_factory=dict)  # label -> block id, new attachments only
    add_managed_group: Optional[str] = None
    remove_managed_group: Optional[str] = None


def _group_item(org_id: str, group: GroupRecord) -> dict[str, Any]:
    """The whole item of a group (None fields are not stored)."""
    item = group.model_dump()
    item.update(
        PK=keys.org_pk(org_id),
        SK=keys.group_sk(group.id),
        entity="group",
        organization_id=org_id,
        GSI1PK=keys.group_mt_pk(org_id, group.manager_type),
        GSI1SK=keys.group_sk(group.id),
    )
    if group.project_id:
        item["GSI2PK"] = keys.group_project_pk(org_id, group.project_id)
        item["GSI2SK"] = keys.group_sk(group.id)
    return item


def _to_group(item: dict[str, Any]) -> GroupRecord:
    # The record ignores what it does not hold (the key attributes among them).
    return GroupRecord.model_validate(item)


def _agent_action(org_id: str, change: AgentChange) -> dict[str, Any]:
    expr = Expr()
    sets: list[str] = []
    adds: list[str] = []
    deletes: list[str] = []
    conditions = [f"attribute_exists({expr.name('SK')})"]
    for label, block_id in change.attach_blocks.items():
        sets.append(f"{expr.path('block_labels', label)} = {expr.value(block_id)}")
        conditions.append(f"attribute_not_exists({expr.path('block_labels', label)})")
    if change.attach_blocks:
        ids = expr.name("block_ids")
        sets.append(f"{ids} = list_append({ids}, {expr.value(list(change.attach_blocks.values()))})")
    if change.add_managed_group:
        adds.append(f"{expr.name('managed_group_ids')} {expr.value({change.add_managed_group})}")
    if change.remove_managed_group:
        deletes.append(f"{expr.name('managed_group_ids')} {expr.value({change.remove_managed_group})}")
    base = {"TableName": table_name(), "Key": key(keys.org_pk(org_id), keys.agent_sk(change.agent_id))}
    if not (sets or adds or deletes):
        return {"ConditionCheck": {**base, "ConditionExpression": conditions[0], **expr.params()}}
    # An in-place change is a new version: a whole-item replace prepared from the agent as read before it fails
    # its version condition instead of silently dropping this change.
    adds.append(f"{expr.name('version')} {expr.value(1)}")
    update = " ".join(
        part
        for part in (
            f"SET {', '.join(sets)}" if sets else "",
            f"ADD {', '.join(adds)}" if adds else "",
            f"DELETE {', '.join(deletes)}" if deletes else "",
        )
        if part
    )
    return {"Update": {**base, "UpdateExpression": update, "ConditionExpression": " AND ".join(conditions), **expr.params()}}


def _membership_put(org_id: str, agent_id: str, group_id: str, since: str) -> dict[str, Any]:
    item = {
        "PK": keys.membership_pk(org_id, agent_id),
        "SK": keys.membership_sk(group_id),
        "entity": "membership",
        "group_id": group_id,
        "agent_id": agent_id,
        "since": since,
    }
    return put_action(item, must_be_new=False)


def _membership_delete(org_id: str, agent_id: str, group_id: str) -> dict[str, Any]:
    return delete_action(keys.membership_pk(org_id, agent_id), keys.membership_sk(group_id))


def _counter_action(org_id: str, delta: int) -> dict[str, Any]:
    expr = Expr()
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(keys.org_pk(org_id), keys.COUNT_GROUPS),
            "UpdateExpression": f"ADD {expr.name('n')} {expr.value(delta)}",
            **expr.params(),
        }
    }


def get_group(org_id: str, group_id: str) -> Optional[GroupRecord]:
    item = get(keys.org_pk(org_id), keys.group_sk(group_id))
    return _to_group(item) if item else None


def get_group_with_agents(
    org_id: str, group_id: str, agent_ids: list[str]
) -> tuple[Optional[GroupRecord], dict[str, AgentRecord]]:
    """A group and some agents (all in the organization's partition) in one BatchGetItem."""
    pk = keys.org_pk(org_id)
    items = batch_get([key(pk, keys.group_sk(group_id)), *(key(pk, keys.agent_sk(a)) for a in dict.fromkeys(agent_ids))])
    group = next((_to_group(i) for i in items if i.get("entity") == "group"), None)
    agents = {str(i["id"]): to_agent_record(i) for i in items if i.get("entity") == "agent"}
    return group, agents


def get_groups(org_id: str, group_ids: list[str]) -> list[GroupRecord]:
    items = batch_get([key(keys.org_pk(org_id), keys.group_sk(g)) for g in group_ids])
    by_id = {i["id"]: i for i in items}
    return [_to_group(by_id[g]) for g in group_ids if g in by_id]


def count_groups(org_id: str) -> int:
    item = get(keys.org_pk(org_id), keys.COUNT_GROUPS)
    return int(item.get("n", 0)) if item else 0


def _attached(changes: list[AgentChange]) -> list[attachments.Pair]:
    return [(c.agent_id, b) for c in changes for b in c.attach_blocks.values()]


def create_group(org_id: str, group: GroupRecord, changes: list[AgentChange], since: str) -> None:
    """One transaction: the group (at its record's version, 0 for a new group), the counter, every membership, every
    agent change (and the back-references of the shared blocks it attaches, dal/attachments.py)."""
    actions = [put_action(_group_item(org_id, group)), _counter_action(org_id, 1)]
    actions += [_membership_put(org_id, a, group.id, since) for a in dict.fromkeys(group.agent_ids)]
    actions += [_agent_action(org_id, c) for c in changes]
    attachments.transact_with(org_id, actions, attached=_attached(changes))


def update_group(
    org_id: str,
    group: GroupRecord,
    expected_version: int,
    added_members: list[str],
    removed_members: list[str],
    changes: list[AgentChange],
    since: str,
) -> None:
    """Replace the group item if nobody changed it since it was read (optimistic lock on `version`); the record then
    holds the version it was written at."""
    actions = [replace_action(_group_item(org_id, group), expected_version)]
    actions += [_membership_put(org_id, a, group.id, since) for a in added_members]
    actions += [_membership_delete(org_id, a, group.id) for a in removed_members]
    actions += [_agent_action(org_id, c) for c in changes]
    attachments.transact_with(org_id, actions, attached=_attached(changes))
    group.version = expected_version + 1


def fields_update_action(org_id: str, group_id: str, expected_version: int, fields: dict[str, Any]) -> dict[str, Any]:
    """A transaction action setting a few fields (run bookkeeping) if the group is still at `expected_version`."""
    expr = Expr()
    sets = [f"{expr.name(k)} = {expr.value(v)}" for k, v in fields.items()]
    sets.append(f"{expr.name('version')} = {expr.value(expected_version + 1)}")
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(keys.org_pk(org_id), keys.group_sk(group_id)),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": f"{expr.name('version')} = {expr.value(expected_version)}",
            **expr.params(),
        }
    }


def delete_group(org_id: str, group: GroupRecord) -> None:
    actions = [delete_action(keys.org_pk(org_id), keys.group_sk(group.id), must_exist=True), _counter_action(org_id, -1)]
    actions += [_membership_delete(org_id, a, group.id) for a in dict.fromkeys(group.agent_ids)]
    manager = group.manager_agent_id
    if manager:
        # The manager may be gone already (cascading agent delete): no existence condition here.
        mexpr = Expr()
        actions.append(
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": key(keys.org_pk(org_id), keys.agent_sk(manager)),
                    "UpdateExpression": (
                        f"DELETE {mexpr.name('managed_group_ids')} {mexpr.value({group.id})} "
                        f"ADD {mexpr.name('version')} {mexpr.value(1)}"  # a new version, as in _agent_action
                    ),
                    "ConditionExpression": f"attribute_exists({mexpr.name('SK')})",
                    **mexpr.params(),
                }
            }
        )
    try:
        transact(actions)
    except ConditionFailed as conflict:
        if manager and conflict.reasons[0] != "ConditionalCheckFailed":
            transact(actions[:-1])  # the manager item no longer exists; delete the rest
        else:
            raise


def _page(params: dict[str, Any], want: Optional[int], exclude: set[str], predicate: Any = None) -> list[GroupRecord]:
    """Collect up to `want` groups across pages (Limit applies before filtering, so loop until full); `predicate`
    filters the items, so that only the groups kept become records."""
    out: list[GroupRecord] = []
    for item in query_all(**params):
        if item.get("entity") != "group" or item["id"] in exclude:
            continue
        if predicate is not None and not predicate(item):
            continue
        out.append(_to_group(item))
        if want is not None and len(out) >= want:
            break
    return out


def list_groups(
    org_id: str,
    *,
    manager_type: Optional[str],
    project_id: Optional[str],
    after: Optional[str],
    before: Optional[str],
    limit: Optional[int],
    descending: bool = False,
    include_hidden: bool = True,
) -> list[GroupRecord]:
    """Groups in creation order (newest first when `descending`). Served by the base table, or GSI1
    (manager type), or GSI2 (project).

    The cursors are relative to that order (`after` = the groups that follow it in the list) and the page is
    anchored at the cursor: the first `limit` after `after`, or, with `before` alone, the last `limit`
    before `before`, so paging either way never skips a group.
    """
    conditions = []
    if project_id is not None:
        index, pk_name, sk_name = "GSI2", "GSI2PK", "GSI2SK"
        pk = keys.group_project_pk(org_id, project_id)
        if manager_type is not None:
            conditions.append(lambda item: item.get("manager_type") == manager_type)
    elif manager_type is not None:
        index, pk_name, sk_name = "GSI1", "GSI1PK", "GSI1SK"
        pk = keys.group_mt_pk(org_id, manager_type)
    else:
        index, pk_name, sk_name = "", "PK", "SK"
        pk = keys.org_pk(org_id)
    if not include_hidden:
        conditions.append(lambda item: not item.get("hidden"))
    predicate = (lambda item: all(c(item) for c in conditions)) if conditions else None

    # In creation order the window is (older, newer): descending swaps which cursor bounds which side.
    older, newer = (before, after) if descending else (after, before)
    expr = Expr()
    params: dict[str, Any] = {"KeyConditionExpression": sort_key_range(expr, pk_name, pk, sk_name, keys.GROUP, older, newer)}
    params.update(expr.params())
    if index:
        params["IndexName"] = index
    else:
        params["ConsistentRead"] = True
    exclude = {x for x in (after, before) if x}
    if limit is not None:
        # BETWEEN is inclusive: ask for the cursors too, then drop them.
        params["Limit"] = max(limit + len(exclude), 1)
    # A page anchored at `before` is read from the cursor backwards, then put back in list order.
    from_before = bool(before and not after and limit is not None)
    params["ScanIndexForward"] = descending == from_before
    page = _page(params, limit, exclude, predicate)
    return list(reversed(page)) if from_before else page


def memberships(org_id: str, agent_id: str) -> dict[str, Optional[str]]:
    """The groups the agent is a participant of, each with where its view of the group starts (one Query)."""
    expr = Expr()
    params = {
        "KeyConditionExpression": f"{expr.name('PK')} = {expr.value(keys.membership_pk(org_id, agent_id))} AND begins_with({expr.name('SK')}, {expr.value(keys.MEMBER)})",
        "ConsistentRead": True,
        **expr.params(),
    }
    return {item["group_id"]: item.get("since") for item in query_all(**params)}


def list_memberships(org_id: str, agent_id: str) -> list[str]:
    return list(memberships(org_id, agent_id))


def get_run_roster(
    org_id: str, group_id: str, agent_ids: list[str]
) -> tuple[dict[str, AgentRecord], dict[str, str], ConversationHead]:
    """What a send needs besides the group, in one BatchGetItem: the agents (participants and manager), where each
    participant's view of the group starts (its membership's `since`), and the conversation's head (its lock; an empty
    head when the conversation never ran)."""
    wanted = [key(keys.org_pk(org_id), keys.agent_sk(a)) for a in dict.fromkeys(agent_ids)]
    wanted += [key(keys.membership_pk(org_id, a), keys.membership_sk(group_id)) for a in dict.fromkeys(agent_ids)]
    wanted.append(key(*head_keys(org_id, group_id)))
    agents: dict[str, AgentRecord] = {}
    since: dict[str, str] = {}
    head: Optional[dict[str, Any]] = None
    for item in batch_get(wanted):
        entity = item.get("entity")
        if entity == "agent":
            agents[str(item["id"])] = to_agent_record(item)
        elif entity == "membership" and item.get("since"):
            since[str(item["agent_id"])] = str(item["since"])
        elif entity == "head":
            head = item
    return agents, since, to_head(head)
