"""Drives letta-client 1.7.0's group sends against a server and prints what it saw, as JSON.

Run by tests/compat/test_sdk_generation_sends.py in a subprocess whose PYTHONPATH starts with .venv/sdk-1.7.0.
argv[1] is a JSON object: `base_url`, `project` (a fresh project for the script's agents and groups). The client
keeps the SDK's DEFAULT retry settings (2 retries of 408/409/429/5xx); an httpx response hook records what every
send answered, so the SDK's own retries are visible in `calls`. The test asserts on the output.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

import httpx
import letta_client
from letta_client import APIStatusError, DefaultHttpxClient, Letta
from letta_client.types.agents import Run

RUN_ID = re.compile(r"run-[0-9a-f-]{36}")


class SendRecorder:
    """[path, status, error body] of every answer to a POST on a send route, in order (retries included). Only
    error bodies are read here: a successful stream's body belongs to the SDK."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        if request.method == "POST" and "/messages" in request.url.path:
            body = None
            if response.status_code >= 400:
                response.read()
                body = response.json()
            self.calls.append([request.url.path, response.status_code, body])

    def of(self, group_id: str) -> list[list[Any]]:
        return [[status, body] for path, status, body in self.calls if f"/groups/{group_id}/" in path]


def said(messages: Any) -> list[list[Any]]:
    """[message_type, name] of each message."""
    return [[m.message_type, m.name] for m in messages]


def chunks(stream: Any) -> list[list[Any]]:
    """[SDK class, message_type, name, id] of each chunk the SDK yielded."""
    return [[type(c).__name__, c.message_type, getattr(c, "name", None), getattr(c, "id", None)] for c in stream]


def plain(content: Any) -> Any:
    """A message's content as JSON: a string, or its parts as dicts."""
    return [part.model_dump(include={"type", "text"}) for part in content] if isinstance(content, list) else content


def offline(faults: str) -> dict[str, Any]:
    """The server's built-in offline model with a fault spec (lettagroups/agent/providers/offline_faults.py)."""
    return {"model": f"letta-offline?{faults}", "model_endpoint_type": "offline", "context_window": 16384}


def response(r: Any) -> dict[str, Any]:
    return {
        "classes": [type(r).__name__, type(r.usage).__name__, type(r.stop_reason).__name__],
        "messages": said(r.messages),
        "message_classes": [type(m).__name__ for m in r.messages],
        "usage": r.usage.model_dump(include={"message_type", "completion_tokens", "prompt_tokens", "total_tokens", "step_count"}),
        "stop_reason": [r.stop_reason.message_type, r.stop_reason.stop_reason] if r.stop_reason else None,
    }


def finished(client: Letta, run_id: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while (run := client.runs.retrieve(run_id)).status not in ("completed", "failed", "cancelled"):
        if time.monotonic() > deadline:
            return run
        time.sleep(0.1)
    return run


def transcript(client: Letta, group_id: str) -> list[list[Any]]:
    """[message_type, name, content] of the whole transcript, oldest first (auto-paginated)."""
    listed = client.groups.messages.list(group_id, order="asc", limit=50)
    return [[m.message_type, m.name, plain(getattr(m, "content", None))] for m in listed]


def main(args: dict[str, Any]) -> dict[str, Any]:
    recorder = SendRecorder()
    client = Letta(base_url=args["base_url"], timeout=60, http_client=DefaultHttpxClient(event_hooks={"response": [recorder]}))
    project = args["project"]
    out: dict[str, Any] = {"version": letta_client.__version__, "max_retries": client.max_retries}
    agents: list[str] = []
    groups: list[str] = []

    def agent(name: str, **kwargs: Any) -> str:
        made = client.agents.create(
            name=name, memory_blocks=[{"label": "persona", "value": f"I am {name}"}], project_id=project, **kwargs
        )
        agents.append(made.id)
        return made.id

    def group(agent_ids: list[str], **kwargs: Any) -> str:
        made = client.groups.create(agent_ids=agent_ids, description="sends", project_id=project, **kwargs)
        groups.append(made.id)
        return made.id

    fred, velma, shaggy = agent("fred"), agent("velma"), agent("shaggy")
    rr = group([fred, velma])

    # --- sync sends: messages, the input shorthand, include_return_message_types --------------------------------
    out["sync"] = response(client.groups.messages.create(rr, messages=[{"role": "user", "content": "clue one"}]))
    out["input_string"] = response(client.groups.messages.create(rr, input="a plain string"))
    out["input_parts"] = response(client.groups.messages.create(rr, input=[{"type": "text", "text": "a list of parts"}]))
    only = client.groups.messages.create(rr, input="replies only", include_return_message_types=["assistant_message"])
    out["include_sync"] = response(only)

    # --- streams: step mode, tokens, include_return_message_types, and the wire's last events -------------------
    out["stream_steps"] = chunks(client.groups.messages.stream(rr, input="stream steps"))
    tokens = list(client.groups.messages.stream(rr, input="stream tokens", stream_tokens=True))
    out["stream_tokens"] = chunks(tokens)
    text: dict[str, str] = {}  # the assistant deltas, reassembled by message id
    for c in tokens:
        if c.message_type == "assistant_message":
            text[c.id] = text.get(c.id, "") + c.content
    out["stream_tokens_text"] = text
    out["stream_include_steps"] = chunks(
        client.groups.messages.stream(rr, input="steps, replies only", include_return_message_types=["assistant_message"])
    )
    out["stream_include_tokens"] = chunks(
        client.groups.messages.stream(
            rr, input="tokens, thoughts only", stream_tokens=True, include_return_message_types=["reasoning_message"]
        )
    )
    with client.groups.messages.with_streaming_response.stream(rr, input="the raw wire") as raw:
        data = [line[len("data: ") :] for line in raw.iter_lines() if line.startswith("data: ")]
        out["wire"] = {"content_type": raw.headers["content-type"], "last_two": [json.loads(data[-2]), data[-1]]}

    # --- async send, then the run through the SDK's runs API --------------------------------------------------
    run = client.post(f"/v1/groups/{rr}/messages/async", body={"input": "async clue"}, cast_to=Run)  # no SDK method
    done = finished(client, run.id)
    out["async"] = {
        "started": [type(run).__name__, run.status, (run.metadata or {}).get("group_id")],
        "finished": [done.status, (done.metadata or {}).get("stop_reason"), done.completed_at is not None],
        "messages": said(client.runs.messages.list(run.id)),
        "messages_pages_asc": said(client.runs.messages.list(run.id, limit=1)),
        "messages_pages_desc": said(client.runs.messages.list(run.id, limit=1, order="desc")),
        "usage": client.runs.usage.retrieve(run.id).model_dump(include={"completion_tokens", "prompt_tokens", "total_tokens"}),
    }
    listed = client.groups.messages.list(rr, order="asc", limit=50)
    out["transcript"] = {
        "inputs": [plain(m.content) for m in listed if m.message_type == "user_message"],
        "replies": sum(1 for m in listed if m.message_type == "assistant_message"),
        "streamed_text": {m.id: m.content for m in listed if m.message_type == "assistant_message" and m.id in text},
    }

    # --- the other manager types ------------------------------------------------------------------------------
    supervised = group([velma, shaggy], manager_config={"manager_type": "supervisor", "manager_agent_id": fred})
    out["supervisor"] = response(client.groups.messages.create(supervised, input="who checks the attic?"))
    dynamic = group([velma, shaggy], manager_config={"manager_type": "dynamic", "manager_agent_id": fred, "max_turns": 4})
    out["dynamic"] = response(client.groups.messages.create(dynamic, input="split up, gang"))
    sleepy = client.agents.create(
        name="sleepy", memory_blocks=[{"label": "persona", "value": "I am sleepy"}], enable_sleeptime=True, project_id=project
    )
    agents.append(sleepy.id)
    assert sleepy.multi_agent_group is not None
    slept = client.groups.messages.create(sleepy.multi_agent_group.id, input="sleep on it")
    background = [finished(client, run_id) for run_id in slept.usage.run_ids or []]
    out["sleeptime"] = {
        **response(slept),
        "run_ids": slept.usage.run_ids,
        "background": [[r.id, r.status, (r.metadata or {}).get("group_id")] for r in background],
        "group_id": sleepy.multi_agent_group.id,
    }

    # --- retry safety with the SDK's default retries: a run that fails retryably once -------------------------
    flaky = group([fred, agent("velma-flaky", llm_config=offline("fail=error&times=4"))])
    started = time.monotonic()
    recovered = client.groups.messages.create(flaky, input="a flaky clue")
    calls = recorder.of(flaky)
    first_run = RUN_ID.search(json.dumps(calls[0][1])) if calls and calls[0][1] else None
    out["retry"] = {
        **response(recovered),
        "seconds": round(time.monotonic() - started, 1),
        "calls": calls,
        "run": [first_run.group(0), client.runs.retrieve(first_run.group(0)).status] if first_run else None,
        "transcript": transcript(client, flaky),
    }

    # --- a client that gives up waiting: its retry (marked x-stainless-retry-count) gets the run, not a new one ------
    slow = group([agent("velma-slow", llm_config=offline("delay_ms=1100"))])
    impatient = client.with_options(timeout=1.0)
    answered = impatient.groups.messages.create(slow, input="a slow clue")
    out["timeout_retry"] = {
        **response(answered),
        "runs": [r.status for r in client.runs.list() if (r.metadata or {}).get("group_id") == slow],
        "transcript": transcript(client, slow),
    }

    # --- a model that refuses for good: raised once, not retried ----------------------------------------------
    broken = group([fred, agent("velma-broken", llm_config=offline("fail=bad_request"))])
    try:
        client.groups.messages.create(broken, input="a doomed clue")
        out["refusal"] = {"raised": None}
    except APIStatusError as exc:
        named = RUN_ID.search(json.dumps(exc.body))
        out["refusal"] = {
            "raised": [type(exc).__name__, exc.status_code, exc.body],
            "calls": recorder.of(broken),
            "run": [named.group(0), client.runs.retrieve(named.group(0)).status] if named else None,
            "transcript": transcript(client, broken),
        }
    # and streamed, the same failure is an error event after fred's turn (contract §6): yielded, not raised
    failing = list(client.groups.messages.stream(broken, input="a doomed stream"))
    out["refusal"]["stream"] = [
        [type(c).__name__, c.message_type, getattr(c, "name", None), getattr(c, "error", None)] for c in failing
    ]

    # --- clean up ------------------------------------------------------------------------------------------------
    for group_id in groups:
        client.groups.delete(group_id)
    for agent_id in agents:
        client.agents.delete(agent_id)
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
