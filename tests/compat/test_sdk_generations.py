"""The other two SDK generations over real HTTP against the local server: letta-client 1.7.0 (Python, Stainless)
and @letta-ai/letta-client 0.1.132 (TypeScript, Fern), for groups, agents and blocks (not sends).

Each SDK runs once, in a subprocess, as a script (tests/compat/sdk_scripts/) that makes every call and prints
what it saw as JSON; these tests assert on that. letta-client 1.7.0 is the package `letta_client` too, so it
lives in its own folder (.venv/sdk-1.7.0, installed by `make venv`) that its script's PYTHONPATH puts first.
The transcript both list is written beforehand through the send route, with letta-client 0.1.138 and the
offline model, and read back with plain HTTP as the oracle.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest
from letta_client import CreateBlock, Letta, MessageCreate

from support.sdk import ROOT, SCRIPTS, SDK_1_7, TS_SDK
from support.trackers import Tracker

pytestmark = pytest.mark.compat

STAINLESS = "letta-client 1.7.0"


@pytest.fixture(scope="module")
def transcript(server_url: str) -> tuple[str, list[list[str]]]:
    """A round-robin group of two agents after three sends (15 listed messages), and its full listing, oldest
    first, as [message id, message_type] pairs."""
    letta = Letta(base_url=server_url, timeout=60)
    made = Tracker(letta)
    agents = [
        made.agent(name, memory_blocks=[CreateBlock(label="persona", value=f"I am {name}")]).id for name in ("fred", "velma")
    ]
    group = made.group(agents, "transcript")
    for i in range(3):
        letta.groups.messages.create(group.id, messages=[MessageCreate(role="user", content=f"clue number {i}")])
    listed = httpx.get(f"{server_url}/v1/groups/{group.id}/messages", params={"limit": 1000, "order": "asc"}, timeout=30).json()
    yield group.id, [[m["id"], m["message_type"]] for m in listed]
    made.cleanup()


def run_script(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"{command[1]} failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def page_parts(listing: list[list[str]]) -> list[str]:
    """The stored message ids of a listing, each once, in order."""
    return list(dict.fromkeys(message_id for message_id, _ in listing))


# --- letta-client 1.7.0 ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stainless(server_url: str, transcript: tuple[str, list[list[str]]]) -> dict[str, Any]:
    assert (SDK_1_7 / "letta_client").is_dir(), f"{STAINLESS} is not installed in {SDK_1_7}: run `make venv`"
    args = {"base_url": server_url, "project": f"sdk17-{uuid.uuid4().hex[:8]}", "transcript": transcript[0]}
    script = str(SCRIPTS / "letta_client_1_7_0.py")
    return {**run_script([sys.executable, script, json.dumps(args)], {"PYTHONPATH": str(SDK_1_7)}), "project": args["project"]}


def test_1_7_0_runs_isolated_from_0_1_138(stainless: dict[str, Any]):
    # Then the script imported the 1.7.0 SDK, while this process keeps 0.1.138
    from importlib.metadata import version

    assert stainless["version"] == "1.7.0"
    assert version("letta-client") == "0.1.138"


def test_1_7_0_group_crud_with_project_in_the_body_and_the_header(stainless: dict[str, Any]):
    out, project = stainless, stainless["project"]
    # Then project_id in the body and X-Project both set the project; hidden is echoed; supervisor config kept
    assert out["created"] == {
        "body_project": project,
        "header_project": project,
        "hidden_flag": True,
        "visible_flag": False,
        "supervisor": ["supervisor", out["agents"]["velma"]],
    }
    # And create counts every group (hidden ones too), retrieve and update work, update moves the project (body)
    assert out["count_delta_after_create"] == 7
    assert out["retrieved"] == "body"
    header_group = out["groups"]["visible"][1]
    assert out["updated"] == ["updated", f"{project}-elsewhere", [header_group]]
    assert out["updated_back"] == project
    # And delete answers, counts down, and the group is then 404
    assert (out["count_delta_after_delete"], out["retrieve_deleted"]) == (-1, 404)
    assert out["agents_left"] == []


def test_1_7_0_group_lists_auto_paginate_every_group_exactly_once(stainless: dict[str, Any]):
    out = stainless
    visible = out["groups"]["visible"]
    # Then the project's visible groups come in creation order, with no limit and page by page
    assert out["list_all"] == out["list_asc_pages"] == visible
    assert out["list_first_page"] == visible[:2]
    # And order=desc pages newest first (after=<last item> moves towards older groups)
    assert out["list_desc_pages"] == visible[::-1]
    # And paging backwards from a cursor (before=<first item>) reaches every older group once
    assert sorted(out["list_backward_pages"]) == sorted(visible[:-1])
    # And the manager_type filter and show_hidden_groups work
    assert out["list_supervisor"] == [visible[2]]
    assert out["list_with_hidden"] == sorted([*visible, out["groups"]["hidden"]])


def test_1_7_0_group_messages_auto_paginate_the_transcript_exactly_once(
    stainless: dict[str, Any], transcript: tuple[str, list[list[str]]]
):
    out, (_, listing) = stainless, transcript
    assert len(page_parts(listing)) > 4  # more than one page of 4 stored messages
    # Then with no order (later Letta's default for this SDK: desc) every message comes once, newest first
    assert out["messages_default_pages"] == listing[::-1]
    assert out["messages_default_first_page"] == listing[::-1][: len(out["messages_default_first_page"])]
    # And explicit orders give the whole transcript in that order
    assert out["messages_asc_pages"] == listing
    assert out["messages_desc_pages"] == listing[::-1]
    # And paging backwards from the newest message reaches every older message once
    newest = listing[-1][0]
    older = [m for m in listing if m[0] != newest]
    assert sorted(out["messages_backward_pages"]) == sorted(older)


def test_1_7_0_pages_every_list_it_auto_paginates(stainless: dict[str, Any]):
    out = stainless
    # Given an agent in several groups, and three blocks under one label
    # When the SDK iterates the agent's groups and the organization's blocks one item per page
    # Then it reads every item once and stops (each page asks again with after=<last id>)
    assert len(out["agent_groups_one_page"]) >= 2
    assert out["agent_groups_pages"] == out["agent_groups_one_page"]
    pages, created = out["org_blocks_pages"]
    assert pages == created
    assert out["org_blocks_desc_pages"] == created[::-1]


def test_1_7_0_core_memory_and_block_agents(stainless: dict[str, Any]):
    out = stainless
    # Then the agent's blocks auto-paginate once each, in memory order, and edit by label
    assert out["agents"]["fred_labels"] == out["blocks_pages"] == ["persona", "human"]
    assert (out["block_retrieved"], out["block_updated"]) == ("Sarah", "Sarah likes clues")
    # And attach/detach answer the agent's state, and the block's agents auto-paginate
    assert (out["attached_labels"], out["detached_labels"]) == (["human", "persona"], ["persona"])
    assert out["block_agents_pages"] == [out["agents"]["fred"], out["agents"]["velma"]]
    assert out["block_agents_after_detach"] == [out["agents"]["fred"]]
    # And the agents list auto-paginates with the project filter
    assert out["agents_listed"] == [out["agents"]["fred"], out["agents"]["velma"]]
    assert out["agent_retrieved"] == "fred"
    # And a sleeptime_agent created with enable_sleeptime manages its own sleeptime group
    assert out["sleeptime"] == ["sleeptime", True, 1]


# --- @letta-ai/letta-client 0.1.132 ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def typescript(server_url: str, transcript: tuple[str, list[list[str]]]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (make venv installs the TypeScript SDK with npm)")
    assert (TS_SDK / "package.json").is_file(), f"@letta-ai/letta-client is not installed in {TS_SDK}: run `make venv`"
    args = {"baseUrl": server_url, "project": f"sdkts-{uuid.uuid4().hex[:8]}", "transcript": transcript[0]}
    return {**run_script([node, str(SCRIPTS / "letta_client_ts_0_1_132.cjs"), json.dumps(args)], {}), "project": args["project"]}


def test_typescript_group_crud_list_and_count(typescript: dict[str, Any]):
    out, project, groups = typescript, typescript["project"], typescript["groups"]
    assert out["version"] == "0.1.132"
    # Then create (project sent as X-Project) and retrieve/modify answer full Groups the SDK's schemas accept
    assert out["created"] == {"project": project, "maxTurns": 2, "supervisor": ["supervisor", out["agents"]["velma"]]}
    assert out["retrieved"] == "rr"
    assert out["modified"] == ["modified", 3, f"{project}-elsewhere"]
    # And lists filter by project and manager type, and hand-made cursors page both ways without a gap
    assert out["listAll"] == out["listForwardPages"] == groups
    assert out["listSupervisor"] == [groups[1]]
    assert out["listBackwardPages"] == groups[:-1]
    # And count and delete work
    assert out["countDeltaAfterCreate"] == 5 and out["countDeltaAfterDelete"] == -1
    assert out["deleted"] == {"message": f"Group id={groups[2]} successfully deleted"}
    assert out["retrieveDeleted"] == 404
    assert out["agentsLeft"] == []


def test_typescript_group_messages_keep_0_7_7_pages(typescript: dict[str, Any], transcript: tuple[str, list[list[str]]]):
    out, (_, listing) = typescript, transcript
    # Then the first page is 0.7.7's (this SDK sends no order): the newest messages, oldest first
    first = out["messagesFirstPage"]
    assert first and first == listing[-len(first) :]
    assert 2 <= len(page_parts(first)) <= 4  # `limit` counts stored messages, hidden tool returns included
    # And paging backwards with before=<first id>, or forwards with after=<last id>, gives the transcript once
    assert out["messagesBackwardPages"] == listing
    assert out["messagesForwardPages"] == listing


def test_typescript_core_memory_and_block_agents(typescript: dict[str, Any]):
    out = typescript
    assert out["agents"]["fredLabels"] == out["blocks"] == ["persona", "human"]
    assert (out["blockRetrieved"], out["blockModified"]) == ("Sarah", 6000)
    assert (out["attachedLabels"], out["detachedLabels"]) == (["human", "persona"], ["persona"])
    assert out["blockAgents"] == [out["agents"]["fred"], out["agents"]["velma"]]
    assert out["blockAgentsAfterDetach"] == [out["agents"]["fred"]]
    # And a second block under a used label is refused
    assert out["attachClash"] == 409
    assert out["sleeptime"] == ["sleeptime", True, 1]
    assert out["agentRetrieved"] == "fred"
