"""round_robin through the real state machine (contract §8.1, MA-4b..MA-4f)."""

from __future__ import annotations

from lettagroups.logic import group_messages
from lettagroups.models.identity import Actor
from lettagroups.models.messages import LettaRequest

from workflow_builders import make_agent, make_group

NAMES = ["fred", "velma", "daphne", "shaggy"]


def _send(actor: Actor, group_id: str, text: str):
    return group_messages.send_message(
        actor, group_id, LettaRequest.model_validate({"messages": [{"role": "user", "content": text}]})
    )


def test_round_robin_speakers_follow_agent_ids_order(run_env: Actor):
    # Given four agents in a round robin group
    actor = run_env
    agents = [make_agent(actor, n) for n in NAMES]
    group_id = make_group(actor, agents)
    # When the user asks the group something
    response = _send(actor, group_id, "what is everyone up to for the holidays?")
    # Then each agent speaks once, in order, reasoning then assistant (MA-4b)
    assert response.usage.step_count == 4
    assert [m.message_type for m in response.messages] == ["reasoning_message", "assistant_message"] * 4
    assert [m.name for m in response.messages] == [n for n in NAMES for _ in range(2)]
    # And the transcript holds the input once, then each speaker's parts (MA-4c)
    listed = group_messages.list_messages(actor, group_id, limit=50)
    assert [m.message_type for m in listed] == ["user_message"] + ["reasoning_message", "assistant_message"] * 4
