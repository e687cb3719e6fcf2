"""The state a run's execution carries from task to task (`$.run` in statemachines/group-run.asl.json).

Ids, the roster the run started with, counters and small settings only: every message lives in DynamoDB. The
send writes it once; each task reads it, does one turn, and returns it with the counters moved on, so a task never
re-reads the group or the run record to know where the run stands.
"""

from __future__ import annotations

import os
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..models.records import RequestConfig, Usage

MAX_TURNS_CAP = int(os.environ.get("MAX_TURNS_CAP", "50"))
ALONE = "agent"  # the `manager_type` of a run of one agent messaged directly
SWARM_DEFAULT_MAX_TURNS = 10  # a swarm's agent turns per request when the group sets none (handoffs included)

# What the state machine does after a task: another turn, the supervisor's workers, stop, or go on in a new
# execution (an Express execution ends after 5 minutes; see `turns.CONTINUE_AFTER_SECONDS`).
Next = Literal["turn", "workers", "done", "continue"]


class BackgroundPass(BaseModel):
    """A sleeptime agent's pass over the conversation, started by the run that triggered it (contract §8.4/§8.5)."""

    model_config = ConfigDict(defer_build=True)

    agent_id: str
    mode: Literal["sleeptime", "voice"]
    main_agent_id: Optional[str] = None
    parent_run_id: str
    prev: Optional[str] = None  # the last message already processed (sleeptime) or the old context cut (voice)
    first_id: Optional[str] = None  # sleeptime: the parent run's first message
    frequency_set: bool = True
    evicted_until: Optional[str] = None  # voice: the new context cut
    last_id: Optional[str] = None  # voice: the last message in the voice agent's context


class RunState(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    kind: Literal["group", "background"] = "group"
    org_id: str
    user_id: str
    run_id: str
    conversation_id: str
    group_id: Optional[str] = None
    manager_type: str = "round_robin"
    agent_ids: list[str] = Field(default_factory=list)  # the roster as the run started
    manager_agent_id: Optional[str] = None
    member_since: dict[str, str] = Field(default_factory=dict)  # participant -> first message it may see (§7.2, O-9)
    max_turns: int = 1
    termination_token: Optional[str] = None
    active_agent_id: Optional[str] = None  # swarm: who speaks this turn (handoffs move it)
    description: str = ""  # the group's description, for the participants' instructions (§7.4)
    agent_names: dict[str, str] = Field(default_factory=dict)  # participant and manager names
    input_ids: list[str] = Field(default_factory=list)  # the run's input messages
    context_after: Optional[str] = None  # voice_sleeptime: the voice agent's context starts after this message
    callback_url: Optional[str] = None
    metadata: dict[str, Any] = Field(default_factory=dict)  # what the run's record names (group_id, agent_id)
    attempt: int = 1  # a failed run resumed by a client's retry runs again as attempt 2, 3, ...
    config: RequestConfig = Field(default_factory=RequestConfig)
    turn: int = 0
    prev: Optional[int] = None  # dynamic: index of the previous speaker
    worker_ids: list[str] = Field(default_factory=list)  # supervisor: who the broadcast went to
    next: Next = "turn"
    stop_reason: Optional[str] = None
    seq: int = 0  # the last event sequence number this run has written
    usage: Usage = Field(default_factory=Usage)
    response_ids: list[str] = Field(default_factory=list)  # the messages a synchronous send answers with
    run_ids: Optional[list[str]] = None  # background runs started (sleeptime usage)
    status: Optional[Literal["completed", "failed"]] = None
    background: Optional[BackgroundPass] = None  # kind == "background"

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
