"""Which blocks an agent holds, and which agents hold a block: Letta's `/v1/agents/{id}/core-memory/blocks` routes
and `GET /v1/blocks/{id}/agents`.

An agent holds at most one block per label (its `block_labels` map), as the group rules that share blocks
already require: attaching a second block under a label the agent uses is a 409.

The lists take later Letta's `after`/`before`/`limit`/`order` (letta-client 1.x auto-paginates with
`after=<last item>`); cursors are relative to the list's order and a page is anchored at its cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Optional

from ..dal import agents as agents_dal
from ..dal import attachments as attachments_dal
from ..errors import ConflictError, NotFoundError
from ..models.agents import AgentState
from ..models.blocks import Block, BlockUpdate
from ..models.groups import ListOrder, is_storable_id
from ..models.identity import Actor
from ..models.stored_entities import AgentRecord
from . import blocks as blocks_logic
from . import paging
from .agents import load_agent, to_agent_state, to_agent_states
from .paging import check_window

MAX_WRITE_RETRIES = 3
BATCH_GET_MAX = 100


def _label_not_found(agent_id: str, label: str) -> NotFoundError:
    return NotFoundError(f"No block with label '{label}' found for agent '{agent_id}'")


def list_blocks(
    actor: Actor,
    agent_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: Optional[int] = None,
    order: Optional[ListOrder] = None,
) -> list[Block]:
    """The agent's blocks: in the order of its `memory.blocks`, or by creation time when `order` is given.
    Requests: GetItem (agent), BatchGetItem (its blocks)."""
    record = load_agent(actor, agent_id)
    block_ids = record.block_ids
    found = agents_dal.get_blocks(actor.organization_id, block_ids) if block_ids else {}
    held = [found[b].to_block() for b in block_ids if b in found]
    if order is not None:
        held.sort(key=lambda b: b.id, reverse=order == "desc")  # ids are UUIDv7: creation order
    return paging.window(held, [b.id for b in held], after=after, before=before, limit=limit, what="block")


def _block_id(actor: Actor, agent_id: str, label: str) -> str:
    """The id of the agent's block with that label (one block per label)."""
    record = load_agent(actor, agent_id)
    block_id = record.block_labels.get(label)
    if block_id is None or block_id not in record.block_ids:
        raise _label_not_found(agent_id, label)
    return block_id


def retrieve_block(actor: Actor, agent_id: str, label: str) -> Block:
    """Requests: GetItem (agent), GetItem (block)."""
    block = agents_dal.get_block(actor.organization_id, _block_id(actor, agent_id, label))
    if block is None:
        raise _label_not_found(agent_id, label)
    return block.to_block()


def modify_block(actor: Actor, agent_id: str, label: str, request: BlockUpdate) -> Block:
    """Modify the agent's block with that label, as `PATCH /v1/blocks/{id}` does (every agent holding it sees the
    edit; a relabel that clashes on one of them is a 409).
    Requests: GetItem (agent), GetItem (block), TransactWriteItems; a relabel adds the block's Query and BatchGetItem."""
    return blocks_logic.modify_block(actor, _block_id(actor, agent_id, label), request)


def attach_block(actor: Actor, agent_id: str, block_id: str) -> AgentState:
    """Attach an existing block to the agent. Attaching a block the agent holds changes nothing; a different block
    under a label the agent already uses is a 409.
    Requests: GetItem (agent), GetItem (block), TransactWriteItems (agent, block check, back-reference), then the
    state's BatchGetItem(s)."""
    org = actor.organization_id
    for _ in range(MAX_WRITE_RETRIES):
        record = load_agent(actor, agent_id)
        block = blocks_logic.load_block(actor, block_id)
        if block_id in record.block_ids:
            return to_agent_state(actor, record)
        holder = record.block_labels.get(block.label)
        if holder is not None and holder != block_id:
            raise ConflictError(
                f"Block label '{block.label}' is already used by block {holder} on agent {agent_id}; "
                f"cannot attach block {block_id}"
            )
        updated = _replaced(record, [*record.block_ids, block_id], {**record.block_labels, block.label: block_id}, actor.user_id)
        try:
            agents_dal.attach_block(org, updated, record.version, block_id)
        except agents_dal.ConditionFailed:
            continue  # the agent changed, or the block was deleted, meanwhile: re-read (a deleted block is then a 404)
        updated.version = record.version + 1
        return to_agent_state(actor, updated)
    raise ConflictError(f"Agent {agent_id} was modified concurrently; retry")


def detach_block(actor: Actor, agent_id: str, block_id: str) -> AgentState:
    """Detach a block from the agent (the block itself stays). A block the agent does not hold is a 404.
    Requests: GetItem (agent), TransactWriteItems (agent, back-reference), then the state's BatchGetItem(s)."""
    org = actor.organization_id
    for _ in range(MAX_WRITE_RETRIES):
        record = load_agent(actor, agent_id)
        if block_id not in record.block_ids:
            raise NotFoundError(f"No block with id '{block_id}' found for agent '{agent_id}' with actor id: '{actor.user_id}'")
        labels = {k: v for k, v in record.block_labels.items() if v != block_id}
        remaining = [b for b in record.block_ids if b != block_id]
        updated = _replaced(record, remaining, labels, actor.user_id)
        try:
            agents_dal.replace_agent(org, updated, record.version, detached=[(agent_id, block_id)])
        except agents_dal.ConditionFailed:
            continue
        updated.version = record.version + 1
        return to_agent_state(actor, updated)
    raise ConflictError(f"Agent {agent_id} was modified concurrently; retry")


def _replaced(record: AgentRecord, block_ids: list[str], block_labels: dict[str, str], user_id: Optional[str]) -> AgentRecord:
    """The agent holding these blocks instead, as last updated by `user_id`."""
    updated = record.model_copy()
    updated.block_ids, updated.block_labels, updated.last_updated_by_id = block_ids, block_labels, user_id
    return updated


def _holding(org: str, block_id: str, agent_ids: Iterator[str], batch: int) -> Iterator[AgentRecord]:
    """The agents among `agent_ids` that hold the block, read `batch` at a time. The agent item is the source of
    truth: a back-reference left by a write that failed halfway is skipped."""
    while chunk := list(islice(agent_ids, batch)):
        found = agents_dal.get_agents(org, chunk)
        yield from (found[a] for a in chunk if a in found and block_id in found[a].block_ids)


def list_agents_for_block(
    actor: Actor,
    block_id: str,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: Optional[int] = None,
    order: ListOrder = "asc",
) -> list[AgentState]:
    """The agents holding the block, by creation time, with agent-id cursors relative to `order`.
    Requests: GetItem (block), Query (its back-references, paged by `limit`), BatchGetItem (those agents), and
    the states' BatchGetItem(s) (their blocks, the groups they manage)."""
    org = actor.organization_id
    block = agents_dal.get_block(org, block_id) if is_storable_id(block_id) else None
    if block is None:
        raise NotFoundError(f"Block with id={block_id} not found")
    check_window(after, before, order)
    if limit == 0:
        return []
    descending = order == "desc"
    # In creation order the window is (older, newer); the scan starts at the page's anchor.
    older, newer = (before, after) if descending else (after, before)
    newest_first = bool(after) == descending if (after or before) else descending
    batch = min(limit, BATCH_GET_MAX) if limit else BATCH_GET_MAX
    ids = attachments_dal.iter_agent_ids(org, block_id, after=older, before=newer, descending=newest_first, page_size=batch)
    holding = list(islice(_holding(org, block_id, ids, batch), limit))
    if newest_first != descending:
        holding.reverse()
    return to_agent_states(actor, holding)
