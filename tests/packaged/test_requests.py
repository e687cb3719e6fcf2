"""Real requests through the packaged functions: a CRUD handler, the group-run task calling an OpenAI-compatible
model on a socket, the authorizer, and the stream app served by uvicorn, each from the built artifact in a clean
python3.13 with the template's environment (apikey mode, tracing on), against the session's moto.
"""

from __future__ import annotations

import copy
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from lettagroups.auth.keys import issue_key
from lettagroups.dal import runs as runs_dal
from lettagroups.dal import users as users_dal
from lettagroups.logic import agents as agents_logic
from lettagroups.logic import group_history
from lettagroups.logic import groups as groups_logic
from lettagroups.models.agents import CreateAgent, LLMConfig
from lettagroups.models.blocks import CreateBlock
from lettagroups.models.groups import GroupCreate
from lettagroups.models.identity import Actor
from lettagroups_local.artifacts import Built, BuiltFunction, lambda_command, lambda_environment
from lettagroups_local.emulation import free_port
from lettagroups_local.launch import stop_process, wait_until_serving

from support.builders import make_agent
from support.events import EVENTS, authorizer_context, load_event, substitute
from support.fake_openai import FakeOpenAI, tool_call_answer
from support.group_run import run_round_robin, start_run
from support.packaged import PackagedLambda
from support.servers import closed_port

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def packaged(built: Built, built_functions: dict[str, BuiltFunction], python313: str, emulation: Any, lambda_logs: Path):
    """Start a warm container of a built function against the session's moto: packaged(name, **env overrides)."""
    started: list[PackagedLambda] = []

    def start(name: str, **overrides: str) -> PackagedLambda:
        function = built_functions[name]
        env = environment(built, function, emulation, **overrides)
        container = PackagedLambda(function, python313, env, lambda_logs)
        started.append(container)
        return container

    yield start
    for container in started:
        container.close()


def environment(built: Built, function: BuiltFunction, emulation: Any, **overrides: str) -> dict[str, str]:
    import os

    return lambda_environment(
        function,
        built.template,
        refs={"Table": os.environ["TABLE_NAME"]},
        DYNAMODB_ENDPOINT_URL=emulation.endpoint_url,
        **overrides,
    )


def api_event(name: str, actor: Actor, replace: dict[str, str] | None = None) -> dict[str, Any]:
    """An events/ sample as API Gateway delivers it after the authorizer allowed `actor`."""
    event = substitute(load_event(name), replace or {})
    event["requestContext"]["authorizer"] = authorizer_context(actor)
    return event


def body_of(reply: dict[str, Any]) -> tuple[int, Any]:
    assert "result" in reply, reply
    return reply["result"]["statusCode"], json.loads(reply["result"]["body"])


# --- CRUD -------------------------------------------------------------------------------------------


def test_crud_handlers_answer_from_the_artifact(packaged, actor: Actor):
    # Given the packaged create/retrieve/list agent functions, warm after their cold start
    create = packaged("CreateAgentFunction")
    retrieve = packaged("RetrieveAgentFunction")
    listing = packaged("ListAgentsFunction")
    # When the create-agent sample event is invoked for a fresh organization
    status, agent = body_of(create.invoke(api_event("create-agent", actor)))
    # Then the agent is created, and the retrieve and list functions read it back
    assert status == 200, agent
    assert agent["name"] == "fred" and agent["llm_config"]["handle"] == "letta/offline"
    status, again = body_of(
        retrieve.invoke(api_event("retrieve-agent", actor, {"agent-00000000-0000-4000-8000-00000000000b": agent["id"]}))
    )
    assert status == 200 and again["id"] == agent["id"], again
    status, listed = body_of(listing.invoke(api_event("list-agents", actor)))
    assert status == 200 and [a["id"] for a in listed] == [agent["id"]]
    # And an unknown agent is the contract's 404, not a crash
    status, missing = body_of(retrieve.invoke(api_event("retrieve-agent", actor)))
    assert status == 404 and "agent-00000000-0000-4000-8000-00000000000b" in missing["detail"]


# --- the group-run task with an OpenAI-compatible model ----------------------------------------------


def openai_agent(actor: Actor, name: str, endpoint: str) -> str:
    llm = LLMConfig(model="fake-gpt", model_endpoint_type="openai", model_endpoint=endpoint, context_window=16000)
    return make_agent(actor, name, llm_config=llm)


def test_group_run_task_calls_the_configured_openai_compatible_model(
    packaged, actor: Actor, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
):
    # Given a round robin group of two agents configured with an OpenAI-compatible endpoint (a fake server on a socket)
    fred, velma = (openai_agent(actor, n, fake_openai.url) for n in ("fred", "velma"))
    group_id = groups_logic.create_group(actor, GroupCreate(agent_ids=[fred, velma], description="Mystery Inc.")).id
    fake_openai.script += [
        tool_call_answer("send_message", {"message": "Jinkies!", "inner_thoughts": "Velma should know."}),
        tool_call_answer("send_message", {"message": "Zoinks!", "inner_thoughts": "Run!"}),
    ]
    task = packaged("GroupRunTaskFunction")
    # When a send's run is driven through the packaged group-run task
    state = start_run(actor, group_id, "Where did the Mystery Machine go?")
    outcome = run_round_robin(task.invoke, state)
    # Then the run completed, each agent's turn calling the configured model at its endpoint
    assert outcome["error"] is None, f"{outcome['error']}\n{task.logs()[-3000:]}"
    run = runs_dal.get_run(actor.organization_id, state["run_id"])
    assert run is not None and run.status == "completed", run
    assert [r["path"] for r in fake_openai.requests] == ["/v1/chat/completions"] * 2
    assert {r["body"]["model"] for r in fake_openai.requests} == {"fake-gpt"}
    assert "I am fred." in fake_openai.requests[0]["body"]["messages"][0]["content"]
    # And both calls went over one connection: the provider keeps one HTTP client per endpoint in the container
    assert len({r["client"] for r in fake_openai.requests}) == 1
    # And the replies are the group's transcript
    said = [
        m.content
        for m in group_history.list_messages(actor, group_id, limit=50)
        if getattr(m, "message_type", None) == "assistant_message"
    ]
    assert said == ["Jinkies!", "Zoinks!"]


def test_an_unreachable_configured_model_fails_the_run_naming_provider_and_endpoint(
    packaged, actor: Actor, monkeypatch: pytest.MonkeyPatch
):
    # Given an agent whose OpenAI-compatible endpoint has nothing listening
    endpoint = f"http://127.0.0.1:{closed_port()}/v1"
    group_id = groups_logic.create_group(actor, GroupCreate(agent_ids=[openai_agent(actor, "fred", endpoint)], description="")).id
    task = packaged("GroupRunTaskFunction")
    # When its run is driven through the packaged task
    state = start_run(actor, group_id, "Hello?")
    outcome = run_round_robin(task.invoke, state)
    # Then the task fails with an error that names the provider and the endpoint (never a substitute answer)
    assert outcome["error"] is not None
    expected = f"openai_compatible model at {endpoint} could not be reached"
    assert expected in outcome["error"]["Cause"]
    # And the run record carries it
    run = runs_dal.get_run(actor.organization_id, state["run_id"])
    assert run is not None and run.status == "failed" and run.failure is not None and expected in run.failure.detail, run


# --- the authorizer ----------------------------------------------------------------------------------


def api_key_user() -> tuple[Actor, str]:
    org, user = f"org-{uuid.uuid4()}", f"user-{uuid.uuid4()}"
    users_dal.create_organization(org, "packaged")
    users_dal.create_user(org, user, "tester")
    return Actor(user_id=user, organization_id=org), issue_key(org, user, "packaged-test")


def test_the_authorizer_maps_an_api_key_to_its_user_until_it_is_revoked(packaged):
    # Given a user with an API key, and the packaged authorizer
    actor, key = api_key_user()
    authorizer = packaged("AuthorizerFunction")
    event = json.loads((EVENTS / "authorize-request.json").read_text())
    # When API Gateway asks it about a request with that key, then with a wrong one
    good = copy.deepcopy(event)
    good["headers"]["authorization"] = f"Bearer {key}"
    allowed = authorizer.invoke(good)
    denied = authorizer.invoke(event)
    # Then the key names its organization and user, and the wrong key is marked denied (answered 401 by handlers)
    assert allowed == {
        "result": {"isAuthorized": True, "context": {"organization_id": actor.organization_id, "user_id": actor.user_id}}
    }
    assert denied == {"result": {"isAuthorized": True, "context": {"denied": True}}}
    # When the key is revoked (scripts/admin.py revoke-key)
    (listed,) = users_dal.list_api_keys(actor.organization_id)
    users_dal.revoke_api_key(actor.organization_id, listed["key_id"])
    # Then the same warm authorizer denies it (API Gateway may serve its cached allow for up to ReauthorizeEvery)
    assert authorizer.invoke(good) == {"result": {"isAuthorized": True, "context": {"denied": True}}}


# --- the stream app ----------------------------------------------------------------------------------


@pytest.fixture
def stream_server(built: Built, built_functions, python313: str, emulation: Any, workflows: dict[str, str], lambda_logs: Path):
    """The packaged stream function as the Lambda Web Adapter runs it (run.sh: uvicorn main:app), its sends
    starting executions of the session's group-run state machine (tasks in this process, offline model)."""
    function = built_functions["StreamFunction"]
    port = free_port()
    env = environment(
        built,
        function,
        emulation,
        PORT=str(port),
        STATE_MACHINE_ARN=workflows["GroupRunStateMachine"],
        STEPFUNCTIONS_ENDPOINT_URL=emulation.endpoint_url,
    )
    module, attribute = function.python_entry()
    serve = (
        "import runpy, sys\n"
        f"sys.argv = ['uvicorn', '--port={port}', '--no-access-log', '{module}:{attribute}']\n"
        "runpy.run_module('uvicorn', run_name='__main__')"
    )
    log = lambda_logs / "stream-server.log"
    proc = subprocess.Popen(
        lambda_command(function, python313, serve), cwd=function.code_dir, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    if not wait_until_serving(proc, lambda: httpx.get(f"{url}/v1/runs/none/stream", timeout=1) is not None, timeout=30):
        raise RuntimeError(f"packaged stream app did not start:\n{log.read_text()[-3000:]}")
    try:
        yield url
    finally:
        stop_process(proc)


def test_the_stream_app_streams_a_group_run_with_letta_client(stream_server: str):
    from letta_client import Letta, MessageCreate

    # Given a group of two offline agents, and an API key of its organization
    actor, key = api_key_user()
    agents = [
        agents_logic.create_agent(actor, CreateAgent(name=n, memory_blocks=[CreateBlock(label="persona", value=f"I am {n}.")])).id
        for n in ("fred", "velma")
    ]
    group_id = groups_logic.create_group(actor, GroupCreate(agent_ids=agents, description="")).id
    # When letta-client streams a send through the packaged stream app
    client = Letta(base_url=stream_server, token=key, timeout=60)
    chunks = list(client.groups.messages.create_stream(group_id, messages=[MessageCreate(role="user", content="Ready?")]))
    # Then it gets each agent's reply, then the usage
    kinds = [getattr(c, "message_type", None) for c in chunks]
    assert kinds.count("assistant_message") == 2, kinds
    assert kinds[-1] == "usage_statistics", kinds
    # And without the key the app refuses with 401 before anything runs
    anonymous = httpx.post(f"{stream_server}/v1/groups/{group_id}/messages/stream", json={"messages": []}, timeout=10)
    assert anonymous.status_code == 401 and anonymous.json() == {"detail": "Unauthorized"}
