"""Tool executors and the registry that maps tool names to them.

An executor is `executor(ctx, args) -> str | (str, status)`; status is "success" or "error". Raising
`ToolError` (or `ValueError`/`TypeError`/`KeyError`, which includes `MemoryEditError`) gives an error return the
model sees, as Letta does; any other exception aborts the whole step, so infrastructure faults are retried
rather than shown to the model.

Memory tools edit `ctx.memory`, a working copy committed with the step's messages (see `memory.py`).

The registry is extensible: `DEFAULT_REGISTRY.register(ToolSpec(...))` for every step in the process, or
`run_step(..., extra_tools=[ToolSpec(...)])` for one step (the group runner injects the broadcast tool this way).
A `ToolSpec` without an executor is still offered to the model; a call to it pauses the step when the caller
listed it in `pause_on_tools` (the caller runs it and resumes the agent with the result), else it returns an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ..models.stored_entities import AgentRecord
from . import catalog
from .memory import MemoryView

ToolResult = tuple[str, str]
ToolExecutor = Callable[["ToolContext", dict[str, Any]], Union[str, ToolResult]]
RETURN_CHAR_LIMIT = 6000
SEARCH_PAGE_SIZE = 5
HUMAN = "human"


class ToolError(Exception):
    """A tool failure the model should see as an error return."""


@dataclass
class ToolContext:
    org_id: str
    agent_id: str
    agent_name: str
    agent: AgentRecord
    conversation_id: str
    group_id: Optional[str]
    run_id: Optional[str]
    memory: MemoryView
    search: Callable[[str], list[str]]  # lines of the agent's visible history matching a query, newest first
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    schema: dict[str, Any]
    executor: Optional[ToolExecutor] = None
    ends_turn: bool = False  # a successful call ends the step's chain whatever the heartbeat (a swarm handoff)


class ToolRegistry:
    def __init__(self, specs: Iterable[ToolSpec] = ()) -> None:
        self._specs: dict[str, ToolSpec] = {s.name: s for s in specs}

    def register(self, spec: ToolSpec) -> None:
        self._specs[spec.name] = spec

    def get(self, name: str) -> Optional[ToolSpec]:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return list(self._specs)

    def extended(self, extra: Iterable[Union[ToolSpec, str]]) -> ToolRegistry:
        """A copy with extra tools; a bare name means the catalog tool of that name (schema only)."""
        copy = ToolRegistry(self._specs.values())
        for item in extra:
            if isinstance(item, str):
                if copy.get(item) is None:
                    copy.register(ToolSpec(item, catalog.SCHEMAS[item]))
            else:
                copy.register(item)
        return copy


def _arg(args: dict[str, Any], name: str) -> Any:
    if name not in args:
        raise ToolError(f"missing required argument '{name}'")
    return args[name]


def execute(spec: ToolSpec, ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    """Run one tool; the return string is truncated to Letta's return limit."""
    if spec.executor is None:
        return f"Error executing function {spec.name}: the tool is not available in this context", "error"
    call_args = {k: v for k, v in args.items() if k != "request_heartbeat"}
    try:
        result = spec.executor(ctx, call_args)
    except (ToolError, ValueError, TypeError, KeyError) as exc:
        return f"Error executing function {spec.name}: {type(exc).__name__}: {exc}", "error"
    text, status = (result, "success") if isinstance(result, str) else result
    if len(text) > RETURN_CHAR_LIMIT:
        text = (
            f"{text[:RETURN_CHAR_LIMIT]}... [NOTE: function output was truncated since it exceeded the character limit "
            f"({len(text)} > {RETURN_CHAR_LIMIT})]"
        )
    return text, status


# --- base tools -------------------------------------------------------------------------------------------------


def send_message(ctx: ToolContext, args: dict[str, Any]) -> str:
    _arg(args, "message")
    return "None"


def conversation_search(ctx: ToolContext, args: dict[str, Any]) -> str:
    query = str(_arg(args, "query"))
    page = int(args.get("page") or 0)
    results = ctx.search(query)
    if not results:
        return "No results found."
    pages = (len(results) + SEARCH_PAGE_SIZE - 1) // SEARCH_PAGE_SIZE
    page = max(0, min(page, pages - 1))
    shown = results[page * SEARCH_PAGE_SIZE : (page + 1) * SEARCH_PAGE_SIZE]
    return f"Showing {len(shown)} of {len(results)} results (page {page}/{pages - 1}): {json.dumps(shown, ensure_ascii=False)}"


def core_memory_append(ctx: ToolContext, args: dict[str, Any]) -> str:
    label, content = str(_arg(args, "label")), str(_arg(args, "content"))
    current = ctx.memory.value(label)
    ctx.memory.set_value(label, f"{current}\n{content}" if current else content)
    return "None"


def core_memory_replace(ctx: ToolContext, args: dict[str, Any]) -> str:
    label, old, new = str(_arg(args, "label")), str(_arg(args, "old_content")), str(_arg(args, "new_content"))
    current = ctx.memory.value(label)
    if not old or old not in current:
        raise ToolError(f"Old content '{old}' not found in memory block '{label}'")
    ctx.memory.set_value(label, current.replace(old, new))
    return "None"


# --- sleeptime memory tools -------------------------------------------------------------------------------------


def _edited(label: str) -> str:
    return f"The core memory block with label `{label}` has been edited."


def memory_rethink(ctx: ToolContext, args: dict[str, Any]) -> str:
    label = str(_arg(args, "label"))
    ctx.memory.set_value(label, str(_arg(args, "new_memory")))
    return _edited(label)


def memory_finish_edits(ctx: ToolContext, args: dict[str, Any]) -> str:
    return "None"


def memory_replace(ctx: ToolContext, args: dict[str, Any]) -> str:
    label, old, new = str(_arg(args, "label")), str(_arg(args, "old_str")), str(_arg(args, "new_str"))
    current = ctx.memory.value(label)
    occurrences = current.count(old) if old else 0
    if occurrences == 0:
        raise ToolError(
            f"No replacement was performed, old_str `{old}` did not appear verbatim in memory block with label `{label}`."
        )
    if occurrences > 1:
        raise ToolError(
            f"No replacement was performed. Multiple occurrences of old_str `{old}` in memory block `{label}`; make it unique."
        )
    ctx.memory.set_value(label, current.replace(old, new))
    return _edited(label)


def memory_insert(ctx: ToolContext, args: dict[str, Any]) -> str:
    label, new = str(_arg(args, "label")), str(_arg(args, "new_str"))
    line = int(args.get("insert_line", -1) if args.get("insert_line") is not None else -1)
    current = ctx.memory.value(label)
    lines = current.split("\n") if current else []
    if line == -1:
        line = len(lines)
    if not 0 <= line <= len(lines):
        raise ToolError(f"Invalid insert_line {line}: the block has {len(lines)} lines")
    lines[line:line] = new.split("\n")
    ctx.memory.set_value(label, "\n".join(lines))
    return _edited(label)


# --- voice tools ------------------------------------------------------------------------------------------------


def search_memory(ctx: ToolContext, args: dict[str, Any]) -> str:
    queries = [str(q) for q in args.get("convo_keyword_queries") or [] if str(q).strip()]
    seen: list[str] = []
    for query in queries or [""]:
        for line in ctx.search(query):
            if line not in seen:
                seen.append(line)
    if not seen:
        return "No results found."
    return "\n".join(seen[: SEARCH_PAGE_SIZE * 4])


def store_memories(ctx: ToolContext, args: dict[str, Any]) -> str:
    chunks = args.get("chunks") or []
    context = str(args.get("context") or "")
    notes = [str((c or {}).get("context") or context) for c in chunks if isinstance(c, dict)] or ([context] if context else [])
    notes = [n for n in notes if n.strip()]
    if not notes:
        raise ToolError("nothing to store: give chunks with a context")
    current = ctx.memory.value(HUMAN)
    addition = "\n".join(f"- {n}" for n in notes)
    ctx.memory.set_value(HUMAN, f"{current}\n{addition}" if current else addition)
    return "None"


def rethink_user_memory(ctx: ToolContext, args: dict[str, Any]) -> str:
    ctx.memory.set_value(HUMAN, str(_arg(args, "new_memory")))
    return "None"


def finish_rethinking_memory(ctx: ToolContext, args: dict[str, Any]) -> str:
    return "None"


BUILTIN_EXECUTORS: dict[str, ToolExecutor] = {
    "send_message": send_message,
    "conversation_search": conversation_search,
    "core_memory_append": core_memory_append,
    "core_memory_replace": core_memory_replace,
    "memory_rethink": memory_rethink,
    "memory_finish_edits": memory_finish_edits,
    "memory_replace": memory_replace,
    "memory_insert": memory_insert,
    "search_memory": search_memory,
    "store_memories": store_memories,
    "rethink_user_memory": rethink_user_memory,
    "finish_rethinking_memory": finish_rethinking_memory,
}

DEFAULT_REGISTRY = ToolRegistry(ToolSpec(name, catalog.SCHEMAS[name], executor) for name, executor in BUILTIN_EXECUTORS.items())
