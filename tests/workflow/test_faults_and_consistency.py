"""Failures, retries, re-run tasks, pre-run checks, one run at a time, async sends (contract §4.7, §7.6, §7.6a,
§12a, MA-1, X-24). The state machine's retry intervals are real 1 s sleeps in moto: keep these few."""

from __future__ import annotations

import threading
import time

import pytest

from lettagroups.agent.providers import offline_faults
from lettagroups.dal import events as events_dal
from lettagroups.dal import messages as messages_dal
from lettagroups.dal import runs as runs_dal
from lettagroups.errors import BadRequestError, ConflictError, DomainError
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import group_messages
from lettagroups.logic import groups as groups_logic
from lettagroups.logic import runs as runs_logic
from lettagroups.models.agents import CreateAgent
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.identity import Actor
from lettagroups.models.messages import LettaAsyncRequest
from lettagroups.orchestration import tasks
from lettagroups.orchestration.failure import StepFailedError
from lettagroups.orchestration.state import RunState

from support.builders import NAMES, make_agent, make_group, offline_model, request, send
from support.group_run import begin_run, run_turn
from support.runs import group_runs, wait_for_run
from support.transcripts import said, transcript


def test_a_model_failure_on_turn_two_fails_the_send_and_keeps_turn_one(run_env: Actor):
    # Given a round robin of two agents; velma's model refuses her first request (not retryable)
    actor = run_env
    fred = make_agent(actor, "fred")
    velma = make_agent(actor, "velma", llm_config=offline_model("fail=bad_request&times=1"))
    group_id = make_group(actor, [fred, velma])
    # When the user sends a message
    with pytest.raises(DomainError) as failure:
        send(actor, group_id, "hello both")
    # Then the send ends with a 424 (the model refused for good: not worth a retry) naming the run and the model's error
    (run,) = group_runs(actor, group_id)
    assert failure.value.status_code == 424
    assert failure.value.detail.startswith(f"Run {run.id} failed: ") and "injected bad_request fault" in failure.value.detail
    # And the transcript holds exactly the input and fred's turn
    listed = transcript(actor, group_id)
    assert [(m.message_type, m.name) for m in listed] == [
        ("user_message", None),
        ("reasoning_message", "fred"),
        ("assistant_message", "fred"),
    ]
    assert all(m.agent_id in (None, fred) for m in messages_dal.list_messages(actor.organization_id, group_id))
    # And the run is failed with the model's error and an error stop reason
    (run,) = group_runs(actor, group_id)
    assert run.status == "failed" and run.failure is not None and "injected bad_request fault" in run.failure.detail
    assert (run.failure.kind, run.stop_reason, run.metadata["stop_reason"]) == ("model", "error", "error")
    # And its event log ends with the generic error frame and [DONE]
    assert [frame for _, frame in events_dal.read(actor.organization_id, run.id, 0)][-2:] == [
        '{"error":"Stream failed (internal error occurred)"}',
        "[DONE]",
    ]
    # And the group is free: the next send runs (velma's model now answers)
    response = send(actor, group_id, "hello again")
    assert response.usage.step_count == 2 and [m.name for m in response.messages][-1] == "velma"


def test_a_throttled_model_call_is_retried_without_duplicate_messages(run_env: Actor):
    # Given a round robin where velma's model is throttled once
    actor = run_env
    agents = [make_agent(actor, n, llm_config=offline_model("fail=throttle&times=1") if n == "velma" else None) for n in NAMES]
    group_id = make_group(actor, agents)
    # When the user sends a message
    response = send(actor, group_id, "hello everyone")
    # Then velma's first attempt was throttled (and retried by the state machine)
    assert offline_faults._injected[("fail=throttle&times=1", agents[1])] == 1
    # And the run completes as if nothing happened
    assert response.usage.step_count == 4
    assert [m.name for m in response.messages if m.message_type == "assistant_message"] == NAMES
    # And every message is stored once
    listed = transcript(actor, group_id)
    assert [m.message_type for m in listed] == ["user_message"] + ["reasoning_message", "assistant_message"] * 4
    stored = messages_dal.list_messages(actor.organization_id, group_id)
    assert len(stored) == len({m.id for m in stored}) == 9


def test_re_running_a_task_writes_nothing_new(run_env: Actor):
    # Given a run begun on a two-agent round robin, whose turns the test runs by hand as the state machine would
    actor = run_env
    agents = [make_agent(actor, n) for n in NAMES[:2]]
    group_id = make_group(actor, agents)
    org = actor.organization_id
    start = begin_run(actor, group_id, request("hello")).dump()
    first = run_turn(start)
    before = [m.model_dump() for m in messages_dal.list_messages(org, group_id)]
    frames_before = events_dal.read(org, start["run_id"], 0)
    # When Step Functions re-runs that turn with the same input
    again = run_turn(start)
    # Then the state moves on the same way, and nothing new is stored or streamed
    assert again == first and first["turn"] == 1 and first["next"] == "turn"
    assert [m.model_dump() for m in messages_dal.list_messages(org, group_id)] == before
    assert events_dal.read(org, start["run_id"], 0) == frames_before
    # When the last turn runs, and runs again
    last = run_turn(first)
    assert run_turn(first) == last and (last["status"], last["next"], last["stop_reason"]) == ("completed", "done", "max_turns")
    # Then the run completed once: usage and [DONE] end its event log exactly once
    frames = [f for _, f in events_dal.read(org, start["run_id"], 0)]
    assert frames[-1] == "[DONE]" and frames.count("[DONE]") == 1 and len(frames) == 6
    run = runs_dal.get_run(org, start["run_id"])
    assert run is not None and run.status == "completed" and run.usage is not None and run.usage["step_count"] == 2
    # And the group is free again
    assert send(actor, group_id, "next").usage.step_count == 2


def test_a_run_that_lost_its_conversation_writes_no_new_step(run_env: Actor):
    # Given a begun run whose hold on the group is gone (its lease ran out and the group was released)
    actor = run_env
    group_id = make_group(actor, [make_agent(actor, "fred")])
    start = begin_run(actor, group_id, request("hello")).dump()
    runs_dal.release(actor.organization_id, group_id, start["run_id"])
    # When its turn runs
    with pytest.raises(StepFailedError, match="no longer holds"):
        run_turn(start)
    # Then nothing but its input was written (it could have interleaved with a newer run)
    assert [m.role for m in messages_dal.list_messages(actor.organization_id, group_id)] == ["user"]


def test_a_re_run_main_turn_neither_counts_the_turn_twice_nor_starts_a_second_pass(run_env: Actor):
    # Given a sleeptime group whose first turn, run by hand, started a background pass
    actor = run_env
    main = agents_logic.create_agent(
        actor, CreateAgent(name="main", enable_sleeptime=True, memory_blocks=[CreateBlock(label="human", value="")])
    )
    group_id = main.multi_agent_group.id
    start = begin_run(actor, group_id, request("hello")).dump()
    first = run_turn(start)
    (background,) = first["run_ids"]
    group = groups_logic.retrieve_group(actor, group_id)
    assert group.turns_counter == 0
    # When Step Functions re-runs that turn (as if it had crashed before starting the pass)
    again = run_turn(start)
    # Then the same pass is reported, the counter did not move again, and no second pass exists
    assert again["run_ids"] == [background] and again == first
    after = groups_logic.retrieve_group(actor, group_id)
    assert (after.turns_counter, after.last_processed_message_id) == (0, group.last_processed_message_id)
    assert [r.id for r in group_runs(actor, group_id, kind="background")] == [background]
    assert wait_for_run(actor, background).status == "completed"


def test_pre_run_checks_answer_before_anything_runs(run_env: Actor):
    # Given a group with no agents (MA-1)
    actor = run_env
    group_id = make_group(actor, [])
    # When the user sends to it, twice
    for _ in range(2):
        # Then each send is 400, not a 409 from a lock left behind
        with pytest.raises(BadRequestError, match="Empty group: group must have at least one agent"):
            send(actor, group_id, "anyone?")
    # And no run was created
    assert group_runs(actor, group_id) == []
    # And an assistant-role input is refused before running too
    group_id = make_group(actor, [make_agent(actor, "fred")])
    with pytest.raises(BadRequestError, match="Invalid message role: assistant"):
        group_messages.send_message(actor, group_id, request("hi", role="assistant"))
    assert group_runs(actor, group_id) == []


def test_agents_without_memory_blocks_complete(run_env: Actor):
    # Given two agents created with memory_blocks=[]
    actor = run_env
    agents = [agents_logic.create_agent(actor, CreateAgent(name=n, memory_blocks=[])).id for n in NAMES[:2]]
    group_id = make_group(actor, agents)
    # When the user sends a message
    started = time.monotonic()
    response = send(actor, group_id, "hello")
    # Then the run completes, promptly
    assert response.usage.step_count == 2 and len(said(response.messages)) == 2
    assert time.monotonic() - started < 10


def test_a_second_send_to_a_running_group_is_refused_with_409(run_env: Actor):
    # Given a group whose only agent answers slowly, and a send in progress
    actor = run_env
    slow = make_agent(actor, "slowpoke", llm_config=offline_model("delay_ms=800"))
    group_id = make_group(actor, [slow])
    outcome: dict[str, object] = {}
    first = threading.Thread(target=lambda: outcome.update(response=send(actor, group_id, "take your time")))
    first.start()
    deadline = time.monotonic() + 5
    while not group_runs(actor, group_id) and time.monotonic() < deadline:
        time.sleep(0.02)
    # When a second send (sync or async) arrives meanwhile (§7.6a)
    with pytest.raises(ConflictError, match=f"Group {group_id} is already running a conversation"):
        send(actor, group_id, "me too")
    with pytest.raises(ConflictError, match="is already running a conversation"):
        group_messages.send_message_async(actor, group_id, LettaAsyncRequest.model_validate(request("me too").model_dump()))
    first.join(timeout=30)
    # Then the first run completes untouched, with only its own messages
    assert outcome["response"].usage.step_count == 1
    assert [m.content for m in transcript(actor, group_id) if m.message_type == "user_message"] == ["take your time"]
    assert len(group_runs(actor, group_id)) == 1
    # And once it is over the group takes sends again
    assert send(actor, group_id, "your turn").usage.step_count == 1


def test_async_send_returns_a_run_that_completes_with_the_sync_messages(run_env: Actor):
    # Given a round robin group
    actor = run_env
    agents = [make_agent(actor, n) for n in NAMES[:3]]
    group_id = make_group(actor, agents)
    # When the user sends asynchronously
    run = group_messages.send_message_async(
        actor, group_id, LettaAsyncRequest.model_validate(request("hello async").model_dump())
    )
    # Then a Run comes back at once, not yet finished
    assert run.id.startswith("run-") and run.status in ("created", "running")
    assert run.metadata["group_id"] == group_id
    # And later it is completed, with usage and stop_reason in its metadata
    done = wait_for_run(actor, run.id)
    assert done.status == "completed" and done.completed_at is not None
    assert done.metadata["stop_reason"] in ("end_turn", "max_turns")
    assert done.metadata["usage"]["step_count"] == 3
    usage = runs_logic.retrieve_run_usage(actor, run.id)
    assert usage.total_tokens == done.metadata["usage"]["total_tokens"] > 0
    # And the run's messages are exactly the replies it added to the group transcript: everything listed
    # after its input (the transcript read independently of the run record's response ids)
    record = runs_dal.get_run(actor.organization_id, run.id)
    assert record is not None
    listed = transcript(actor, group_id)
    (input_id,) = record.input_message_ids
    assert [(m.id, m.message_type, m.content) for m in listed[:1]] == [(input_id, "user_message", "hello async")]
    replies = [m for m in listed[1:] if m.message_type != "user_message"]
    assert len(replies) == len(listed) - 1
    run_messages = runs_logic.list_run_messages(actor, run.id)
    assert [(m.id, m.message_type, m.name) for m in run_messages] == [(m.id, m.message_type, m.name) for m in replies]
    assert said(run_messages) == said(replies)
    assert [m.message_type for m in run_messages] == ["reasoning_message", "assistant_message"] * 3
    assert [m.name for m in run_messages][1::2] == NAMES[:3]


def test_an_agent_deleted_mid_run_fails_the_send_with_404(run_env: Actor):
    # Given a round robin whose first speaker answers slowly
    actor = run_env
    fred = make_agent(actor, "fred", llm_config=offline_model("delay_ms=500"))
    velma = make_agent(actor, "velma")
    group_id = make_group(actor, [fred, velma])
    outcome: dict[str, BaseException] = {}

    def sending() -> None:
        try:
            send(actor, group_id, "hello")
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcome["error"] = exc

    worker = threading.Thread(target=sending)
    worker.start()
    deadline = time.monotonic() + 5
    while not group_runs(actor, group_id) and time.monotonic() < deadline:
        time.sleep(0.02)
    # When velma is deleted while fred is still speaking
    agents_logic.delete_agent(actor, velma)
    worker.join(timeout=30)
    # Then the send fails with 404 naming the missing agent (§4.7 in-run failure), not a 500
    error = outcome["error"]
    assert isinstance(error, DomainError) and error.status_code == 404
    assert f"Agent not found with id={velma}" in error.detail
    # And fred's turn stays in the transcript
    assert [m.name for m in transcript(actor, group_id)] == [None, "fred", "fred"]


def test_a_task_that_crashes_after_writing_is_retried_without_duplicates(run_env: Actor, monkeypatch: pytest.MonkeyPatch):
    # Given a round robin whose second turn's task crashes once right after its step was written
    actor = run_env
    agents = [make_agent(actor, n) for n in NAMES[:3]]
    group_id = make_group(actor, agents)
    original = tasks.ACTIONS["turn"]
    crashes: list[int] = []

    def crash_once_after_writing(state: RunState, event: dict) -> dict:
        result = original(state, event)
        if state.turn == 1 and not crashes:
            crashes.append(1)
            raise RuntimeError("the task's process died after its step was stored")
        return result

    monkeypatch.setitem(tasks.ACTIONS, "turn", crash_once_after_writing)
    # When the user sends a message
    response = send(actor, group_id, "hello again")
    # Then the crash happened, the state machine retried the task, and the run completed normally
    assert crashes == [1]
    assert response.usage.step_count == 3
    assert [m.name for m in response.messages if m.message_type == "assistant_message"] == NAMES[:3]
    # And every completed message is stored exactly once
    stored = messages_dal.list_messages(actor.organization_id, group_id)
    assert len(stored) == len({m.id for m in stored}) == 1 + 3 * 2


def test_a_throttled_table_write_is_retried_and_nothing_is_lost(run_env: Actor, monkeypatch: pytest.MonkeyPatch):
    # Given a round robin where DynamoDB throttles the first write of the first turn's step
    from lettagroups.errors import StorageUnavailableError

    actor = run_env
    agents = [make_agent(actor, n) for n in NAMES[:2]]
    group_id = make_group(actor, agents)
    original = messages_dal.put_step
    throttled: list[int] = []

    def throttle_once(*args: object, **kwargs: object) -> object:
        if not throttled:
            throttled.append(1)
            raise StorageUnavailableError()
        return original(*args, **kwargs)

    monkeypatch.setattr(messages_dal, "put_step", throttle_once)
    # When the user sends a message
    response = send(actor, group_id, "hello")
    # Then the throttled step was retried and the run completed with every message once
    assert throttled == [1]
    assert response.usage.step_count == 2
    listed = transcript(actor, group_id)
    assert [m.message_type for m in listed] == ["user_message"] + ["reasoning_message", "assistant_message"] * 2
