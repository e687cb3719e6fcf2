"""Block CRUD. An agent has at most one block per label, so a relabel or a delete updates every agent that has the block."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Optional

from ..dal import agents as agents_dal
from ..dal import attachments as attachments_dal
from ..errors import BadRequestError, ConflictError, NotFoundError
from ..ids import new_id
from ..models.blocks import Block, BlockUpdate, CreateBlock
from ..models.groups import ListOrder, is_storable_id
from ..models.identity import Actor
from . import paging

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


def load_block(actor: Actor, block_id: str) -> dict[str, Any]:
    record = agents_dal.get_block(actor.organization_id, block_id) if is_storable_id(block_id) else None
    if record is None:
        raise block_not_found(block_id)
    return record


def create_block(actor: Actor, request: CreateBlock) -> Block:
    record = new_block_record(actor, request)
    agents_dal.create_block(actor.organization_id, record)
    return to_block(record)


def retrieve_block(actor: Actor, block_id: str) -> Block:
    return to_block(load_block(actor, block_id))


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
    records = [r for r in agents_dal.list_blocks(actor.organization_id) if bool(r.get("is_template")) == templates_only]
    if label is not None:
        records = [r for r in records if r.get("label") == label]
    if name is not None:
        records = [r for r in records if r.get("name") == name]
    records = paging.window(
        records, [r["id"] for r in records], after=after, before=before, limit=limit, order=order, what="block"
    )
    return [to_block(r) for r in records]


def holders(org: str, block_id: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The agents holding the block (a Query of its back-references, then one BatchGet), and every agent id the
    back-references name (a reference left by a write that failed halfway names an agent that does not hold it)."""
    referenced = list(attachments_dal.iter_agent_ids(org, block_id))
    agents = agents_dal.get_agents(org, referenced) if referenced else {}
    holding = [agents[a] for a in referenced if a in agents and block_id in (agents[a].get("block_ids") or [])]
    return holding, referenced


def check_char_limit(value: Optional[str], limit: Optional[int]) -> None:
    """As Letta: a block's value must fit its character limit (checked on the block a write would leave)."""
    if value is not None and limit is not None and len(value) > limit:
        raise BadRequestError(f"Edit failed: Exceeds {limit} character limit (requested {len(value)})")


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
        record = load_block(actor, block_id)
        version = record.get("version", 0)
        changes = request.model_dump(exclude_unset=True)
        updated = {**record, **{k: v for k, v in changes.items() if v is not None}, "last_updated_by_id": actor.user_id}
        if "value" in changes or "limit" in changes:
            check_char_limit(updated.get("value"), updated.get("limit"))
        relabel = updated.get("label") != record.get("label")
        agents = _relabelled(holders(org, block_id)[0], block_id, record.get("label"), updated["label"]) if relabel else []
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
        record = load_block(actor, block_id)
        holding, referenced = holders(org, block_id)
        try:
            agents_dal.delete_block(org, block_id, _detached(holding, block_id), referenced)
            return to_block(record)
        except agents_dal.ConditionFailed:
            continue  # deleted concurrently (then the next read is a 404) or an agent changed meanwhile
    raise ConflictError(f"Block {block_id} was modified concurrently; retry")
