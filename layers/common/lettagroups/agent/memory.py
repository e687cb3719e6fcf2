"""An agent's memory blocks as one step sees and edits them.

Edits stay in this working copy until the step commits: the changed blocks are then written in the step's own
transaction, each guarded by the version read here. A step that fails therefore changes no memory, and a
concurrent edit of a shared block by another agent makes the commit fail (retryable) instead of being lost.
"""

from __future__ import annotations

import copy
from typing import Any

from ..dal import agents as agents_dal
from .prompts import render_memory

DEFAULT_BLOCK_LIMIT = 5000


class MemoryEditError(ValueError):
    """An edit the tool refuses (unknown label, text not found, over the limit); the model sees the message."""


class MemoryView:
    def __init__(self, blocks: list[dict[str, Any]]) -> None:
        self._blocks = [copy.deepcopy(b) for b in blocks]
        self._versions = {b["id"]: int(b.get("version", 0)) for b in self._blocks}
        self._changed: set[str] = set()

    @classmethod
    def load(cls, org_id: str, agent: dict[str, Any]) -> MemoryView:
        block_ids: list[str] = list(agent.get("block_ids") or [])
        if not block_ids:
            return cls([])
        found = agents_dal.get_blocks(org_id, block_ids)
        return cls([found[b] for b in block_ids if b in found])

    @property
    def labels(self) -> list[str]:
        return [str(b.get("label")) for b in self._blocks]

    def block(self, label: str) -> dict[str, Any]:
        for block in self._blocks:
            if block.get("label") == label:
                return block
        raise MemoryEditError(f"No memory block with label '{label}'. Available labels: {self.labels}")

    def value(self, label: str) -> str:
        return str(self.block(label).get("value") or "")

    def set_value(self, label: str, value: str) -> None:
        block = self.block(label)
        limit = int(block.get("limit") or DEFAULT_BLOCK_LIMIT)
        if len(value) > limit:
            raise MemoryEditError(f"Edit failed: Exceeds {limit} character limit (requested {len(value)}).")
        block["value"] = value
        self._changed.add(block["id"])

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self._blocks)

    def render(self) -> str:
        return render_memory(self._blocks)

    def updates(self) -> list[tuple[dict[str, Any], int]]:
        """The changed blocks with the versions they had when read (for the step's transaction)."""
        return [(b, self._versions[b["id"]]) for b in self._blocks if b["id"] in self._changed]
