"""Agents and blocks in the organization partition.

Writes that change which blocks an agent holds also write the blocks' back-references (dal/attachments.py):
derived here for new agents and for blocks created in the same write, declared by the caller otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Optional

from ..models.records import ConversationHead, StepRecord
from ..models.stored_entities import AgentRecord, BlockRecord
from . import attachments, keys
from .attachments import Pair
from .items import ConditionFailed, delete_action, get, put_action, replace_action, transact
from .runs import head_keys, to_head
from .table import Expr, batch_get, key, query_all, sort_key_range, without_keys

__all__ = ["ConditionFailed"]

TRANSACTION_MAX = 100


# An agent or block item is rewritten with the attributes its record was read with (unknown ones included) and those
# set on it since, never with values the record merely defaults: a write changes what it changes and nothing else.
# None is not stored (table.serialize), nor an empty `managed_group_ids` (DynamoDB has no empty set).


def agent_item(org_id: str, agent: AgentRecord) -> dict[str, Any]:
    item = agent.model_dump(exclude_unset=True)
    if not item.get("managed_group_ids"):
        item.pop("managed_group_ids", None)
    return {**item, "PK": keys.org_pk(org_id), "SK": keys.agent_sk(agent.id), "entity": "agent"}


def block_item(org_id: str, block: BlockRecord) -> dict[str, Any]:
    return {**block.model_dump(exclude_unset=True), "PK": keys.org_pk(org_id), "SK": keys.block_sk(block.id), "entity": "block"}


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    # Agent and block records keep attributes they do not know (models/stored_entities.py): the keys must go first.
    return without_keys(item)


def to_agent_record(item: dict[str, Any]) -> AgentRecord:
    return AgentRecord.model_validate(_fields(item))


def to_block_record(item: dict[str, Any]) -> BlockRecord:
    return BlockRecord.model_validate(_fields(item))


def get_agent(org_id: str, agent_id: str) -> Optional[AgentRecord]:
    item = get(keys.org_pk(org_id), keys.agent_sk(agent_id))
    return to_agent_record(item) if item else None


def get_agents(org_id: str, agent_ids: list[str]) -> dict[str, AgentRecord]:
    items = batch_get([key(keys.org_pk(org_id), keys.agent_sk(a)) for a in agent_ids])
    return {i["id"]: to_agent_record(i) for i in items if i.get("entity") == "agent"}


def get_agent_and_head(org_id: str, agent_id: str) -> tuple[Optional[AgentRecord], ConversationHead]:
    """An agent and the head of its own conversation (its run lock, and its last run; empty when it never ran), in
    one BatchGetItem."""
    agent: Optional[AgentRecord] = None
    head: Optional[dict[str, Any]] = None
    for item in batch_get([key(keys.org_pk(org_id), keys.agent_sk(agent_id)), key(*head_keys(org_id, agent_id))]):
        if item.get("entity") == "agent":
            agent = to_agent_record(item)
        elif item.get("SK") == keys.lock_sk(agent_id):
            head = item
    return agent, to_head(head)


def get_agent_and_step_record(
    org_id: str, agent_id: str, run_id: Optional[str], step_key: Optional[str]
) -> tuple[Optional[AgentRecord], Optional[StepRecord]]:
    """An agent and (when a run step is named) that step's idempotency record, in one BatchGetItem."""
    wanted = [key(keys.org_pk(org_id), keys.agent_sk(agent_id))]
    if run_id and step_key:
        wanted.append(key(keys.run_pk(org_id, run_id), f"{keys.STEP}{step_key}"))
    agent: Optional[AgentRecord] = None
    record: Optional[StepRecord] = None
    for item in batch_get(wanted):
        if item.get("entity") == "agent":
            agent = to_agent_record(item)
        elif item.get("entity") == "step":
            record = StepRecord.model_validate(_fields(item))
    return agent, record


def get_block(org_id: str, block_id: str) -> Optional[BlockRecord]:
    item = get(keys.org_pk(org_id), keys.block_sk(block_id))
    return to_block_record(item) if item else None


def get_blocks(org_id: str, block_ids: list[str]) -> dict[str, BlockRecord]:
    items = batch_get([key(keys.org_pk(org_id), keys.block_sk(b)) for b in block_ids])
    return {i["id"]: to_block_record(i) for i in items if i.get("entity") == "block"}


def _holds(agents: Sequence[AgentRecord], block_ids: Iterable[str]) -> list[Pair]:
    """The (agent, block) pairs among `block_ids` that these agents hold."""
    wanted = set(block_ids)
    return [(a.id, b) for a in agents for b in a.block_ids if b in wanted]


def held(agent: AgentRecord) -> list[Pair]:
    """Every (agent, block) pair of an agent."""
    return [(agent.id, b) for b in agent.block_ids]


def _new_agent_put(org_id: str, agent: AgentRecord) -> dict[str, Any]:
    return put_action({**agent_item(org_id, agent), "version": 0})


def _new_block_put(org_id: str, block: BlockRecord) -> dict[str, Any]:
    return put_action({**block_item(org_id, block), "version": 0})


def create_agent(org_id: str, agent: AgentRecord, new_blocks: Sequence[BlockRecord]) -> None:
    """The agent and the blocks created with it (each at version 0), all or nothing."""
    actions = [_new_agent_put(org_id, agent)]
    actions += [_new_block_put(org_id, b) for b in new_blocks]
    attachments.transact_with(org_id, actions, attached=held(agent))


def transact_write(
    org_id: str,
    *,
    new_agents: Sequence[AgentRecord] = (),
    new_blocks: Sequence[BlockRecord] = (),
    replaced_agents: Sequence[tuple[AgentRecord, int]] = (),
    deleted_agents: Sequence[str] = (),
    attached: Sequence[Pair] = (),
    detached: Sequence[Pair] = (),
) -> None:
    """One write. Back-references: new agents' blocks and blocks created here are derived; `attached` and
    `detached` declare the other attachment changes (e.g. the blocks of `deleted_agents`)."""
    actions = [_new_agent_put(org_id, a) for a in new_agents]
    actions += [_new_block_put(org_id, b) for b in new_blocks]
    actions += [replace_action(agent_item(org_id, a), v) for a, v in replaced_agents]
    actions += [delete_action(keys.org_pk(org_id), keys.agent_sk(a), must_exist=True) for a in deleted_agents]
    derived = [p for a in new_agents for p in held(a)]
    derived += _holds([a for a, _ in replaced_agents], (b.id for b in new_blocks))
    attachments.transact_with(org_id, actions, attached=[*derived, *attached], detached=detached)


def replace_agent(
    org_id: str, agent: AgentRecord, expected_version: int, *, attached: Sequence[Pair] = (), detached: Sequence[Pair] = ()
) -> None:
    attachments.transact_with(org_id, [replace_action(agent_item(org_id, agent), expected_version)], attached, detached)


def attach_block(org_id: str, agent: AgentRecord, expected_version: int, block_id: str) -> None:
    """Replace the agent (now holding `block_id`) if it is unchanged and the block still exists."""
    actions = [replace_action(agent_item(org_id, agent), expected_version), attachments.block_exists_check(org_id, block_id)]
    attachments.transact_with(org_id, actions, attached=[(agent.id, block_id)])


def _with_agents(
    org_id: str, agents: Sequence[tuple[AgentRecord, int]], final: dict[str, Any], detached: Sequence[Pair] = ()
) -> None:
    """Versioned agent replacements, then `final`; one transaction unless there are more than 99 agents."""
    actions = [replace_action(agent_item(org_id, a), v) for a, v in agents]
    while len(actions) >= TRANSACTION_MAX:
        transact(actions[: TRANSACTION_MAX - 1])
        actions = actions[TRANSACTION_MAX - 1 :]
    attachments.transact_with(org_id, [*actions, final], detached=detached)


def replace_block(org_id: str, block: BlockRecord, expected_version: int, agents: Sequence[tuple[AgentRecord, int]] = ()) -> None:
    """Replace a block, and (relabelling) the agents whose label map must follow it."""
    _with_agents(org_id, agents, replace_action(block_item(org_id, block), expected_version))


def create_block(org_id: str, block: BlockRecord) -> None:
    transact([_new_block_put(org_id, block)])


def delete_block(
    org_id: str, block_id: str, agents: Sequence[tuple[AgentRecord, int]] = (), referenced_by: Sequence[str] = ()
) -> None:
    """Delete a block, replace the agents it is detached from, and drop its back-references
    (`referenced_by`: every agent they name)."""
    final = delete_action(keys.org_pk(org_id), keys.block_sk(block_id), must_exist=True)
    _with_agents(org_id, agents, final, detached=[(a, block_id) for a in referenced_by])


def _list(org_id: str, prefix: str, after: Optional[str], before: Optional[str], limit: Optional[int]) -> list[dict[str, Any]]:
    expr = Expr()
    condition = sort_key_range(expr, "PK", keys.org_pk(org_id), "SK", prefix, after, before)
    params: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True, **expr.params()}
    exclude = {x for x in (after, before) if x}
    out: list[dict[str, Any]] = []
    for item in query_all(**params):
        if item["id"] in exclude:
            continue
        out.append(item)
        if limit is not None and len(out) >= limit:
            break
    return out


def list_agents(org_id: str, after: Optional[str], before: Optional[str], limit: Optional[int]) -> list[AgentRecord]:
    return [to_agent_record(i) for i in _list(org_id, keys.AGENT, after, before, limit)]


def list_blocks(org_id: str, limit: Optional[int] = None) -> list[BlockRecord]:
    return [to_block_record(i) for i in _list(org_id, keys.BLOCK, None, None, limit)]
