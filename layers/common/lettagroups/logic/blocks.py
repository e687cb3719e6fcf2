"""Block CRUD."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Optional

from ..dal import agents as agents_dal
from ..errors import ConflictError, NotFoundError
from ..ids import new_id
from ..models.blocks import Block, BlockUpdate, CreateBlock
from ..models.identity import Actor


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


def create_block(actor: Actor, request: CreateBlock) -> Block:
    record = new_block_record(actor, request)
    agents_dal.create_block(actor.organization_id, record)
    return to_block(record)


def retrieve_block(actor: Actor, block_id: str) -> Block:
    record = agents_dal.get_block(actor.organization_id, block_id)
    if record is None:
        raise block_not_found(block_id)
    return to_block(record)


def list_blocks(
    actor: Actor, label: Optional[str] = None, name: Optional[str] = None, limit: Optional[int] = None
) -> list[Block]:
    records = agents_dal.list_blocks(actor.organization_id)
    if label is not None:
        records = [r for r in records if r.get("label") == label]
    if name is not None:
        records = [r for r in records if r.get("name") == name]
    if limit is not None:
        records = records[:limit]
    return [to_block(r) for r in records]


def modify_block(actor: Actor, block_id: str, request: BlockUpdate) -> Block:
    for _ in range(3):
        record = agents_dal.get_block(actor.organization_id, block_id)
        if record is None:
            raise block_not_found(block_id)
        version = record.get("version", 0)
        changes = request.model_dump(exclude_unset=True)
        updated = {**record, **{k: v for k, v in changes.items() if v is not None}, "last_updated_by_id": actor.user_id}
        try:
            agents_dal.replace_block(actor.organization_id, updated, version)
            return to_block(updated)
        except agents_dal.ConditionFailed:
            continue
    raise ConflictError(f"Block {block_id} was modified concurrently; retry")


def delete_block(actor: Actor, block_id: str) -> Block:
    record = agents_dal.get_block(actor.organization_id, block_id)
    if record is None:
        raise block_not_found(block_id)
    try:
        agents_dal.delete_block(actor.organization_id, block_id)
    except agents_dal.ConditionFailed as exc:
        raise block_not_found(block_id) from exc
    return to_block(record)
