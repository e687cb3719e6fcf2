"""dynamic through the real state machine: the manager names each speaker (contract §8.3, MA-6c/6d/6e)."""

from __future__ import annotations

import re

from lettagroups.logic import agents as agents_logic
from lettagroups.models.identity import Actor

from support.builders import NAMES, make_agent, make_group, send
from support.model_calls import ModelCalls, inbox
from support.transcripts import said

OPTIONS = re.compile(r"from the following options: \[(.*?)\]")


def _dynamic_group(actor: Actor, personas: dict[str, str] | None = None, **manager: object) -> tuple[str, list[str], str]:
    personas = personas or {}
    participants = [make_agent(actor, n, personas.get(n)) for n in NAMES]
    manager_id = make_agent(actor, "scooby", personas.get("scooby"), **manager)
    group_id = make_group(actor, participants, {"manager_type": "dynamic", "manager_agent_id": manager_id})
    return manager_id, participants, group_id


def test_dynamic_runs_max_turns_with_manager_and_speaker_each_turn(run_env: Actor, model_calls: ModelCalls):
    # Given four participants and the manager scooby, no persona asking for the termination token
    actor = run_env
    manager, participants, group_id = _dynamic_group(actor)
    # When the user sends one message
    response = send(actor, group_id, "what should we do this weekend?")
    # Then each of the 4 turns has a manager step and a speaker step (MA-6c)
    assert response.usage.step_count == 8
    assert len(response.messages) == 16
    assert [m.message_type for m in response.messages] == ["reasoning_message", "assistant_message"] * 8
    names = [m.name for m in response.messages if m.message_type == "assistant_message"]
    assert names[0::2] == ["scooby"] * 4
    speakers = names[1::2]
    assert set(speakers) <= set(NAMES)
    # And each speaker is the participant the manager named
    manager_replies = said(response.messages)[0::2]
    for reply, speaker in zip(manager_replies, speakers):
        assert speaker in reply.lower()
    # And the manager's options exclude the previous speaker (all four on the first turn)
    manager_calls = model_calls.of(manager)
    assert len(manager_calls) == 4
    name_of = dict(zip(participants, NAMES))
    previous = None
    for call, speaker in zip(manager_calls, speakers):
        options = OPTIONS.search(inbox(call.request)[-1])
        assert options
        offered = [name_of[a] for a in participants if a in options.group(1)]
        assert offered == [n for n in NAMES if n != previous]
        previous = speaker
    # And the manager sees each participant's persona in a block labelled with its id
    blocks = {b.label: b.value for b in agents_logic.retrieve_agent(actor, manager).memory.blocks}
    for agent_id, name in zip(participants, NAMES):
        assert blocks[agent_id] == f"I am {name}."
        assert f'<{agent_id} characters="' in manager_calls[0].request.system


def test_termination_token_in_the_manager_reply_ends_the_run_before_anyone_speaks(run_env: Actor, model_calls: ModelCalls):
    # Given a manager whose persona makes every reply include "DONE!"
    actor = run_env
    manager, participants, group_id = _dynamic_group(actor, {"scooby": "I am scooby. Always say DONE! when you reply."})
    # When the user sends a message
    response = send(actor, group_id, "what should we do this weekend?")
    # Then the run ends on the first turn with the manager's step only (MA-6d)
    assert response.usage.step_count == 1
    assert [m.name for m in response.messages] == ["scooby", "scooby"]
    assert "DONE!" in said(response.messages)[0]
    assert [c.agent_id for c in model_calls] == [manager]


def test_termination_token_in_the_speaker_reply_ends_the_run_after_that_turn(run_env: Actor):
    # Given participants whose personas make their replies include "DONE!"
    actor = run_env
    personas = {n: f"I am {n}. Always say DONE! when you reply." for n in NAMES}
    manager, participants, group_id = _dynamic_group(actor, personas)
    # When the user sends a message
    response = send(actor, group_id, "what should we do this weekend?")
    # Then the first speaker's reply ends the run: one manager step and one speaker step (MA-6d)
    assert response.usage.step_count == 2
    assert len(response.messages) == 4
    last = said(response.messages)[-1]
    assert "DONE!" in last and response.messages[-1].name in NAMES


def test_no_named_speaker_falls_back_to_round_robin_order(run_env: Actor):
    # Given a manager that has no tools, so its steps produce no assistant message (letta-ai/letta#2983)
    actor = run_env
    manager, participants, group_id = _dynamic_group(actor, include_base_tools=False, tools=[])
    # When the user sends a message
    response = send(actor, group_id, "what should we do this weekend?")
    # Then no error, and the participants speak in round-robin order (MA-6e)
    assert response.usage.step_count == 8
    assert [m.name for m in response.messages if m.message_type == "assistant_message"] == NAMES
    assert [m.message_type for m in response.messages] == ["reasoning_message", "reasoning_message", "assistant_message"] * 4
