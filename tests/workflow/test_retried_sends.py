"""Retry-safe sends (issue #10, logic/sending.py): a send that repeats the conversation's last run joins it while it
goes on, resumes it once it failed, and with an Idempotency-Key answers again with its result; nothing is run or
written twice."""

from __future__ import annotations

import threading
import time

import pytest

from lettagroups.dal import messages as messages_dal
from lettagroups.errors import FailedDependencyError, GatewayTimeoutError
from lettagroups.logic import group_messages, sending
from lettagroups.models.identity import Actor
from lettagroups.orchestration import lifecycle, starter
from lettagroups.orchestration.state import RunState

from support.builders import make_agent, make_group, offline_model, request, send
from support.runs import group_runs
from support.transcripts import said, transcript


def _pair(actor: Actor, velma_faults: str = "") -> str:
    fred = make_agent(actor, "fred")
    velma = make_agent(actor, "velma", llm_config=offline_model(velma_faults) if velma_faults else None)
    return make_group(actor, [fred, velma])


def _outlasting_the_wait(state: RunState, timeout: float) -> starter.Outcome:
    """A synchronous execution whose wait ran out: the run goes on (as an execution of its own)."""
    lifecycle.start(state)
    raise starter.StillRunning(state.run_id)


def _spoken(actor: Actor, group_id: str) -> list[tuple[str, str | None]]:
    return [(m.message_type, m.name) for m in transcript(actor, group_id)]


def test_a_resent_failed_send_resumes_its_run_without_duplicating_anything(run_env: Actor):
    # Given a round robin whose second speaker's model refuses its first request, and a send that failed on it
    actor = run_env
    group_id = _pair(actor, "fail=bad_request&times=1")
    with pytest.raises(FailedDependencyError):
        send(actor, group_id, "hello both")
    # When the client sends the same again (what an SDK, or a person, does after an error)
    response = send(actor, group_id, "hello both")
    # Then the same run went on from the failed turn: fred's finished turn is not run again, velma now answers
    (run,) = group_runs(actor, group_id)
    assert (run.status, run.attempt) == ("completed", 2)
    assert [m.name for m in response.messages if m.message_type == "assistant_message"] == ["fred", "velma"]
    assert response.usage.step_count == 2
    # And the transcript holds the input once and each reply once
    assert _spoken(actor, group_id) == [
        ("user_message", None),
        ("reasoning_message", "fred"),
        ("assistant_message", "fred"),
        ("reasoning_message", "velma"),
        ("assistant_message", "velma"),
    ]
    stored = messages_dal.list_messages(actor.organization_id, group_id)
    assert len(stored) == len({m.id for m in stored}) == 5


def test_a_different_send_after_a_failure_is_a_new_run(run_env: Actor):
    # Given a send that failed
    actor = run_env
    group_id = _pair(actor, "fail=bad_request&times=1")
    with pytest.raises(FailedDependencyError):
        send(actor, group_id, "hello both")
    # When the client sends something else
    response = send(actor, group_id, "never mind: how are you?")
    # Then it is a run of its own, from the first speaker
    assert [r.status for r in group_runs(actor, group_id)] == ["failed", "completed"]
    assert [m.name for m in response.messages if m.message_type == "assistant_message"] == ["fred", "velma"]
    assert [m.content for m in transcript(actor, group_id) if m.message_type == "user_message"] == [
        "hello both",
        "never mind: how are you?",
    ]


def test_a_resend_long_after_the_failure_is_a_new_run(run_env: Actor, monkeypatch: pytest.MonkeyPatch):
    # Given a send that failed longer ago than the retry window
    actor = run_env
    group_id = _pair(actor, "fail=bad_request&times=1")
    with pytest.raises(FailedDependencyError):
        send(actor, group_id, "hello both")
    monkeypatch.setattr(sending, "RETRY_WINDOW_SECONDS", 0)
    time.sleep(0.01)
    # When the same is sent again, Then it runs anew (a person repeating themselves, not a retry)
    send(actor, group_id, "hello both")
    assert [r.status for r in group_runs(actor, group_id)] == ["failed", "completed"]


def test_a_resend_while_the_run_is_going_joins_it(run_env: Actor):
    # Given a send in progress to a slow agent
    actor = run_env
    slow = make_agent(actor, "slowpoke", llm_config=offline_model("delay_ms=800"))
    group_id = make_group(actor, [slow])
    answers: dict[str, object] = {}
    first = threading.Thread(target=lambda: answers.update(first=send(actor, group_id, "take your time")))
    first.start()
    deadline = time.monotonic() + 5
    while not group_runs(actor, group_id) and time.monotonic() < deadline:
        time.sleep(0.02)
    # When the same send arrives again meanwhile (an SDK retrying after a timeout)
    second = send(actor, group_id, "take your time")
    first.join(timeout=30)
    # Then it is answered by the same run: one run, one input, the same reply
    assert len(group_runs(actor, group_id)) == 1
    assert said(second.messages) == said(answers["first"].messages)  # type: ignore[attr-defined]
    assert [m.message_type for m in transcript(actor, group_id)] == ["user_message", "reasoning_message", "assistant_message"]


def test_an_idempotency_key_answers_again_with_the_completed_run(run_env: Actor):
    # Given a completed send made with an Idempotency-Key
    actor = run_env
    group_id = _pair(actor)
    first = group_messages.send_message(actor, group_id, request("hello"), idempotency_key="key-1")
    # When the same key comes again
    again = group_messages.send_message(actor, group_id, request("hello"), idempotency_key="key-1")
    # Then the answer is the same run's, and nothing ran again
    assert [m.id for m in again.messages] == [m.id for m in first.messages]
    assert len(group_runs(actor, group_id)) == 1
    # And a new key is a new run
    group_messages.send_message(actor, group_id, request("hello"), idempotency_key="key-2")
    assert len(group_runs(actor, group_id)) == 2


def test_a_send_marked_as_a_retry_after_its_run_completed_gets_that_run(run_env: Actor):
    # Given a completed send (its client gave up waiting before the answer came)
    actor = run_env
    group_id = _pair(actor)
    first = group_messages.send_message(actor, group_id, request("hello"))
    # When the SDK's retry arrives marked as one (letta-client 1.x: x-stainless-retry-count: 1)
    again = group_messages.send_message(actor, group_id, request("hello"), retried=True)
    # Then it is answered by the completed run, and the transcript holds everything once
    assert [m.id for m in again.messages] == [m.id for m in first.messages]
    assert len(group_runs(actor, group_id)) == 1
    assert [m.message_type for m in transcript(actor, group_id)].count("user_message") == 1
    # And the same words sent again without the mark are a new message
    group_messages.send_message(actor, group_id, request("hello"))
    assert len(group_runs(actor, group_id)) == 2


def test_a_resend_after_a_504_gets_the_run_it_timed_out_on(run_env: Actor, monkeypatch: pytest.MonkeyPatch):
    # Given a synchronous send answered with a 504 because its run outlasted the wait, which then completed
    actor = run_env
    slow = make_agent(actor, "slowpoke", llm_config=offline_model("delay_ms=600"))
    group_id = make_group(actor, [slow])
    with monkeypatch.context() as patched:
        patched.setattr(lifecycle, "run_sync", _outlasting_the_wait)
        with pytest.raises(GatewayTimeoutError):
            send(actor, group_id, "take your time")
    (run,) = group_runs(actor, group_id)
    sending.wait_for_run(actor, run.id, 30)
    # When the client sends the same again, unmarked (a Fern SDK retrying the 504)
    again = send(actor, group_id, "take your time")
    # Then the answer is that run's result: one run, one input, one reply
    assert [r.id for r in group_runs(actor, group_id)] == [run.id]
    assert [(m.message_type, m.name) for m in again.messages] == [
        ("reasoning_message", "slowpoke"),
        ("assistant_message", "slowpoke"),
    ]
    assert [m.message_type for m in transcript(actor, group_id)] == ["user_message", "reasoning_message", "assistant_message"]
