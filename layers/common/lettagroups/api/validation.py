"""422 bodies in FastAPI's shape (a list of {type, loc, msg, input}), which letta-client parses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def validation_detail(errors: Iterable[Any], prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    detail = []
    for err in errors:
        item = {"type": err.get("type"), "loc": [*prefix, *err.get("loc", [])], "msg": err.get("msg"), "input": err.get("input")}
        if err.get("ctx"):
            item["ctx"] = {k: str(v) for k, v in err["ctx"].items()}
        detail.append(item)
    return detail
