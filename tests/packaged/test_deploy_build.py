"""The arm64 build that is deployed: `sam build` of template.yaml as written, checked for what this machine cannot
import (its compiled wheels are aarch64) but can read: the same modules as the host build the other packaged
tests import, aarch64 binaries, and bytecode Python will trust without its sources' timestamps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lettagroups_local import artifacts
from lettagroups_local.artifacts import Built


@pytest.fixture(scope="module")
def deployed(python313: str) -> Built:
    return artifacts.build("arm64")


def modules(root: Path) -> set[str]:
    """Every importable module file under root (sources and extension modules, by dotted path without ABI tags)."""
    found = set()
    for path in root.rglob("*"):
        if "__pycache__" in path.parts or "dist-info" in str(path) or path.is_dir():
            continue
        if path.suffix == ".py" or path.suffix == ".so":
            found.add(str(path.relative_to(root).with_name(path.name.split(".")[0])))
    return found


def test_the_deployed_build_is_the_template_as_written(python313: str):
    # Given the template the arm64 build uses
    # Then it is template.yaml unchanged (the README's `sam build`), arm64 everywhere
    assert artifacts.template_for("arm64") == artifacts.parse_template(artifacts.TEMPLATE)
    assert artifacts.parse_template(artifacts.TEMPLATE)["Globals"]["Function"]["Architectures"] == ["arm64"]


def test_the_deployed_build_holds_the_same_modules_as_the_tested_one(deployed: Built, built: Built):
    # Given the arm64 build and the host build that the packaged tests import
    arm, host = deployed.functions(), built.functions()
    assert sorted(arm) == sorted(host)
    # Then every function and its layer hold the same modules
    for name in arm:
        assert modules(arm[name].code_dir) == modules(host[name].code_dir), name
    assert modules(arm[name].layers[0]) == modules(host[name].layers[0])
    # And the compiled wheels are aarch64 ones (Lambda's arm64), none built for this machine
    shared = deployed.functions()[name].layers[0]
    binaries = sorted(p.name for p in shared.rglob("*.so"))
    assert binaries and all("aarch64" in b or "abi3" in b for b in binaries if "cpython" in b), binaries
    assert not any("x86_64" in b for b in binaries), binaries


def test_the_deployed_build_ships_bytecode_python_uses_without_checking_sources(deployed: Built):
    # Given every Python source of the shared layer and of the Makefile-built function
    shared = next(iter(deployed.functions().values())).layers[0]
    stream = next(f for f in deployed.functions().values() if f.handler.endswith(".sh"))
    for root in (shared, stream.code_dir):
        sources = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
        assert sources
        for source in sources:
            # Then each has its cpython-313 pyc, hash-based and unchecked (flags 0b01: hash, no check_source)
            cached = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
            assert cached.is_file(), f"no bytecode for {source}"
            flags = int.from_bytes(cached.read_bytes()[4:8], "little")
            assert flags == 0b01, f"{cached} is not an unchecked hash-based pyc (flags {flags:#b})"
