"""Wire shapes written down from the contract, as the tests' oracle (never derived from the code), and the checks of
the error bodies every door answers bad input with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

# `Group` keys in wire order (contract §2.5 and §3.2; `project_id` is the O-2 addition; `hidden`, later Letta's
# field, is appended after them, then swarm-handoffs.md's `initial_agent_id` and `active_agent_id`).
GROUP_KEYS = [
    "id",
    "manager_type",
    "agent_ids",
    "description",
    "shared_block_ids",
    "manager_agent_id",
    "termination_token",
    "max_turns",
    "sleeptime_agent_frequency",
    "turns_counter",
    "last_processed_message_id",
    "max_message_buffer_length",
    "min_message_buffer_length",
    "project_id",
    "hidden",
    "initial_agent_id",
    "active_agent_id",
]

# The leading keys of a streamed LettaMessage, in wire order.
MESSAGE_KEYS = ["id", "date", "name", "message_type", "otid", "sender_id", "step_id"]


def assert_error(response: httpx.Response, status: int, detail: str | None = None) -> Any:
    """A clear JSON error: the status, a `detail` key, and for 422 FastAPI's list of {loc, msg, type}."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"}, str(body)[:500]
    if status == 422:
        assert isinstance(body["detail"], list) and body["detail"], body
        for item in body["detail"]:
            assert {"loc", "msg", "type"} <= set(item), item
            assert isinstance(item["loc"], list) and item["loc"] and isinstance(item["msg"], str)
    else:
        assert isinstance(body["detail"], str) and body["detail"], body
        if detail is not None:
            assert detail in body["detail"], body
    return body["detail"]


def assert_fastapi_422(body: Any, loc: list[Any], type_: str) -> dict[str, Any]:
    """The contract's 422 shape: {"detail": [{"type", "loc", "msg", "input"}, ...]}; returns the matching item."""
    assert isinstance(body["detail"], list) and body["detail"]
    for item in body["detail"]:
        assert {"type", "loc", "msg", "input"} <= item.keys()
        assert isinstance(item["msg"], str) and item["msg"]
    matching = [item for item in body["detail"] if item["loc"] == loc]
    assert matching, f"no error at {loc}: {body['detail']}"
    assert matching[0]["type"] == type_
    return matching[0]
