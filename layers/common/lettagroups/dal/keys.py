"""Single-table key schema. Every key starts with the organization, so tenancy lives in the keys.

| Entity            | PK                       | SK                     | GSI1PK / GSI1SK                    | GSI2PK / GSI2SK                 |
|-------------------|--------------------------|------------------------|------------------------------------|---------------------------------|
| group             | ORG#o                    | GROUP#<group_id>       | ORG#o#MT#<manager_type> / GROUP#id | ORG#o#PRJ#<project> / GROUP#id  |
| group counter     | ORG#o                    | COUNT#GROUPS           |                                    |                                 |
| agent             | ORG#o                    | AGENT#<agent_id>       |                                    |                                 |
| agent membership  | ORG#o#AGENT#<agent_id>   | MEMBER#<group_id>      |                                    |                                 |
| block             | ORG#o                    | BLOCK#<block_id>       |                                    |                                 |
| block attachment  | ORG#o#BLOCK#<block_id>   | AGENT#<agent_id>       |                                    |                                 |
| organization      | ORG#o                    | ORG                    |                                    |                                 |
| user              | ORG#o                    | USER#<user_id>         |                                    |                                 |
| user lookup       | USER#<user_id>           | USER                   |                                    |                                 |
| api key           | APIKEY#<sha256>          | APIKEY                 |                                    |                                 |
| api key listing   | ORG#o                    | APIKEY#<key_id>        |                                    |                                 |
| message           | ORG#o#CONV#<conv_id>     | MSG#<message_id>       |                                    |                                 |
| run               | ORG#o#RUN#<run_id>       | META                   | ORG#o#CONV#<conv_id> / RUN#<id>    | ORG#o#USERRUNS#<user> / RUN#id  |
| run start state   | ORG#o#RUN#<run_id>       | START                  |                                    |                                 |
| run step record   | ORG#o#RUN#<run_id>       | STEP#<key>             |                                    |                                 |
| run event batch   | ORG#o#RUN#<run_id>       | EVT#<first seq:010d>   |                                    |                                 |
| conversation head | ORG#o                    | LOCK#<conv_id>         |                                    |                                 |

Access patterns: see docs in README ("Data model"). Ids are UUIDv7, so `SK` order is creation order.
The block attachment is the back-reference of an agent's `block_ids` (the agent item is the source of truth):
"the agents holding block b" is one Query of `ORG#o#BLOCK#b`, in agent creation order, with id cursors as key
conditions (dal/attachments.py).
"""

from __future__ import annotations

GROUP = "GROUP#"
AGENT = "AGENT#"
BLOCK = "BLOCK#"
MSG = "MSG#"
MEMBER = "MEMBER#"
EVT = "EVT#"
STEP = "STEP#"
COUNT_GROUPS = "COUNT#GROUPS"


def org_pk(org_id: str) -> str:
    return f"ORG#{org_id}"


def group_sk(group_id: str) -> str:
    return f"{GROUP}{group_id}"


def group_mt_pk(org_id: str, manager_type: str) -> str:
    return f"ORG#{org_id}#MT#{manager_type}"


def group_project_pk(org_id: str, project_id: str) -> str:
    return f"ORG#{org_id}#PRJ#{project_id}"


def agent_sk(agent_id: str) -> str:
    return f"{AGENT}{agent_id}"


def membership_pk(org_id: str, agent_id: str) -> str:
    return f"ORG#{org_id}#AGENT#{agent_id}"


def membership_sk(group_id: str) -> str:
    return f"{MEMBER}{group_id}"


def block_sk(block_id: str) -> str:
    return f"{BLOCK}{block_id}"


def attachment_pk(org_id: str, block_id: str) -> str:
    return f"ORG#{org_id}#BLOCK#{block_id}"


def attachment_sk(agent_id: str) -> str:
    return f"{AGENT}{agent_id}"


def user_sk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_lookup_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def api_key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


API_KEY_LISTING = "APIKEY#"


def api_key_listing_sk(key_id: str) -> str:
    return f"{API_KEY_LISTING}{key_id}"


def conversation_pk(org_id: str, conversation_id: str) -> str:
    return f"ORG#{org_id}#CONV#{conversation_id}"


def message_sk(message_id: str) -> str:
    return f"{MSG}{message_id}"


def run_pk(org_id: str, run_id: str) -> str:
    return f"ORG#{org_id}#RUN#{run_id}"


def user_runs_pk(org_id: str, user_id: str) -> str:
    return f"ORG#{org_id}#USERRUNS#{user_id}"


def event_sk(seq: int) -> str:
    return f"{EVT}{seq:010d}"


def lock_sk(conversation_id: str) -> str:
    """A conversation's head: its run lock and its last run (a group's id, or an agent's for its own conversation)."""
    return f"LOCK#{conversation_id}"
