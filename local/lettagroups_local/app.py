"""The ASGI application `make run` serves: the HTTP API routes of template.yaml, plus the
streaming function's own ASGI app for the paths it serves (its function URL, deployed)."""

from __future__ import annotations

import importlib.util
import logging
import sys
from typing import Any

from .gateway import Gateway
from .template import ROOT, functions

log = logging.getLogger("lettagroups_local")


def _load_asgi(name: str, code_dir: Any) -> Any:
    spec = importlib.util.spec_from_file_location(f"functions_{name}_main", code_dir / "main.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {code_dir}/main.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.app


def function_url_apps() -> list[tuple[str, Any, Any]]:
    """(method, path regex, ASGI app) for every route of every function-URL function."""
    extra = []
    for name, resource in functions().items():
        props = resource.get("Properties", {})
        if not props.get("FunctionUrlConfig"):
            continue
        try:
            app = _load_asgi(name, ROOT / props["CodeUri"])
        except ImportError:
            # Serve the rest of the API even if this function cannot load; its tests will say why.
            log.exception("cannot load %s; its routes answer 404", name)
            continue
        for route in app.routes:
            for method in sorted(route.methods or []):
                if method != "HEAD":
                    extra.append((method, route.path_regex, app))
    return extra


def build_app() -> Gateway:
    return Gateway(extra=function_url_apps())
