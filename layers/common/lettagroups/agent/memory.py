"""An agent's memory blocks as one step sees and edits them.

Edits stay in this working copy until the step commits: the changed blocks are then written in the step's own
transaction, each guarded by the version read here. A step that fails therefore changes no memory, and a
concurrent edit of a shared block by another agent makes the commit fail (retryable) instead of being lost.
"""

from __future__ import annotations

from ..dal import agents as agents_dal
from ..models.stored_entities import AgentRecord, BlockRecord
from .prompts import render_memory

DEFAULT_BLOCK_LIMIT = 5000


class MemoryEditError(ValueError):
    """An edit the tool refuses (unknown label, text not found, over the limit); the model sees the message."""


class MemoryView:
    def __init__(self, blocks: list[BlockRecord]) -> None:
        # An edit replaces the view's record of the block (never changes it in place), so the records handed in,
        # and those of earlier calls, stay as they were read.
        self._blocks = list(blocks)
        self._versions = {b.id: b.version for b in self._blocks}
        self._changed: set[str] = set()

    @classmethod
    def load(cls, org_id: str, agent: AgentRecord) -> MemoryView:
        block_ids = agent.block_ids
        if not block_ids:
            return cls([])
        found = agents_dal.get_blocks(org_id, block_ids)
        return cls([found[b] for b in block_ids if b in found])

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self._blocks]

    def _index(self, label: str) -> int:
        for i, block in enumerate(self._blocks):
            if block.label == label:
                return i
        raise MemoryEditError(f"No memory block with label '{label}'. Available labels: {self.labels}")

    def block(self, label: str) -> BlockRecord:
        return self._blocks[self._index(label)]

    def value(self, label: str) -> str:
        return self.block(label).value

    def set_value(self, label: str, value: str) -> None:
        i = self._index(label)
        block = self._blocks[i]
        limit = block.limit or DEFAULT_BLOCK_LIMIT
        if len(value) > limit:
            raise MemoryEditError(f"Edit failed: Exceeds {limit} character limit (requested {len(value)}).")
        self._blocks[i] = block.model_copy(update={"value": value})
        self._changed.add(block.id)

    @property
    def blocks(self) -> list[BlockRecord]:
        return list(self._blocks)

    def render(self) -> str:
        return render_memory(self._blocks)

    def updates(self) -> list[tuple[BlockRecord, int]]:
        """The changed blocks with the versions they had when read (for the step's transaction)."""
        return [(b, self._versions[b.id]) for b in self._blocks if b.id in self._changed]
