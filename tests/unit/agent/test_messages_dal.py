"""The message store: one-transaction steps, idempotency records, cursors, edits, reset, run index."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lettagroups.dal import agents as agents_dal
from lettagroups.dal import messages as messages_dal
from lettagroups.dal import runs as runs_dal
from lettagroups.ids import new_id
from lettagroups.models.records import StepRecord, Usage
from lettagroups.models.stored import StoredMessage


def message(actor: Any, conv: str, text: str = "hi", **fields: Any) -> StoredMessage:
    data: dict[str, Any] = {
        "id": new_id("message"),
        "organization_id": actor.organization_id,
        "conversation_id": conv,
        "group_id": conv,
        "role": "user",
        "content": [{"type": "text", "text": text}],
        "created_at": datetime.now(UTC),
    }
    data.update(fields)
    return StoredMessage(**data)


def seed(actor: Any, conv: str, n: int) -> list[StoredMessage]:
    messages = [message(actor, conv, f"m{i}") for i in range(n)]
    for chunk in range(0, n, 50):
        messages_dal.put_messages(actor.organization_id, conv, messages[chunk : chunk + 50])
    return messages


def test_a_step_and_its_record_are_written_together_and_only_once(actor):
    # Given a step of three messages with an idempotency record
    conv, run = new_id("group"), new_id("run")
    step = [message(actor, conv, f"s{i}", run_id=run) for i in range(3)]
    record = StepRecord(
        step_key="t001", agent_id="agent-x", conversation_id=conv, message_ids=[m.id for m in step], usage=Usage(total_tokens=7)
    )
    # When it is written
    messages_dal.put_step(actor.organization_id, conv, step, record, run_id=run)
    # Then the messages and the record are there
    assert [m.id for m in messages_dal.list_messages(actor.organization_id, conv)] == [m.id for m in step]
    assert runs_dal.get_step_records(actor.organization_id, run, ["t001"])["t001"].usage.total_tokens == 7
    # When a retry writes the same step key with new messages
    retry = [message(actor, conv, "again", run_id=run)]
    with pytest.raises(messages_dal.StepAlreadyRecorded):
        messages_dal.put_step(actor.organization_id, conv, retry, record, run_id=run)
    # Then nothing of the retry was written
    assert len(messages_dal.list_messages(actor.organization_id, conv)) == 3


def test_a_stale_block_version_cancels_the_whole_step(actor):
    # Given a block at version 0, changed by someone else to version 1
    from lettagroups.logic.blocks import create_block
    from lettagroups.models.blocks import CreateBlock

    block = create_block(actor, CreateBlock(label="human", value="v0"))
    stored = agents_dal.get_block(actor.organization_id, block.id)
    assert stored is not None
    agents_dal.replace_block(actor.organization_id, stored.model_copy(update={"value": "other"}), 0)
    conv, run = new_id("group"), new_id("run")
    # When a step that read version 0 commits its edit with its messages
    with pytest.raises(messages_dal.BlockVersionConflict) as conflict:
        messages_dal.put_step(
            actor.organization_id,
            conv,
            [message(actor, conv, run_id=run)],
            StepRecord(step_key="k", agent_id="agent-x", conversation_id=conv),
            run_id=run,
            block_updates=[(stored.model_copy(update={"value": "mine"}), 0)],
        )
    # Then the conflict names the block, and neither the messages, the record nor the edit were written
    assert conflict.value.block_ids == [block.id]
    assert messages_dal.list_messages(actor.organization_id, conv) == []
    assert runs_dal.get_step_records(actor.organization_id, run, ["k"]) == {}
    assert agents_dal.get_block(actor.organization_id, block.id).value == "other"  # type: ignore[union-attr]


def test_oversized_steps_are_refused_before_writing(actor):
    # Given more than 100 items for one transaction
    conv = new_id("group")
    too_many = [message(actor, conv) for _ in range(101)]
    # Then the step is refused as a whole (never chunked)
    from lettagroups.errors import PayloadTooLargeError

    with pytest.raises(PayloadTooLargeError):
        messages_dal.put_step(actor.organization_id, conv, too_many)
    assert messages_dal.list_messages(actor.organization_id, conv) == []


def test_huge_tool_returns_are_truncated_with_a_marker(actor):
    # Given a tool message far above the item limit
    conv = new_id("group")
    huge = "z" * 500_000
    tool = message(
        actor, conv, huge, role="tool", tool_returns=[{"status": "success", "raw": huge}], tool_call_id="call_1", name="t"
    )
    # When it is stored
    messages_dal.put_messages(actor.organization_id, conv, [tool])
    # Then it fits, and says it was truncated
    back = messages_dal.get_message(actor.organization_id, conv, tool.id)
    assert back is not None
    assert "truncated" in back.text() and len(back.text()) < 400_000
    assert "truncated" in back.tool_returns[0]["raw"]  # type: ignore[index]


def test_cursors_page_in_both_directions_without_skipping(actor):
    # Given 30 messages (read in pages smaller than the set)
    conv = new_id("group")
    ids = [m.id for m in seed(actor, conv, 30)]
    org = actor.organization_id
    # Then ascending after a cursor gives the oldest ones after it
    assert [m.id for m in messages_dal.list_messages(org, conv, after=ids[4], limit=5)] == ids[5:10]
    # And descending before a cursor gives the newest ones before it, newest first
    assert [m.id for m in messages_dal.list_messages(org, conv, before=ids[20], limit=5, descending=True)] == ids[15:20][::-1]
    # And both cursors bound the window exclusively
    assert [m.id for m in messages_dal.list_messages(org, conv, after=ids[3], before=ids[8])] == ids[4:8]
    # And no limit returns everything, following pages
    assert [m.id for m in messages_dal.iter_messages(org, conv, page_size=7)] == ids
    assert messages_dal.list_messages(org, conv, limit=0) == []
    assert [m.id for m in messages_dal.list_messages(org, conv, limit=3, descending=True)] == ids[-3:][::-1]


def test_update_requires_an_existing_message(actor):
    # Given a stored message
    conv = new_id("group")
    (stored,) = seed(actor, conv, 1)
    # When its content is replaced
    updated = messages_dal.update_message(actor.organization_id, conv, stored.id, content=[{"type": "text", "text": "edited"}])
    # Then the change is stored
    assert updated is not None and updated.text() == "edited"
    assert messages_dal.get_message(actor.organization_id, conv, stored.id).text() == "edited"  # type: ignore[union-attr]
    # And an edited StoredMessage can be written back whole
    stored.content = [{"type": "text", "text": "again"}]
    assert messages_dal.update_message(actor.organization_id, conv, stored).text() == "again"  # type: ignore[union-attr]
    # And a missing message is not created
    assert messages_dal.update_message(actor.organization_id, conv, new_id("message"), content=[]) is None
    assert len(messages_dal.list_messages(actor.organization_id, conv)) == 1


def test_reset_deletes_every_message_of_the_conversation_only(actor):
    # Given 60 messages in one conversation and 2 in another
    conv, other = new_id("group"), new_id("group")
    seed(actor, conv, 60)
    seed(actor, other, 2)
    # When the first is reset
    deleted = messages_dal.delete_conversation_messages(actor.organization_id, conv)
    # Then it is empty and the other is untouched
    assert deleted == 60
    assert messages_dal.list_messages(actor.organization_id, conv) == []
    assert len(messages_dal.list_messages(actor.organization_id, other)) == 2


def test_messages_of_a_run_are_read_from_its_conversation(actor):
    # Given messages of two runs in one conversation
    conv, run_a, run_b = new_id("group"), new_id("run"), new_id("run")
    a = [message(actor, conv, "a", run_id=run_a) for _ in range(3)]
    b = [message(actor, conv, "b", run_id=run_b)]
    messages_dal.put_messages(actor.organization_id, conv, a + b)
    # Then each run lists only its own, chronologically
    assert [m.id for m in messages_dal.run_messages(actor.organization_id, conv, run_a)] == [m.id for m in a]
    assert [m.id for m in messages_dal.run_messages(actor.organization_id, conv, run_b)] == [b[0].id]
    # And no message pays for an index entry
    assert not any(k.startswith("GSI") for k in messages_dal.message_item(actor.organization_id, a[0]))


def test_messages_keep_every_logical_field(actor):
    # Given a message with every field set
    conv = new_id("group")
    original = message(
        actor,
        conv,
        role="assistant",
        agent_id="agent-1",
        name="fred",
        model="m",
        tool_calls=[{"id": "call_1", "type": "function", "function": {"name": "send_message", "arguments": '{"message": "x"}'}}],
        step_id="step-1",
        run_id="run-1",
        otid="o",
        sender_id="s",
        batch_item_id="b",
        recipient_id="agent-2",
        shared=True,
    )
    messages_dal.put_messages(actor.organization_id, conv, [original])
    # Then it reads back identical
    assert messages_dal.get_message(actor.organization_id, conv, original.id) == original
    assert messages_dal.get_messages(actor.organization_id, conv, [original.id, new_id("message")]) == [original]
