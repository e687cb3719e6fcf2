"""Every contract model defers building its validators to first use (cold starts: docs/cold-starts.md)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from pydantic import BaseModel

import lettagroups.models


def test_every_model_defers_its_build():
    # Given every pydantic model defined in lettagroups.models
    found = []
    for info in pkgutil.iter_modules(lettagroups.models.__path__):
        module = importlib.import_module(f"lettagroups.models.{info.name}")
        found += [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, BaseModel) and c.__module__ == module.__name__
        ]
    assert len(found) > 20
    # Then each is declared (or inherits) defer_build=True
    assert [c.__qualname__ for c in found if not c.model_config.get("defer_build")] == []
