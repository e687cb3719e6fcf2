"""swarm through the real ASL (swarm-handoffs.md): the active agent answers or hands the conversation to a colleague
with `handoff_to_agent`; who is active persists on the group; `max_turns` bounds a request; bad handoffs are tool
errors; faults in the middle of a handoff leave a consistent transcript and run nothing twice.

The built-in offline model hands off when the latest user message asks it to (`ask <name>`, `@<name>`, ...; see
agent/providers/offline_policy.py); tests that need a model misbehaving script its answers per agent name."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from lettagroups.agent import step
from lettagroups.agent.providers.base import ChatRequest, ChatResponse, TokenUsage, ToolCallOut
from lettagroups.dal import events as events_dal
from lettagroups.dal import groups as groups_dal
from lettagroups.dal import messages as messages_dal
from lettagroups.dal import runs as runs_dal
from lettagroups.errors import BadRequestError, DomainError, NotFoundError
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import group_messages
from lettagroups.logic import groups as groups_logic
from lettagroups.logic import runs as runs_logic
from lettagroups.models.groups import GroupUpdate
from lettagroups.models.identity import Actor
from lettagroups.models.messages import LettaAsyncRequest, LettaStreamingRequest
from lettagroups.models.stored_entities import GroupRecord
from lettagroups.orchestration.failure import RetryableStepError
from lettagroups.orchestration.policies import swarm as swarm_policy
from lettagroups.orchestration.state import RunState

from support.builders import make_agent, make_group, offline_model, request, send
from support.group_run import begin_run, run_turn
from support.model_calls import ModelCalls, inbox
from support.runs import group_runs, wait_for_run
from support.swarm import HANDOFF, handed_off
from support.transcripts import transcript

HANDOFF_DESCRIPTION = "Hand the conversation to a colleague who is better placed to answer. Use it instead of replying."


def swarm(actor: Actor, names: list[str], models: dict[str, Any] | None = None, **config: Any) -> tuple[str, dict[str, str]]:
    """A swarm group of fresh agents named `names` (in that order); returns its id and the agents' ids by name."""
    ids = {n: make_agent(actor, n, **({"llm_config": models[n]} if models and n in models else {})) for n in names}
    initial = config.pop("initial", None)
    manager_config = {"manager_type": "swarm", **config, **({"initial_agent_id": ids[initial]} if initial else {})}
    return make_group(actor, list(ids.values()), manager_config), ids


def spoken(messages: list[Any]) -> list[tuple[str, str | None]]:
    return [(m.message_type, m.name) for m in messages]


def active(actor: Actor, group_id: str) -> str | None:
    return groups_logic.retrieve_group(actor, group_id).active_agent_id


def stored_group(actor: Actor, group_id: str) -> GroupRecord:
    group = groups_dal.get_group(actor.organization_id, group_id)
    assert group is not None
    return group


HANDED_OFF = handed_off("fred", "velma")


# --- a scripted model, for the calls the offline model never makes ------------------------------------------------


def tool_call(name: str, arguments: Any, thought: str = "thinking") -> ChatResponse:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    call = ToolCallOut(id=f"call_{uuid.uuid4().hex[:12]}", name=name, arguments=text)
    return ChatResponse(text=thought, tool_calls=[call], usage=TokenUsage(100, 10), finish_reason="tool_calls")


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[ChatResponse]]]:
    """Answers scripted per agent name (popped in order); an agent with nothing left gets the offline model."""
    scripts: dict[str, list[ChatResponse]] = {}
    original = step.provider_for

    class Scripted:
        name = "scripted"
        inner_thoughts_in_kwargs = False
        supports_token_streaming = False

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def complete(self, request: ChatRequest, on_delta: Any = None) -> ChatResponse:
            queue = scripts.get(str(request.metadata.get("agent_name")))
            return queue.pop(0) if queue else self.inner.complete(request, on_delta)

    monkeypatch.setattr(step, "provider_for", lambda llm_config: Scripted(original(llm_config)))
    yield scripts


# --- who talks ------------------------------------------------------------------------------------------------------


def test_the_active_agent_answers_when_nobody_is_asked_for(run_env: Actor):
    # Given a swarm of fred and velma, with no initial agent configured
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    assert active(actor, group_id) == ids["fred"]  # agent_ids[0] receives the first input
    # When the user says something that asks for nobody
    response = send(actor, group_id, "Hello there, how are you?")
    # Then fred answers alone: one turn, stop reason end_turn
    assert spoken(response.messages) == [("reasoning_message", "fred"), ("assistant_message", "fred")]
    assert response.usage.step_count == 1
    (run,) = group_runs(actor, group_id)
    assert (run.status, run.stop_reason) == ("completed", "end_turn")
    # And fred is written down as the active agent
    assert stored_group(actor, group_id).active_agent_id == ids["fred"]


def test_a_handoff_passes_the_conversation_and_the_next_send_starts_with_the_receiver(run_env: Actor, model_calls: ModelCalls):
    # Given a swarm of fred and velma
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    # When the user asks fred to pass the question on
    response = send(actor, group_id, "Could you ask velma about the footprints?")
    # Then fred hands off (his call and its return) and velma answers, in one response
    assert spoken(response.messages) == HANDED_OFF
    call, ret = response.messages[1], response.messages[2]
    assert call.tool_call.name == HANDOFF
    arguments = json.loads(call.tool_call.arguments)
    assert arguments["agent_name"] == "velma" and "footprints" in arguments["message"]
    assert (ret.tool_return, ret.status, ret.tool_call_id) == ("Handed off to velma", "success", call.tool_call.tool_call_id)
    # And usage sums both turns
    assert response.usage.step_count == 2
    assert response.usage.total_tokens == sum(c.response.usage.total_tokens for c in model_calls) > 0
    (run,) = group_runs(actor, group_id)
    assert (run.status, run.stop_reason) == ("completed", "end_turn")
    # And velma is now the active agent
    assert active(actor, group_id) == ids["velma"]
    # When the user sends again
    again = send(actor, group_id, "Thanks, and what else?")
    # Then velma answers first (and alone)
    assert spoken(again.messages) == [("reasoning_message", "velma"), ("assistant_message", "velma")]
    # And the group transcript holds every message once, the handoff's return in its stored envelope
    listed = transcript(actor, group_id)
    assert spoken(listed) == [("user_message", None), *HANDED_OFF, ("user_message", None), *spoken(again.messages)]
    assert len({(m.id, m.message_type) for m in listed}) == len(listed)
    envelope = json.loads(listed[3].tool_return)
    assert (envelope["status"], envelope["message"]) == ("OK", "Handed off to velma")


def test_the_initial_agent_receives_the_first_input(run_env: Actor):
    # Given a swarm whose initial agent is velma, the second participant
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"], initial="velma")
    group = groups_logic.retrieve_group(actor, group_id)
    assert (group.initial_agent_id, group.active_agent_id) == (ids["velma"], ids["velma"])
    # When the user sends
    response = send(actor, group_id, "Hi!")
    # Then velma answers
    assert spoken(response.messages) == [("reasoning_message", "velma"), ("assistant_message", "velma")]


def test_every_participant_is_offered_the_handoff_tool_naming_the_others(run_env: Actor, model_calls: ModelCalls):
    # Given a swarm of fred, velma and daphne
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma", "daphne"])
    # When fred is asked to pass the question to velma
    send(actor, group_id, "@velma what do you make of this?")
    # Then each speaker was offered handoff_to_agent, with the other participants' names as the enum, besides its tools
    offered = {c.agent_name: next(t for t in c.request.tools if t["name"] == HANDOFF) for c in model_calls}
    assert set(offered) == {"fred", "velma"}
    assert offered["fred"] == {
        "name": HANDOFF,
        "description": HANDOFF_DESCRIPTION,
        "parameters": {
            "type": "object",
            "properties": {
                "agent_name": {"type": "string", "enum": ["velma", "daphne"]},
                "message": {"type": "string", "description": "what the colleague needs to know"},
            },
            "required": ["agent_name", "message"],
        },
    }
    assert offered["velma"]["parameters"]["properties"]["agent_name"]["enum"] == ["fred", "daphne"]
    assert all("send_message" in [t["name"] for t in c.request.tools] for c in model_calls)
    # And they were told who their colleagues are, for this request only
    assert "daphne" in model_calls[0].request.system and "handoff_to_agent" in model_calls[0].request.system


def test_a_single_agent_swarm_behaves_as_a_single_agent(run_env: Actor, model_calls: ModelCalls):
    # Given a swarm of fred alone
    actor = run_env
    group_id, ids = swarm(actor, ["fred"])
    # When the user asks him to hand over to someone
    response = send(actor, group_id, "hand over to velma please")
    # Then no handoff tool was offered, and fred answers
    assert model_calls and all(HANDOFF not in [t["name"] for t in c.request.tools] for c in model_calls)
    assert spoken(response.messages) == [("reasoning_message", "fred"), ("assistant_message", "fred")]
    assert active(actor, group_id) == ids["fred"]


def test_what_each_participant_sees_is_the_shared_transcript(run_env: Actor, model_calls: ModelCalls):
    # Given a swarm of fred and velma, where fred has handed a question to velma
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    send(actor, group_id, "Please ask velma about the mask.")
    fred_call, velma_call = model_calls
    # Then velma saw the input and, as a system alert from fred, why he handed it to her; not his reasoning
    assert velma_call.agent_name == "velma"
    heard = inbox(velma_call.request)
    assert "Please ask velma about the mask." in heard
    assert any(h.startswith("fred handed the conversation to velma: ") and "mask" in h for h in heard)
    assert not any(fred_call.response.text in h for h in heard)
    alert = next(m for m in velma_call.request.messages if "handed the conversation" in str(m.get("content")))
    assert (alert["role"], alert["name"]) == ("system", "fred")
    # When the user asks velma to hand back to fred
    model_calls.clear()
    response = send(actor, group_id, "Thanks velma. Now hand off to fred, please.")
    # Then fred, speaking again, hears velma's earlier reply and her handoff, like a round robin peer (contract §7.2)
    assert [c.agent_name for c in model_calls] == ["velma", "fred"]
    heard = inbox(model_calls[1].request)
    velma_reply = [m for m in transcript(actor, group_id) if m.message_type == "assistant_message"][0].content
    assert velma_reply in heard
    assert any(h.startswith("velma handed the conversation to fred") for h in heard)
    assert spoken(response.messages)[-1] == ("assistant_message", "fred")
    assert active(actor, group_id) == ids["fred"]


# --- max_turns ------------------------------------------------------------------------------------------------------


def test_max_turns_bounds_a_ping_pong_and_the_last_speaker_stays_active(run_env: Actor):
    # Given a swarm of fred and velma with max_turns 2
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"], max_turns=2)
    assert groups_logic.retrieve_group(actor, group_id).max_turns == 2
    # When the user asks fred to ask velma, and velma to ask fred
    response = send(actor, group_id, "Fred, ask velma; velma, then ask fred.")
    # Then fred hands to velma, velma hands back, and the request stops there: nobody replied
    assert spoken(response.messages) == [
        ("reasoning_message", "fred"),
        ("tool_call_message", "fred"),
        ("tool_return_message", HANDOFF),
        ("reasoning_message", "velma"),
        ("tool_call_message", "velma"),
        ("tool_return_message", HANDOFF),
    ]
    assert response.usage.step_count == 2
    (run,) = group_runs(actor, group_id)
    assert (run.status, run.stop_reason) == ("completed", "max_turns")
    # And velma, the last to speak, stays active: her unfinished handoff moved nobody
    assert active(actor, group_id) == ids["velma"]
    assert spoken(send(actor, group_id, "Hello?").messages)[0] == ("reasoning_message", "velma")


def test_without_max_turns_the_same_ping_pong_ends_with_a_reply(run_env: Actor):
    # Given a swarm of fred and velma with the default max_turns
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    # When the user asks for the same ping-pong
    response = send(actor, group_id, "Fred, ask velma; velma, then ask fred.")
    # Then fred → velma → fred, and fred (who has asked velma once already) answers
    assert [m.name for m in response.messages if m.message_type == "tool_call_message"] == ["fred", "velma"]
    assert spoken(response.messages)[-1] == ("assistant_message", "fred")
    assert response.usage.step_count == 3
    assert group_runs(actor, group_id)[0].stop_reason == "end_turn"
    assert active(actor, group_id) == ids["fred"]


def test_an_endless_ping_pong_stops_at_the_default_of_ten_turns(run_env: Actor, scripted: dict[str, list[ChatResponse]]):
    # Given a swarm whose two agents always hand the conversation to each other
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    scripted["fred"] = [tool_call(HANDOFF, {"agent_name": "velma", "message": "yours"}) for _ in range(10)]
    scripted["velma"] = [tool_call(HANDOFF, {"agent_name": "fred", "message": "no, yours"}) for _ in range(10)]
    # When the user sends
    response = send(actor, group_id, "Anyone?")
    # Then ten turns run (swarm-handoffs.md's default max_turns) and the request stops with max_turns
    assert response.usage.step_count == 10
    assert [m.name for m in response.messages if m.message_type == "tool_call_message"] == ["fred", "velma"] * 5
    assert group_runs(actor, group_id)[0].stop_reason == "max_turns"
    assert active(actor, group_id) == ids["velma"]
    assert (len(scripted["fred"]), len(scripted["velma"])) == (5, 5)


def test_max_turns_is_capped_by_the_services_turn_cap(
    run_env: Actor, scripted: dict[str, list[ChatResponse]], monkeypatch: pytest.MonkeyPatch
):
    # Given a service whose turn cap is 4, and an endless ping-pong in a swarm that asks for 10 turns
    monkeypatch.setattr(group_messages, "MAX_TURNS_CAP", 4)
    actor = run_env
    group_id, _ = swarm(actor, ["fred", "velma"], max_turns=10)
    scripted["fred"] = [tool_call(HANDOFF, {"agent_name": "velma", "message": "yours"}) for _ in range(5)]
    scripted["velma"] = [tool_call(HANDOFF, {"agent_name": "fred", "message": "no, yours"}) for _ in range(5)]
    # When the user sends
    response = send(actor, group_id, "Anyone?")
    # Then the cap bounds the request (swarm-handoffs.md: max_turns "capped by the service's turn cap")
    assert response.usage.step_count == 4
    assert group_runs(actor, group_id)[0].stop_reason == "max_turns"
    # And the group keeps the max_turns it was given
    assert groups_logic.retrieve_group(actor, group_id).max_turns == 10


# --- bad handoffs ---------------------------------------------------------------------------------------------------


def test_bad_handoffs_are_tool_errors_and_the_caller_carries_on(run_env: Actor, scripted: dict[str, list[ChatResponse]]):
    # Given a swarm where fred's model tries to hand off to himself, to a stranger, and twice malformed, then replies
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    scripted["fred"] = [
        tool_call(HANDOFF, {"agent_name": "fred", "message": "over to me"}),
        tool_call(HANDOFF, {"agent_name": "shaggy", "message": "over to you"}),
        tool_call(HANDOFF, {"message": "to whom it may concern"}),
        tool_call(HANDOFF, {"agent_name": "velma", "message": ["not", "text"]}),
        tool_call("send_message", {"message": "I will answer that myself."}),
    ]
    # When the user sends
    response = send(actor, group_id, "Who can help?")
    # Then each bad call got a Failed tool return saying why, fred's chain went on, and he replied
    returns = [m for m in response.messages if m.message_type == "tool_return_message"]
    assert [r.status for r in returns] == ["error"] * 4
    reasons = [r.tool_return for r in returns]
    assert "cannot hand the conversation to yourself" in reasons[0]
    assert "no participant is named 'shaggy'" in reasons[1] and "velma" in reasons[1]
    assert "'agent_name' must be one of ['velma']" in reasons[2]
    assert "'message' must be a string" in reasons[3]
    assert spoken(response.messages)[-1] == ("assistant_message", "fred")
    assert {m.name for m in response.messages} == {"fred", HANDOFF}
    # And none counted as a handoff: one turn, fred stays active, velma never stepped
    assert response.usage.step_count == 1
    assert group_runs(actor, group_id)[0].stop_reason == "end_turn"
    assert active(actor, group_id) == ids["fred"]
    listed = transcript(actor, group_id)
    assert [json.loads(m.tool_return)["status"] for m in listed if m.message_type == "tool_return_message"] == ["Failed"] * 4
    # And the refused calls are not news for the others: only fred's reply is shared with them
    stored = messages_dal.list_messages(actor.organization_id, group_id)
    assert [m.shared for m in stored if m.role == "assistant"] == [False] * 4 + [True]


def test_a_handoff_ends_the_callers_turn_even_if_it_asks_for_a_heartbeat(run_env: Actor, scripted: dict[str, list[ChatResponse]]):
    # Given fred's model hands off with request_heartbeat, and would go on talking if called again
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    scripted["fred"] = [
        tool_call(HANDOFF, {"agent_name": "Velma ", "message": "yours", "request_heartbeat": True}),
        tool_call("send_message", {"message": "and another thing"}),
    ]
    # When the user sends
    response = send(actor, group_id, "Hi")
    # Then fred's turn ended with the handoff (his second answer was never asked for) and velma answered
    assert len(scripted["fred"]) == 1
    assert spoken(response.messages) == HANDED_OFF
    assert response.messages[2].tool_return == "Handed off to velma"  # names match ignoring case and outer spaces
    assert active(actor, group_id) == ids["velma"]


# --- pre-run checks -------------------------------------------------------------------------------------------------


def test_participants_sharing_a_name_cannot_run(run_env: Actor):
    # Given a swarm of two agents both named fred
    actor = run_env
    group_id = make_group(actor, [make_agent(actor, "fred"), make_agent(actor, "fred")], {"manager_type": "swarm"})
    # When the user sends
    with pytest.raises(BadRequestError, match="participant names must be unique for handoffs"):
        send(actor, group_id, "Which fred?")
    # Then nothing ran
    assert group_runs(actor, group_id) == []


def test_a_deleted_active_agent_is_404_before_running(run_env: Actor):
    # Given a swarm where velma became active, then was deleted
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    send(actor, group_id, "ask velma")
    agents_logic.delete_agent(actor, ids["velma"])
    # When the user sends
    with pytest.raises(NotFoundError, match=ids["velma"]):
        send(actor, group_id, "velma?")
    # Then no new run was made
    assert len(group_runs(actor, group_id)) == 1


def test_modifying_the_participants_moves_a_departed_active_agent_to_the_initial_one(run_env: Actor):
    # Given a swarm of fred, velma and daphne where velma is active
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma", "daphne"], initial="daphne")
    send(actor, group_id, "Daphne, ask velma.")
    assert active(actor, group_id) == ids["velma"]
    # When velma leaves the group
    modified = groups_logic.modify_group(actor, group_id, GroupUpdate(agent_ids=[ids["fred"], ids["daphne"]]))
    # Then the next input goes to the initial agent
    assert modified.active_agent_id == ids["daphne"]
    assert spoken(send(actor, group_id, "Hello?").messages)[0] == ("reasoning_message", "daphne")


# --- runs: async, stream -------------------------------------------------------------------------------------------


def test_an_async_send_hands_off_and_its_run_has_the_messages(run_env: Actor):
    # Given a swarm of fred and velma
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    # When the user sends asynchronously
    body = LettaAsyncRequest.model_validate(request("Hand over to velma: where were you last night?").model_dump())
    run = group_messages.send_message_async(actor, group_id, body)
    # Then the run completes with both turns, and its messages are the handoff and velma's answer
    done = wait_for_run(actor, run.id)
    assert done.status == "completed" and done.metadata["stop_reason"] == "end_turn"
    assert done.metadata["usage"]["step_count"] == 2
    assert spoken(runs_logic.list_run_messages(actor, run.id)) == HANDED_OFF
    assert runs_logic.retrieve_run_usage(actor, run.id).total_tokens == done.metadata["usage"]["total_tokens"]
    assert active(actor, group_id) == ids["velma"]


@pytest.mark.parametrize("stream_tokens", [False, True], ids=["steps", "tokens"])
def test_the_run_streams_every_speaker(run_env: Actor, stream_tokens: bool):
    # Given a swarm of fred and velma
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"])
    # When a streaming send starts (the stream endpoint tails this run's event log)
    body = LettaStreamingRequest.model_validate({**request("ask velma please").model_dump(), "stream_tokens": stream_tokens})
    opened = group_messages.send_message_stream(actor, group_id, body)
    assert wait_for_run(actor, opened.run_id).status == "completed"
    frames = [frame for _, frame in events_dal.read(actor.organization_id, opened.run_id, 0)]
    # Then the log holds fred's handoff and velma's answer, then usage and [DONE]
    messages = [json.loads(f) for f in frames[:-2]]
    order = list(dict.fromkeys((m["name"], m["message_type"]) for m in messages))
    assert order == [(n, t) for t, n in HANDED_OFF]
    assert json.loads(frames[-2])["step_count"] == 2 and frames[-1] == "[DONE]"
    # And with stream_tokens the reasoning, the handoff call and velma's reply came in several chunks each
    calls = [m for m in messages if m["message_type"] == "tool_call_message"]
    assert (len(calls) > 1) == stream_tokens
    arguments = "".join(c["tool_call"].get("arguments") or "" for c in calls)
    assert json.loads(arguments)["agent_name"] == "velma"


# --- faults in the middle of a handoff ------------------------------------------------------------------------------


def test_a_receiver_whose_model_fails_leaves_the_handoff_and_the_active_agent(run_env: Actor):
    # Given a swarm where velma's model refuses her first request (not retryable)
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"], models={"velma": offline_model("fail=bad_request&times=1")})
    # When the user asks fred to pass the question to velma
    with pytest.raises(DomainError) as failure:
        send(actor, group_id, "ask velma who did it")
    # Then the send fails naming the run and the model's error
    (run,) = group_runs(actor, group_id)
    assert failure.value.status_code == 424 and failure.value.detail.startswith(f"Run {run.id} failed: ")
    assert (run.status, run.stop_reason) == ("failed", "error")
    # And the transcript is consistent: the input and fred's complete handoff, nothing of velma
    assert spoken(transcript(actor, group_id)) == [("user_message", None), *HANDED_OFF[:3]]
    # And velma stays active, where the last completed step put her
    assert active(actor, group_id) == ids["velma"]
    assert [f for _, f in events_dal.read(actor.organization_id, run.id, 0)][-1] == "[DONE]"
    # And the next send starts with velma, whose model now answers
    response = send(actor, group_id, "velma, are you there?")
    assert spoken(response.messages) == [("reasoning_message", "velma"), ("assistant_message", "velma")]


def test_a_throttled_receiver_is_retried_and_the_handoff_is_not_repeated(run_env: Actor, model_calls: ModelCalls):
    # Given a swarm where velma's model is throttled once
    actor = run_env
    group_id, ids = swarm(actor, ["fred", "velma"], models={"velma": offline_model("fail=throttle&times=1")})
    # When the user asks fred to pass the question to velma
    response = send(actor, group_id, "ask velma who did it")
    # Then the run completes as if nothing happened, fred's turn ran once
    assert spoken(response.messages) == HANDED_OFF and response.usage.step_count == 2
    assert len(model_calls.of(ids["fred"])) == 1
    # And every message is stored once
    stored = messages_dal.list_messages(actor.organization_id, group_id)
    assert len(stored) == len({m.id for m in stored}) == 5  # input, handoff call and return, reply and its return
    assert active(actor, group_id) == ids["velma"]


def test_re_running_swarm_turns_writes_nothing_twice(run_env: Actor):
    # Given a run begun on a swarm, whose turns the test runs by hand as the state machine would
    actor = run_env
    org = actor.organization_id
    group_id, ids = swarm(actor, ["fred", "velma"])
    start = begin_run(actor, group_id, request("ask velma")).dump()
    assert start["active_agent_id"] == ids["fred"]
    first = run_turn(start)
    # Then fred's turn handed off: velma is active in the state and on the group, written with the step
    assert (first["active_agent_id"], first["next"], first["turn"]) == (ids["velma"], "turn", 1)
    group = stored_group(actor, group_id)
    assert group.active_agent_id == ids["velma"]
    before = [m.model_dump() for m in messages_dal.list_messages(org, group_id)]
    frames = events_dal.read(org, start["run_id"], 0)
    # When Step Functions re-runs that turn with the same input
    again = run_turn(start)
    # Then the state moves on the same way, and nothing new is stored, streamed or written on the group
    assert again == first
    assert [m.model_dump() for m in messages_dal.list_messages(org, group_id)] == before
    assert events_dal.read(org, start["run_id"], 0) == frames
    assert stored_group(actor, group_id).version == group.version
    # When velma's turn runs, and runs again
    last = run_turn(first)
    assert run_turn(first) == last
    # Then the run completed once: end_turn, two turns, one [DONE]
    assert (last["status"], last["stop_reason"], last["usage"]["step_count"]) == ("completed", "end_turn", 2)
    logged = [f for _, f in events_dal.read(org, start["run_id"], 0)]
    assert logged.count("[DONE]") == 1
    run = runs_dal.get_run(org, start["run_id"])
    assert run is not None and run.status == "completed"
    assert stored_group(actor, group_id).active_agent_id == ids["velma"]


def test_a_group_changed_while_a_handoff_commits_retries_the_turn_without_writing_it(
    run_env: Actor, monkeypatch: pytest.MonkeyPatch
):
    # Given a begun swarm run, and a group modified between the turn reading its version and writing its step
    actor = run_env
    org = actor.organization_id
    group_id, ids = swarm(actor, ["fred", "velma"])
    start = begin_run(actor, group_id, request("ask velma")).dump()
    read = groups_dal.get_group

    def read_then_modified(org_id: str, gid: str) -> Any:
        group = read(org_id, gid)
        monkeypatch.setattr(groups_dal, "get_group", read)  # the modify below reads for itself
        groups_logic.modify_group(actor, gid, GroupUpdate(description="changed meanwhile"))
        return group

    monkeypatch.setattr(swarm_policy.groups_dal, "get_group", read_then_modified)
    # When the turn runs
    with pytest.raises(RetryableStepError, match="the group changed"):
        run_turn(start)
    # Then nothing of the turn was written: the group keeps the change and no active agent, the transcript its input
    assert [m.role for m in messages_dal.list_messages(org, group_id)] == ["user"]
    group = stored_group(actor, group_id)
    assert (group.description, group.active_agent_id) == ("changed meanwhile", None)
    # When Step Functions retries it
    first = run_turn(start)
    # Then the handoff is written once, with the active agent, and the modification stands
    assert first["active_agent_id"] == ids["velma"]
    assert [m.role for m in messages_dal.list_messages(org, group_id)] == ["user", "assistant", "tool"]
    group = stored_group(actor, group_id)
    assert (group.description, group.active_agent_id) == ("changed meanwhile", ids["velma"])
    assert RunState.model_validate(first).usage.step_count == 1
