"""Loading each function's handler from its folder, as the Lambda runtime would."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]
_cache: dict[str, Handler] = {}


def load_module(module_name: str, path: Path) -> Any:
    """Import one file of a function's code under a unique module name (functions share file names)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_handler(function_name: str, code_dir: Path, handler: str) -> Handler:
    """Import `<code_dir>/<module>.py` as `functions_<function_name>` and return its handler."""
    if function_name not in _cache:
        module_name, _, attribute = handler.rpartition(".")
        module = load_module(f"functions_{function_name}", code_dir / f"{module_name.replace('.', '/')}.py")
        _cache[function_name] = getattr(module, attribute)
    return _cache[function_name]


class LocalContext:
    """The attributes of a Lambda context object that Powertools reads."""

    def __init__(self, function_name: str, request_id: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000
