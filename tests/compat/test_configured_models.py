"""`make run` honours each agent's configured model (the local server, as started with `make run`, not forced offline).

An agent whose llm_config names an OpenAI-compatible endpoint calls that endpoint (here a fake OpenAI server on a
loopback socket, standing in for Ollama or vLLM); an agent with no model configuration gets the built-in offline
model; a configured endpoint that is down fails the run with an error naming the provider and the endpoint, in the
send's answer, the stream's error frame and the run record, never with a substitute answer.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from letta_client import CreateBlock, Letta, LlmConfig
from letta_client.core.api_error import ApiError

from support.fake_openai import FakeOpenAI, tool_call_answer
from support.runs import wait_for_run_sdk
from support.sdk import say
from support.servers import closed_port
from support.trackers import Tracker

pytestmark = pytest.mark.compat


def configured(made: Tracker, name: str, endpoint: str) -> Any:
    llm = LlmConfig(model="llama3.2", model_endpoint_type="ollama", model_endpoint=endpoint, context_window=8192)
    return made.agent(name, memory_blocks=[CreateBlock(label="persona", value=f"I am {name}.")], llm_config=llm)


def test_an_agent_configured_with_an_openai_compatible_endpoint_calls_it(letta: Letta, made: Tracker, fake_openai: FakeOpenAI):
    # Given an agent configured for an OpenAI-compatible server (as for a local Ollama), and one with no model at all
    fred = configured(made, "fred", fake_openai.url)
    velma = made.agent("velma", memory_blocks=[CreateBlock(label="persona", value="I am Velma.")])
    assert velma.llm_config.handle == "letta/offline"
    group = made.group([fred.id, velma.id])
    fake_openai.script.append(
        tool_call_answer("send_message", {"message": "Hello from the configured model", "inner_thoughts": "Hi."})
    )
    # When the group is sent a message under the local server
    reply = letta.groups.messages.create(group.id, messages=say("Who is there?"))
    # Then fred's turn called that endpoint with his model, and his reply is the model's answer
    assert [r["path"] for r in fake_openai.requests] == ["/v1/chat/completions"]
    assert fake_openai.requests[0]["body"]["model"] == "llama3.2"
    said = [(m.name, m.content) for m in reply.messages if m.message_type == "assistant_message"]
    assert said[0] == ("fred", "Hello from the configured model")
    # And velma, configured with nothing, answered with the built-in offline model
    assert said[1][0] == "velma" and said[1][1].startswith("I'm velma.")


def test_an_unreachable_configured_model_fails_the_run_naming_provider_and_endpoint(letta: Letta, made: Tracker, http: Any):
    # Given three groups whose agent's configured endpoint has nothing listening
    endpoint = f"http://127.0.0.1:{closed_port()}/v1"
    expected = f"openai_compatible model at {endpoint} could not be reached"
    groups = [made.group([configured(made, f"down{i}", endpoint).id]) for i in range(3)]
    outcome: dict[str, Any] = {}

    def sync() -> None:
        try:
            letta.groups.messages.create(groups[0].id, messages=say("hello?"))
        except ApiError as exc:
            outcome["sync"] = exc

    def stream() -> None:
        outcome["stream"] = list(letta.groups.messages.create_stream(groups[1].id, messages=say("hello?")))

    # When one is sent to synchronously, one streamed and one sent asynchronously (the model retries run in parallel)
    threads = [threading.Thread(target=sync), threading.Thread(target=stream)]
    for thread in threads:
        thread.start()
    started = http.post(f"/v1/groups/{groups[2].id}/messages/async", json={"messages": [{"role": "user", "content": "hello?"}]})
    assert started.status_code == 200, started.text
    run = wait_for_run_sdk(letta, started.json()["id"], timeout=60)
    for thread in threads:
        thread.join(timeout=60)
    # Then the synchronous send answers 502 with the provider and endpoint in its detail
    error = outcome["sync"]
    assert error.status_code == 502 and re.match(rf"Run run-\S+ failed: {re.escape(expected)}", error.body["detail"]), error.body
    # And the stream ends with an error frame that says the same
    last = outcome["stream"][-1]
    assert getattr(last, "error", "").startswith(f"Stream failed: {expected}"), outcome["stream"]
    assert getattr(last, "code", None) == "model_unavailable"
    # And the run record is failed with that error
    assert run.status == "failed" and run.metadata["error"].startswith(expected), run
    # And nothing answered in the model's place
    transcript = letta.groups.messages.list(groups[0].id)
    assert [m.message_type for m in transcript] == ["user_message"]
