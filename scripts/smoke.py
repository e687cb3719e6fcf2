#!/usr/bin/env python3
"""Post-deploy smoke test with letta-client: groups CRUD, a send and a stream, then clean-up.

    .venv/bin/python scripts/smoke.py --base-url <ApiUrl or DistributionUrl> --token <API key> \\
        [--stream-url <StreamUrl>] [--model <provider/model handle>]

Against a deployment without CloudFront, the stream goes to the function URL (`--stream-url`, the StreamUrl
output); with CloudFront, one base URL serves both. Agents use the built-in offline model unless `--model`
names one (e.g. `openai/gpt-4o-mini`, which needs the stack's OpenAIApiKeySecretArn). Every object it creates
is deleted at the end, also on failure. The test suite runs it against the local server (tests/compat).
Exit status 0 when every step passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any


def main(argv: list[str] | None = None) -> int:
    from letta_client import CreateBlock, Letta, MessageCreate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", default=None, help="API key (scripts/admin.py create-key); omit for open mode")
    parser.add_argument("--stream-url", default=None, help="base URL of the stream endpoint (default: --base-url)")
    parser.add_argument("--model", default=None, help="the agents' model handle (default: the built-in offline model)")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)

    api = Letta(base_url=args.base_url.rstrip("/"), token=args.token, timeout=args.timeout)
    streams = Letta(base_url=(args.stream_url or args.base_url).rstrip("/"), token=args.token, timeout=args.timeout)
    tag = f"smoke-{uuid.uuid4().hex[:8]}"
    created: dict[str, list[str]] = {"groups": [], "agents": []}
    failures = 0

    def step(name: str, check: Callable[[], Any]) -> Any:
        nonlocal failures
        started = time.monotonic()
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, then the run ends
            failures += 1
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
            raise
        print(f"ok   {name} ({(time.monotonic() - started) * 1000:.0f} ms)", flush=True)
        return result

    def agent(name: str) -> Any:
        extra = {"model": args.model} if args.model else {}
        made = api.agents.create(
            name=f"{tag}-{name}", memory_blocks=[CreateBlock(label="persona", value=f"I am {name}.")], tags=[tag], **extra
        )
        created["agents"].append(made.id)
        return made

    def expect(condition: bool, message: str) -> None:
        if not condition:
            raise AssertionError(message)

    try:
        step("health", lambda: expect(api.health.check().status == "ok", "health is not ok"))
        fred, velma = step("create two agents", lambda: (agent("fred"), agent("velma")))

        def create_group() -> Any:
            group = api.groups.create(agent_ids=[fred.id, velma.id], description=f"{tag} round robin")
            created["groups"].append(group.id)
            expect(group.manager_type == "round_robin" and group.agent_ids == [fred.id, velma.id], f"unexpected {group}")
            return group

        group = step("create group", create_group)
        step("retrieve group", lambda: expect(api.groups.retrieve(group.id).id == group.id, "retrieved another group"))
        step("list groups", lambda: expect(group.id in [g.id for g in api.groups.list()], "the group is not listed"))
        step("count groups", lambda: expect(api.groups.count() >= 1, "count is 0"))
        step(
            "modify group",
            lambda: expect(
                api.groups.modify(group.id, description=f"{tag} renamed").description == f"{tag} renamed", "not modified"
            ),
        )

        def send() -> None:
            reply = api.groups.messages.create(group.id, messages=[MessageCreate(role="user", content="Hello, both!")])
            speakers = [m.name for m in reply.messages if m.message_type == "assistant_message"]
            expect(len(speakers) == 2, f"expected two replies, got {speakers}")

        step("send (sync)", send)

        def stream() -> None:
            chunks = list(
                streams.groups.messages.create_stream(group.id, messages=[MessageCreate(role="user", content="And now?")])
            )
            kinds = [getattr(c, "message_type", None) for c in chunks]
            errors = [getattr(c, "error", None) for c in chunks if getattr(c, "error", None)]
            expect(not errors, f"the stream ended with an error: {errors}")
            expect(kinds.count("assistant_message") == 2 and kinds[-1] == "usage_statistics", f"unexpected stream {kinds}")

        step("send (stream)", stream)
        step(
            "transcript",
            lambda: expect(len(api.groups.messages.list(group.id, limit=100)) >= 6, "the transcript lacks the exchanges"),
        )
    except Exception:  # noqa: BLE001 - already reported by step()
        pass
    finally:
        for group_id in created["groups"]:
            try:
                api.groups.delete(group_id)
            except Exception as exc:  # noqa: BLE001
                failures += 1
                print(f"FAIL delete group {group_id}: {exc}")
        for agent_id in created["agents"]:
            try:
                api.agents.delete(agent_id)
            except Exception as exc:  # noqa: BLE001
                failures += 1
                print(f"FAIL delete agent {agent_id}: {exc}")
        if created["groups"] or created["agents"]:
            print(f"ok   clean-up ({len(created['groups'])} group, {len(created['agents'])} agents deleted)")
    print("smoke test passed" if failures == 0 else f"smoke test FAILED ({failures} failures)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
