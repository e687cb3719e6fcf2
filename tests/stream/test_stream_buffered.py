"""The buffered entry point (functions/send_group_message_stream/app.py, mangum) with the function URL sample
event, as `sam local invoke StreamFunction -e events/send-group-message-stream.json` runs it."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from lettagroups.logic import agents as agents_logic
from lettagroups.logic import groups as groups_logic
from lettagroups.models.agents import CreateAgent
from lettagroups.models.groups import GroupCreate
from lettagroups.models.identity import DEFAULT_ACTOR
from lettagroups_local.handlers import LocalContext

from support.events import GROUP_PH
from support.sse import DONE, read_sse

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_DIR = ROOT / "functions" / "send_group_message_stream"
EVENT = ROOT / "events" / "send-group-message-stream.json"

# mangum 0.22 asks for the current event loop the pre-3.12 way; harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")


@pytest.fixture(scope="module")
def lambda_handler(workflows: dict[str, str]) -> Any:
    sys.path.insert(0, str(FUNCTION_DIR))  # app.py does `from main import app`, as in the Lambda package
    try:
        spec = importlib.util.spec_from_file_location("stream_function_app", FUNCTION_DIR / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(FUNCTION_DIR))
    return module.lambda_handler


def _event_for(group_id: str) -> dict[str, Any]:
    event = json.loads(EVENT.read_text())
    raw = json.dumps(event).replace(GROUP_PH, group_id)
    return dict(json.loads(raw))


def _group() -> str:
    # The function URL has no authorizer; without a user_id header the default user acts (local open mode).
    agents = [
        agents_logic.create_agent(DEFAULT_ACTOR, CreateAgent(name=name, memory_blocks=[])).id for name in ("daphne", "fred")
    ]
    return groups_logic.create_group(DEFAULT_ACTOR, GroupCreate(agent_ids=agents, description="buffered")).id


def test_sample_event_is_a_function_url_event() -> None:
    # Given the sample event, Then it is a payload-2.0 function URL event for the stream route
    event = json.loads(EVENT.read_text())
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["requestContext"]["domainName"].endswith(".lambda-url.us-east-1.on.aws")
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == f"/v1/groups/{GROUP_PH}/messages/stream"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["content-length"] == str(len(event["body"].encode()))
    assert json.loads(event["body"])["messages"][0]["role"] == "user"


def test_buffered_invocation_returns_the_whole_event_stream(lambda_handler: Any) -> None:
    # Given a round robin group in place of the event's placeholder id
    event = _event_for(_group())
    # When mangum invokes the stream app with it
    response = lambda_handler(event, LocalContext("StreamFunction", "req-stream-1"))
    # Then one 200 response carries the whole text/event-stream body, ending with usage and [DONE]
    assert response["statusCode"] == 200
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert headers["x-run-id"].startswith("run-")
    assert response["isBase64Encoded"] is False
    body = response["body"].encode()
    stream = read_sse([body])
    assert body.endswith(b"data: [DONE]\n\n")
    assert [(m["name"], m["message_type"]) for m in stream.messages] == [
        ("daphne", "reasoning_message"),
        ("daphne", "assistant_message"),
        ("fred", "reasoning_message"),
        ("fred", "assistant_message"),
    ]
    assert stream.events[-2].json["message_type"] == "usage_statistics"
    assert stream.events[-1].data == DONE
    assert [e.id for e in stream.events] == list(range(1, len(stream.events) + 1))


def test_buffered_invocation_of_an_unknown_group_is_a_json_404(lambda_handler: Any) -> None:
    # Given the sample event as it is (its placeholder group does not exist)
    event = copy.deepcopy(json.loads(EVENT.read_text()))
    # When mangum invokes the stream app, Then a JSON 404, no event stream
    response = lambda_handler(event, LocalContext("StreamFunction", "req-stream-1"))
    assert response["statusCode"] == 404
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert json.loads(response["body"]) == {"detail": f"Group not found with id={GROUP_PH}"}
