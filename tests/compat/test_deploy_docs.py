"""The README's deploy steps run as written, up to the point that needs an AWS account.

Given the local server in `apikey` mode (the deployed authentication: the real authorizer handler in front of every
route, the stream app checking keys itself), the admin and smoke commands of README "Deploying to AWS" are run
exactly as the README writes them, their placeholders filled from the previous commands' output, against the local
server's table (moto) instead of the stack's.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.compat

ROOT = Path(__file__).resolve().parents[2]


def deploy_block() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploying to AWS", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "README 'Deploying to AWS' has no bash block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_deploy_block_names_python313_and_the_tools_make_installs():
    # Given the README's deploy section and its commands
    section = (ROOT / "README.md").read_text().split("## Deploying to AWS", 1)[1].split("\n## ", 1)[0]
    lines = deploy_block()
    # Then it says sam build needs python3.13, and builds and deploys with the SAM CLI that `make sam` installs
    assert "python3.13 on `PATH`" in section
    assert lines[0] == "make venv sam"
    assert ".venv-sam/bin/sam build" in lines and ".venv-sam/bin/sam deploy --guided" in lines
    assert subprocess.run(["make", "-n", "venv", "sam"], cwd=ROOT, capture_output=True).returncode == 0
    # And every python command it shows is a script of this repository run by the project venv
    scripts = [line for line in lines if "scripts/" in line]
    assert scripts
    for line in scripts:
        assert line.startswith(".venv/bin/python scripts/") and (ROOT / line.split()[1]).is_file(), line


def test_the_admin_and_smoke_commands_run_as_written(start_local_server):
    # The server's log names its moto endpoint; local_server writes it only where .pytest_cache exists (a fresh
    # clone's first run has none yet).
    (ROOT / ".pytest_cache").mkdir(exist_ok=True)
    with start_local_server({"AUTH_MODE": "apikey"}, log_name="deploy-docs-server.log") as url:
        log = (ROOT / ".pytest_cache" / "deploy-docs-server.log").read_text()
        moto = re.search(r"moto at (http://127\.0\.0\.1:\d+)", log)
        assert moto, log[-2000:]
        # the stack's table and region, as the README's export line sets them (here: the local server's)
        env = {
            **os.environ,
            "TABLE_NAME": "letta-groups",
            "AWS_REGION": "us-east-1",
            "DYNAMODB_ENDPOINT_URL": moto.group(1),
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
        values = {"<ApiUrl>": url, "<StreamUrl>": url}
        ran = []
        for line in deploy_block():
            if not line.startswith(".venv/bin/python scripts/"):
                continue
            command = line
            for placeholder, value in values.items():
                command = command.replace(placeholder, value)
            assert "<" not in command, f"unfilled placeholder in {command!r}"
            # When each command runs as written
            result = subprocess.run(shlex.split(command), cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
            # Then it succeeds, and its output fills the next command's placeholder
            assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
            ran.append(" ".join(line.split()[1:3]))
            if "create-org" in line:
                values["<org-id>"] = json.loads(result.stdout)["id"]
            elif "create-user" in line:
                values["<user-id>"] = json.loads(result.stdout)["id"]
            elif "create-key" in line:
                values["<key>"] = result.stdout.strip()
            elif "smoke.py" in line:
                assert result.stdout.strip().endswith("smoke test passed"), result.stdout
        assert ran == [
            "scripts/admin.py create-org",
            "scripts/admin.py create-user",
            "scripts/admin.py create-key",
            "scripts/smoke.py --base-url",
        ]
        # And the key is what the deployment's authentication expects: refused without it
        import httpx

        assert httpx.get(f"{url}/v1/groups/", timeout=10).status_code == 401
        assert (
            httpx.get(f"{url}/v1/groups/", headers={"Authorization": f"Bearer {values['<key>']}"}, timeout=10).status_code == 200
        )
