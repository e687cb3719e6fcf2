"""sleeptime through the real state machine: the main agent answers, background passes run as their own
executions of the same state machine (contract §8.4, SL-1..SL-7, O-8)."""

from __future__ import annotations

import pytest

from lettagroups.dal import agents as agents_dal
from lettagroups.dal import messages as messages_dal
from lettagroups.errors import NotFoundError
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import group_history
from lettagroups.logic import groups as groups_logic
from lettagroups.models.agents import CreateAgent, UpdateAgent
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.groups import GroupUpdate
from lettagroups.models.identity import Actor

from support.builders import make_group, offline_model, send
from support.runs import group_runs, wait_for_run
from support.transcripts import said, transcript

MEMORY_EDIT_TOOLS = {"core_memory_append", "core_memory_replace", "archival_memory_insert"}


def _main_agent(actor: Actor, **extra: object):
    blocks = [CreateBlock(label="human", value="The user's name is Sarah."), CreateBlock(label="persona", value="I am a helper.")]
    return agents_logic.create_agent(actor, CreateAgent(name="main", memory_blocks=blocks, **extra))  # type: ignore[arg-type]


def test_sleeptime_passes_follow_the_frequency_and_complete(run_env: Actor):
    # Given a main agent created with enable_sleeptime (SL-1)
    actor = run_env
    main = _main_agent(actor, enable_sleeptime=True)
    assert main.enable_sleeptime is True
    assert not MEMORY_EDIT_TOOLS & {t.name for t in main.tools}
    group_id = main.multi_agent_group.id
    # When its group's frequency is changed to 2 (SL-2)
    group = groups_logic.modify_group(
        actor,
        group_id,
        GroupUpdate.model_validate({"manager_config": {"manager_type": "sleeptime", "sleeptime_agent_frequency": 2}}),
    )
    # Then the group is a sleeptime group with one background agent
    assert group.manager_type == "sleeptime" and group.sleeptime_agent_frequency == 2 and len(group.agent_ids) == 1
    (sleeper_id,) = group.agent_ids
    sleeper = agents_logic.retrieve_agent(actor, sleeper_id)
    # And the human block is shared by exactly the two agents (SL-3); the sleeptime agent has memory tools and
    # an exit_loop rule (SL-4)
    human = next(b for b in main.memory.blocks if b.label == "human")
    assert human.id in {b.id for b in sleeper.memory.blocks}
    holders = [a.id for a in agents_dal.list_agents(actor.organization_id, None, None, None) if human.id in a.block_ids]
    assert sorted(holders) == sorted([main.id, sleeper_id])
    assert {"memory_rethink", "memory_finish_edits", "memory_replace", "memory_insert"} <= {t.name for t in sleeper.tools}
    assert any(r.get("type") == "exit_loop" for r in (r if isinstance(r, dict) else r.model_dump() for r in sleeper.tool_rules))
    # When the user sends six messages (SL-5)
    run_ids: list[str] = []
    counters: list[int | None] = []
    processed: list[str | None] = []
    for i in range(6):
        response = send(actor, group_id, f"message number {i}: I like hiking in the Alps.")
        # Then every response is the main agent's answer
        assert said(response.messages) and {m.name for m in response.messages} == {"main"}
        assert response.usage.step_count == 1
        # And background passes start on turns 1, 3 and 5
        assert len(response.usage.run_ids or []) == (i + 1) % 2
        run_ids += response.usage.run_ids or []
        state = groups_logic.retrieve_group(actor, group_id)
        counters.append(state.turns_counter)
        processed.append(state.last_processed_message_id)
        if response.usage.run_ids:
            # And last_processed_message_id moves to this run's last message (after its reply, the main agent's)
            last = messages_dal.get_message(actor.organization_id, group_id, processed[-1] or "")
            assert last is not None and last.agent_id == main.id and last.id >= response.messages[-1].id
    # And turns_counter is persisted after every turn
    assert counters == [0, 1, 0, 1, 0, 1]
    assert processed[0] is not None and processed[0] == processed[1]
    assert processed[0] < processed[2] == processed[3] < processed[4] == processed[5]
    # And the background runs recorded for the group are exactly the collected run ids
    assert [r.id for r in group_runs(actor, group_id, kind="background")] == run_ids
    # And every background run completes (SL-6), recorded for the sleeptime agent
    for run_id in run_ids:
        run = wait_for_run(actor, run_id)
        assert run.status == "completed", run.metadata
        assert run.metadata["agent_id"] == sleeper_id
        assert run.metadata["job_type"] == "background_agent_send_message_async"
        assert "result" in run.metadata
    # And every message of every run of the group, read as each run's own (the six sends and the three
    # background passes), carries the group id and is in the group transcript, which holds nothing else (O-8)
    org = actor.organization_id
    stored = messages_dal.list_messages(org, group_id)
    stored_ids = [m.id for m in stored]
    send_runs = [r.id for r in group_runs(actor, group_id)]
    assert len(send_runs) == 6
    indexed_ids: list[str] = []
    background = []
    for run_id in [*send_runs, *run_ids]:
        indexed = messages_dal.run_messages(org, group_id, run_id)
        assert indexed, run_id
        for message in indexed:
            assert message.group_id == group_id, message
            assert message.id in stored_ids, message
            assert message.run_id == run_id, message
        indexed_ids += [m.id for m in indexed]
        if run_id in run_ids:
            assert {m.agent_id for m in indexed} == {sleeper_id}, run_id
            background += indexed
    assert sorted(indexed_ids) == stored_ids
    # And the background messages are listed with the sleeptime agent's name
    background.sort(key=lambda m: m.id)
    assert background == [m for m in stored if m.agent_id == sleeper_id]
    inputs = [m for m in background if m.role == "user"]
    assert len(inputs) == 3
    assert "message number 0" in inputs[0].text() and "message number 2" in inputs[1].text()
    assert "main-sleeptime" in {m.name for m in transcript(actor, group_id)}
    # When the main agent is deleted (SL-7)
    agents_logic.delete_agent(actor, main.id)
    # Then the group and the sleeptime agent are gone
    with pytest.raises(NotFoundError):
        groups_logic.retrieve_group(actor, group_id)
    with pytest.raises(NotFoundError):
        agents_logic.retrieve_agent(actor, sleeper_id)


def test_null_frequency_runs_a_pass_every_turn(run_env: Actor):
    # Given a main agent with a hand-made sleeptime group whose frequency is null
    actor = run_env
    main = _main_agent(actor)
    sleeper = agents_logic.create_agent(
        actor,
        CreateAgent(
            name="main-sleeptime", agent_type="sleeptime_agent", memory_blocks=[CreateBlock(label="memory_persona", value="")]
        ),
    )
    group_id = make_group(
        actor, [sleeper.id], {"manager_type": "sleeptime", "manager_agent_id": main.id, "sleeptime_agent_frequency": None}
    )
    agents_logic.modify_agent(actor, main.id, UpdateAgent(enable_sleeptime=True))
    assert groups_logic.retrieve_group(actor, group_id).turns_counter is None
    # When the user sends three messages
    responses = [send(actor, group_id, f"note {i}") for i in range(3)]
    # Then each turn starts one background pass, and each completes
    assert [len(r.usage.run_ids or []) for r in responses] == [1, 1, 1]
    for response in responses:
        assert wait_for_run(actor, response.usage.run_ids[0]).status == "completed"
    assert groups_logic.retrieve_group(actor, group_id).turns_counter is None


def test_without_enable_sleeptime_the_main_agent_runs_alone(run_env: Actor):
    # Given a sleeptime group whose main agent has enable_sleeptime turned off
    actor = run_env
    main = _main_agent(actor, enable_sleeptime=True)
    group_id = main.multi_agent_group.id
    agents_logic.modify_agent(actor, main.id, UpdateAgent(enable_sleeptime=False))
    # When the user sends a message
    response = send(actor, group_id, "hello")
    # Then the main agent answers and no background pass starts
    assert said(response.messages) and response.usage.run_ids == []
    assert group_history.list_messages(actor, group_id)[-1].name == "main"


def test_a_failing_background_pass_is_recorded_on_its_run_and_spares_the_user(run_env: Actor):
    # Given a sleeptime group whose background agent's model refuses every request
    actor = run_env
    main = _main_agent(actor, enable_sleeptime=True)
    group_id = main.multi_agent_group.id
    (sleeper_id,) = main.multi_agent_group.agent_ids
    agents_logic.modify_agent(actor, sleeper_id, UpdateAgent(llm_config=offline_model("fail=bad_request")))
    # When the user sends a message (turn 1 starts a pass)
    response = send(actor, group_id, "hello")
    # Then the user's run completes normally
    assert said(response.messages) and len(response.usage.run_ids) == 1
    # And the background run ends failed, with the error in its metadata
    run = wait_for_run(actor, response.usage.run_ids[0])
    assert run.status == "failed"
    assert "injected bad_request fault" in run.metadata["error"]
    assert run.metadata["agent_id"] == sleeper_id
    # And the group takes the next send
    assert said(send(actor, group_id, "still there?").messages)


def test_a_background_pass_retried_after_a_crash_finishes(run_env: Actor, monkeypatch: pytest.MonkeyPatch):
    # Given a sleeptime group whose background passes are captured instead of started
    from lettagroups.dal import runs as runs_dal
    from lettagroups.orchestration import background, starter
    from lettagroups.orchestration.state import RunState

    actor = run_env
    main = _main_agent(actor, enable_sleeptime=True)
    group = main.multi_agent_group
    assert group is not None
    captured: list[dict[str, object]] = []
    monkeypatch.setattr(starter, "start_run", lambda run_id, state, name=None: captured.append(state) or run_id)
    send(actor, group.id, "remember that I like lavender")
    (started,) = captured
    state = RunState.model_validate(started)
    # And an attempt of the pass that claimed its run and then crashed (the run is left running)
    assert runs_dal.update_run(actor.organization_id, state.run_id, {"status": "running"})
    # When the state machine retries the pass
    finished = background.run_pass(state)
    # Then the retry runs it to completion
    assert finished.status == "completed"
    assert wait_for_run(actor, state.run_id).status == "completed"
    # And a further duplicate attempt finds it finished and does nothing
    assert background.run_pass(state).status is None


def test_changing_the_frequency_keeps_the_turn_counter(run_env: Actor):
    # Given a sleeptime group at frequency 2 whose counter has moved (two sends: -1 → 0 → 1)
    actor = run_env
    main = _main_agent(actor, enable_sleeptime=True)
    group_id = main.multi_agent_group.id
    frequency = {"manager_config": {"manager_type": "sleeptime", "sleeptime_agent_frequency": 2}}
    groups_logic.modify_group(actor, group_id, GroupUpdate.model_validate(frequency))
    for i in range(2):
        send(actor, group_id, f"note {i}")
    counter = groups_logic.retrieve_group(actor, group_id).turns_counter
    assert counter == 1
    # When the frequency changes to 3
    frequency["manager_config"]["sleeptime_agent_frequency"] = 3
    changed = groups_logic.modify_group(actor, group_id, GroupUpdate.model_validate(frequency))
    # Then the counter is not reset (contract §4.5)
    assert changed.sleeptime_agent_frequency == 3 and changed.turns_counter == counter
    assert groups_logic.retrieve_group(actor, group_id).turns_counter == counter
