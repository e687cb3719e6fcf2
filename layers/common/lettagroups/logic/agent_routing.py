"""Where a message to an agent goes: the agent with its conversation's head, and the group whose pattern it runs.

Shared by the sends (`agent_messages`) and the history routes (`agent_history`), which live apart so that neither
function pays for the other's imports on a cold start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from ..dal import agents as agents_dal
from ..dal import groups as groups_dal
from ..errors import NotFoundError
from ..models.groups import is_storable_id
from ..models.identity import Actor
from ..models.records import ConversationHead
from ..models.stored_entities import AgentRecord, GroupRecord

# An agent managing one of these runs the group's pattern when it is messaged (Letta 0.7.7); any other runs alone.
GROUP_PATTERNS = ("sleeptime", "voice_sleeptime", "supervisor", "dynamic")


def agent_not_found(agent_id: str) -> NotFoundError:
    return NotFoundError(f"Agent not found with id={agent_id}")


def agent_and_head(actor: Actor, agent_id: str) -> tuple[AgentRecord, ConversationHead]:
    """The agent and its own conversation's head, in one read."""
    if not is_storable_id(agent_id):
        raise agent_not_found(agent_id)
    agent, head = agents_dal.get_agent_and_head(actor.organization_id, agent_id)
    if agent is None:
        raise agent_not_found(agent_id)
    return agent, head


def managed_groups(actor: Actor, agent: AgentRecord) -> list[GroupRecord]:
    """The groups the agent manages (one BatchGetItem; none read when it manages none)."""
    managed = sorted(agent.managed_group_ids)
    return groups_dal.get_groups(actor.organization_id, managed) if managed else []


def pattern_group(groups: Sequence[GroupRecord]) -> Optional[GroupRecord]:
    """Of the groups an agent manages, the one whose pattern it runs when messaged (it manages at most one)."""
    return next((g for g in reversed(groups) if g.manager_type in GROUP_PATTERNS), None)
