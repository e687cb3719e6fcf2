"""Tool catalog: the JSON schemas of every built-in tool, and which agent type gets which.

Executors live in `tools.py`; this module is data only, so agent CRUD can use it cheaply.
"""

from __future__ import annotations

import uuid
from typing import Any

HEARTBEAT = {
    "request_heartbeat": {
        "type": "boolean",
        "description": "Request an immediate heartbeat after the function runs, to chain multiple functions.",
    }
}


def _schema(
    name: str, description: str, properties: dict[str, Any], required: list[str], heartbeat: bool = True
) -> dict[str, Any]:
    props = dict(properties)
    req = list(required)
    if heartbeat:
        props.update(HEARTBEAT)
        req.append("request_heartbeat")
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": props, "required": req},
    }


_TEXT = {"type": "string"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "send_message": _schema(
        "send_message",
        "Sends a message to the human user.",
        {"message": {**_TEXT, "description": "Message contents."}},
        ["message"],
        heartbeat=False,
    ),
    "conversation_search": _schema(
        "conversation_search",
        "Search prior conversation history using case-insensitive string matching.",
        {
            "query": {**_TEXT, "description": "String to search for."},
            "page": {"type": "integer", "description": "Page of results."},
        },
        ["query"],
    ),
    "core_memory_append": _schema(
        "core_memory_append",
        "Append to the contents of core memory.",
        {
            "label": {**_TEXT, "description": "Section of the memory to edit."},
            "content": {**_TEXT, "description": "Content to append."},
        },
        ["label", "content"],
    ),
    "core_memory_replace": _schema(
        "core_memory_replace",
        "Replace the contents of core memory. To delete memories, use an empty string for new_content.",
        {
            "label": {**_TEXT, "description": "Section of the memory to edit."},
            "old_content": {**_TEXT, "description": "String to replace. Must be an exact match."},
            "new_content": {**_TEXT, "description": "Content to write to the memory."},
        },
        ["label", "old_content", "new_content"],
    ),
    "send_message_to_all_agents_in_group": _schema(
        "send_message_to_all_agents_in_group",
        "Sends a message to all agents in the group and waits for their replies.",
        {"message": {**_TEXT, "description": "The message to broadcast."}},
        ["message"],
        heartbeat=False,
    ),
    "memory_rethink": _schema(
        "memory_rethink",
        "Rewrite a memory block completely with new, reorganised content.",
        {"label": _TEXT, "new_memory": _TEXT},
        ["label", "new_memory"],
    ),
    "memory_finish_edits": _schema("memory_finish_edits", "Call when memory editing is complete.", {}, [], heartbeat=False),
    "memory_replace": _schema(
        "memory_replace",
        "Replace an exact string in a memory block.",
        {"label": _TEXT, "old_str": _TEXT, "new_str": _TEXT},
        ["label", "old_str", "new_str"],
    ),
    "memory_insert": _schema(
        "memory_insert",
        "Insert text into a memory block at a line.",
        {"label": _TEXT, "new_str": _TEXT, "insert_line": {"type": "integer"}},
        ["label", "new_str"],
    ),
    "search_memory": _schema(
        "search_memory",
        "Search the conversation history for relevant messages.",
        {"convo_keyword_queries": {"type": "array", "items": _TEXT}},
        [],
    ),
    "store_memories": _schema(
        "store_memories",
        "Summarise a chunk of the conversation into memory.",
        {"chunks": {"type": "array", "items": {"type": "object"}}, "context": _TEXT},
        ["chunks"],
    ),
    "rethink_user_memory": _schema(
        "rethink_user_memory", "Rewrite the human memory block.", {"new_memory": _TEXT}, ["new_memory"]
    ),
    "finish_rethinking_memory": _schema("finish_rethinking_memory", "Finish rethinking memory.", {}, [], heartbeat=False),
}

BASE_TOOLS = ["send_message", "conversation_search", "core_memory_append", "core_memory_replace"]
CORE_MEMORY_TOOLS = {"core_memory_append", "core_memory_replace"}
SLEEPTIME_TOOLS = ["memory_rethink", "memory_finish_edits", "memory_replace", "memory_insert", "conversation_search"]
VOICE_TOOLS = ["send_message", "search_memory"]
VOICE_SLEEPTIME_TOOLS = ["store_memories", "rethink_user_memory", "finish_rethinking_memory"]
MULTI_AGENT_TOOLS = ["send_message_to_all_agents_in_group"]
BROADCAST_TOOL = "send_message_to_all_agents_in_group"
HANDOFF_TOOL = "handoff_to_agent"


def handoff_schema(colleagues: list[str]) -> dict[str, Any]:
    """The swarm's handoff tool as one participant is offered it: `colleagues` are the other participants' names
    (swarm-handoffs.md). No `request_heartbeat`: a handoff ends the caller's turn."""
    return _schema(
        HANDOFF_TOOL,
        "Hand the conversation to a colleague who is better placed to answer. Use it instead of replying.",
        {
            "agent_name": {"type": "string", "enum": list(colleagues)},
            "message": {"type": "string", "description": "what the colleague needs to know"},
        },
        ["agent_name", "message"],
        heartbeat=False,
    )


def default_tools(agent_type: str, include_base_tools: bool, enable_sleeptime: bool) -> list[str]:
    if agent_type == "sleeptime_agent":
        return list(SLEEPTIME_TOOLS)
    if agent_type == "voice_convo_agent":
        return list(VOICE_TOOLS)
    if agent_type == "voice_sleeptime_agent":
        return list(VOICE_SLEEPTIME_TOOLS)
    if not include_base_tools:
        return []
    tools = list(BASE_TOOLS)
    if enable_sleeptime:
        tools = [t for t in tools if t not in CORE_MEMORY_TOOLS]
    return tools


def default_tool_rules(agent_type: str) -> list[dict[str, Any]]:
    if agent_type == "sleeptime_agent":
        return [{"tool_name": "memory_finish_edits", "type": "exit_loop"}]
    if agent_type == "voice_sleeptime_agent":
        return [{"tool_name": "finish_rethinking_memory", "type": "exit_loop"}]
    return [{"tool_name": "send_message", "type": "exit_loop"}]


def tool_id(name: str) -> str:
    return f"tool-{uuid.uuid5(uuid.NAMESPACE_URL, 'lettagroups:' + name)}"


def tool_object(name: str, organization_id: str) -> dict[str, Any]:
    schema = SCHEMAS[name]
    return {
        "id": tool_id(name),
        "tool_type": "letta_multi_agent_core" if name in MULTI_AGENT_TOOLS else "letta_core",
        "description": schema["description"],
        "source_type": "python",
        "organization_id": organization_id,
        "name": name,
        "tags": ["letta_core"],
        "json_schema": schema,
        "return_char_limit": 6000,
    }


def supervisor_tool_rules() -> list[dict[str, Any]]:
    """Per-request tool rules of a supervisor (contract §8.2): broadcast first, then only send_message, which ends."""
    return [
        {"tool_name": BROADCAST_TOOL, "type": "run_first"},
        {"tool_name": BROADCAST_TOOL, "type": "constrain_child_tools", "children": ["send_message"]},
        {"tool_name": "send_message", "type": "exit_loop"},
    ]
