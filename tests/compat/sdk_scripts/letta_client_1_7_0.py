"""Drives letta-client 1.7.0 (Stainless-generated) against a server and prints what it saw, as JSON.

Run by tests/compat/test_sdk_generations.py in a subprocess whose PYTHONPATH starts with .venv/sdk-1.7.0 (the
SDK is the package `letta_client`, like the 0.1.138 in the venv). argv[1] is a JSON object: `base_url`,
`project` (a fresh project: the script's groups and agents live there) and `transcript` (a group with a
transcript of several pages, written beforehand through the send route). The test asserts on the output.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import letta_client
from letta_client import Letta, NotFoundError


def ids(items: Any) -> list[str]:
    return [item.id for item in items]


def parts(items: Any) -> list[list[str]]:
    """(id, message_type) of every listed message, in order."""
    return [[m.id, m.message_type] for m in items]


def main(args: dict[str, Any]) -> dict[str, Any]:
    client = Letta(base_url=args["base_url"], timeout=60)
    project, transcript = args["project"], args["transcript"]
    out: dict[str, Any] = {"version": letta_client.__version__}
    count = lambda: client.get("/v1/groups/count", cast_to=int)  # noqa: E731 (1.7.0 has no groups.count)

    # --- agents ------------------------------------------------------------------------------------
    fred = client.agents.create(
        name="fred",
        memory_blocks=[{"label": "persona", "value": "I am fred"}, {"label": "human", "value": "Sarah"}],
        project_id=project,
    )
    velma = client.agents.create(name="velma", memory_blocks=[{"label": "persona", "value": "I am velma"}], project_id=project)
    out["agents"] = {"fred": fred.id, "velma": velma.id, "fred_labels": [b.label for b in fred.memory.blocks]}
    out["agents_listed"] = ids(client.agents.list(project_id=project, limit=1))
    out["agent_retrieved"] = client.agents.retrieve(fred.id).name

    # --- groups: create, retrieve, update -----------------------------------------------------------------
    count_before = count()
    in_body = client.groups.create(agent_ids=[fred.id], description="body", project_id=project)
    in_header = client.groups.create(agent_ids=[velma.id], description="header", extra_headers={"X-Project": project})
    supervised = client.groups.create(
        agent_ids=[fred.id],
        description="sup",
        manager_config={"manager_type": "supervisor", "manager_agent_id": velma.id},
        project_id=project,
    )
    hidden = client.groups.create(agent_ids=[], description="hidden", hidden=True, project_id=project)
    more = [client.groups.create(agent_ids=[], description=f"more-{i}", project_id=project) for i in range(3)]
    visible = [in_body.id, in_header.id, supervised.id, *ids(more)]
    out["groups"] = {"visible": visible, "hidden": hidden.id}
    out["created"] = {
        "body_project": in_body.project_id,
        "header_project": in_header.project_id,
        "hidden_flag": hidden.hidden,
        "visible_flag": in_body.hidden,
        "supervisor": [supervised.manager_type, supervised.manager_agent_id],
    }
    out["count_delta_after_create"] = count() - count_before
    out["retrieved"] = client.groups.retrieve(in_body.id).description
    moved = client.groups.update(in_header.id, description="updated", project_id=f"{project}-elsewhere")
    out["updated"] = [moved.description, moved.project_id, ids(client.groups.list(project_id=f"{project}-elsewhere"))]
    back = client.groups.update(in_header.id, project_id=project)
    out["updated_back"] = back.project_id

    # --- groups: list ------------------------------------------------------------------------------------
    out["list_all"] = ids(client.groups.list(project_id=project))
    out["list_asc_pages"] = ids(client.groups.list(project_id=project, limit=2))
    out["list_desc_pages"] = ids(client.groups.list(project_id=project, limit=2, order="desc", order_by="created_at"))
    out["list_first_page"] = ids(client.groups.list(project_id=project, limit=2).items)
    out["list_backward_pages"] = ids(client.groups.list(project_id=project, limit=2, before=visible[-1]))
    out["list_supervisor"] = ids(client.groups.list(project_id=project, manager_type="supervisor"))
    out["list_with_hidden"] = ids(client.groups.list(project_id=project, extra_query={"show_hidden_groups": True}))

    # --- groups: delete --------------------------------------------------------------------------------------
    before_delete = count()
    client.groups.delete(more[0].id)
    out["count_delta_after_delete"] = count() - before_delete
    try:
        client.groups.retrieve(more[0].id)
        out["retrieve_deleted"] = 200
    except NotFoundError as exc:
        out["retrieve_deleted"] = exc.status_code

    # --- group messages ------------------------------------------------------------------------------------
    out["messages_default_pages"] = parts(client.groups.messages.list(transcript, limit=4))
    out["messages_default_first_page"] = parts(client.groups.messages.list(transcript, limit=4).items)
    out["messages_asc_pages"] = parts(client.groups.messages.list(transcript, limit=4, order="asc"))
    out["messages_desc_pages"] = parts(client.groups.messages.list(transcript, limit=4, order="desc", order_by="created_at"))
    newest = out["messages_default_first_page"][0][0]
    out["messages_backward_pages"] = parts(client.groups.messages.list(transcript, limit=4, order="asc", before=newest))

    # --- core memory and block agents ---------------------------------------------------------------------
    out["blocks_pages"] = [b.label for b in client.agents.blocks.list(fred.id, limit=1)]
    out["block_retrieved"] = client.agents.blocks.retrieve("human", agent_id=fred.id).value
    out["block_updated"] = client.agents.blocks.update("human", agent_id=fred.id, value="Sarah likes clues").value
    human = client.agents.blocks.retrieve("human", agent_id=fred.id)
    attached = client.agents.blocks.attach(human.id, agent_id=velma.id)
    out["attached_labels"] = sorted(b.label for b in attached.memory.blocks)
    out["block_agents_pages"] = ids(client.blocks.agents.list(human.id, limit=1))
    detached = client.agents.blocks.detach(human.id, agent_id=velma.id)
    out["detached_labels"] = sorted(b.label for b in detached.memory.blocks)
    out["block_agents_after_detach"] = ids(client.blocks.agents.list(human.id))

    # --- lists that letta-client 1.x pages with after= (a route ignoring the cursor would be read forever) ------------
    out["agent_groups_pages"] = ids(client.agents.groups.list(fred.id, limit=1))
    out["agent_groups_one_page"] = ids(client.agents.groups.list(fred.id).items)
    label = f"{project}-note"
    notes = [client.blocks.create(label=label, value=f"note {n}").id for n in range(3)]
    out["org_blocks_pages"] = [ids(client.blocks.list(label=label, limit=1)), notes]
    out["org_blocks_desc_pages"] = ids(client.blocks.list(label=label, limit=2, order="desc"))
    for note in notes:
        client.blocks.delete(note)

    # --- enable_sleeptime on a sleeptime_agent ------------------------------------------------------------------
    sleepy = client.agents.create(name="sleepy", agent_type="sleeptime_agent", enable_sleeptime=True, project_id=project)
    group = sleepy.multi_agent_group
    out["sleeptime"] = [group.manager_type, group.manager_agent_id == sleepy.id, len(group.agent_ids)] if group else None

    # --- clean up ------------------------------------------------------------------------------------------------
    for group_id in [*visible[:-3], *ids(more[1:]), hidden.id]:
        client.groups.delete(group_id)
    for agent_id in (sleepy.id, fred.id, velma.id):
        client.agents.delete(agent_id)
    out["agents_left"] = ids(client.agents.list(project_id=project))
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
