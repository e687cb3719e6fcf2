"""Embedded AWS emulation: moto in this process (and on a loopback port for other processes), with the table from template.yaml."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
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
    endpoint_url: str  # the loopback server, for other processes
    port: int
    server: Any
    mock: Any

    def stop(self) -> None:
        self.server.stop()
        self.mock.stop()


def configure_environment(endpoint_url: str, table_name: str) -> None:
    for key, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    # This process's clients use AWS's own endpoints, which moto answers in-process; other processes use MOTO_PORT.
    os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
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


def _server(port: int) -> Any:
    import logging

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access line per AWS call otherwise

    return ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)


def _patch_moto() -> None:
    from . import moto_patches

    moto_patches.serialise_dynamodb()
    moto_patches.journal_transactions()
    moto_patches.fast_dynamodb_results()
    moto_patches.fast_table_queries()
    moto_patches.cache_state_machine_programs()
    moto_patches.cache_task_clients()
    moto_patches.sync_executions()
    call_log = os.environ.get("LETTA_LOCAL_CALL_LOG")
    if call_log:
        moto_patches.call_log(Path(call_log))


def start(table_name: str = "letta-groups", port: int | None = None) -> Emulation:
    """Start the emulation: moto in this process, where this process's AWS clients reach it directly (no HTTP, as
    a Lambda reaches AWS without a proxy), and the same backends on a loopback port for other processes (admin
    script, persistence); MOTO_PORT names that port."""
    from moto import mock_aws

    for key, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    port = port or free_port()
    os.environ["MOTO_PORT"] = str(port)
    mock = mock_aws()
    mock.start()
    _patch_moto()
    server = _server(port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    configure_environment(endpoint, table_name)
    create_table(endpoint, table_name)
    return Emulation(endpoint_url=endpoint, port=port, server=server, mock=mock)
