"""Embedded AWS emulation: a moto server in this process, with the table from template.yaml."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from .template import table_definition

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def free_port() -> int:
    """A free loopback port, never the one the API is about to listen on (PORT is bound after the emulator)."""
    reserved = os.environ.get("PORT")
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if str(port) != reserved:
            return port


@dataclass
class Emulation:
    endpoint_url: str
    port: int
    server: Any

    def stop(self) -> None:
        self.server.stop()


def configure_environment(endpoint_url: str, table_name: str) -> None:
    for key, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    os.environ["DYNAMODB_ENDPOINT_URL"] = endpoint_url
    os.environ["TABLE_NAME"] = table_name
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "letta-groups")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LettaGroups")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # Settings and the DynamoDB client are cached per process; start from the new environment.
    from lettagroups.dal import table
    from lettagroups.settings import get_settings

    get_settings.cache_clear()
    table.client.cache_clear()


def create_table(endpoint_url: str, table_name: str) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name="us-east-1")
    existing = client.list_tables().get("TableNames", [])
    if table_name not in existing:
        client.create_table(TableName=table_name, **table_definition())
        client.update_time_to_live(TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})


def _serialised_dynamodb(app: Any) -> Any:
    """moto's DynamoDB backend is not thread-safe (a transaction deep-copies tables that another
    request thread may be changing), so DynamoDB requests take turns. Other services are left
    concurrent: a Step Functions task invokes a Lambda whose handler calls DynamoDB, and holding
    one lock across that would deadlock."""
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with lock:
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


def journal_transactions() -> None:
    """Make moto's TransactWriteItems roll back per item instead of deep-copying whole tables.

    moto 5.2.5 deep-copies the entire table once per action of every transaction, so a write
    costs time proportional to the table (7 ms per action at 600 items, far more once
    transcripts pile up). This keeps moto's own evaluation of the actions and replaces only
    the backup: the items an action touches are saved before the call and put back if it
    fails. Equivalent because DynamoDB requests are serialised (`_serialised_dynamodb`).
    A moto internal, like the Lambda patch: moto is pinned and tests/workflow/test_moto_contract.py checks it.
    """
    import copy as std_copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "journaled", False):
        return

    class _TablesByReference:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else std_copy.deepcopy(value, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        journal: list[tuple[str, dict[str, Any], Any]] = []
        for action in transact_items:
            for op_type, op in action.items():
                table = self.tables.get(op.get("TableName"))
                source = op.get("Item") if op_type == "Put" else op.get("Key")
                if table is None or not isinstance(source, dict):
                    continue
                try:
                    key = {table.hash_key_attr: source[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = source[table.range_key_attr]
                    current = self.get_item(table.name, key)
                except Exception:  # noqa: BLE001 - moto reports the malformed action itself
                    continue
                journal.append((table.name, key, current.to_json()["Attributes"] if current else None))
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, previous in reversed(journal):
                if previous is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, previous, overwrite=True)
            raise

    transact_write_items.journaled = True  # type: ignore[attr-defined]
    models.copy = _TablesByReference  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _server(port: int) -> Any:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class SerialisedDynamoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _serialised_dynamodb(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return SerialisedDynamoServer(ip_address="127.0.0.1", port=port, verbose=False)


def start(table_name: str = "letta-groups", port: int | None = None) -> Emulation:
    """Start moto on a loopback port (MOTO_PORT lets the Step Functions interpreter call back)."""
    for key, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    port = port or free_port()
    os.environ["MOTO_PORT"] = str(port)
    journal_transactions()
    server = _server(port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    configure_environment(endpoint, table_name)
    create_table(endpoint, table_name)
    return Emulation(endpoint_url=endpoint, port=port, server=server)
