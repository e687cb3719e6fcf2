"""dynamic (contract §8.3): each turn the manager names the next speaker, who then speaks; the termination token in
the manager's or the speaker's reply ends the run. One task runs both steps of a turn (manager, then speaker)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Optional

from ...dal import agents as agents_dal
from ...ids import new_id
from ...models.presentation import send_message_texts, unpack_message
from ...models.stored_entities import BlockRecord
from .. import prompts, steps
from ..failure import retryable
from ..state import RunState


def take_turn(state: RunState) -> RunState:
    manager = str(state.manager_agent_id)
    if state.turn == 0:
        attach_participant_personas(state)
    options = [a for i, a in enumerate(state.agent_ids) if i != state.prev] or list(state.agent_ids)
    selection = steps.build_input(
        state,
        role="user",
        text=prompts.selection_prompt([(a, _name(state, a)) for a in options], chat_history(state)),
        recipient_id=manager,
        sender_id=manager,
    )
    choosing = steps.compute(
        state,
        steps.StepSpec(
            agent_id=manager,
            step_key=f"t{state.turn:03d}-manager",
            inputs=[selection],
            system_appendix=prompts.dynamic_manager_appendix(len(state.agent_ids), state.description),
        ),
    )
    reply = choosing.assistant_texts[0] if choosing.assistant_texts else ""
    token = state.termination_token
    if token and token in reply:
        return steps.commit_step(state, choosing, steps.Finish("termination_token"))
    state = steps.commit_step(state, choosing)

    index = _speaker_index(state, options, reply)
    speaker = state.agent_ids[index]
    speaking = steps.compute(
        state,
        steps.StepSpec(
            agent_id=speaker,
            step_key=f"t{state.turn:03d}-speaker",
            share_replies=True,
            system_appendix=prompts.dynamic_participant_appendix(state.description),
        ),
    )
    turn = state.turn + 1
    terminated = bool(token) and any(str(token) in text for text in speaking.assistant_texts)
    finish = steps.Finish("termination_token") if terminated else steps.Finish("max_turns") if turn >= state.max_turns else None
    return steps.commit_step(state, speaking, finish).model_copy(update={"turn": turn, "prev": index})


def _name(state: RunState, agent_id: str) -> str:
    return state.agent_names.get(agent_id, agent_id)


def _speaker_index(state: RunState, options: list[str], reply: str) -> int:
    """The last option whose name the manager's reply mentions; else the next participant in round-robin order."""
    chosen: Optional[str] = None
    lowered = reply.lower()
    for agent_id in options:
        if _name(state, agent_id).lower() in lowered:
            chosen = agent_id
    if chosen is not None:
        return state.agent_ids.index(chosen)
    return 0 if state.prev is None else (state.prev + 1) % len(state.agent_ids)


def chat_history(state: RunState) -> list[str]:
    """The manager's view of this run: the inputs and the participants' replies, one line each."""
    lines: list[str] = []
    for message in steps.run_messages(state):
        if message.role in ("user", "system") and message.recipient_id is None:
            lines.append(f"{message.name or 'user'}: {unpack_message(message.text())}")
        elif message.role == "assistant" and message.shared:
            lines += [f"{message.name or message.agent_id}: {text}" for text in send_message_texts(message)]
    return lines


def attach_participant_personas(state: RunState) -> None:
    """For each participant, a block labelled with its agent id holding its persona, on the manager (contract §8.3,
    O-11). Persistent, as in 0.7.7: existing blocks with those labels are refreshed, missing ones are created and
    attached. A participant without a persona block gives an empty value."""
    org = state.org_id
    manager_id = str(state.manager_agent_id)
    agents = agents_dal.get_agents(org, [*state.agent_ids, manager_id])
    manager = agents.get(manager_id)
    if manager is None:
        return
    persona_ids = {a: agents[a].block_labels.get("persona") for a in state.agent_ids if a in agents}
    blocks = agents_dal.get_blocks(org, [b for b in persona_ids.values() if b] + list(manager.block_labels.values()))
    labels = dict(manager.block_labels)
    block_ids = list(manager.block_ids)
    new_blocks: list[BlockRecord] = []
    changed: list[tuple[BlockRecord, int]] = []
    now = datetime.now(UTC).isoformat()
    for agent_id, persona_id in persona_ids.items():
        persona = blocks.get(persona_id) if persona_id else None
        value = persona.value if persona is not None else ""
        existing = labels.get(agent_id)
        if existing and existing in blocks:
            block = blocks[existing]
            if block.value != value:
                changed.append((block.model_copy(update={"value": value, "last_updated_by_id": state.user_id}), block.version))
            continue
        block = BlockRecord(
            id=new_id("block"),
            label=agent_id,
            value=value,
            limit=max(5000, len(value)),
            name=None,
            is_template=False,
            description=f"Persona of participant {agents[agent_id].name}",
            metadata={},
            organization_id=org,
            created_by_id=state.user_id,
            last_updated_by_id=state.user_id,
            created_at=now,
        )
        new_blocks.append(block)
        labels[agent_id] = block.id
        block_ids.append(block.id)
    try:
        for block, version in changed:
            agents_dal.replace_block(org, block, version)
        if new_blocks:
            updated = manager.model_copy(update={"block_labels": labels, "block_ids": block_ids, "updated_at": now})
            agents_dal.transact_write(org, new_blocks=new_blocks, replaced_agents=[(updated, manager.version)])
    except agents_dal.ConditionFailed as exc:
        raise retryable("the manager's blocks changed concurrently", kind="conflict") from exc
