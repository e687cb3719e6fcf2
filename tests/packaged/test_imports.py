"""Every function of the built template imports as Lambda imports it, and contains every module its code imports.

Given the built artifacts (the function's directory and its layers, nothing else on `sys.path`, the
template's environment), each test runs a clean python3.13 the way the Lambda runtime does.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from lettagroups_local.artifacts import Built, BuiltFunction, lambda_command, lambda_environment

from packaged_helpers import CHECK_IMPORTS, SOURCE_FUNCTIONS, import_closure


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
    # Given the built function, its layers and the environment the template gives it
    function = built_functions[name]
    env = lambda_environment(function, built.template)
    module, attribute = function.python_entry()
    # When a clean interpreter imports its handler (for run.sh, the ASGI app it serves and uvicorn itself)
    code = f"import importlib; entry = getattr(importlib.import_module({module!r}), {attribute!r}); assert callable(entry)"
    if function.handler.endswith(".sh"):
        code += "; import uvicorn.main"
    result = subprocess.run(
        lambda_command(function, python313, code), cwd=function.code_dir, env=env, capture_output=True, text=True
    )
    # Then it imports, with nothing from the development venv
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("name", SOURCE_FUNCTIONS)
def test_every_module_the_code_imports_is_in_the_artifact(name: str, built: Built, built_functions, python313: str):
    # Given every module the function's code can import, lazy (function-level) imports included
    function = built_functions[name]
    closure = import_closure(function)
    assert not closure.missing_internal, f"project modules missing from the artifact: {sorted(closure.missing_internal)}"
    spec = {"internal": sorted(closure.internal), "external": {k: sorted(v) for k, v in closure.external.items()}}
    # When a clean interpreter on the artifact's path imports each of them
    env = lambda_environment(function, built.template)
    result = subprocess.run(
        [*lambda_command(function, python313, CHECK_IMPORTS), json.dumps(spec)],
        cwd=function.code_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Then every one of them is there
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert failures == {}, f"{name} imports modules its artifact does not contain: {failures}"
