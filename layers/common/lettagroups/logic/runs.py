"""Runs: the record of one send (status, usage, stop reason) and its messages (contract §12a)."""

from __future__ import annotations

from typing import Optional

from ..dal import messages as messages_dal
from ..dal import runs as runs_dal
from ..errors import NotFoundError
from ..models import presentation
from ..models.groups import ListOrder
from ..models.identity import Actor
from ..models.messages import LettaMessageBase
from ..models.records import RunRecord
from ..models.runs import Run, RunUsage
from . import paging


def load_run(actor: Actor, run_id: str) -> RunRecord:
    record = runs_dal.get_run(actor.organization_id, run_id)
    if record is None:
        raise NotFoundError(f"Run not found with id={run_id}")
    return record


ACTIVE = ("created", "running")


def list_runs(
    actor: Actor,
    agent_ids: Optional[list[str]] = None,
    *,
    active_only: bool = False,
    statuses: Optional[list[str]] = None,
    after: Optional[str] = None,
    before: Optional[str] = None,
    limit: Optional[int] = None,
    order: ListOrder = "asc",
) -> list[Run]:
    """The user's runs, oldest first (Letta 0.7.7); with `agent_ids`, those whose metadata names one of those agents
    (a send to one of them, or a background pass of one); with `active_only`, those still created or running; then
    a page by run-id cursors in `order` (later Letta's parameters, which letta-client 1.x pages with)."""
    runs = runs_dal.list_user_runs(actor.organization_id, actor.user_id)
    if agent_ids:
        wanted = set(agent_ids)
        runs = [r for r in runs if r.metadata.get("agent_id") in wanted]
    if active_only:
        runs = [r for r in runs if r.status in ACTIVE]
    if statuses:
        runs = [r for r in runs if r.status in statuses]
    chosen = paging.window(runs, [r.id for r in runs], after=after, before=before, limit=limit, order=order, what="run")
    return [r.to_run() for r in chosen]


def retrieve_run(actor: Actor, run_id: str) -> Run:
    return load_run(actor, run_id).to_run()


def retrieve_run_usage(actor: Actor, run_id: str) -> RunUsage:
    usage = load_run(actor, run_id).usage or {}
    return RunUsage(
        completion_tokens=int(usage.get("completion_tokens", 0)),
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        total_tokens=int(usage.get("total_tokens", 0)),
    )


def list_run_messages(
    actor: Actor,
    run_id: str,
    *,
    before: Optional[str] = None,
    after: Optional[str] = None,
    limit: int = 100,
    order: str = "asc",
    role: Optional[str] = None,
) -> list[LettaMessageBase]:
    """The messages the sync send would have returned for this run, in order (contract §12a).

    The cursors are relative to the order, as on later Letta (with `desc`, `after=X` pages towards older messages),
    and `limit` counts the stored messages that show: a hidden one (a `send_message` return, a type the send did not
    ask for) neither counts nor ends a page early, so letta-client 1.x's auto-pagination (`after=<last item>`, until
    a page comes back empty) reads every message once, in either order."""
    run = load_run(actor, run_id)
    newest_first = order == "desc"
    ids = sorted(run.response_message_ids)
    if after:
        ids = [i for i in ids if (i < after if newest_first else i > after)]
    if before:
        ids = [i for i in ids if (i > before if newest_first else i < before)]
    stored = messages_dal.get_messages(actor.organization_id, run.conversation_id, ids)
    if role:
        stored = [m for m in stored if m.role == role]
    stored.sort(key=lambda m: m.id, reverse=newest_first)
    config = run.request_config.model_dump()
    page: list[LettaMessageBase] = []
    shown = 0
    for message in stored:  # a run's own replies: a handful of messages, already read
        if shown >= limit:
            break
        parts = presentation.present_all([message], config, live=True)
        if parts:
            page.extend(parts)
            shown += 1
    return page
