"""Embedded AWS emulation: a moto server in this process, with the table from template.yaml."""

from __future__ import annotations

import os
import socket
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
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def start(table_name: str = "letta-groups", port: int | None = None) -> Emulation:
    """Start moto on a loopback port (MOTO_PORT lets the Step Functions interpreter call back)."""
    for key, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    from moto.server import ThreadedMotoServer

    port = port or free_port()
    os.environ["MOTO_PORT"] = str(port)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    configure_environment(endpoint, table_name)
    create_table(endpoint, table_name)
    return Emulation(endpoint_url=endpoint, port=port, server=server)
