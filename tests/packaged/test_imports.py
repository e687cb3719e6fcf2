"""Every function of the built template imports as Lambda imports it, and contains every module its code imports.

Given the built artifacts (the function's directory and its layers, nothing else on `sys.path`, the
template's environment), one clean python3.13 per function, started the way the Lambda runtime starts it,
imports the handler first (the cold start), then every other module the function's code can import.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from lettagroups_local.artifacts import Built, BuiltFunction, lambda_command, lambda_environment

from support.packaged import CHECK_IMPORTS, SOURCE_FUNCTIONS, import_closure

_results: dict[str, dict[str, Any]] = {}


def import_report(name: str, built: Built, functions: dict[str, BuiltFunction], python: str) -> dict[str, Any]:
    """{"entry": error or None, "failures": {module: error}, "missing_internal": [...]} for one function (cached)."""
    if name not in _results:
        function = functions[name]
        closure = import_closure(function)
        module, attribute = function.python_entry()
        extra = ["uvicorn.main"] if function.handler.endswith(".sh") else []  # run.sh: python -m uvicorn ... main:app
        spec = {
            "entry": [module, attribute],
            "also": extra,
            "internal": sorted(closure.internal),
            "external": {k: sorted(v) for k, v in closure.external.items()},
        }
        result = subprocess.run(
            [*lambda_command(function, python, CHECK_IMPORTS), json.dumps(spec)],
            cwd=function.code_dir,
            env=lambda_environment(function, built.template),
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
        report["missing_internal"] = sorted(closure.missing_internal)
        _results[name] = report
    return _results[name]


def test_the_build_has_every_function_of_the_template(built_functions: dict[str, BuiltFunction]):
    # Given the functions of template.yaml and those of the built template
    # Then they are the same set, each with a code directory holding its handler's module
    assert sorted(built_functions) == SOURCE_FUNCTIONS
    for function in built_functions.values():
        module, _ = function.python_entry()
        assert (function.code_dir / f"{module}.py").is_file(), function.name
        assert function.layers and all(layer.is_dir() for layer in function.layers), function.name


@pytest.mark.parametrize("name", SOURCE_FUNCTIONS)
def test_handler_imports_from_the_artifact_alone(name: str, built: Built, built_functions, python313: str):
    # When a clean interpreter imports the function's handler (for run.sh, the ASGI app it serves and uvicorn)
    report = import_report(name, built, built_functions, python313)
    # Then it imports and is callable, with nothing from the development venv
    assert report["entry"] is None, report["entry"]


@pytest.mark.parametrize("name", SOURCE_FUNCTIONS)
def test_every_module_the_code_imports_is_in_the_artifact(name: str, built: Built, built_functions, python313: str):
    # When the same interpreter imports every module the function's code can import, lazy (function-level)
    # imports included
    report = import_report(name, built, built_functions, python313)
    # Then every one of them is in the artifact
    assert report["missing_internal"] == [], f"project modules missing from the artifact: {report['missing_internal']}"
    assert report["failures"] == {}, f"{name} imports modules its artifact does not contain: {report['failures']}"
