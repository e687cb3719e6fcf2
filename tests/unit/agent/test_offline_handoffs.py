"""The offline model's swarm handoffs (README "Models"): it calls `handoff_to_agent` when the latest user message asks
it, with a documented phrase, to pass the conversation to a colleague in the tool's enum; once per colleague and user
message; otherwise it replies. And the tool rule that makes a successful handoff end the caller's turn."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lettagroups.agent.catalog import SCHEMAS, handoff_schema
from lettagroups.agent.providers.base import ChatRequest
from lettagroups.agent.providers.offline_policy import decide
from lettagroups.agent.tool_rules import ToolRulesSolver


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": json.dumps({"type": "user_message", "message": text, "time": "now"})}


def _ask(text: str, *, colleagues: tuple[str, ...] = ("velma", "daphne"), after: list[dict[str, Any]] | None = None) -> Any:
    """What fred's offline model does with `text` as the latest user message, offered the handoff tool."""
    request = ChatRequest(
        model="letta-offline",
        system="",
        messages=[_user(text), *(after or [])],
        tools=[SCHEMAS["send_message"], handoff_schema(list(colleagues))],
        tool_choice="required",
        metadata={"agent_id": "agent-fred", "agent_name": "fred"},
    )
    return decide(request)


@pytest.mark.parametrize(
    "text",
    [
        "Could you ask velma about it?",
        "@velma what do you think?",
        "Please hand over to velma.",
        "Hand off to Velma now",
        "pass it to velma",
        "ASK   VELMA",
    ],
)
def test_each_documented_phrase_hands_off(text: str):
    # When the user message asks with one of the phrases (any case, any spacing)
    decision = _ask(text)
    # Then fred hands off to velma, telling her what the user asked
    assert decision.tool == "handoff_to_agent"
    assert decision.arguments["agent_name"] == "velma"
    assert text.split()[0] in decision.arguments["message"]


@pytest.mark.parametrize(
    "text",
    [
        "velma is great",  # a mention without a request to pass it on
        "ask velmaX about it",  # not a participant's name
        "ask fred",  # itself: not in the enum
        "ask shaggy",  # not a participant
    ],
)
def test_anything_else_is_a_reply(text: str):
    assert _ask(text).tool == "send_message"


def test_the_first_colleague_in_the_text_and_each_once_per_user_message():
    # When two colleagues are asked for, the first in the text gets it
    assert _ask("@daphne and then ask velma").arguments["agent_name"] == "daphne"
    # When fred already handed off to daphne since that user message, the next one in the text gets it
    earlier = {
        "role": "assistant",
        "content": "fred hands the conversation to daphne.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "handoff_to_agent", "arguments": json.dumps({"agent_name": "daphne", "message": "x"})},
            }
        ],
    }
    returned = {"role": "tool", "tool_call_id": "call_1", "content": "{}", "name": "handoff_to_agent"}
    alert = {"role": "system", "content": json.dumps({"type": "system_alert", "message": "daphne handed back"}), "name": "daphne"}
    after = [earlier, returned, alert]
    assert _ask("@daphne and then ask velma", after=after).arguments["agent_name"] == "velma"
    # When it handed off to both already, it replies
    again = {
        **earlier,
        "tool_calls": [
            {
                **earlier["tool_calls"][0],
                "id": "call_2",
                "function": {"name": "handoff_to_agent", "arguments": json.dumps({"agent_name": "velma", "message": "x"})},
            }
        ],
    }
    done = [*after, again, {**returned, "tool_call_id": "call_2"}, alert]
    assert _ask("@daphne and then ask velma", after=done).tool == "send_message"


def test_without_the_handoff_tool_it_replies():
    request = ChatRequest(
        model="letta-offline",
        system="",
        messages=[_user("ask velma")],
        tools=[SCHEMAS["send_message"]],
        tool_choice="required",
        metadata={"agent_name": "fred"},
    )
    assert decide(request).tool == "send_message"


def test_a_successful_handoff_ends_the_chain_and_a_failed_one_continues_it():
    # Given a solver for a step offered the handoff tool, which ends the turn when it succeeds
    solver = ToolRulesSolver([{"tool_name": "send_message", "type": "exit_loop"}], ends_turn={"handoff_to_agent"})
    # Then a successful handoff ends the chain even with a heartbeat; a failed one goes on like any failed call
    assert solver.continues_after("handoff_to_agent", heartbeat=True, failed=False) is False
    assert solver.continues_after("handoff_to_agent", heartbeat=False, failed=True) is True
    # And other tools keep Letta's rules
    assert solver.continues_after("send_message", heartbeat=False, failed=False) is False
    assert solver.continues_after("conversation_search", heartbeat=True, failed=False) is True
