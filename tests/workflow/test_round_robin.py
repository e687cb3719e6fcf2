"""round_robin through the real state machine (contract §8.1, §4.9-§4.11, MA-4b..MA-4f, X-25..X-29)."""

from __future__ import annotations

import pytest

from lettagroups.dal import messages as messages_dal
from lettagroups.errors import BadRequestError, NotFoundError
from lettagroups.logic import agent_history, group_history
from lettagroups.logic import groups as groups_logic
from lettagroups.models import presentation
from lettagroups.models.groups import GroupUpdate
from lettagroups.models.identity import Actor
from lettagroups.models.messages import MessageUpdate

from support.builders import NAMES, make_agent, make_group, send
from support.model_calls import ModelCalls, inbox
from support.runs import group_runs
from support.transcripts import said, transcript


def _four(actor: Actor) -> tuple[list[str], str]:
    agents = [make_agent(actor, n) for n in NAMES]
    return agents, make_group(actor, agents)


def test_round_robin_speakers_follow_agent_ids_order(run_env: Actor, model_calls: ModelCalls):
    # Given four agents in a round robin group
    actor = run_env
    agents, group_id = _four(actor)
    # When the user asks the group something
    response = send(actor, group_id, "what is everyone up to for the holidays?")
    # Then each agent speaks once, in order, reasoning then assistant (MA-4b)
    assert response.usage.step_count == 4
    assert [m.message_type for m in response.messages] == ["reasoning_message", "assistant_message"] * 4
    assert [m.name for m in response.messages] == [n for n in NAMES for _ in range(2)]
    assert [c.agent_id for c in model_calls] == agents
    # And usage is the sum over every participant step (§7.5)
    assert response.usage.prompt_tokens == sum(c.response.usage.prompt_tokens for c in model_calls) > 0
    assert response.usage.completion_tokens == sum(c.response.usage.completion_tokens for c in model_calls) > 0
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens
    assert response.usage.run_ids is None
    # And the transcript holds the input once, then each speaker's parts, chronological (MA-4c)
    listed = transcript(actor, group_id)
    assert [m.message_type for m in listed] == ["user_message"] + ["reasoning_message", "assistant_message"] * 4
    assert [m.name for m in listed[1:]] == [n for n in NAMES for _ in range(2)]
    assert listed[0].content == "what is everyone up to for the holidays?"
    assert said(listed) == said(response.messages)
    # And every message the run wrote (read as the run's own) carries the group
    # id and is in the group transcript; together they are the whole transcript (§7.1)
    org = actor.organization_id
    stored_ids = [m.id for m in messages_dal.list_messages(org, group_id)]
    (run,) = group_runs(actor, group_id)
    indexed = messages_dal.run_messages(org, group_id, run.id)
    assert indexed
    for message in indexed:
        assert message.group_id == group_id, message
        assert message.id in stored_ids, message
    assert [m.id for m in indexed] == stored_ids


def test_default_turns_one_per_agent_and_explicit_max_turns(run_env: Actor):
    # Given a round robin group of two agents with max_turns=3
    actor = run_env
    agents = [make_agent(actor, n) for n in NAMES[:2]]
    group_id = make_group(actor, agents, {"manager_type": "round_robin", "max_turns": 3})
    # When the user sends a message
    response = send(actor, group_id, "count off")
    # Then three turns run, wrapping around the agent list
    assert response.usage.step_count == 3
    assert [m.name for m in response.messages if m.message_type == "assistant_message"] == ["fred", "velma", "fred"]


@pytest.mark.parametrize("max_turns", [None, 0])
def test_a_null_or_zero_max_turns_gives_one_turn_per_participant(run_env: Actor, max_turns: int | None):
    # Given a round robin of three agents whose max_turns is null or 0 (contract §8.1: `max_turns or len(agent_ids)`)
    actor = run_env
    agents = [make_agent(actor, n) for n in NAMES[:3]]
    group_id = make_group(actor, agents, {"manager_type": "round_robin", "max_turns": max_turns})
    # When the user sends a message
    response = send(actor, group_id, "count off")
    # Then each participant speaks once, in order
    assert response.usage.step_count == 3
    assert [m.name for m in response.messages if m.message_type == "assistant_message"] == NAMES[:3]


def test_modify_reverses_order_and_caps_turns(run_env: Actor):
    # Given a round robin group that has run once
    actor = run_env
    agents, group_id = _four(actor)
    send(actor, group_id, "what is everyone up to for the holidays?")
    # When its agents are reversed and max_turns set to 3 (MA-4d)
    group = groups_logic.modify_group(
        actor,
        group_id,
        GroupUpdate.model_validate(
            {"agent_ids": list(reversed(agents)), "manager_config": {"manager_type": "round_robin", "max_turns": 3}}
        ),
    )
    # Then the group reflects it and nothing else changed
    assert group.agent_ids == list(reversed(agents))
    assert group.max_turns == 3
    assert group.description == "test group" and group.manager_agent_id is None and group.termination_token is None
    # When the transcript is reset and the group is asked again (MA-4e)
    group_history.reset_messages(actor, group_id)
    response = send(actor, group_id, "and what about next year?")
    # Then three agents speak, in the reversed order
    assert response.usage.step_count == 3
    assert [m.message_type for m in response.messages] == ["reasoning_message", "assistant_message"] * 3
    assert [m.name for m in response.messages] == [n for n in ["shaggy", "daphne", "velma"] for _ in range(2)]
    # And the transcript holds 7 items: the input and 3 × (reasoning, assistant)
    assert len(transcript(actor, group_id, limit=50)) == 7


def test_each_speaker_sees_every_group_message_since_its_previous_turn(run_env: Actor, model_calls: ModelCalls):
    # Given a round robin group that has run once
    actor = run_env
    agents, group_id = _four(actor)
    first = send(actor, group_id, "what is everyone up to for the holidays?")
    first_replies = dict(zip(agents, said(first.messages)))
    model_calls.clear()
    # When the user sends a second message
    second = send(actor, group_id, "and who is cooking dinner?")
    second_replies = dict(zip(agents, said(second.messages)))
    # Then each speaker's model input holds the replies of those who spoke after it last time,
    # the new input, and the replies of those who spoke before it this time (MA-4f, §7.2)
    for k, agent_id in enumerate(agents):
        (call,) = model_calls.of(agent_id)
        seen = inbox(call.request)
        expected = [first_replies[a] for a in agents[k + 1 :]] + ["and who is cooking dinner?"]
        expected += [second_replies[a] for a in agents[:k]]
        assert seen[-len(expected) :] == expected, agent_id
        # And it never receives its own replies back as input
        assert first_replies[agent_id] not in seen and second_replies[agent_id] not in seen


def test_transcript_cursors_are_anchored(run_env: Actor):
    # Given a group whose transcript has two runs (18 stored messages, 2 of them user inputs)
    actor = run_env
    agents, group_id = _four(actor)
    send(actor, group_id, "first question")
    send(actor, group_id, "second question")
    stored = messages_dal.list_messages(actor.organization_id, group_id)
    assert len(stored) == 18

    def present(messages):
        return [(m.id, m.message_type) for m in presentation.to_letta_messages(messages)]

    def listed(**kwargs):
        return [(m.id, m.message_type) for m in group_history.list_messages(actor, group_id, **kwargs)]

    # Then no cursor gives the newest `limit` stored messages, chronological, reasoning before assistant
    assert listed() == present(stored[-10:])
    newest = group_history.list_messages(actor, group_id)
    assert [m.message_type for m in newest if m.message_type != "user_message"][:2] == ["reasoning_message", "assistant_message"]
    # And `after` gives the oldest `limit` after it
    assert listed(after=stored[2].id, limit=5) == present(stored[3:8])
    # And `before` gives the newest `limit` before it
    assert listed(before=stored[12].id, limit=5) == present(stored[7:12])
    # And both give the oldest `limit` strictly between
    assert listed(after=stored[2].id, before=stored[12].id, limit=4) == present(stored[3:7])
    assert listed(after=stored[2].id, before=stored[6].id, limit=50) == present(stored[3:6])
    # And paging forwards with after=<last id> never skips or repeats a message
    seen = present(stored[:1])
    cursor = stored[0].id
    for _ in range(20):
        page = group_history.list_messages(actor, group_id, after=cursor, limit=4)
        if not page:
            break
        seen += [(m.id, m.message_type) for m in page]
        cursor = page[-1].id
    assert seen == present(stored)
    # And limit=0 gives []
    assert group_history.list_messages(actor, group_id, limit=0) == []
    # And an unknown cursor, or one of another group, is 404; an inverted window is 400
    other = make_group(actor, agents)
    send(actor, other, "elsewhere")
    foreign = messages_dal.list_messages(actor.organization_id, other)[0].id
    for cursor_id in ("message-nope", foreign):
        with pytest.raises(NotFoundError, match="No message found with id"):
            group_history.list_messages(actor, group_id, after=cursor_id)
        with pytest.raises(NotFoundError, match="No message found with id"):
            group_history.list_messages(actor, group_id, before=cursor_id)
    with pytest.raises(BadRequestError, match="'before' reference must be later than 'after' reference"):
        group_history.list_messages(actor, group_id, after=stored[5].id, before=stored[3].id)


def test_reset_empties_the_transcript_and_the_agents_context(run_env: Actor, model_calls: ModelCalls):
    # Given a group that has talked
    actor = run_env
    agents, group_id = _four(actor)
    before = send(actor, group_id, "remember the purple elephant")
    old_texts = said(before.messages) + ["remember the purple elephant"]
    # When the transcript is reset
    assert group_history.reset_messages(actor, group_id) is None
    # Then the list is empty
    assert transcript(actor, group_id) == []
    # And on the next send no agent receives the old messages
    model_calls.clear()
    send(actor, group_id, "fresh start")
    assert len(model_calls) == 4
    for call in model_calls:
        seen = inbox(call.request)
        assert "fresh start" in seen
        assert not set(old_texts) & set(seen), call.agent_name
    # And the group itself is unchanged
    assert groups_logic.retrieve_group(actor, group_id).agent_ids == agents


def test_modify_messages_and_see_edits_in_later_context(run_env: Actor, model_calls: ModelCalls):
    # Given a group that has talked once
    actor = run_env
    agents, group_id = _four(actor)
    send(actor, group_id, "what is everyone up to?")
    listed = transcript(actor, group_id)
    user_message = listed[0]
    shaggy_reply = [m for m in listed if m.message_type == "assistant_message"][-1]
    shaggy_reasoning = [m for m in listed if m.message_type == "reasoning_message"][-1]
    # When shaggy's reply is edited without a message_type
    edited = group_history.modify_message(actor, group_id, shaggy_reply.id, MessageUpdate.model_validate({"content": "zoinks"}))
    # Then the response is the assistant message with the new content
    assert edited.message_type == "assistant_message" and edited.content == "zoinks" and edited.id == shaggy_reply.id
    # When the user message and shaggy's reasoning are edited too
    user_edit = group_history.modify_message(actor, group_id, user_message.id, MessageUpdate(content="what are you all doing?"))
    assert user_edit.message_type == "user_message" and user_edit.content == "what are you all doing?"
    reasoning_edit = group_history.modify_message(
        actor, group_id, shaggy_reasoning.id, MessageUpdate(message_type="reasoning_message", reasoning="hmm")
    )
    assert reasoning_edit.message_type == "reasoning_message" and reasoning_edit.reasoning == "hmm"
    # Then later listings show the edits, each message still once
    relisted = transcript(actor, group_id)
    assert len(relisted) == len(listed)
    assert relisted[0].content == "what are you all doing?"
    assert said(relisted)[-1] == "zoinks"
    assert [m.reasoning for m in relisted if m.message_type == "reasoning_message"][-1] == "hmm"
    # And a message type that does not fit the stored message is 400
    with pytest.raises(BadRequestError, match="Message type got modified"):
        group_history.modify_message(actor, group_id, shaggy_reply.id, MessageUpdate(message_type="user_message", content="x"))
    # And a message of another group is 404
    other = make_group(actor, agents)
    with pytest.raises(NotFoundError):
        group_history.modify_message(actor, other, shaggy_reply.id, MessageUpdate(content="x"))
    # When the group is asked again
    model_calls.clear()
    send(actor, group_id, "anything else?")
    # Then fred (the first speaker) receives the edited reply of shaggy, not the original
    seen = inbox(model_calls.of(agents[0])[0].request)
    assert "zoinks" in seen and shaggy_reply.content not in seen
    # And the edited user input is what agents have in their history
    assert "what are you all doing?" in inbox(model_calls.of(agents[1])[0].request)


def test_a_new_participant_sees_group_messages_since_it_joined(run_env: Actor, model_calls: ModelCalls):
    # Given a round robin group of fred alone that has talked
    actor = run_env
    fred, velma = make_agent(actor, "fred"), make_agent(actor, "velma")
    group_id = make_group(actor, [fred])
    earlier = send(actor, group_id, "a secret from before velma joined")
    # When velma joins and the user speaks again
    groups_logic.modify_group(actor, group_id, GroupUpdate(agent_ids=[fred, velma]))
    model_calls.clear()
    later = send(actor, group_id, "welcome, velma")
    # Then velma sees the messages since she joined (O-9), fred's new reply included, but nothing older
    seen = inbox(model_calls.of(velma)[0].request)
    assert seen == ["welcome, velma", said(later.messages)[0]]
    assert "a secret from before velma joined" not in seen and said(earlier.messages)[0] not in seen
    # And fred, a participant from the start, still has the whole conversation
    assert "a secret from before velma joined" in inbox(model_calls.of(fred)[0].request)
    # And velma's message list holds what she took part in, from when she joined; fred's the whole conversation
    velmas = [m.content for m in agent_history.list_messages(actor, velma, limit=100) if m.message_type == "user_message"]
    freds = [m.content for m in agent_history.list_messages(actor, fred, limit=100) if m.message_type == "user_message"]
    assert velmas == ["welcome, velma"]
    assert freds == ["a secret from before velma joined", "welcome, velma"]
    # When both search the conversation for the secret
    searched = send(actor, group_id, "search secret")
    # Then fred finds it and velma, who joined after it, does not
    fred_found, velma_found = [m.tool_return for m in searched.messages if m.message_type == "tool_return_message"]
    assert "user: a secret from before velma joined" in fred_found
    assert "user: a secret from before velma joined" not in velma_found and "user: search secret" in velma_found
