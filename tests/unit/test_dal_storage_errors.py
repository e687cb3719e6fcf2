"""Every DynamoDB request of the data-access layer turns throttling and service faults into StorageUnavailableError
(a 503 the client may retry), whichever helper made it; other errors propagate unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lettagroups.dal import events, items, messages, table
from lettagroups.errors import StorageUnavailableError


class FailingClient:
    """A DynamoDB client whose every request fails with one error code."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        def fail(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, operation)

        return fail


REQUESTS: dict[str, Callable[[], Any]] = {
    "query (query_all)": lambda: list(table.query_all(KeyConditionExpression="x")),
    "batch get": lambda: table.batch_get([table.key("a", "b")]),
    "get item": lambda: items.get("a", "b"),
    "event log tail": lambda: events.last_seq("org", "run-1"),
    "event log read": lambda: events.read("org", "run-1", 0),
    "conversation reset": lambda: messages._batch_delete([table.key("a", "b")]),
}


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def install(code: str) -> None:
        fake = FailingClient(code)
        for module in (table, items, events, messages):
            monkeypatch.setattr(module, "client", lambda: fake)

    return install


@pytest.mark.parametrize("request_name", sorted(REQUESTS))
def test_a_throttled_request_is_storage_unavailable(failing: Callable[[str], None], request_name: str):
    # Given a table that throttles every request
    failing("ProvisionedThroughputExceededException")
    # When the request is made, Then it is StorageUnavailableError (503)
    with pytest.raises(StorageUnavailableError):
        REQUESTS[request_name]()


@pytest.mark.parametrize("request_name", sorted(REQUESTS))
def test_any_other_error_propagates_as_it_is(failing: Callable[[str], None], request_name: str):
    # Given a table that refuses every request as malformed
    failing("ValidationException")
    # When the request is made, Then the client's own error comes through
    with pytest.raises(ClientError, match="ValidationException"):
        REQUESTS[request_name]()
