"""Reading a group's transcript: through the logic layer or over raw HTTP, and the replies in it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from lettagroups.models.identity import Actor


def transcript(actor: Actor, group_id: str, **kwargs: Any) -> list[Any]:
    """The group's LettaMessages through the logic layer (up to 500)."""
    from lettagroups.logic import group_history

    return group_history.list_messages(actor, group_id, **{"limit": 500, **kwargs})


def transcript_http(http: httpx.Client, group_id: str) -> list[dict[str, Any]]:
    """The group's messages as `GET /v1/groups/{group_id}/messages` lists them (up to 200)."""
    response = http.get(f"/v1/groups/{group_id}/messages", params={"limit": 200})
    assert response.status_code == 200, response.text
    return list(response.json())


def said(messages: list[Any]) -> list[str]:
    """The assistant texts among LettaMessages, in order."""
    return [m.content for m in messages if m.message_type == "assistant_message"]
