"""Running the built artifacts the way Lambda does, and reading what their code imports.

- `PackagedLambda`: one warm "execution environment" of a built function: a clean python3.13 (no
  site-packages; `sys.path` = the function directory then its layers; the template's environment)
  that imports the handler once, then answers invocations one per line of stdin, as Lambda re-uses a
  container. Handler logs go to a file, never into the protocol.
- `import_closure`: every module a function's code can import, found statically from its entry
  module through the project's own modules (the function directory's and the layer's `lettagroups`),
  function-level (lazy) imports included and `if TYPE_CHECKING:` blocks excluded.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lettagroups_local import artifacts
from lettagroups_local.artifacts import BuiltFunction, lambda_command

# Every function of template.yaml (the build is checked to hold the same set).
SOURCE_FUNCTIONS = sorted(
    name
    for name, resource in artifacts.parse_template(artifacts.TEMPLATE)["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
)

# The loop a packaged function runs in: import the handler (the cold start), then one event per line.
RUNTIME_LOOP = r"""
import importlib, json, os, sys, time, uuid
protocol = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # anything the handler prints (Powertools logs) goes to the log, not the protocol
sys.stdout = sys.stderr
module, attribute, name = sys.argv[1:4]
started = time.perf_counter()
handler = getattr(importlib.import_module(module), attribute)

class Context:
    function_name = name
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    memory_limit_in_mb = 1024
    log_group_name = f"/aws/lambda/{name}"
    log_stream_name = "packaged-test"
    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())
        self.deadline = time.time() + 29
    def get_remaining_time_in_millis(self):
        return int(max(0, self.deadline - time.time()) * 1000)

protocol.write(json.dumps({"ready": True, "import_seconds": time.perf_counter() - started}) + "\n")
protocol.flush()
for line in sys.stdin:
    event = json.loads(line)
    os.environ["_X_AMZN_TRACE_ID"] = "Root=1-%08x-%s;Parent=%s;Sampled=1" % (int(time.time()), uuid.uuid4().hex[:24], uuid.uuid4().hex[:16])
    try:
        reply = {"result": handler(event, Context())}
    except Exception as exc:
        reply = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    protocol.write(json.dumps(reply, default=str) + "\n")
    protocol.flush()
"""


class PackagedLambda:
    """A warm container of a built function (see module docstring). Use as a context manager."""

    def __init__(self, function: BuiltFunction, python: str, env: dict[str, str], log_dir: Path) -> None:
        module, attribute = function.python_entry()
        self.function = function
        self.log = log_dir / f"{function.name}-{uuid.uuid4().hex[:8]}.log"
        self.proc = subprocess.Popen(
            [*lambda_command(function, python, RUNTIME_LOOP), module, attribute, function.name],
            cwd=function.code_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log.open("w"),
            text=True,
        )
        ready = self._read()
        if not ready.get("ready"):
            raise RuntimeError(f"{function.name} did not start: {ready}")
        self.import_seconds = float(ready["import_seconds"])

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"{self.function.name} exited ({self.proc.returncode}):\n{self.logs()[-4000:]}")
        return dict(json.loads(line))

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """{"result": ...} or {"errorType", "errorMessage"} (an unhandled error, as Lambda reports it)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(event) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def logs(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self) -> PackagedLambda:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --- the import closure --------------------------------------------------------------------------------


@dataclass
class Closure:
    internal: set[str] = field(default_factory=set)  # the project's modules, each found in the artifact
    external: dict[str, set[str]] = field(default_factory=dict)  # third-party module -> names imported from it
    missing_internal: set[str] = field(default_factory=set)  # project modules the artifact does not contain


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _catches_import_error(node: ast.Try) -> bool:
    names = {"ImportError", "ModuleNotFoundError"}
    for handler in node.handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(k, ast.Name) and k.id in names for k in kinds):
            return True
    return False


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names) for every import statement, at any depth, except under `if TYPE_CHECKING:` and in a
    `try:` whose handler catches ImportError (an optional dependency by construction)."""
    found: list[tuple[str, tuple[str, ...]]] = []

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if _is_type_checking(node.test):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Try(self, node: ast.Try) -> None:
            if _catches_import_error(node):
                for child in [*node.handlers, *node.orelse, *node.finalbody]:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.extend((alias.name, ()) for alias in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            found.append((base, tuple(alias.name for alias in node.names)))

    Visitor().visit(ast.parse(source))
    return found


def import_closure(function: BuiltFunction) -> Closure:
    """The modules reachable from the function's entry module (see module docstring)."""
    roots = [function.code_dir, *function.layers]
    own_files = {p.stem for p in (function.source_dir or function.code_dir).glob("*.py")}
    internal_tops = {"lettagroups", *own_files}

    def locate(name: str) -> tuple[Path, bool] | None:
        parts = name.split(".")
        for root in roots:
            package = root.joinpath(*parts) / "__init__.py"
            if package.is_file():
                return package, True
            plain = root.joinpath(*parts[:-1]) / f"{parts[-1]}.py"
            if plain.is_file():
                return plain, False
        return None

    closure = Closure()
    entry, _ = function.python_entry()
    # The entry module, and every other module of the function's own folder (e.g. the stream function's
    # app.py, its buffered entry point next to the ASGI app run.sh serves).
    pending = [entry, *sorted(own_files)]
    while pending:
        name = pending.pop()
        if name in closure.internal or name in closure.missing_internal:
            continue
        located = locate(name)
        if located is None:
            closure.missing_internal.add(name)
            continue
        path, is_package = located
        closure.internal.add(name)
        parts = name.split(".")
        pending += [".".join(parts[:i]) for i in range(1, len(parts))]  # importing a.b.c imports a and a.b
        for base, names in imports_of(path.read_text(encoding="utf-8"), name, is_package):
            top = base.split(".")[0]
            if top in internal_tops:
                pending.append(base)
                pending += [f"{base}.{n}" for n in names if locate(f"{base}.{n}") is not None]
            elif top not in sys.stdlib_module_names:
                closure.external.setdefault(base, set()).update(names)
    return closure


CHECK_IMPORTS = r"""
import importlib, json, sys, traceback
spec = json.loads(sys.argv[1])
report = {"entry": None, "failures": {}}
module, attribute = spec["entry"]
try:
    entry = getattr(importlib.import_module(module), attribute)  # first: the cold start, on a fresh interpreter
    assert callable(entry), f"{module}.{attribute} is not callable"
    for name in spec["also"]:
        importlib.import_module(name)
except BaseException:
    report["entry"] = traceback.format_exc(limit=-3)
for name in spec["internal"]:
    try:
        importlib.import_module(name)
    except Exception as exc:
        report["failures"][name] = f"{type(exc).__name__}: {exc}"
for name, attributes in spec["external"].items():
    try:
        imported = importlib.import_module(name)
        for attribute in attributes:
            if attribute != "*" and not hasattr(imported, attribute):
                importlib.import_module(f"{name}.{attribute}")
    except Exception as exc:
        report["failures"][name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(report))
"""
