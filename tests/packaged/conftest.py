"""Fixtures of the packaged-artifact tests: the application as `sam build` makes it (lettagroups_local/artifacts.py).

The build runs once per session and is cached across sessions under .aws-sam/packaged/, keyed by a hash of
its inputs. It is the host-architecture variant of template.yaml (arm64 wheels cannot be imported on an
x86_64 machine); test_deploy_build.py checks the arm64 build that is deployed. The tests skip only when no
python3.13 exists on the machine: sam build and the Lambda runtime emulation both need it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lettagroups_local import artifacts
from lettagroups_local.artifacts import Built, BuiltFunction


@pytest.fixture(scope="session")
def python313() -> str:
    python = artifacts.python313()
    if python is None:
        pytest.skip("python3.13 is not installed (sam build and the Lambda runtime emulation need it)")
    return python


@pytest.fixture(scope="session")
def built(python313: str) -> Built:
    return artifacts.build("host")


@pytest.fixture(scope="session")
def built_functions(built: Built) -> dict[str, BuiltFunction]:
    return built.functions()


@pytest.fixture(scope="session")
def lambda_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lambda-logs")
