"""Dynamic groups: the manager's view of its participants (contract §8.3, O-11)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..dal import agents as agents_dal
from ..ids import new_id
from ..models.identity import Actor


def attach_participant_personas(actor: Actor, group: dict[str, Any]) -> None:
    """For each participant, a block labelled with its agent id holding its persona, on the manager.

    Persistent, as in 0.7.7: existing blocks with those labels are refreshed, missing ones are
    created and attached. A participant without a persona block gives an empty value.
    Raises `agents_dal.ConditionFailed` when the manager changed meanwhile (the task retries).
    """
    org = actor.organization_id
    manager_id = group.get("manager_agent_id")
    if not manager_id:
        return
    participants = agents_dal.get_agents(org, list(group["agent_ids"]))
    manager = agents_dal.get_agent(org, manager_id)
    if manager is None:
        return
    persona_ids = [(p.get("block_labels") or {}).get("persona") for p in participants.values()]
    blocks = agents_dal.get_blocks(org, [b for b in persona_ids if b] + list((manager.get("block_labels") or {}).values()))
    labels: dict[str, str] = dict(manager.get("block_labels") or {})
    block_ids: list[str] = list(manager.get("block_ids") or [])
    new_blocks: list[dict[str, Any]] = []
    changed_blocks: list[tuple[dict[str, Any], int]] = []
    now = datetime.now(UTC).isoformat()
    for agent_id in group["agent_ids"]:
        participant = participants.get(agent_id)
        if participant is None:
            continue
        persona_id = (participant.get("block_labels") or {}).get("persona")
        value = str(blocks.get(persona_id, {}).get("value", "")) if persona_id else ""
        existing = labels.get(agent_id)
        if existing and existing in blocks:
            block = blocks[existing]
            if block.get("value") != value:
                changed_blocks.append(
                    ({**block, "value": value, "last_updated_by_id": actor.user_id}, int(block.get("version", 0)))
                )
            continue
        block = {
            "id": new_id("block"),
            "label": agent_id,
            "value": value,
            "limit": max(5000, len(value)),
            "name": None,
            "is_template": False,
            "description": f"Persona of participant {participant.get('name')}",
            "metadata": {},
            "organization_id": org,
            "created_by_id": actor.user_id,
            "last_updated_by_id": actor.user_id,
            "created_at": now,
        }
        new_blocks.append(block)
        labels[agent_id] = block["id"]
        block_ids.append(block["id"])
    for block, version in changed_blocks:
        agents_dal.replace_block(org, block, version)
    if new_blocks:
        updated = {**manager, "block_labels": labels, "block_ids": block_ids, "updated_at": now}
        agents_dal.transact_write(org, new_blocks=new_blocks, replaced_agents=[(updated, int(manager.get("version", 0)))])
