"""Block CRUD. An agent has at most one block per label, so a relabel or a delete updates every agent that has the block."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Optional

from ..dal import agents as agents_dal
from ..dal import attachments as attachments_dal
from ..errors import BadRequestError, ConflictError, NotFoundError
from ..ids import new_id
from ..models.blocks import Block, BlockUpdate, CreateBlock
from ..models.groups import ListOrder, is_storable_id
from ..models.identity import Actor
from ..models.stored_entities import AgentRecord, BlockRecord
from . import paging

MAX_WRITE_RETRIES = 3


def block_not_found(block_id: str) -> NotFoundError:
    return NotFoundError(f"Block not found with id={block_id}")


def new_block_record(actor: Actor, request: CreateBlock) -> BlockRecord:
    return BlockRecord(
        **request.model_dump(),
        id=new_id("block"),
        organization_id=actor.organization_id,
        created_by_id=actor.user_id,
        last_updated_by_id=actor.user_id,
        created_at=datetime.now(UTC).isoformat(),
    )


def load_block(actor: Actor, block_id: str) -> BlockRecord:
    record = agents_dal.get_block(actor.organization_id, block_id) if is_storable_id(block_id) else None
    if record is None:
        raise block_not_found(block_id)
    return record


def create_block(actor: Actor, request: CreateBlock) -> Block:
    record = new_block_record(actor, request)
    agents_dal.create_block(actor.organization_id, record)
    return record.to_block()


def retrieve_block(actor: Actor, block_id: str) -> Block:
    return load_block(actor, block_id).to_block()


def list_blocks(
    actor: Actor,
    label: Optional[str] = None,
    name: Optional[str] = None,
    limit: Optional[int] = None,
    templates_only: bool = False,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    order: ListOrder = "asc",
) -> list[Block]:
    """As Letta: `templates_only` picks template blocks, otherwise only non-template blocks are listed."""
    records = [r for r in agents_dal.list_blocks(actor.organization_id) if r.is_template == templates_only]
    if label is not None:
        records = [r for r in records if r.label == label]
    if name is not None:
        records = [r for r in records if r.name == name]
    records = paging.window(records, [r.id for r in records], after=after, before=before, limit=limit, order=order, what="block")
    return [r.to_block() for r in records]


def holders(org: str, block_id: str) -> tuple[list[AgentRecord], list[str]]:
    """The agents holding the block (a Query of its back-references, then one BatchGet), and every agent id the
    back-references name (a reference left by a write that failed halfway names an agent that does not hold it)."""
    referenced = list(attachments_dal.iter_agent_ids(org, block_id))
    agents = agents_dal.get_agents(org, referenced) if referenced else {}
    holding = [agents[a] for a in referenced if a in agents and block_id in agents[a].block_ids]
    return holding, referenced


def check_char_limit(value: Optional[str], limit: Optional[int]) -> None:
    """As Letta: a block's value must fit its character limit (checked on the block a write would leave)."""
    if value is not None and limit is not None and len(value) > limit:
        raise BadRequestError(f"Edit failed: Exceeds {limit} character limit (requested {len(value)})")


def _relabelled(agents: list[AgentRecord], block_id: str, old: Optional[str], new: str) -> list[tuple[AgentRecord, int]]:
    changed = []
    for agent in agents:
        labels = dict(agent.block_labels)
        holder = labels.get(new)
        if holder is not None and holder != block_id:
            raise ConflictError(f"Block label '{new}' is already used by block {holder} on agent {agent.id}")
        if old is not None and labels.get(old) == block_id:
            del labels[old]
        labels[new] = block_id
        changed.append((agent.model_copy(update={"block_labels": labels}), agent.version))
    return changed


def _detached(agents: list[AgentRecord], block_id: str) -> list[tuple[AgentRecord, int]]:
    changed = []
    for agent in agents:
        labels = {k: v for k, v in agent.block_labels.items() if v != block_id}
        block_ids = [b for b in agent.block_ids if b != block_id]
        changed.append((agent.model_copy(update={"block_ids": block_ids, "block_labels": labels}), agent.version))
    return changed


def modify_block(actor: Actor, block_id: str, request: BlockUpdate) -> Block:
    org = actor.organization_id
    for _ in range(MAX_WRITE_RETRIES):
        record = load_block(actor, block_id)
        version = record.version
        changes = request.model_dump(exclude_unset=True)
        # BlockUpdate validated the values; None leaves the stored value.
        updated = record.model_copy(
            update={**{k: v for k, v in changes.items() if v is not None}, "last_updated_by_id": actor.user_id}
        )
        if "value" in changes or "limit" in changes:
            check_char_limit(updated.value, updated.limit)
        relabel = updated.label != record.label
        agents = _relabelled(holders(org, block_id)[0], block_id, record.label, updated.label) if relabel else []
        try:
            agents_dal.replace_block(org, updated, version, agents)
            return updated.to_block()
        except agents_dal.ConditionFailed:
            continue  # the block or one of its agents changed meanwhile: re-read and re-apply
    raise ConflictError(f"Block {block_id} was modified concurrently; retry")


def delete_block(actor: Actor, block_id: str) -> Block:
    """Delete a block and detach it from every agent (as Letta's cascade); returns the deleted block."""
    org = actor.organization_id
    for _ in range(MAX_WRITE_RETRIES):
        record = load_block(actor, block_id)
        holding, referenced = holders(org, block_id)
        try:
            agents_dal.delete_block(org, block_id, _detached(holding, block_id), referenced)
            return record.to_block()
        except agents_dal.ConditionFailed:
            continue  # deleted concurrently (then the next read is a 404) or an agent changed meanwhile
    raise ConflictError(f"Block {block_id} was modified concurrently; retry")
