"""The tests' own layout (issue #11): what tests share lives in tests/support/ and is imported as `support.<module>`;
no test module imports another test module, a conftest.py, or a helper module lying loose in a test folder.

pytest imports test modules by their bare names (rootdir-relative "prepend" mode, no `__init__.py` in test folders),
so any .py file in any test folder could be imported by its name from anywhere: only the parse below keeps them apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
SUPPORT = TESTS / "support"
SDK_SCRIPTS = TESTS / "compat" / "sdk_scripts"  # run as subprocesses, standalone: they import no test code


def python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def local_names(files: list[Path]) -> set[str]:
    """Every top-level name a file under tests/ can be imported by: module stems and the `support` package."""
    return {p.stem for p in files if p.stem != "__init__"} | {SUPPORT.name}


def forbidden_imports(source: str, local: set[str]) -> list[tuple[int, str]]:
    """(line, module) of every import, at any depth, of a test module, a conftest.py, or a local module other
    than `support`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue  # relative imports: only inside the support package
        for module in modules:
            top = module.split(".")[0]
            if top.startswith("test_") or top == "conftest" or (top in local and top != SUPPORT.name):
                found.append((node.lineno, module))
    return found


def test_the_check_finds_what_it_forbids():
    # Given imports of a test module, a conftest, a loose helper module and the support package
    source = (
        "from test_handlers_with_events import invoke\n"
        "import conftest\n"
        "def later():\n"
        "    from workflow_builders import said\n"
        "from support.builders import make_agent\n"
        "import json\n"
    )
    # When the source is checked
    found = forbidden_imports(source, {"test_handlers_with_events", "conftest", "workflow_builders", "support"})
    # Then the first three are reported, with their lines, and `support` and the standard library are not
    assert found == [(1, "test_handlers_with_events"), (2, "conftest"), (4, "workflow_builders")]


def test_shared_helpers_live_in_the_support_package():
    # Given every Python file under tests/
    files = python_files()
    # When each is placed: a test module, a conftest.py, a module of tests/support/, or an SDK script
    loose = [
        str(p.relative_to(TESTS))
        for p in files
        if not (p.name.startswith("test_") or p.name == "conftest.py" or SUPPORT in p.parents or SDK_SCRIPTS in p.parents)
    ]
    # Then none is a helper module lying loose in a test folder
    assert loose == [], f"move these into tests/support/: {loose}"
    assert (SUPPORT / "__init__.py").is_file()


def test_no_module_imports_a_test_module_or_a_helper_outside_support():
    # Given every Python file under tests/ (test modules, conftest.py files, support modules, SDK scripts)
    files = python_files()
    local = local_names(files)
    # When their imports are parsed
    found = [
        f"{p.relative_to(TESTS)}:{line}: {module}"
        for p in files
        for line, module in forbidden_imports(p.read_text(encoding="utf-8"), local)
    ]
    # Then none imports a test module, a conftest.py, or a local module other than `support`
    assert found == [], "import shared helpers from tests/support/ instead:\n" + "\n".join(found)
