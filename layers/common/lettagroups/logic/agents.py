"""Agent CRUD, including the implicit sleeptime groups of `enable_sleeptime` (contract §8.4, §8.5, §9)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Optional

from ..agent import catalog
from ..agent.prompts import default_system
from ..dal import agents as agents_dal
from ..dal import groups as groups_dal
from ..errors import BadRequestError, ConflictError, NotFoundError
from ..ids import new_id
from ..models.agents import AgentDeleted, AgentState, CreateAgent, UpdateAgent
from ..models.blocks import CreateBlock
from ..models.groups import GroupCreate, SleeptimeManager, VoiceSleeptimeManager, is_storable_id
from ..models.identity import Actor
from ..models.stored_entities import AgentRecord, BlockRecord, GroupRecord
from . import groups as groups_logic
from .agent_routing import agent_not_found
from .blocks import new_block_record
from .llm_configs import embedding_config_from_handle, llm_config_from_handle

CASCADING_TYPES = {"sleeptime", "voice_sleeptime"}
VOICE_DESCRIPTION = "Low latency voice chat with async memory management."


def _now() -> str:
    return datetime.now(UTC).isoformat()


def load_agent(actor: Actor, agent_id: str) -> AgentRecord:
    record = agents_dal.get_agent(actor.organization_id, agent_id) if is_storable_id(agent_id) else None
    if record is None:
        raise agent_not_found(agent_id)
    return record


def to_agent_state(
    actor: Actor,
    record: AgentRecord,
    blocks: Optional[dict[str, BlockRecord]] = None,
    groups: Optional[dict[str, GroupRecord]] = None,
) -> AgentState:
    """The API shape of an agent: its blocks and the group it manages are read here unless the caller has them."""
    org = actor.organization_id
    block_ids = record.block_ids
    if blocks is None:
        blocks = agents_dal.get_blocks(org, block_ids) if block_ids else {}
    managed = sorted(record.managed_group_ids)
    group = None
    if managed:
        if groups is None:
            found = groups_dal.get_groups(org, managed)
        else:
            found = [groups[g] for g in managed if g in groups]
        if found:
            group = found[-1].to_group()
    data = {
        "id": record.id,
        "name": record.name,
        "system": record.system,
        "agent_type": record.agent_type,
        "llm_config": record.llm_config,
        "embedding_config": record.embedding_config,
        "tool_rules": record.tool_rules,
        "description": record.description,
        "metadata": record.metadata,
        "tags": record.tags,
        "project_id": record.project_id,
        "identity_ids": record.identity_ids,
        "message_buffer_autoclear": record.message_buffer_autoclear,
        "enable_sleeptime": record.enable_sleeptime,
        "organization_id": record.organization_id,
        "created_by_id": record.created_by_id,
        "last_updated_by_id": record.last_updated_by_id,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "memory": {"blocks": [blocks[b].to_block().model_dump() for b in block_ids if b in blocks], "prompt_template": ""},
        "tools": [catalog.tool_object(t, org) for t in record.tool_names if t in catalog.SCHEMAS],
        "multi_agent_group": group.model_dump() if group else None,
        "message_ids": [],
    }
    return AgentState.model_validate(data)


def _attach_existing_blocks(org: str, block_ids: list[str], labels: dict[str, str]) -> list[str]:
    if not block_ids:
        return []
    blocks = agents_dal.get_blocks(org, block_ids)
    missing = [b for b in dict.fromkeys(block_ids) if b not in blocks]
    if missing:
        raise NotFoundError(f"Items not found in blocks: {set(missing)!r}")
    attached = []
    for block_id in dict.fromkeys(block_ids):
        label = blocks[block_id].label
        if labels.get(label, block_id) != block_id:
            raise ConflictError(f"Block label '{label}' is already used by another block of this agent")
        labels[label] = block_id
        attached.append(block_id)
    return attached


def _agent_record(actor: Actor, request: CreateAgent, name: str, project_id: Optional[str] = None) -> AgentRecord:
    llm = request.llm_config or llm_config_from_handle(request.model, request.context_window_limit)
    embedding = request.embedding_config or embedding_config_from_handle(request.embedding)
    tools = catalog.default_tools(request.agent_type, request.include_base_tools, bool(request.enable_sleeptime))
    for tool in request.tools or []:
        if tool in catalog.SCHEMAS and tool not in tools:
            tools.append(tool)
    if request.include_multi_agent_tools:
        tools += [t for t in catalog.MULTI_AGENT_TOOLS if t not in tools]
    rules = list(request.tool_rules or [])
    if request.include_base_tool_rules and not rules:
        rules = catalog.default_tool_rules(request.agent_type)
    now = _now()
    return AgentRecord(
        id=new_id("agent"),
        name=name,
        system=request.system or default_system(request.agent_type),
        agent_type=request.agent_type,
        llm_config=llm.model_dump(),
        embedding_config=embedding.model_dump(),
        tool_rules=rules,
        tool_names=tools,
        description=request.description,
        metadata=request.metadata,
        tags=list(request.tags or []),
        project_id=request.project_id or project_id or request.project,
        identity_ids=list(request.identity_ids or []),
        message_buffer_autoclear=request.message_buffer_autoclear,
        enable_sleeptime=request.enable_sleeptime,
        organization_id=actor.organization_id,
        created_by_id=actor.user_id,
        last_updated_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        block_ids=[],
        block_labels={},
    )


def create_agent(actor: Actor, request: CreateAgent, project_id: Optional[str] = None) -> AgentState:
    """Create an agent; `project_id` is the `X-Project` header (the body's `project_id` wins, then the header)."""
    org = actor.organization_id
    if request.agent_type == "voice_convo_agent" and not request.enable_sleeptime:
        raise BadRequestError("A voice_convo_agent requires enable_sleeptime=True")
    name = request.name or f"agent-{secrets.token_hex(3)}"
    record = _agent_record(actor, request, name, project_id)
    labels: dict[str, str] = {}
    new_blocks: list[BlockRecord] = []
    for block in request.memory_blocks or []:
        if block.label in labels:
            raise BadRequestError(f"Duplicate memory block label '{block.label}'")
        created = new_block_record(actor, block)
        labels[block.label] = created.id
        new_blocks.append(created)
    attached = _attach_existing_blocks(org, list(request.block_ids or []), labels)
    record.block_ids = [b.id for b in new_blocks] + attached
    record.block_labels = labels
    agents_dal.create_agent(org, record, new_blocks)
    if request.enable_sleeptime:
        try:
            _create_sleeptime_group(actor, record)
        except Exception:
            # All or nothing: without its sleeptime group the main agent must not exist either.
            agents_dal.transact_write(org, deleted_agents=[record.id], detached=agents_dal.held(record))
            for orphan in new_blocks:
                agents_dal.delete_block(org, orphan.id)
            raise
        record = load_agent(actor, record.id)
    return to_agent_state(actor, record)


def _create_sleeptime_group(actor: Actor, main: AgentRecord) -> None:
    """The background agent and its group, for a main agent with `enable_sleeptime`: as Letta 0.7.7, a
    voice_sleeptime group for a voice_convo_agent and a sleeptime group for every other agent type."""
    org = actor.organization_id
    voice = main.agent_type == "voice_convo_agent"
    sleeper_request = CreateAgent(
        name=f"{main.name}-sleeptime",
        agent_type="voice_sleeptime_agent" if voice else "sleeptime_agent",
        memory_blocks=[CreateBlock(label="memory_persona", value="I am a memory agent that keeps the shared memory tidy.")],
        block_ids=list(main.block_ids),
        project_id=main.project_id,
    )
    sleeper = _agent_record(actor, sleeper_request, sleeper_request.name or "sleeptime")
    sleeper.llm_config = main.llm_config
    sleeper.embedding_config = main.embedding_config
    persona = new_block_record(actor, sleeper_request.memory_blocks[0])  # type: ignore[index]
    labels = dict(main.block_labels)
    labels.pop("memory_persona", None)
    labels["memory_persona"] = persona.id
    sleeper.block_labels = labels
    sleeper.block_ids = [b for b in main.block_ids if b != main.block_labels.get("memory_persona")] + [persona.id]
    agents_dal.create_agent(org, sleeper, [persona])
    if voice:
        config: Any = VoiceSleeptimeManager(manager_agent_id=main.id, max_message_buffer_length=30, min_message_buffer_length=15)
        description = VOICE_DESCRIPTION
    else:
        config = SleeptimeManager(manager_agent_id=main.id, sleeptime_agent_frequency=5)
        description = ""
    try:
        groups_logic.create_group(
            actor,
            GroupCreate(agent_ids=[sleeper.id], description=description, manager_config=config),
            project_id=main.project_id,
        )
    except Exception:
        agents_dal.transact_write(org, deleted_agents=[sleeper.id], detached=agents_dal.held(sleeper))
        raise


def retrieve_agent(actor: Actor, agent_id: str) -> AgentState:
    return to_agent_state(actor, load_agent(actor, agent_id))


def list_agents(
    actor: Actor,
    *,
    name: Optional[str] = None,
    tags: Optional[list[str]] = None,
    match_all_tags: bool = False,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: Optional[int] = None,
    project_id: Optional[str] = None,
) -> list[AgentState]:
    org = actor.organization_id
    for cursor in (after, before):
        if cursor and agents_dal.get_agent(org, cursor) is None:
            raise agent_not_found(cursor)
    filtered = name is not None or tags or project_id is not None
    records = agents_dal.list_agents(org, after, before, None if filtered else limit)
    if name is not None:
        records = [r for r in records if r.name == name]
    if tags:
        wanted = set(tags)
        if match_all_tags:
            records = [r for r in records if wanted <= set(r.tags)]
        else:
            records = [r for r in records if wanted & set(r.tags)]
    if project_id is not None:
        records = [r for r in records if r.project_id == project_id]
    if limit is not None:
        records = records[:limit]
    return to_agent_states(actor, records)


def to_agent_states(actor: Actor, records: list[AgentRecord]) -> list[AgentState]:
    """Many agents' states with one BatchGet for all their blocks and one for the groups they manage."""
    org = actor.organization_id
    block_ids = list(dict.fromkeys(b for r in records for b in r.block_ids))
    blocks = agents_dal.get_blocks(org, block_ids) if block_ids else {}
    group_ids = list(dict.fromkeys(g for r in records for g in r.managed_group_ids))
    groups = {g.id: g for g in groups_dal.get_groups(org, group_ids)} if group_ids else {}
    return [to_agent_state(actor, r, blocks, groups) for r in records]


# What `PATCH /v1/agents/{id}` sets as sent (a null leaves the stored value).
_MODIFIABLE = ("name", "system", "tool_rules", "description", "metadata", "tags", "project_id", "message_buffer_autoclear")


def modify_agent(actor: Actor, agent_id: str, request: UpdateAgent) -> AgentState:
    org = actor.organization_id
    for _ in range(3):
        record = load_agent(actor, agent_id)
        version = record.version
        changes = request.model_dump(exclude_unset=True)
        # The values were validated by UpdateAgent; every attribute changed below is assigned, never mutated in place.
        updated = record.model_copy(update={f: changes[f] for f in _MODIFIABLE if changes.get(f) is not None})
        if request.llm_config is not None:
            updated.llm_config = request.llm_config.model_dump()
        elif request.model:
            updated.llm_config = llm_config_from_handle(request.model).model_dump()
        if request.embedding_config is not None:
            updated.embedding_config = request.embedding_config.model_dump()
        if request.block_ids is not None:
            labels: dict[str, str] = {}
            updated.block_ids = _attach_existing_blocks(org, list(request.block_ids), labels)
            updated.block_labels = labels
        # As Letta 0.7.7: enable_sleeptime=true on an agent that manages no group creates its sleeptime group.
        turn_on_sleeptime = bool(request.enable_sleeptime)
        if request.enable_sleeptime is not None:
            updated.enable_sleeptime = request.enable_sleeptime
        updated.last_updated_by_id = actor.user_id
        updated.updated_at = _now()
        before, after = set(agents_dal.held(record)), set(agents_dal.held(updated))
        try:
            agents_dal.replace_agent(org, updated, version, attached=sorted(after - before), detached=sorted(before - after))
        except agents_dal.ConditionFailed:
            continue
        updated.version = version + 1
        if turn_on_sleeptime and not updated.managed_group_ids:
            _create_sleeptime_group(actor, updated)
        return retrieve_agent(actor, agent_id)
    raise ConflictError(f"Agent {agent_id} was modified concurrently; retry")


def delete_agent(actor: Actor, agent_id: str) -> AgentDeleted:
    org = actor.organization_id
    record = load_agent(actor, agent_id)
    managed = groups_dal.get_groups(org, sorted(record.managed_group_ids))
    blocking = [g for g in managed if g.manager_type not in CASCADING_TYPES]
    if blocking:
        raise ConflictError(
            f"Agent {agent_id} manages group {blocking[0].id} ({blocking[0].manager_type}); delete the group first"
        )
    for group in managed:
        # Deleting a sleeptime manager takes its group and background agents with it (contract §8.4); the manager's
        # record of the group goes with the manager.
        groups_dal.delete_group(org, group.model_copy(update={"manager_agent_id": None}))
        sleepers = agents_dal.get_agents(org, [a for a in group.agent_ids if a != agent_id])
        for sleeper in sleepers.values():
            try:
                agents_dal.transact_write(org, deleted_agents=[sleeper.id], detached=agents_dal.held(sleeper))
            except agents_dal.ConditionFailed:
                pass  # already gone
    try:
        agents_dal.transact_write(org, deleted_agents=[agent_id], detached=agents_dal.held(record))
    except agents_dal.ConditionFailed as exc:
        raise agent_not_found(agent_id) from exc
    return AgentDeleted(message=f"Agent id={agent_id} successfully deleted")
