"""Letta tool rules: which tools the model may call next, and whether a call ends the chain.

Rule dicts as stored on agents (`{"tool_name": …, "type": …}`):
- `run_first` (InitToolRule): the first call of a step chain must be one of these tools;
- `constrain_child_tools` (ChildToolRule, `children: [...]`): after this tool, only the children; the chain
  continues after it (Letta forces a heartbeat for tools with children);
- `exit_loop` (TerminalToolRule): the chain ends after this tool;
- `continue_loop` (ContinueToolRule): the chain continues after this tool.
Other types (`conditional`, `max_count_per_step`, `parent_last_tool`) are accepted and ignored.

Besides the rules, a tool may end the turn when it succeeds (`ends_turn`: a swarm handoff passes the conversation
on, so the caller must not go on talking); when it fails the chain goes on as after any failed call.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Optional


class ToolRulesSolver:
    def __init__(
        self, rules: Optional[Sequence[dict[str, Any]]], last_tool: Optional[str] = None, ends_turn: Collection[str] = ()
    ) -> None:
        self.init: list[str] = []
        self.terminal: set[str] = set()
        self.continue_: set[str] = set()
        self.children: dict[str, list[str]] = {}
        for rule in rules or []:
            name = str(rule.get("tool_name") or "")
            kind = rule.get("type")
            if kind == "run_first":
                self.init.append(name)
            elif kind == "exit_loop":
                self.terminal.add(name)
            elif kind == "continue_loop":
                self.continue_.add(name)
            elif kind == "constrain_child_tools":
                self.children.setdefault(name, []).extend(str(c) for c in rule.get("children") or [])
        self.last_tool = last_tool
        self.ends_turn = set(ends_turn)

    def allowed(self, offered: Sequence[str]) -> list[str]:
        """The offered tools callable now (never empty if something is offered: a rule naming only absent
        tools must not leave the model without a way to answer)."""
        if self.last_tool is None and self.init:
            subset = [t for t in offered if t in self.init]
        elif self.last_tool in self.children:
            subset = [t for t in offered if t in self.children[self.last_tool]]
        else:
            subset = list(offered)
        return subset or list(offered)

    def record(self, tool: str) -> None:
        self.last_tool = tool

    def continues_after(self, tool: str, heartbeat: bool, failed: bool) -> bool:
        """Whether the chain goes on after `tool` ran (Letta's heartbeat rules)."""
        if tool in self.ends_turn and not failed:
            return False
        if tool in self.children:
            return True
        if tool in self.terminal:
            return False
        if tool in self.continue_:
            return True
        return heartbeat or failed
