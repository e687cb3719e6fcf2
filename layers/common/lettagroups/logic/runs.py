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
    a page by run-id cursors in `order` (later Letta's parameters, which letta-client 1.x pages with), as
    `paging.window` would cut it from the whole list. The user's runs index is read from the page's anchor only as
    far as the page needs (run ids are UUIDv7: id order is time order)."""
    wanted = set(agent_ids or ())

    def listed(run: RunRecord) -> bool:
        return (
            (not wanted or run.metadata.get("agent_id") in wanted)
            and (not active_only or run.status in ACTIVE)
            and (not statuses or run.status in statuses)
        )

    for cursor in (after, before):
        if cursor:
            run = runs_dal.get_run(actor.organization_id, cursor)
            if run is None or run.created_by_id != actor.user_id or not listed(run):
                raise NotFoundError(f"No run found with id '{cursor}'")
    paging.check_window(after, before, order)
    newest_first = order == "desc"
    if limit == 0:
        return []
    # `before` alone with a limit: the page is the runs nearest to it, so read from it backwards.
    from_before = bool(before and not after and limit)
    older, newer = (before, after) if newest_first else (after, before)
    filtered = bool(wanted or active_only or statuses)
    page_size = 100 if filtered or limit is None else min(limit + 1, 100)
    chosen: list[RunRecord] = []
    for run in runs_dal.iter_user_runs(
        actor.organization_id,
        actor.user_id,
        after=older,
        before=newer,
        descending=newest_first != from_before,
        page_size=page_size,
    ):
        if listed(run):
            chosen.append(run)
            if limit is not None and len(chosen) >= limit:
                break
    if from_before:
        chosen.reverse()
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
    config = run.request_config
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
