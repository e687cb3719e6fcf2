"""Optional persistence for `make run`: the table is saved to DATA_DIR and loaded on the next start.

moto keeps state in memory only, so the runner snapshots the table (a Scan, which is fine
here: this is a development convenience, never a request path) on shutdown and every few
seconds while writes happen, and reloads it with batch writes at start-up.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

SNAPSHOT = "table.json"


def _client(endpoint_url: str) -> Any:
    import boto3

    return boto3.client("dynamodb", endpoint_url=endpoint_url, region_name="us-east-1")


def save(endpoint_url: str, table_name: str, data_dir: Path) -> int:
    client = _client(endpoint_url)
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table_name):
        items.extend(page.get("Items", []))
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / (SNAPSHOT + ".tmp")
    tmp.write_text(json.dumps({"table": table_name, "items": items}), encoding="utf-8")
    tmp.replace(data_dir / SNAPSHOT)  # atomic: a crash never leaves half a snapshot
    return len(items)


def load(endpoint_url: str, table_name: str, data_dir: Path) -> int:
    path = data_dir / SNAPSHOT
    if not path.exists():
        return 0
    items = json.loads(path.read_text(encoding="utf-8"))["items"]
    client = _client(endpoint_url)
    for start in range(0, len(items), 25):
        request = {table_name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            response = client.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}
    return len(items)


class Snapshotter:
    """Saves the table every `interval` seconds in the background and once more on stop."""

    def __init__(self, endpoint_url: str, table_name: str, data_dir: Path, interval: float = 5.0) -> None:
        self.endpoint_url = endpoint_url
        self.table_name = table_name
        self.data_dir = data_dir
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="snapshot", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                save(self.endpoint_url, self.table_name, self.data_dir)
            except Exception:  # noqa: BLE001 - a failed periodic snapshot is retried next tick
                pass

    def stop(self) -> None:
        self._stop.set()
        save(self.endpoint_url, self.table_name, self.data_dir)
