"""The response models serialise in the contract's wire order."""

from __future__ import annotations

from lettagroups.models.groups import Group

from support.shapes import GROUP_KEYS


def test_group_fields_are_the_contracts_in_wire_order():
    # Given the Group model, when a minimal group is serialised
    body = Group(id="group-1", manager_type="round_robin", agent_ids=[], description="").model_dump(mode="json")
    # Then its keys are exactly the contract's, in its order (§2.5)
    assert list(body) == GROUP_KEYS
