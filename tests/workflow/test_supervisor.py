"""supervisor through the real state machine: the broadcast pauses the supervisor, a Map state runs the
workers, the supervisor resumes with their replies (contract §8.2, MA-5/5b/5c, X-30)."""

from __future__ import annotations

import ast

from lettagroups.dal import messages as messages_dal
from lettagroups.logic import agents as agents_logic
from lettagroups.models.identity import Actor

from support.builders import NAMES, make_agent, make_group, offline_model, send
from support.model_calls import ModelCalls, inbox
from support.runs import group_runs
from support.transcripts import said, transcript

BROADCAST = "send_message_to_all_agents_in_group"
EXPECTED_TYPES = ["reasoning_message", "tool_call_message", "tool_return_message", "reasoning_message", "assistant_message"]


def _supervisor_group(actor: Actor, workers: list[str] | None = None) -> tuple[str, list[str], str]:
    supervisor = make_agent(actor, "shaggy")
    workers = workers or [make_agent(actor, n) for n in NAMES]
    group_id = make_group(actor, workers, {"manager_type": "supervisor", "manager_agent_id": supervisor})
    return supervisor, workers, group_id


def test_supervisor_broadcasts_to_workers_and_replies(run_env: Actor, model_calls: ModelCalls):
    # Given a supervisor "shaggy" over four workers
    actor = run_env
    supervisor, workers, group_id = _supervisor_group(actor)
    rules_before = agents_logic.retrieve_agent(actor, supervisor).tool_rules
    # When the user asks the group
    response = send(actor, group_id, "ask everyone what they like to do for fun and then come up with an activity")
    # Then the supervisor's messages only, in the shape of MA-5
    assert [m.message_type for m in response.messages] == EXPECTED_TYPES
    assert response.usage.step_count == 2
    assert {m.name for m in response.messages if m.message_type != "tool_return_message"} == {"shaggy"}
    call, ret = response.messages[1], response.messages[2]
    assert call.tool_call.name == BROADCAST
    assert ret.tool_call_id == call.tool_call.tool_call_id and ret.status == "success"
    # And the tool return is a Python list repr with one result per worker, in agent_ids order
    results = ast.literal_eval(ret.tool_return)
    assert len(results) == len(workers)
    assert [r.split(" said: ")[0] for r in results] == workers
    # And every worker ran (through the Map state) on one delivery from the supervisor
    for worker in workers:
        (worker_call,) = model_calls.of(worker)
        delivery = inbox(worker_call.request)[-1]
        assert delivery.startswith(f"[Incoming message from agent with ID '{supervisor}'")
        assert delivery.endswith("ask everyone what they like to do for fun and then come up with an activity")
    # And usage counts the supervisor's own steps only (§7.5)
    supervisor_calls = model_calls.of(supervisor)
    assert len(supervisor_calls) == 2
    assert response.usage.prompt_tokens == sum(c.response.usage.prompt_tokens for c in supervisor_calls)
    # And every message the run wrote (read as the run's own: the supervisor's, the deliveries and the
    # workers' replies) carries the group id and is in the group transcript, which holds nothing else (§7.1)
    org = actor.organization_id
    stored_ids = [m.id for m in messages_dal.list_messages(org, group_id)]
    (run,) = group_runs(actor, group_id)
    indexed = messages_dal.run_messages(org, group_id, run.id)
    assert indexed
    for message in indexed:
        assert message.group_id == group_id, message
        assert message.id in stored_ids, message
    assert [m.id for m in indexed] == stored_ids
    assert {m.agent_id for m in indexed} == {None, supervisor, *workers}
    # And the transcript lists the final reply
    listed = transcript(actor, group_id)
    assert said(listed)[-1] == said(response.messages)[-1]
    assert {m.name for m in listed if m.message_type == "assistant_message"} == {"shaggy", *NAMES}
    # And the supervisor's stored tool rules are unchanged (MA-5c)
    after = agents_logic.retrieve_agent(actor, supervisor)
    assert after.tool_rules == rules_before
    assert BROADCAST not in {t.name for t in after.tools}


def test_second_supervisor_in_the_same_org_also_broadcasts(run_env: Actor):
    # Given two supervisor groups in one organization (MA-5b)
    actor = run_env
    _, workers, first = _supervisor_group(actor)
    second_supervisor = make_agent(actor, "scooby")
    second = make_group(actor, workers[:2], {"manager_type": "supervisor", "manager_agent_id": second_supervisor})
    send(actor, first, "ask everyone about lunch")
    # When the second one is asked
    response = send(actor, second, "ask everyone about dinner")
    # Then it has the broadcast tool too, and the same shape
    assert [m.message_type for m in response.messages] == EXPECTED_TYPES
    assert response.messages[1].tool_call.name == BROADCAST
    assert len(ast.literal_eval(response.messages[2].tool_return)) == 2


def test_a_worker_that_fails_every_attempt_gives_its_error_and_the_run_completes(run_env: Actor):
    # Given a supervisor over two workers, one of whose model always fails
    actor = run_env
    healthy = make_agent(actor, "fred")
    broken = make_agent(actor, "velma", llm_config=offline_model("fail=error"))
    supervisor, _, group_id = _supervisor_group(actor, [healthy, broken])
    # When the user asks the group
    response = send(actor, group_id, "ask everyone what they think")
    # Then the run completes with the usual shape
    assert [m.message_type for m in response.messages] == EXPECTED_TYPES
    results = ast.literal_eval(response.messages[2].tool_return)
    # And the healthy worker's reply and the broken worker's last-attempt error are both in the tool return
    assert results[0].startswith(f"{healthy} said: '")
    assert results[1].startswith(f"(Error on attempt 3/3 for agent {broken}: ")
    assert "injected error fault" in results[1]
    # And the failed worker wrote nothing to the transcript
    stored = messages_dal.list_messages(actor.organization_id, group_id)
    assert not [m for m in stored if m.agent_id == broken and m.role == "assistant"]


def test_a_worker_whose_model_fails_twice_answers_on_its_third_attempt(run_env: Actor):
    # Given a supervisor over two workers, one of whose model fails (retryably) on its first two calls only
    actor = run_env
    healthy = make_agent(actor, "fred")
    flaky = make_agent(actor, "velma", llm_config=offline_model("fail=error&times=2"))
    _, _, group_id = _supervisor_group(actor, [healthy, flaky])
    # When the user asks the group
    response = send(actor, group_id, "ask everyone what they think")
    # Then the worker's third attempt answers, as Letta tries a worker three times
    results = ast.literal_eval(response.messages[2].tool_return)
    assert results[1].startswith(f"{flaky} said: '"), results


def test_a_worker_whose_model_refuses_for_good_is_tried_once(run_env: Actor):
    # Given a supervisor over two workers, one of whose model rejects its first request (400: retrying cannot help)
    actor = run_env
    healthy = make_agent(actor, "fred")
    broken = make_agent(actor, "velma", llm_config=offline_model("fail=bad_request&times=1"))
    _, _, group_id = _supervisor_group(actor, [healthy, broken])
    # When the user asks the group
    response = send(actor, group_id, "ask everyone what they think")
    # Then the run completes with the failure as the worker's answer after its only attempt (a retry would have
    # answered: the model rejects only one request)
    assert [m.message_type for m in response.messages] == EXPECTED_TYPES
    results = ast.literal_eval(response.messages[2].tool_return)
    assert results[1].startswith(f"(Error on attempt 1/1 for agent {broken}: "), results
