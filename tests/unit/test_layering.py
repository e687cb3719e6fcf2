"""The shared layer's subpackages depend on each other one way only (README, "Architecture"):

    api → logic → (orchestration → (agent, streaming)) → dal → models → (ids, errors, settings, observability, secrets_store)

Every import counts, function-level ones included (they are how a cycle hides). Handlers in functions/ stay thin:
they reach storage only through logic."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common" / "lettagroups"

FOUNDATION = {"ids", "errors", "settings", "observability", "secrets_store"}
# subpackage -> the subpackages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "ids": set(),
    "errors": set(),
    "settings": set(),
    "observability": set(),
    "secrets_store": set(),  # the adapter of Secrets Manager and SSM
    "models": FOUNDATION,
    "dal": FOUNDATION | {"models"},
    "agent": FOUNDATION | {"models", "dal"},
    "streaming": FOUNDATION | {"models", "dal"},
    "auth": FOUNDATION | {"models", "dal"},
    "orchestration": FOUNDATION | {"models", "dal", "agent", "streaming"},
    "logic": FOUNDATION | {"models", "dal", "agent", "streaming", "orchestration"},
    "api": FOUNDATION | {"models", "dal", "auth"},
}


def _subpackage(path: Path) -> str:
    parts = path.relative_to(LAYER).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> set[str]:
    """The lettagroups subpackages a module imports, at any depth of its code."""
    module = ("lettagroups", *path.relative_to(LAYER).with_suffix("").parts)
    package = module[:-1] if path.name != "__init__.py" else module[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                target = [*base, *(node.module.split(".") if node.module else [])]
                if len(target) == 1:  # `from .. import x` at the top of lettagroups: x is the subpackage
                    found.update(alias.name for alias in node.names)
                    continue
            else:
                target = (node.module or "").split(".")
            if target[0] == "lettagroups" and len(target) > 1:
                found.add(target[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "lettagroups" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_every_subpackage_imports_only_what_is_below_it():
    # Given every module of the shared layer
    modules = sorted(p for p in LAYER.rglob("*.py") if p.parent != LAYER or p.name != "__init__.py")
    assert modules
    violations = []
    for path in modules:
        own = _subpackage(path)
        assert own in ALLOWED, f"{path.relative_to(ROOT)}: a new subpackage needs its place in ALLOWED"
        # When its imports are read (function-level ones included)
        for target in _imports(path) - {own}:
            # Then each one is a layer below it
            if target not in ALLOWED[own]:
                violations.append(f"{path.relative_to(ROOT)} imports lettagroups.{target}")
    assert violations == []


def test_the_allowed_directions_have_no_cycle():
    # Given the allowed directions, Then following them never leads back (a topological order exists)
    remaining = {name: set(targets) for name, targets in ALLOWED.items()}
    while remaining:
        leaves = [name for name, targets in remaining.items() if not targets & set(remaining)]
        assert leaves, f"cycle among {sorted(remaining)}"
        for leaf in leaves:
            del remaining[leaf]


def test_handlers_reach_storage_only_through_logic():
    # Given every function's code
    for path in sorted((ROOT / "functions").rglob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {
            node.module.split(".")[1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lettagroups.")
        }
        # Then none imports the data-access layer (or the agent runtime) directly
        assert not imported & {"dal", "agent"}, f"{path.relative_to(ROOT)} imports {sorted(imported & {'dal', 'agent'})}"
