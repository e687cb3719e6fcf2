"""Block CRUD. An agent has at most one block per label, so a relabel or a delete updates every agent that has the block."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Optional

from ..dal import agents as agents_dal
from ..errors import ConflictError, NotFoundError
from ..ids import new_id
from ..models.blocks import Block, BlockUpdate, CreateBlock
from ..models.groups import is_storable_id
from ..models.identity import Actor

MAX_WRITE_RETRIES = 3


def block_not_found(block_id: str) -> NotFoundError:
    return NotFoundError(f"Block not found with id={block_id}")


def new_block_record(actor: Actor, request: CreateBlock) -> dict[str, Any]:
    return {
        **request.model_dump(),
        "id": new_id("block"),
        "organization_id": actor.organization_id,
        "created_by_id": actor.user_id,
        "last_updated_by_id": actor.user_id,
        "created_at": datetime.now(UTC).isoformat(),
    }


def to_block(record: dict[str, Any]) -> Block:
    return Block.model_validate({k: v for k, v in record.items() if k in Block.model_fields})


def _load(actor: Actor, block_id: str) -> dict[str, Any]:
    record = agents_dal.get_block(actor.organization_id, block_id) if is_storable_id(block_id) else None
    if record is None:
        raise block_not_found(block_id)
    return record


def create_block(actor: Actor, request: CreateBlock) -> Block:
    record = new_block_record(actor, request)
    agents_dal.create_block(actor.organization_id, record)
    return to_block(record)


def retrieve_block(actor: Actor, block_id: str) -> Block:
    return to_block(_load(actor, block_id))


def list_blocks(
    actor: Actor,
    label: Optional[str] = None,
    name: Optional[str] = None,
    limit: Optional[int] = None,
    templates_only: bool = False,
) -> list[Block]:
    """As Letta: `templates_only` picks template blocks, otherwise only non-template blocks are listed."""
    records = [r for r in agents_dal.list_blocks(actor.organization_id) if bool(r.get("is_template")) == templates_only]
    if label is not None:
        records = [r for r in records if r.get("label") == label]
    if name is not None:
        records = [r for r in records if r.get("name") == name]
    if limit is not None:
        records = records[:limit]
    return [to_block(r) for r in records]


def _agents_with(org: str, block_id: str) -> list[dict[str, Any]]:
    """Every agent the block is attached to (a scan of the organization's agents: blocks keep no back-references)."""
    return [a for a in agents_dal.list_agents(org, None, None, None) if block_id in (a.get("block_ids") or [])]


def _relabelled(agents: list[dict[str, Any]], block_id: str, old: Optional[str], new: str) -> list[tuple[dict[str, Any], int]]:
    changed = []
    for agent in agents:
        labels = dict(agent.get("block_labels") or {})
        holder = labels.get(new)
        if holder is not None and holder != block_id:
            raise ConflictError(f"Block label '{new}' is already used by block {holder} on agent {agent['id']}")
        if old is not None and labels.get(old) == block_id:
            del labels[old]
        labels[new] = block_id
        changed.append(({**agent, "block_labels": labels}, agent.get("version", 0)))
    return changed


def _detached(agents: list[dict[str, Any]], block_id: str) -> list[tuple[dict[str, Any], int]]:
    changed = []
    for agent in agents:
        labels = {k: v for k, v in (agent.get("block_labels") or {}).items() if v != block_id}
        block_ids = [b for b in agent.get("block_ids") or [] if b != block_id]
        changed.append(({**agent, "block_ids": block_ids, "block_labels": labels}, agent.get("version", 0)))
    return changed


def modify_block(actor: Actor, block_id: str, request: BlockUpdate) -> Block:
    org = actor.organization_id
    for _ in range(MAX_WRITE_RETRIES):
        record = _load(actor, block_id)
        version = record.get("version", 0)
        changes = request.model_dump(exclude_unset=True)
        updated = {**record, **{k: v for k, v in changes.items() if v is not None}, "last_updated_by_id": actor.user_id}
        relabel = updated.get("label") != record.get("label")
        agents = _relabelled(_agents_with(org, block_id), block_id, record.get("label"), updated["label"]) if relabel else []
        try:
            agents_dal.replace_block(org, updated, version, agents)
            return to_block(updated)
        except agents_dal.ConditionFailed:
            continue  # the block or one of its agents changed meanwhile: re-read and re-apply
    raise ConflictError(f"Block {block_id} was modified concurrently; retry")


def delete_block(actor: Actor, block_id: str) -> Block:
    """Delete a block and detach it from every agent (as Letta's cascade); returns the deleted block."""
    org = actor.organization_id
    for _ in range(MAX_WRITE_RETRIES):
        record = _load(actor, block_id)
        try:
            agents_dal.delete_block(org, block_id, _detached(_agents_with(org, block_id), block_id))
            return to_block(record)
        except agents_dal.ConditionFailed:
            continue  # deleted concurrently (then the next read is a 404) or an agent changed meanwhile
    raise ConflictError(f"Block {block_id} was modified concurrently; retry")
