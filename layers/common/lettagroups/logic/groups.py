"""Group CRUD rules (contract §4.1-§4.6, §4.12)."""

from __future__ import annotations

import time
from typing import Any, Optional

from ..dal import agents as agents_dal
from ..dal import groups as groups_dal
from ..errors import BadRequestError, ConflictError, NotFoundError
from ..ids import new_id, time_floor_id
from ..models.groups import (
    DynamicManager,
    DynamicManagerUpdate,
    Group,
    GroupCreate,
    GroupDeleted,
    GroupUpdate,
    ListOrder,
    RoundRobinManager,
    RoundRobinManagerUpdate,
    SleeptimeManager,
    SleeptimeManagerUpdate,
    SwarmManager,
    SwarmManagerUpdate,
    VoiceSleeptimeManager,
    VoiceSleeptimeManagerUpdate,
    is_storable_id,
)
from ..models.identity import Actor
from ..models.stored_entities import AgentRecord, GroupRecord
from . import paging

MAX_WRITE_RETRIES = 3


def group_not_found(group_id: str) -> NotFoundError:
    return NotFoundError(f"Group not found with id={group_id}")


def _check_initial_agent(org: str, initial_agent_id: str, agent_ids: list[str]) -> None:
    """swarm: the initial agent must be one of the participants; 404 when it is no agent at all, else 400."""
    if initial_agent_id in agent_ids:
        return
    if agents_dal.get_agent(org, initial_agent_id) is None:
        raise NotFoundError(f"Agent not found with id={initial_agent_id}")
    raise BadRequestError(f"initial_agent_id {initial_agent_id} is not one of the group's agent_ids")


def load_group(actor: Actor, group_id: str) -> GroupRecord:
    record = groups_dal.get_group(actor.organization_id, group_id) if is_storable_id(group_id) else None
    if record is None:
        raise group_not_found(group_id)
    return record


def retrieve_group(actor: Actor, group_id: str) -> Group:
    return load_group(actor, group_id).to_group()


def count_groups(actor: Actor) -> int:
    return max(groups_dal.count_groups(actor.organization_id), 0)


def list_groups(
    actor: Actor,
    *,
    manager_type: Optional[str] = None,
    project_id: Optional[str] = None,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: Optional[int] = None,
    order: ListOrder = "asc",
    show_hidden: bool = False,
) -> list[Group]:
    """Groups by creation time (contract §4.1, §5); `order` and `show_hidden` are later Letta's. The cursors
    are relative to the order: with `desc`, `after` names a newer group and the page holds older ones."""
    org = actor.organization_id
    for cursor in (after, before):
        if cursor and groups_dal.get_group(org, cursor) is None:
            raise NotFoundError(f"No Group found with id {cursor}")
    paging.check_window(after, before, order)
    if limit == 0:
        return []
    records = groups_dal.list_groups(
        org,
        manager_type=manager_type,
        project_id=project_id,
        after=after,
        before=before,
        limit=limit,
        descending=order == "desc",
        include_hidden=show_hidden,
    )
    return [r.to_group() for r in records]


def list_agent_groups(
    actor: Actor,
    agent_id: str,
    manager_type: Optional[str] = None,
    *,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: Optional[int] = None,
    order: ListOrder = "asc",
) -> list[Group]:
    org = actor.organization_id
    if not is_storable_id(agent_id) or agents_dal.get_agent(org, agent_id) is None:
        raise NotFoundError(f"Agent not found with id={agent_id}")
    group_ids = groups_dal.list_memberships(org, agent_id)
    groups = [g for g in groups_dal.get_groups(org, group_ids) if agent_id in g.agent_ids]
    if manager_type is not None:
        groups = [g for g in groups if g.manager_type == manager_type]
    groups.sort(key=lambda g: g.id)
    chosen = paging.window(groups, [g.id for g in groups], after=after, before=before, limit=limit, order=order, what="group")
    return [g.to_group() for g in chosen]


def check_buffer_lengths(max_len: Any, min_len: Any) -> None:
    """Voice-sleeptime buffer rules B1-B3 (contract §3.3)."""
    if (max_len is None) != (min_len is None):
        raise BadRequestError(
            "Both 'max_message_buffer_length' and 'min_message_buffer_length' must be provided together "
            f"(got max={max_len}, min={min_len})"
        )
    if max_len is None:
        return
    if not (isinstance(max_len, int) and isinstance(min_len, int) and max_len > 4 and min_len > 4):
        raise BadRequestError(
            "Both 'max_message_buffer_length' and 'min_message_buffer_length' must be greater than 4 "
            f"(got max={max_len}, min={min_len})"
        )
    if max_len <= min_len:
        raise BadRequestError(
            f"'max_message_buffer_length' must be greater than 'min_message_buffer_length' (got max={max_len} <= min={min_len})"
        )


def _missing_agents_error(missing: list[str]) -> NotFoundError:
    return NotFoundError(f"Items not found in agents: {set(missing)!r}")


def _load_agents(org: str, agent_ids: list[str], manager_id: Optional[str]) -> dict[str, AgentRecord]:
    wanted = list(dict.fromkeys([*agent_ids, *([manager_id] if manager_id else [])]))
    found = agents_dal.get_agents(org, wanted) if wanted else {}
    missing = [a for a in dict.fromkeys(agent_ids) if a not in found]
    if missing:
        raise _missing_agents_error(missing)
    if manager_id and manager_id not in found:
        raise NotFoundError(f"Agent not found with id={manager_id}")
    return found


def _check_dynamic_names(agent_ids: list[str], agents: dict[str, AgentRecord]) -> None:
    names = [agents[a].name for a in agent_ids]
    if len(set(names)) != len(names):
        raise BadRequestError("Duplicate agent names found in the provided agent IDs.")


def _block_attachments(org: str, block_ids: list[str], agents: list[AgentRecord]) -> dict[str, dict[str, str]]:
    """Per agent, the shared blocks to attach (label -> id). Raises 404 for missing blocks, 409 for clashes."""
    if not block_ids:
        return {}
    blocks = agents_dal.get_blocks(org, block_ids)
    missing = [b for b in dict.fromkeys(block_ids) if b not in blocks]
    if missing:
        raise NotFoundError(f"Items not found in blocks: {set(missing)!r}")
    plan: dict[str, dict[str, str]] = {}
    for agent in agents:
        labels = agent.block_labels
        attach: dict[str, str] = {}
        for block_id in dict.fromkeys(block_ids):
            label = blocks[block_id].label
            current = labels.get(label) or attach.get(label)
            if current == block_id:
                continue
            if current is not None:
                raise ConflictError(
                    f"Block label '{label}' is already used by block {current} on agent {agent.id}; "
                    f"cannot attach block {block_id}"
                )
            attach[label] = block_id
        if attach:
            plan[agent.id] = attach
    return plan


def _since_now() -> str:
    """Membership cursor: the group messages a new participant may see start here (contract O-9)."""
    return time_floor_id("message", int(time.time() * 1000))


def create_group(actor: Actor, request: GroupCreate, project_id: Optional[str] = None) -> Group:
    org = actor.organization_id
    config = request.manager_config
    manager_type = config.manager_type
    if isinstance(config, SwarmManager) and config.initial_agent_id is not None:
        _check_initial_agent(org, config.initial_agent_id, request.agent_ids)
    if isinstance(config, VoiceSleeptimeManager):
        check_buffer_lengths(config.max_message_buffer_length, config.min_message_buffer_length)
    if manager_type == "dynamic" and len(set(request.agent_ids)) != len(request.agent_ids):
        raise BadRequestError("Duplicate agent ids found in list")
    manager_id: Optional[str] = getattr(config, "manager_agent_id", None)
    agents = _load_agents(org, request.agent_ids, manager_id)
    if manager_type == "dynamic":
        _check_dynamic_names(request.agent_ids, agents)
    attach = _block_attachments(org, request.shared_block_ids, list(agents.values()))

    group = GroupRecord.model_validate(
        {
            "id": new_id("group"),
            "manager_type": manager_type,
            "agent_ids": list(request.agent_ids),
            "description": request.description,
            "shared_block_ids": list(dict.fromkeys(request.shared_block_ids)),
            # The body's project (later Letta) wins over the `X-Project` header, as for agents.
            "project_id": request.project_id or project_id or None,
            "manager_agent_id": manager_id,
            "hidden": bool(request.hidden),
            "organization_id": org,
            **_created_fields(config),
        }
    )

    changes = _agent_changes(agents.keys(), attach, add_manager=(manager_id, group.id))
    try:
        groups_dal.create_group(org, group, changes, _since_now())
    except groups_dal.ConditionFailed as exc:
        # An agent vanished or a label was taken between our reads and the write.
        raise ConflictError("The group's agents or blocks changed while the group was being created; retry") from exc
    return group.to_group()


def _created_fields(config: Any) -> dict[str, Any]:
    """The type-specific fields a create-time manager config stores (contract §4.4)."""
    if isinstance(config, RoundRobinManager):
        return {"max_turns": config.max_turns}
    if isinstance(config, DynamicManager):
        return {"max_turns": config.max_turns, "termination_token": config.termination_token}
    if isinstance(config, SleeptimeManager):
        fields: dict[str, Any] = {"sleeptime_agent_frequency": config.sleeptime_agent_frequency}
        if config.sleeptime_agent_frequency:
            fields["turns_counter"] = -1
        return fields
    if isinstance(config, VoiceSleeptimeManager):
        return {
            "max_message_buffer_length": config.max_message_buffer_length,
            "min_message_buffer_length": config.min_message_buffer_length,
        }
    if isinstance(config, SwarmManager):
        return {"max_turns": config.max_turns, "initial_agent_id": config.initial_agent_id}
    return {}


def _apply_update(group: GroupRecord, config: Any) -> None:
    """Apply a manager-config update to `group` (the caller's copy). Falsy values are ignored, so partial updates work
    (contract §4.5)."""
    if isinstance(config, (RoundRobinManagerUpdate, DynamicManagerUpdate, SwarmManagerUpdate)) and config.max_turns:
        group.max_turns = config.max_turns
    if isinstance(config, SwarmManagerUpdate) and config.initial_agent_id:
        group.initial_agent_id = config.initial_agent_id
    if isinstance(config, DynamicManagerUpdate) and config.termination_token:
        group.termination_token = config.termination_token
    manager_id = getattr(config, "manager_agent_id", None)
    if not isinstance(config, (RoundRobinManagerUpdate, SwarmManagerUpdate)) and manager_id:
        group.manager_agent_id = manager_id
    if isinstance(config, SleeptimeManagerUpdate) and config.sleeptime_agent_frequency:
        group.sleeptime_agent_frequency = config.sleeptime_agent_frequency
        if group.turns_counter is None:
            group.turns_counter = -1
    if isinstance(config, VoiceSleeptimeManagerUpdate):
        # Each bound is `sent or stored`, so a missing bound never trips the "both together" rule (§3.3).
        max_len = config.max_message_buffer_length or group.max_message_buffer_length
        min_len = config.min_message_buffer_length or group.min_message_buffer_length
        check_buffer_lengths(max_len, min_len)
        group.max_message_buffer_length = max_len
        group.min_message_buffer_length = min_len


def _agent_changes(
    agent_ids: Any,
    attach: dict[str, dict[str, str]],
    add_manager: tuple[Optional[str], str] = (None, ""),
    remove_manager: tuple[Optional[str], str] = (None, ""),
) -> list[groups_dal.AgentChange]:
    changes: dict[str, groups_dal.AgentChange] = {}
    for agent_id in agent_ids:
        changes[agent_id] = groups_dal.AgentChange(agent_id=agent_id, attach_blocks=attach.get(agent_id, {}))
    manager, group_id = add_manager
    if manager:
        changes.setdefault(manager, groups_dal.AgentChange(agent_id=manager)).add_managed_group = group_id
    old_manager, group_id = remove_manager
    if old_manager and old_manager != manager:
        changes.setdefault(old_manager, groups_dal.AgentChange(agent_id=old_manager)).remove_managed_group = group_id
    return list(changes.values())


def modify_group(actor: Actor, group_id: str, request: GroupUpdate, project_id: Optional[str] = None) -> Group:
    for _ in range(MAX_WRITE_RETRIES):
        try:
            return _modify_once(actor, group_id, request, project_id)
        except groups_dal.ConditionFailed:
            continue  # someone else wrote the group or an agent: re-read and re-apply
    raise ConflictError(f"Group {group_id} was modified concurrently; retry")


def _modify_once(actor: Actor, group_id: str, request: GroupUpdate, project_id: Optional[str]) -> Group:
    org = actor.organization_id
    current = load_group(actor, group_id)
    version = current.version
    group = current.model_copy()  # changed by attribute assignment only: the lists it shares with `current` stay as read
    config = request.manager_config
    if config is not None:
        if config.manager_type != group.manager_type:
            raise BadRequestError("Cannot change group pattern after creation")
        _apply_update(group, config)
    if request.description:
        group.description = request.description
    if request.agent_ids:
        if group.manager_type == "dynamic" and len(set(request.agent_ids)) != len(request.agent_ids):
            raise BadRequestError("Duplicate agent ids found in list")
        group.agent_ids = list(request.agent_ids)
    if request.project_id or project_id:
        group.project_id = request.project_id or project_id
    if group.manager_type == "swarm":
        _swarm_roles_after_update(org, group, current)

    new_manager = group.manager_agent_id
    old_manager = current.manager_agent_id
    changed_agents = request.agent_ids is not None and bool(request.agent_ids)
    changed_manager = new_manager != old_manager
    agents: dict[str, AgentRecord] = {}
    if changed_agents or changed_manager:
        agents = _load_agents(org, group.agent_ids if changed_agents else [], new_manager if changed_manager else None)
    if changed_agents and group.manager_type == "dynamic":
        _check_dynamic_names(group.agent_ids, agents)

    old_members = list(dict.fromkeys(current.agent_ids))
    new_members = list(dict.fromkeys(group.agent_ids))
    added = [a for a in new_members if a not in old_members]
    removed = [a for a in old_members if a not in new_members]
    # New participants get the group's shared blocks, as at create time.
    newcomers = [agents[a] for a in added if a in agents]
    if changed_manager and new_manager in agents:
        newcomers.append(agents[new_manager])
    attach = _block_attachments(org, group.shared_block_ids, newcomers) if newcomers else {}
    changes = _agent_changes(
        [a.id for a in newcomers],
        attach,
        add_manager=(new_manager if changed_manager else None, group_id),
        remove_manager=(old_manager if changed_manager else None, group_id),
    )
    if group == current:
        return group.to_group()
    groups_dal.update_group(org, group, version, added, removed, changes, _since_now())
    return group.to_group()


def _swarm_roles_after_update(org: str, group: GroupRecord, current: GroupRecord) -> None:
    """A swarm's initial agent stays a participant (400/404 otherwise); an active agent that no longer is one is
    forgotten, so the next input goes to the initial agent (swarm-handoffs.md)."""
    initial = group.initial_agent_id
    if initial and (initial != current.initial_agent_id or group.agent_ids != current.agent_ids):
        _check_initial_agent(org, initial, group.agent_ids)
    if group.active_agent_id and group.active_agent_id not in group.agent_ids:
        group.active_agent_id = None


def delete_group(actor: Actor, group_id: str) -> GroupDeleted:
    org = actor.organization_id
    not_found = NotFoundError(f"Group id={group_id} not found for user_id={actor.user_id}.")
    record = groups_dal.get_group(org, group_id) if is_storable_id(group_id) else None
    if record is None:
        raise not_found
    try:
        groups_dal.delete_group(org, record)
    except groups_dal.ConditionFailed as exc:
        raise not_found from exc  # deleted by a concurrent request
    return GroupDeleted(message=f"Group id={group_id} successfully deleted")
