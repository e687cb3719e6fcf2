"""Wire shapes written down from the contract, as the tests' oracle (never derived from the code).

Importable from every test folder: pytest puts this directory on sys.path for tests/conftest.py.
"""

# `Group` keys in wire order (contract §2.5 and §3.2; `project_id` is the O-2 addition; `hidden`, later Letta's
# field, is appended after them, then swarm-handoffs.md's `initial_agent_id` and `active_agent_id`).
GROUP_KEYS = [
    "id",
    "manager_type",
    "agent_ids",
    "description",
    "shared_block_ids",
    "manager_agent_id",
    "termination_token",
    "max_turns",
    "sleeptime_agent_frequency",
    "turns_counter",
    "last_processed_message_id",
    "max_message_buffer_length",
    "min_message_buffer_length",
    "project_id",
    "hidden",
    "initial_agent_id",
    "active_agent_id",
]
