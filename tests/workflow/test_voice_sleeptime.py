"""voice_sleeptime through the real state machine: the voice agent answers; when its context outgrows the
buffer it is trimmed and the chunk goes to the sleeptime agent (contract §8.5, VO-1..VO-3)."""

from __future__ import annotations

import pytest

from lettagroups.dal import messages as messages_dal
from lettagroups.errors import NotFoundError
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import groups as groups_logic
from lettagroups.models.agents import CreateAgent
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.groups import GroupUpdate
from lettagroups.models.identity import Actor

from support.builders import send
from support.model_calls import ModelCalls, inbox
from support.runs import wait_for_run
from support.transcripts import said, transcript


def test_voice_context_is_trimmed_and_the_sleeptime_agent_gets_each_chunk(run_env: Actor, model_calls: ModelCalls):
    # Given a voice_convo_agent created with enable_sleeptime (VO-1)
    actor = run_env
    blocks = [CreateBlock(label="human", value="The user is Sam."), CreateBlock(label="persona", value="I am a voice helper.")]
    voice = agents_logic.create_agent(
        actor, CreateAgent(name="voice", agent_type="voice_convo_agent", enable_sleeptime=True, memory_blocks=blocks)
    )
    group = voice.multi_agent_group
    assert group.manager_type == "voice_sleeptime" and len(group.agent_ids) == 1
    (sleeper_id,) = group.agent_ids
    sleeper = agents_logic.retrieve_agent(actor, sleeper_id)
    assert {t.name for t in voice.tools} == {"send_message", "search_memory"}
    assert {"store_memories", "rethink_user_memory", "finish_rethinking_memory"} <= {t.name for t in sleeper.tools}
    human = next(b for b in voice.memory.blocks if b.label == "human")
    assert human.id in {b.id for b in sleeper.memory.blocks}
    # And buffers of max 6 / min 5 (VO-3)
    groups_logic.modify_group(
        actor,
        group.id,
        GroupUpdate.model_validate(
            {
                "manager_config": {
                    "manager_type": "voice_sleeptime",
                    "max_message_buffer_length": 6,
                    "min_message_buffer_length": 5,
                }
            }
        ),
    )
    # When the user talks for five turns (3 messages each: input, reply, its tool return)
    responses = []
    for i in range(5):
        model_calls.clear()
        responses.append(send(actor, group.id, f"topic {i}: tell me about the weather"))
        (call,) = model_calls.of(voice.id)
        seen = inbox(call.request)
        # Then the voice agent's context holds the turns since the last cut only: from turn 2 on, the system message
        # and two turns (7 messages) exceed 6 after each turn, and the cut moves to the start of the latest turn
        visible_topics = sorted({int(t.split(":")[0].split()[1]) for t in seen if t.startswith("topic ")})
        assert visible_topics == {0: [0], 1: [0, 1], 2: [1, 2], 3: [2, 3], 4: [3, 4]}[i], i
    # And each trim (turns 2 to 5) starts one background pass
    assert [len(r.usage.run_ids or []) for r in responses] == [0, 1, 1, 1, 1]
    assert all(r.usage.step_count == 1 and said(r.messages) for r in responses)
    passes = [r.usage.run_ids[0] for r in responses[1:]]
    for run_id in passes:
        run = wait_for_run(actor, run_id)
        assert run.status == "completed", run.metadata
        assert run.metadata["agent_id"] == sleeper_id
    # And the sleeptime agent received a numbered transcript of the evicted chunk and what remains
    inputs = [
        m for m in messages_dal.list_messages(actor.organization_id, group.id) if m.agent_id == sleeper_id and m.role == "user"
    ]
    # (one input per pass; passes run in the background, so two may write in either order)
    assert sorted(m.run_id for m in inputs) == sorted(passes)
    by_pass = {m.run_id: m for m in inputs}
    first_text, last_text = by_pass[passes[0]].text(), by_pass[passes[-1]].text()
    assert "1. user: topic 0" in first_text and "topic 1" in first_text and "topic 2" not in first_text
    assert "1. user: topic 3" in last_text and "topic 4" in last_text and "topic 2" not in last_text
    # And the transcript still keeps every message, each once (VO-3)
    listed = transcript(actor, group.id)
    user_inputs = [m.content for m in listed if m.message_type == "user_message"]
    assert [u for u in user_inputs if u.startswith("topic ")] == [f"topic {i}: tell me about the weather" for i in range(5)]
    voice_said = said([m for m in listed if m.name == "voice"])
    assert voice_said == [text for r in responses for text in said(r.messages)]
    assert len(voice_said) == 5
    # When the voice agent is deleted (VO-2)
    agents_logic.delete_agent(actor, voice.id)
    # Then the group and the sleeptime agent are gone
    with pytest.raises(NotFoundError):
        groups_logic.retrieve_group(actor, group.id)
    with pytest.raises(NotFoundError):
        agents_logic.retrieve_agent(actor, sleeper_id)
