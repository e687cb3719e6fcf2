"""The Lambda artifacts as `sam build` makes them, for the packaged-artifact tests and the cold-start benchmark.

- `build(arch)` runs the SAM CLI (its own venv, `.venv-sam`, made by `make sam`) on template.yaml, once per
  set of inputs: the result is cached under `.aws-sam/packaged/<arch>-<digest>/`, keyed by a hash of every
  file the build reads. `arch="host"` builds a variant of the template for this machine's architecture
  (compiled wheels of another architecture cannot be imported here); `arch="arm64"` is the template as
  deployed.
- `Built.functions()` says, for every function of the built template, what Lambda would load: the code
  directory, the handler, the directories of its layers' `python/`, and the environment the template
  gives it (intrinsics resolved with stand-in values).
- `lambda_command()` / `lambda_environment()` start a clean interpreter the way Lambda does: python3.13,
  no site-packages, `sys.path` = the function directory, then its layers, then the standard library.

Never packaged: this is tooling of the test suite (tests/packaged/) and scripts/bench_cold_start.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAM_VENV = ROOT / ".venv-sam"
CACHE = ROOT / ".aws-sam" / "packaged"
# Everything a build reads besides the template.
BUILD_INPUTS = ("layers", "functions", "packaging", "statemachines")
PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "letta-groups",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}


class ArtifactsUnavailable(RuntimeError):
    """python3.13 (which `sam build` and Lambda's runtime need) is not on this machine."""


# --- tools --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def python313() -> str | None:
    """A python3.13 interpreter: this one if it is 3.13 (its base, outside any venv), else what
    scripts/find-python.sh finds; None when the machine has none."""
    if sys.version_info[:2] == (3, 13):
        base = getattr(sys, "_base_executable", None) or sys.executable
        return str(Path(base).resolve()) if Path(base).exists() else sys.executable
    found = subprocess.run([str(ROOT / "scripts" / "find-python.sh"), "3.13"], capture_output=True, text=True)
    if found.returncode != 0:
        return None
    return found.stdout.strip() or None


def require_python313() -> str:
    python = python313()
    if python is None:
        raise ArtifactsUnavailable("python3.13 is not installed: sam build and the Lambda runtime emulation need it")
    return python


def sam_executable() -> Path:
    """The SAM CLI of `.venv-sam`, installed by `make sam` when missing."""
    sam = SAM_VENV / "bin" / "sam"
    if not sam.exists():
        subprocess.run(["make", "-s", "sam"], cwd=ROOT, check=True)
    return sam


def host_arch() -> str:
    return "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"


# --- building -----------------------------------------------------------------------------------------


def _input_files() -> list[Path]:
    files = [TEMPLATE]
    for folder in BUILD_INPUTS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append(path)
    return files


def inputs_digest(arch: str) -> str:
    digest = hashlib.sha256(f"{arch}\n".encode())
    for path in _input_files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def parse_template(path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    return dict(yaml_parse(path.read_text(encoding="utf-8")))


def template_for(arch: str) -> dict[str, Any]:
    """template.yaml with every architecture setting turned to `arch` (functions, Globals, layers)."""
    template = parse_template(TEMPLATE)
    template.setdefault("Globals", {}).setdefault("Function", {})["Architectures"] = [arch]
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and "Architectures" in props:
            props["Architectures"] = [arch]
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            props["CompatibleArchitectures"] = [arch]
            if isinstance(resource.get("Metadata"), dict) and "BuildArchitecture" in resource["Metadata"]:
                resource["Metadata"]["BuildArchitecture"] = arch
    return template


def build(arch: str = "host") -> Built:
    """The built application for `arch` ("host", "arm64" or "x86_64"), from the cache when its inputs are unchanged."""
    arch = host_arch() if arch == "host" else arch
    digest = inputs_digest(arch)
    target = CACHE / f"{arch}-{digest}"
    if not (target / ".complete").exists():
        _sam_build(arch, target)
        for stale in CACHE.glob(f"{arch}-*"):
            if stale != target:
                shutil.rmtree(stale, ignore_errors=True)
    return Built(path=target, arch=arch)


def _sam_build(arch: str, target: Path) -> None:
    python = require_python313()
    sam = sam_executable()
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{arch}-", dir=CACHE))
    try:
        template = work / "template.json"
        template.write_text(json.dumps(template_for(arch), indent=1))
        env = {
            **os.environ,
            # sam build (and the Makefile builds) find python3.13 on PATH, as the README tells users to have it.
            "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "SAM_CLI_TELEMETRY": "0",
            "LAMBDA_ARCH": arch,
        }
        for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "VIRTUAL_ENV"):
            env.pop(name, None)
        command = [str(sam), "build", "--template-file", str(template), "--base-dir", str(ROOT)]
        command += ["--build-dir", str(work / "build"), "--parallel"]
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"sam build ({arch}) failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
        if target.exists():
            shutil.rmtree(target)
        (work / "build").rename(target)
        (target / ".complete").write_text(json.dumps({"arch": arch}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- what Lambda would load ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltFunction:
    name: str
    code_dir: Path
    handler: str
    layers: list[Path]  # each layer's python/ directory (what Lambda puts on sys.path from /opt/python)
    environment: dict[str, Any] = field(default_factory=dict)  # as the template writes it (intrinsics unresolved)
    source_dir: Path | None = None  # the CodeUri of template.yaml

    @property
    def path(self) -> list[str]:
        """sys.path entries in Lambda's order: the code, then each layer (site-packages form first)."""
        entries = [str(self.code_dir)]
        for layer in self.layers:
            entries += [str(layer / "lib" / "python3.13" / "site-packages"), str(layer)]
        return entries

    def python_entry(self) -> tuple[str, str]:
        """(module, attribute) Python loads first: the handler, or for a shell-script handler run under the
        Lambda Web Adapter (run.sh), the ASGI app the script serves."""
        if self.handler.endswith(".sh"):
            script = (self.code_dir / self.handler).read_text()
            match = re.search(r"(\w+):(\w+)\s*$", script.strip())
            if match is None:
                raise ValueError(f"{self.name}: no module:app in {self.handler}")
            return match.group(1), match.group(2)
        module, _, attribute = self.handler.rpartition(".")
        return module, attribute


@dataclass(frozen=True)
class Built:
    path: Path
    arch: str

    @property
    def template(self) -> dict[str, Any]:
        return parse_template(self.path / "template.yaml")

    def functions(self) -> dict[str, BuiltFunction]:
        template = self.template
        source = parse_template(TEMPLATE)
        globals_ = template.get("Globals", {}).get("Function", {})
        out = {}
        for name, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            props = resource["Properties"]
            layers = []
            for ref in [*(globals_.get("Layers") or []), *(props.get("Layers") or [])]:
                if isinstance(ref, dict) and "Ref" in ref and ref["Ref"] in template["Resources"]:
                    layer = template["Resources"][ref["Ref"]]["Properties"]["ContentUri"]
                    layers.append((self.path / layer / "python").resolve())
            environment = {
                **(globals_.get("Environment", {}).get("Variables") or {}),
                **(props.get("Environment", {}).get("Variables") or {}),
            }
            code_uri = source["Resources"][name]["Properties"].get("CodeUri")
            out[name] = BuiltFunction(
                name=name,
                code_dir=(self.path / props["CodeUri"]).resolve(),
                handler=str(props.get("Handler") or globals_.get("Handler")),
                layers=layers,
                environment=environment,
                source_dir=(ROOT / code_uri).resolve() if isinstance(code_uri, str) else None,
            )
        return out


def resolve(value: Any, template: dict[str, Any], refs: dict[str, Any]) -> Any:
    """A template value with Ref / Fn::Sub / Fn::If / Fn::GetAtt resolved: pseudo parameters and `refs` first,
    then parameter defaults; a resource stands for its logical id."""

    def ref(name: str) -> Any:
        if name in refs:
            return refs[name]
        if name in PSEUDO:
            return PSEUDO[name]
        parameter = template.get("Parameters", {}).get(name)
        if parameter is not None:
            return str(parameter.get("Default", ""))
        return name

    def condition(name: str) -> bool:
        return bool(evaluate(template.get("Conditions", {})[name]))

    def evaluate(node: Any) -> Any:
        if isinstance(node, list):
            return [evaluate(v) for v in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"}:
            return ref(node["Ref"])
        if set(node) == {"Fn::Sub"}:
            text, extra = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
            return re.sub(
                r"\$\{([^}]+)\}", lambda m: str(evaluate(extra[m.group(1)]) if m.group(1) in extra else ref(m.group(1))), text
            )
        if set(node) == {"Fn::GetAtt"}:
            target = node["Fn::GetAtt"]
            return ".".join(target) if isinstance(target, list) else str(target)
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return evaluate(yes if condition(name) else no)
        if set(node) == {"Fn::Equals"}:
            left, right = evaluate(node["Fn::Equals"])
            return str(left) == str(right)
        if set(node) == {"Fn::Not"}:
            return not evaluate(node["Fn::Not"][0])
        if set(node) == {"Condition"}:
            return condition(node["Condition"])
        return {k: evaluate(v) for k, v in node.items()}

    return evaluate(value)


def lambda_environment(
    function: BuiltFunction, template: dict[str, Any], refs: dict[str, Any] | None = None, **overrides: str
) -> dict[str, str]:
    """The environment Lambda gives `function`: its template variables (resolved) plus the runtime's own."""
    variables = {k: resolve(v, template, refs or {}) for k, v in function.environment.items()}
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "packaged-test",
        "AWS_SECRET_ACCESS_KEY": "packaged-test",
        "AWS_SESSION_TOKEN": "packaged-test",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        # Tracing: Active gives every function these; the X-Ray SDK sends to the daemon over UDP (loopback here).
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
        "_AWS_XRAY_DAEMON_PORT": "2000",
        "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's code directories are read-only: nothing is ever cached
    }
    env.update({k: str(v) for k, v in variables.items() if v is not None})
    env.update(overrides)
    return env


def lambda_command(function: BuiltFunction, python: str, code: str) -> list[str]:
    """python3.13 with no site-packages and Lambda's sys.path, running `code`."""
    bootstrap = f"import sys; sys.path[:0] = {function.path!r}\n{code}"
    return [python, "-S", "-E", "-B", "-c", bootstrap]


def main(argv: list[str] | None = None) -> int:
    """`python -m lettagroups_local.artifacts [host] [arm64]`: build (or find in the cache) and print each build's path.
    Without python3.13 it says so and exits 0: the packaged-artifact tests then skip with the same reason."""
    archs = (argv if argv is not None else sys.argv[1:]) or ["host"]
    if python313() is None:
        print("python3.13 is not installed: no Lambda artifacts built (the packaged-artifact tests will skip)")
        return 0
    for arch in archs:
        print(build(arch).path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
