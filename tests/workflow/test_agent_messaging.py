"""Messaging an agent (contract §10, issue #10) through the real state machine: an agent that manages a sleeptime,
voice_sleeptime, supervisor or dynamic group runs that group's pattern; any other agent runs alone in its own
conversation; every message is stored once, and an agent's list is what it took part in."""

from __future__ import annotations

import pytest

from lettagroups.dal import messages as messages_dal
from lettagroups.errors import ConflictError, NotFoundError
from lettagroups.logic import agent_history, agent_messages, group_messages, runs
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import groups as groups_logic
from lettagroups.models.agents import CreateAgent
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.groups import GroupUpdate
from lettagroups.models.identity import Actor
from lettagroups.models.messages import LettaAsyncRequest, MessageUpdate

from support.builders import NAMES, make_agent, make_group, offline_model, request
from support.model_calls import ModelCalls, inbox
from support.runs import wait_for_run
from support.transcripts import said, transcript


def _ask(actor: Actor, agent_id: str, text: str):  # type: ignore[no-untyped-def]
    return agent_messages.send_message(actor, agent_id, request(text))


def _listed(actor: Actor, agent_id: str, **kwargs: object) -> list[tuple[str, str | None]]:
    return [(m.message_type, m.name) for m in agent_history.list_messages(actor, agent_id, limit=100, **kwargs)]  # type: ignore[arg-type]


def test_a_plain_agent_runs_alone_in_its_own_conversation(run_env: Actor, model_calls: ModelCalls):
    # Given an agent that manages no group
    actor = run_env
    fred = make_agent(actor, "fred")
    # When it is messaged
    response = _ask(actor, fred, "what is up, fred?")
    # Then it steps alone: its reasoning and reply, usage by model calls, stop reason end_turn
    assert [(m.message_type, m.name) for m in response.messages] == [("reasoning_message", "fred"), ("assistant_message", "fred")]
    assert response.usage.step_count == 1 and response.stop_reason is not None
    assert response.stop_reason.stop_reason == "end_turn"
    # And its messages are the input and its answer, once each, in its own conversation
    assert _listed(actor, fred) == [("user_message", None), ("reasoning_message", "fred"), ("assistant_message", "fred")]
    assert [m.role for m in messages_dal.list_messages(actor.organization_id, fred)] == ["user", "assistant", "tool"]
    # And the run names the agent, and is listed for it
    (run,) = runs.list_runs(actor, [fred])
    assert run.status == "completed" and run.metadata["agent_id"] == fred and "group_id" not in run.metadata
    # And the next message's model call sees the previous exchange
    _ask(actor, fred, "and now?")
    assert inbox(model_calls.of(fred)[-1].request)[-2:] == ["what is up, fred?", "and now?"]


def test_a_sleeptime_main_agent_runs_its_groups_pattern(run_env: Actor):
    # Given an agent created with enable_sleeptime (its sleeptime group made with it), frequency 2 (SL-1, SL-2)
    actor = run_env
    main = agents_logic.create_agent(
        actor,
        CreateAgent(
            name="main",
            enable_sleeptime=True,
            memory_blocks=[CreateBlock(label="persona", value="I help."), CreateBlock(label="human", value="Likes lavender.")],
        ),
    )
    group = main.multi_agent_group
    assert group is not None
    groups_logic.modify_group(
        actor,
        group.id,
        GroupUpdate.model_validate({"manager_config": {"manager_type": "sleeptime", "sleeptime_agent_frequency": 2}}),
    )
    sleeper = group.agent_ids[0]
    # When the main agent is messaged six times (SL-5)
    run_ids: list[str] = []
    for i, text in enumerate(["orange", "a good day", "coral", "new subject", "african spear", "indeed"]):
        response = _ask(actor, main.id, text)
        assert response.messages
        assert len(response.usage.run_ids or []) == (i + 1) % 2
        run_ids += response.usage.run_ids or []
    # Then the background runs of the sleeptime agent are exactly those reported, and they finish (SL-6)
    assert sorted(r.id for r in runs.list_runs(actor, [sleeper])) == sorted(run_ids)
    assert all(wait_for_run(actor, r).status == "completed" for r in run_ids)
    # And every message went to the group's one transcript, once (beside the sleeptime agent's own inputs)
    sent = ["orange", "a good day", "coral", "new subject", "african spear", "indeed"]
    listed = [m.content for m in transcript(actor, group.id) if m.message_type == "user_message"]
    assert [c for c in listed if not str(c).startswith("Here is the latest conversation")] == sent
    # And the main agent's list shows what it took part in (inputs, its replies; not the sleeptime agent's work)
    listed_by_main = _listed(actor, main.id)
    assert listed_by_main.count(("user_message", None)) == len(sent)
    assert listed_by_main.count(("assistant_message", "main")) == len(sent)
    assert {name for _, name in listed_by_main} == {None, "main"}
    assert _listed(actor, main.id, group_id=group.id) == _listed(actor, main.id)
    # When it is reset, Then its conversation (the group's) is empty
    agent_history.reset_messages(actor, main.id)
    assert transcript(actor, group.id) == [] and _listed(actor, main.id) == []


def test_a_supervisor_and_a_dynamic_manager_run_their_groups_when_messaged(run_env: Actor):
    # Given a supervisor group and a dynamic group
    actor = run_env
    workers = [make_agent(actor, n) for n in NAMES]
    boss = make_agent(actor, "shaggy")
    supervised = make_group(actor, workers, {"manager_type": "supervisor", "manager_agent_id": boss})
    scooby = make_agent(actor, "scooby")
    dynamic = make_group(actor, workers, {"manager_type": "dynamic", "manager_agent_id": scooby, "max_turns": 2})
    # When each manager is messaged directly
    answer = _ask(actor, boss, "ask everyone what they like to do for fun and then come up with an activity")
    # Then the supervisor's pattern ran (MA-5's shape), in its group's transcript
    assert [m.message_type for m in answer.messages] == [
        "reasoning_message",
        "tool_call_message",
        "tool_return_message",
        "reasoning_message",
        "assistant_message",
    ]
    assert any(m.message_type == "user_message" for m in transcript(actor, supervised))
    chosen = _ask(actor, scooby, "who should plan the party?")
    assert chosen.usage.step_count == 4  # manager + speaker, two turns
    assert any(m.message_type == "user_message" for m in transcript(actor, dynamic))


def test_a_participant_messaged_directly_runs_alone_and_lists_both_conversations(run_env: Actor):
    # Given fred and velma in a round robin that has talked once
    actor = run_env
    fred, velma = make_agent(actor, "fred"), make_agent(actor, "velma")
    group_id = make_group(actor, [fred, velma])
    group_messages.send_message(actor, group_id, request("hello group"))
    # When fred is messaged directly
    response = _ask(actor, fred, "hi fred, just you")
    # Then he answers alone, in his own conversation, and the group's transcript is untouched
    assert [m.name for m in response.messages] == ["fred", "fred"]
    assert [m.content for m in transcript(actor, group_id) if m.message_type == "user_message"] == ["hello group"]
    # And his list merges what he took part in, in time order: the group (as he sees it: velma's reply is a peer's)
    # then his own conversation; `group_id` narrows it to the group
    mine = agent_history.list_messages(actor, fred, limit=100)
    assert [getattr(m, "content", None) for m in mine if m.message_type == "user_message"] == ["hello group", "hi fred, just you"]
    assert ("assistant_message", "velma") in _listed(actor, fred)
    in_group = _listed(actor, fred, group_id=group_id)
    assert in_group == [
        ("user_message", None),
        ("reasoning_message", "fred"),
        ("assistant_message", "fred"),
        ("assistant_message", "velma"),
    ]
    # And a message of his own conversation can be edited through the agent door
    own_input = next(m for m in mine if m.message_type == "user_message" and m.content == "hi fred, just you")
    edited = agent_history.modify_message(actor, fred, own_input.id, MessageUpdate.model_validate({"content": "hi fred!"}))
    assert edited.content == "hi fred!"
    with pytest.raises(NotFoundError):
        agent_history.modify_message(actor, velma, own_input.id, MessageUpdate.model_validate({"content": "not mine"}))


def test_one_run_at_a_time_per_agent_and_async_sends(run_env: Actor):
    # Given an agent busy with a slow answer (sent asynchronously)
    actor = run_env
    slow = make_agent(actor, "slowpoke", llm_config=offline_model("delay_ms=600"))
    run = agent_messages.send_message_async(actor, slow, LettaAsyncRequest.model_validate(request("take your time").model_dump()))
    assert run.status in ("created", "running") and run.metadata["agent_id"] == slow
    # When something else is sent meanwhile, Then it is refused with 409
    with pytest.raises(ConflictError, match=f"Agent {slow} is already running a conversation"):
        _ask(actor, slow, "me too")
    assert [r.id for r in runs.list_runs(actor, [slow], active_only=True)] == [run.id]
    # And the async run completes with the reply
    assert wait_for_run(actor, run.id).status == "completed"
    assert runs.list_runs(actor, [slow], active_only=True) == []
    assert said(runs.list_run_messages(actor, run.id))
