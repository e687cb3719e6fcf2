"""Group sends through every SDK generation over real HTTP against the local server (issue #10, items 4 and 5):
letta-client 1.7.0 (Python, Stainless) and @letta-ai/letta-client 0.1.132 (TypeScript, Fern) send, stream and poll
runs in their own APIs, and with each SDK's DEFAULT retry settings a send whose run fails leaves one copy of its
input in the transcript (logic/sending.py); letta-client 0.1.138, which retries only when asked, is driven here.

Each of the other two SDKs runs one script (tests/compat/sdk_scripts/*_sends.*) that makes every call and prints
what it saw as JSON. Both scripts start together, before the 0.1.138 tests run: most of their time is spent waiting
on the run's retry backoff (the state machine retries a failing model call 3 times, about 3 s), so they overlap.
Faults come from the offline model: an agent whose model is `letta-offline?fail=...` (agent/providers/offline_faults.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from letta_client import CreateBlock, Letta, MessageCreate
from letta_client.core.api_error import ApiError

from support.sdk import ROOT, SCRIPTS, SDK_1_7, TS_SDK, offline_llm
from support.trackers import Tracker

pytestmark = pytest.mark.compat

FAILED_RUN = re.compile(r"Run (run-[0-9a-f-]{36}) failed: offline model: injected (\w+) fault")
STEPS = [
    ["reasoning_message", "fred"],
    ["assistant_message", "fred"],
    ["reasoning_message", "velma"],
    ["assistant_message", "velma"],
]
STREAM_FAILED = "Stream failed (internal error occurred)"  # §6: a failure other than a rate limit or context overflow
LETTA_STOP_REASONS = {"end_turn", "error", "invalid_tool_call", "max_steps", "no_tool_call", "tool_rule"}  # in both SDKs' enums


class Script:
    """One SDK script running in the background; `result()` waits for its JSON."""

    def __init__(self, command: list[str], env: dict[str, str], logs: Path) -> None:
        self.stdout, self.stderr = logs.with_suffix(".out"), logs.with_suffix(".err")
        with open(self.stdout, "w") as out, open(self.stderr, "w") as err:
            self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=err, text=True)
        self._result: dict[str, Any] | None = None

    def result(self) -> dict[str, Any]:
        if self._result is None:
            self.process.wait(timeout=240)
            assert self.process.returncode == 0, f"{self.process.args[1]} failed:\n{self.stderr.read_text()[-4000:]}"
            self._result = json.loads(self.stdout.read_text().strip().splitlines()[-1])
        return self._result


@pytest.fixture(scope="module")
def scripts(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Script]]:
    logs = tmp_path_factory.mktemp("sdk-sends")
    assert (SDK_1_7 / "letta_client").is_dir(), f"letta-client 1.7.0 is not installed in {SDK_1_7}: run `make venv`"
    started = {
        "stainless": Script(
            [
                sys.executable,
                str(SCRIPTS / "letta_client_1_7_0_sends.py"),
                json.dumps({"base_url": server_url, "project": _project()}),
            ],
            {"PYTHONPATH": str(SDK_1_7)},
            logs / "stainless",
        )
    }
    node = shutil.which("node")
    if node is not None and (TS_SDK / "package.json").is_file():
        args = json.dumps({"baseUrl": server_url, "project": _project()})
        started["typescript"] = Script([node, str(SCRIPTS / "letta_client_ts_0_1_132_sends.cjs"), args], {}, logs / "typescript")
    yield started
    for script in started.values():
        if script.process.poll() is None:
            script.process.kill()


def _project() -> str:
    return f"sends-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def stainless(scripts: dict[str, Script]) -> dict[str, Any]:
    return scripts["stainless"].result()


@pytest.fixture(scope="module")
def typescript(scripts: dict[str, Script]) -> dict[str, Any]:
    if "typescript" not in scripts:
        pytest.skip("node or @letta-ai/letta-client is not installed (make venv installs them with npm)")
    return scripts["typescript"].result()


def failed_run(body: Any, fault: str) -> str:
    """The run id an error body names, checking it also names the model's error."""
    match = FAILED_RUN.fullmatch(body["detail"])
    assert match is not None and match.group(2) == fault, body
    return match.group(1)


def replies(transcript: list[list[Any]]) -> list[list[Any]]:
    """[message_type, name] of a transcript, as [type, name, content] triples come from the scripts."""
    return [[kind, name] for kind, name, _ in transcript]


# --- letta-client 0.1.138: no retries unless asked (request_options max_retries) -----------------------------------


def _pair(made: Tracker, faults: str) -> tuple[str, str, str]:
    """A round robin of fred and a velma whose model has `faults`: (group id, fred's name, velma's name)."""
    suffix = uuid.uuid4().hex[:6]
    fred = made.agent(f"fred-{suffix}", memory_blocks=[CreateBlock(label="persona", value="I am fred.")])
    velma = made.agent(
        f"velma-{suffix}", memory_blocks=[CreateBlock(label="persona", value="I am velma.")], llm_config=offline_llm(faults)
    )
    return made.group([fred.id, velma.id], description="retries").id, fred.name, velma.name


class Sends:
    """A letta-client 0.1.138 whose httpx client records [status, error body] of every answer to a send."""

    def __init__(self, server_url: str) -> None:
        self.calls: list[list[Any]] = []
        hooks = {"response": [self._record]}
        self.letta = Letta(base_url=server_url, httpx_client=httpx.Client(timeout=60, follow_redirects=True, event_hooks=hooks))

    def _record(self, response: httpx.Response) -> None:
        if response.request.method == "POST" and response.request.url.path.endswith("/messages"):
            body = None
            if response.status_code >= 400:
                response.read()
                body = response.json()
            self.calls.append([response.status_code, body])

    def send(self, group_id: str, text: str, max_retries: int) -> Any:
        messages = [MessageCreate(role="user", content=text)]
        return self.letta.groups.messages.create(group_id, messages=messages, request_options={"max_retries": max_retries})


def _said(letta: Letta, group_id: str) -> list[tuple[str, str | None]]:
    return [(m.message_type, m.name) for m in letta.groups.messages.list(group_id, limit=100)]


def test_0_1_138_retries_a_failed_run_only_when_asked_and_the_retry_resumes_it(
    server_url: str, letta: Letta, made: Tracker, scripts: dict[str, Script]
):
    # Given a round robin whose second speaker's model fails retryably (a 5xx) 8 times in a row: twice as long as
    # one run attempt's own retries (4 model calls), so two attempts of the run fail before it can succeed
    group_id, fred, velma = _pair(made, "fail=error&times=8")
    sends = Sends(server_url)

    # When the user sends with max_retries=2 (letta-client 0.1.138 counts retries from 2: this means none)
    with pytest.raises(ApiError) as caught:
        sends.send(group_id, "a flaky clue", max_retries=2)
    # Then the SDK raised the first answer, a 502 naming the run and the model's error, without retrying
    assert caught.value.status_code == 502
    run_id = failed_run(caught.value.body, "error")
    assert [status for status, _ in sends.calls] == [502]
    # And the transcript holds the input and fred's completed turn
    assert _said(letta, group_id) == [("user_message", None), ("reasoning_message", fred), ("assistant_message", fred)]

    # When the user sends the same again with max_retries=3 (one retry)
    response = sends.send(group_id, "a flaky clue", max_retries=3)
    # Then the resend resumed the failed run, which failed once more (502, the same run), the SDK retried, and that
    # resumed it again to completion: the call returns normally with both turns
    assert [status for status, _ in sends.calls[1:]] == [502, 200]
    assert failed_run(sends.calls[1][1], "error") == run_id
    assert [(m.message_type, m.name) for m in response.messages] == [
        ("reasoning_message", fred),
        ("assistant_message", fred),
        ("reasoning_message", velma),
        ("assistant_message", velma),
    ]
    assert response.usage.step_count == 2
    assert letta.runs.retrieve(run_id).status == "completed"
    # And the transcript holds the input once, fred's reply once and velma's once
    assert _said(letta, group_id) == [
        ("user_message", None),
        ("reasoning_message", fred),
        ("assistant_message", fred),
        ("reasoning_message", velma),
        ("assistant_message", velma),
    ]


def test_0_1_138_does_not_retry_a_model_that_refuses_for_good(server_url: str, letta: Letta, made: Tracker):
    # Given a round robin whose second speaker's model refuses every request (400: not worth retrying)
    group_id, fred, _ = _pair(made, "fail=bad_request")
    sends = Sends(server_url)
    # When the user sends with retries enabled
    with pytest.raises(ApiError) as caught:
        sends.send(group_id, "a doomed clue", max_retries=3)
    # Then the SDK raised a 424 at once (not retried), naming the run and the model's error
    assert caught.value.status_code == 424
    run_id = failed_run(caught.value.body, "bad_request")
    assert [status for status, _ in sends.calls] == [424]
    assert letta.runs.retrieve(run_id).status == "failed"
    # And the transcript holds the input once and fred's reply once
    assert _said(letta, group_id) == [("user_message", None), ("reasoning_message", fred), ("assistant_message", fred)]


# --- letta-client 1.7.0 ------------------------------------------------------------------------------------------------


def test_1_7_0_sync_sends_parse_as_letta_responses(stainless: dict[str, Any]):
    out = stainless
    assert (out["version"], out["max_retries"]) == ("1.7.0", 2)  # the SDK's defaults, untouched
    # Then a send answers a LettaResponse: the turns in order, usage, and later Letta's stop_reason
    sync = out["sync"]
    assert sync["classes"] == ["LettaResponse", "Usage", "StopReason"]
    assert sync["messages"] == STEPS
    assert sync["message_classes"] == ["ReasoningMessage", "AssistantMessage"] * 2
    usage = sync["usage"]
    assert (usage["message_type"], usage["step_count"]) == ("usage_statistics", 2)
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert sync["stop_reason"] == ["stop_reason", "max_steps"]  # a round robin ends on max_turns (Letta: max_steps)
    # And the input shorthand (a string, or text parts) is one user message, answered alike
    assert out["input_string"]["messages"] == out["input_parts"]["messages"] == STEPS
    # And include_return_message_types keeps only the types asked for
    assert out["include_sync"]["messages"] == [["assistant_message", "fred"], ["assistant_message", "velma"]]
    # And the transcript holds every input once, in order (text parts unpacked), and two replies per send
    inputs = ["clue one", "a plain string", "a list of parts", "replies only", "stream steps", "stream tokens"]
    inputs += ["steps, replies only", "tokens, thoughts only", "the raw wire", "async clue"]
    assert out["transcript"]["inputs"] == inputs
    assert out["transcript"]["replies"] == 2 * len(inputs)


def test_1_7_0_streams_yield_every_chunk_and_end_with_usage(stainless: dict[str, Any]):
    out = stainless
    # Then a step stream yields each message as its class, then the usage
    steps = out["stream_steps"]
    assert [c[:3] for c in steps] == [["ReasoningMessage", *STEPS[0]], ["AssistantMessage", *STEPS[1]]] + [
        ["ReasoningMessage", *STEPS[2]],
        ["AssistantMessage", *STEPS[3]],
        ["LettaUsageStatistics", "usage_statistics", None],
    ]
    # And a token stream yields many deltas per message, still ending with the usage
    tokens = out["stream_tokens"]
    assert tokens[-1][:2] == ["LettaUsageStatistics", "usage_statistics"]
    assert {c[0] for c in tokens[:-1]} == {"ReasoningMessage", "AssistantMessage"}
    assert len(tokens) > len(steps)
    assert [c[2] for c in tokens[:-1]] == sorted((c[2] for c in tokens[:-1]), key=["fred", "velma"].index)
    # And the assistant deltas reassemble into exactly what the transcript stored
    assert out["stream_tokens_text"] == out["transcript"]["streamed_text"]
    assert len(out["stream_tokens_text"]) == 2
    # And include_return_message_types filters the chunks of both modes, never the usage
    assert [c[:3] for c in out["stream_include_steps"]] == [
        ["AssistantMessage", "assistant_message", "fred"],
        ["AssistantMessage", "assistant_message", "velma"],
        ["LettaUsageStatistics", "usage_statistics", None],
    ]
    thoughts = out["stream_include_tokens"]
    assert {c[0] for c in thoughts[:-1]} == {"ReasoningMessage"} and len(thoughts) > 3
    assert thoughts[-1][:2] == ["LettaUsageStatistics", "usage_statistics"]
    # And on the wire (the SDK's raw streaming response) the last two events are the usage, then [DONE] (§6)
    wire = out["wire"]
    assert wire["content_type"] == "text/event-stream; charset=utf-8"
    usage, done = wire["last_two"]
    assert (usage["message_type"], usage["step_count"], done) == ("usage_statistics", 2, "[DONE]")
    assert "steps_messages" not in usage


def test_1_7_0_async_send_then_the_run_through_the_runs_api(stainless: dict[str, Any]):
    out = stainless["async"]
    # Then the async send answered a Run at once, which the runs API polls to completion
    assert out["started"][0] == "Run" and out["started"][1] in ("created", "running")
    assert out["finished"] == ["completed", "max_turns", True]
    # And the run's messages are the turns, also when auto-paginated one stored message per page, in either order
    assert out["messages"] == out["messages_pages_asc"] == STEPS
    assert out["messages_pages_desc"] == STEPS[2:] + STEPS[:2]
    usage = out["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_1_7_0_supervisor_dynamic_and_sleeptime_sends(stainless: dict[str, Any]):
    out = stainless
    # Then the supervisor answers after broadcasting to its workers (its own steps only, §8.2)
    supervisor = out["supervisor"]
    assert supervisor["messages"][0] == ["reasoning_message", "fred"]
    assert supervisor["messages"][-1] == ["assistant_message", "fred"]
    assert ["tool_return_message", "send_message_to_all_agents_in_group"] in supervisor["messages"]
    assert supervisor["stop_reason"] == ["stop_reason", "end_turn"]
    # And the dynamic manager picks a speaker before each turn, until max_turns (4 turns, 2 steps each)
    dynamic = out["dynamic"]
    assert [name for _, name in dynamic["messages"][::4]] == ["fred"] * 4
    assert {name for _, name in dynamic["messages"][2::4]} <= {"velma", "shaggy"}
    assert (dynamic["usage"]["step_count"], dynamic["stop_reason"]) == (8, ["stop_reason", "max_steps"])
    # And a sleeptime send answers the main agent's turn, naming its background runs in usage.run_ids
    sleeptime = out["sleeptime"]
    assert sleeptime["messages"] == [["reasoning_message", "sleepy"], ["assistant_message", "sleepy"]]
    assert len(sleeptime["run_ids"]) == 1
    assert sleeptime["background"] == [[sleeptime["run_ids"][0], "completed", sleeptime["group_id"]]]
    for kind in ("supervisor", "dynamic", "sleeptime"):
        assert out[kind]["stop_reason"][1] in LETTA_STOP_REASONS


def test_1_7_0_default_retries_resume_a_failed_run_once(stainless: dict[str, Any]):
    out = stainless["retry"]
    # Given a round robin whose second speaker's model fails (5xx) 4 times: as long as the run's own retries last
    # When the script sends to it with the SDK's default retries
    # Then the first answer was a 502 naming the run and the model's error; the SDK retried it on its own, and the
    # retry resumed that same run, which completed: the call returned normally with both turns
    (first_status, first_body), second = out["calls"]
    assert (first_status, second) == (502, [200, None])
    run_id = failed_run(first_body, "error")
    assert out["run"] == [run_id, "completed"]
    assert out["messages"] == [*STEPS[:2], ["reasoning_message", "velma-flaky"], ["assistant_message", "velma-flaky"]]
    assert out["usage"]["step_count"] == 2
    # And the transcript holds the input once, fred's reply once and velma's once
    assert out["transcript"][0] == ["user_message", None, "a flaky clue"]
    assert replies(out["transcript"]) == [["user_message", None], *out["messages"]]


def test_1_7_0_a_retry_after_a_client_timeout_gets_the_run_not_a_second_one(stainless: dict[str, Any]):
    out = stainless["timeout_retry"]
    # Given a group whose run takes longer than the client's 1 s timeout
    # When the script sends with the SDK's default retries (it retries its own timeouts, marking them as retries)
    # Then a retry was answered with that run: the call returned the reply, there is one run and one input
    assert out["messages"] == [["reasoning_message", "velma-slow"], ["assistant_message", "velma-slow"]]
    assert out["runs"] == ["completed"]
    assert [t[:2] for t in out["transcript"]] == [["user_message", None], *out["messages"]]


def test_1_7_0_a_model_that_refuses_for_good_is_raised_once(stainless: dict[str, Any]):
    out = stainless["refusal"]
    # Given a round robin whose second speaker's model refuses every request; When the script sends to it
    # Then the SDK raised the 424 without retrying it, naming the run (failed) and the model's error
    name, status, body = out["raised"]
    assert (name, status) == ("APIStatusError", 424)
    run_id = failed_run(body, "bad_request")
    assert out["calls"] == [[424, body]]
    assert out["run"] == [run_id, "failed"]
    # And the transcript holds the input once and fred's reply once
    assert replies(out["transcript"]) == [["user_message", None], *STEPS[:2]]
    # And a stream of the same failure yields fred's turn, then the error event (no usage), and raises nothing
    assert out["stream"] == [
        ["ReasoningMessage", "reasoning_message", "fred", None],
        ["AssistantMessage", "assistant_message", "fred", None],
        ["LettaUsageStatistics", None, None, STREAM_FAILED],
    ]


# --- @letta-ai/letta-client 0.1.132 --------------------------------------------------------------------------------------


def test_typescript_sync_sends_parse_as_letta_responses(typescript: dict[str, Any]):
    out = typescript
    assert out["version"] == "0.1.132"
    # Then a send answers a LettaResponse the SDK maps to camelCase: the turns in order, usage, stopReason
    for sent in (out["sync"], out["parts"]):
        assert sent["messages"] == STEPS
        usage = sent["usage"]
        assert (usage["messageType"], usage["stepCount"]) == ("usage_statistics", 2)
        assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"] > 0
        assert sent["stopReason"] == {"messageType": "stop_reason", "stopReason": "max_steps"}
    # And includeReturnMessageTypes keeps only the types asked for
    assert out["includeSync"]["messages"] == [["assistant_message", "fred"], ["assistant_message", "velma"]]
    # And this SDK cannot send the input shorthand: it refuses the body itself, before any request
    assert out["inputShorthand"] == ["JsonError", 0]
    # And the transcript holds every input once, in order (text parts unpacked), and two replies per send
    inputs = ["clue one", "a list of parts", "replies only", "stream steps", "stream tokens", "steps, replies only"]
    inputs += ["tokens, thoughts only", "async clue"]
    assert out["transcript"]["inputs"] == inputs
    assert out["transcript"]["replies"] == 2 * len(inputs)


def test_typescript_streams_yield_every_chunk_and_end_with_usage(typescript: dict[str, Any]):
    out = typescript
    # Then a step stream yields each message, then the usage (the SDK stops at [DONE])
    assert [c[:2] for c in out["streamSteps"]] == [*STEPS, ["usage_statistics", None]]
    # And a token stream yields many deltas, ending with the usage; the assistant deltas reassemble what was stored
    tokens = out["streamTokens"]
    assert tokens[-1][0] == "usage_statistics" and len(tokens) > len(out["streamSteps"])
    assert {c[0] for c in tokens[:-1]} == {"reasoning_message", "assistant_message"}
    assert out["streamUsage"]["stepCount"] == 2
    assert out["streamTokensText"] == out["transcript"]["streamedText"]
    assert len(out["streamTokensText"]) == 2
    # And includeReturnMessageTypes filters the chunks of both modes, never the usage
    assert [c[:2] for c in out["streamIncludeSteps"]] == [
        ["assistant_message", "fred"],
        ["assistant_message", "velma"],
        ["usage_statistics", None],
    ]
    thoughts = out["streamIncludeTokens"]
    assert {c[0] for c in thoughts[:-1]} == {"reasoning_message"} and thoughts[-1][0] == "usage_statistics"


def test_typescript_async_send_then_the_run_through_the_runs_api(typescript: dict[str, Any]):
    out = typescript["async"]
    # Then the run (started with a raw POST: this SDK has no group async send) polls to completion with runs.retrieve
    assert out["started"][0] in ("created", "running")
    assert out["finished"] == ["completed", "max_turns", True]
    # And runs.messages.list gives the turns, also paged by hand one stored message at a time, in either order
    assert out["messages"] == out["messagesPagesAsc"] == STEPS
    assert out["messagesPagesDesc"] == STEPS[2:] + STEPS[:2]
    usage = out["usage"]
    assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"] > 0
    # And a sleeptime send's usage names its background run (runIds), which completes
    sleeptime = typescript["sleeptime"]
    assert sleeptime["messages"] == [["reasoning_message", "sleepy"], ["assistant_message", "sleepy"]]
    assert sleeptime["background"] == [[sleeptime["usage"]["runIds"][0], "completed"]]


def test_typescript_default_retries_resume_a_rate_limited_run_once(typescript: dict[str, Any]):
    out = typescript["retry"]
    # Given a round robin whose second speaker's model is rate-limited (429) 4 times: as long as the run's own retries
    # When the script sends to it with the SDK's default retries
    # Then the first answer was a 429 (the model stayed rate-limited through the run's own retries) naming the run;
    # the SDK retried on its own and the retry resumed that run to completion
    (first_status, first_body), second = out["calls"]
    assert (first_status, second) == (429, [200, None])
    run_id = failed_run(first_body, "throttle")
    assert out["run"] == [run_id, "completed"]
    assert out["messages"] == [*STEPS[:2], ["reasoning_message", "velma-flaky"], ["assistant_message", "velma-flaky"]]
    # And the transcript holds the input once, fred's reply once and velma's once
    assert out["transcript"][0] == ["user_message", None, "a flaky clue"]
    assert replies(out["transcript"]) == [["user_message", None], *out["messages"]]


def test_typescript_a_model_that_refuses_for_good_is_raised_once(typescript: dict[str, Any]):
    out = typescript["refusal"]
    # Given a round robin whose second speaker's model refuses every request; When the script sends to it
    # Then the SDK raised the 424 without retrying it, naming the run (failed) and the model's error
    name, status, body = out["raised"]
    assert (name, status) == ("LettaError", 424)
    run_id = failed_run(body, "bad_request")
    assert out["calls"] == [[424, body]]
    assert out["run"] == [run_id, "failed"]
    # And the transcript holds the input once and fred's reply once
    assert replies(out["transcript"]) == [["user_message", None], *STEPS[:2]]
    # And a stream of the same failure yields fred's turn, then the error event (no usage), and throws nothing
    assert out["stream"] == [
        ["reasoning_message", "fred", None],
        ["assistant_message", "fred", None],
        [None, None, STREAM_FAILED],
    ]
