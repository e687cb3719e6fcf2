"""`DATA_DIR=... make run` keeps the API's data across restarts (README, Configuration)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.compat


def test_data_survives_a_restart_with_data_dir(start_local_server, tmp_path):
    # Given a server persisting to a data directory, with a group and a conversation in it
    env = {"DATA_DIR": str(tmp_path)}
    with start_local_server(env, "local-server-persist-1.log") as url:
        created = [httpx.post(f"{url}/v1/agents/", json={"name": n}, timeout=30) for n in ("fred", "velma")]
        assert [r.status_code for r in created] == [200, 200], [r.text for r in created]
        agents = [r.json()["id"] for r in created]
        made = httpx.post(f"{url}/v1/groups/", json={"agent_ids": agents, "description": "kept"}, timeout=30)
        assert made.status_code == 200, made.text
        group = made.json()
        counted = httpx.get(f"{url}/v1/groups/count", timeout=30)
        assert (counted.status_code, counted.json()) == (200, 1)
        sent = httpx.post(
            f"{url}/v1/groups/{group['id']}/messages", json={"messages": [{"role": "user", "content": "hi"}]}, timeout=60
        )
        assert sent.status_code == 200
        listed = httpx.get(f"{url}/v1/groups/{group['id']}/messages", timeout=30)
        assert listed.status_code == 200, listed.text
        transcript = listed.json()
        assert [m["message_type"] for m in transcript] == [
            "user_message",
            "reasoning_message",
            "assistant_message",
            "reasoning_message",
            "assistant_message",
        ]
    # When the server stops and a new one starts on the same directory
    with start_local_server(env, "local-server-persist-2.log") as url:
        # Then the group, the count and the transcript are all still there
        assert httpx.get(f"{url}/v1/groups/{group['id']}", timeout=30).json() == group
        assert httpx.get(f"{url}/v1/groups/count", timeout=30).json() == 1
        assert httpx.get(f"{url}/v1/groups/{group['id']}/messages", timeout=30).json() == transcript
        # And it keeps working on top of that data
        again = httpx.post(
            f"{url}/v1/groups/{group['id']}/messages", json={"messages": [{"role": "user", "content": "again"}]}, timeout=60
        )
        assert again.status_code == 200


def test_without_data_dir_a_restart_starts_empty(start_local_server):
    # Given a server without DATA_DIR that has a group
    with start_local_server({}, "local-server-ephemeral.log") as url:
        made = httpx.post(f"{url}/v1/groups/", json={"agent_ids": [], "description": "gone"}, timeout=30)
        assert made.status_code == 200, made.text
        counted = httpx.get(f"{url}/v1/groups/count", timeout=30)
        assert (counted.status_code, counted.json()) == (200, 1)
    # When another starts, then it starts empty (nothing is written to disk by default)
    with start_local_server({}, "local-server-ephemeral-2.log") as url:
        assert httpx.get(f"{url}/v1/groups/count", timeout=30).json() == 0
