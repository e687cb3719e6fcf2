"""Step Functions locally: moto's interpreter runs the ASL from template.yaml, and its Lambda
tasks are dispatched to the real handlers in this process.

moto 5.2.5 has no supported switch for in-process Lambda handlers, so the simple Lambda
backend's `invoke` is replaced. That is a moto internal: moto is pinned exactly in
pyproject.toml and tests/workflow/test_moto_contract.py fails loudly if the attribute or its
signature changes.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

from . import moto_patches
from .handlers import LocalContext, load_handler
from .template import ROOT, functions, handler_of, load_template

ACCOUNT = "123456789012"
REGION = "us-east-1"
_task_handlers: dict[str, Any] = {}


def _dispatch(name: str, payload: dict[str, Any]) -> Any:
    code_dir, handler_name = _task_handlers[name]
    handler = load_handler(name, code_dir, handler_name)  # imported on first use, like a cold start
    return handler(payload, LocalContext(name, "local"))


def enable_execution(endpoint_url: str) -> None:
    """Tell moto (server mode) to really execute state machines with the simple Lambda backend."""
    import urllib.request

    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/config",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).read()


def _state_machines() -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in load_template()["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::StateMachine"
    }


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


def deploy(endpoint_url: str) -> dict[str, str]:
    """Create every function that a state machine invokes, then the state machines.

    Returns {state machine logical id: ARN}; also exported as <LOGICAL_ID>_ARN-style env vars
    named by the template (`STATE_MACHINE_ARN` for the group run).
    """
    import boto3

    moto_patches.in_process_lambda(_dispatch)
    enable_execution(endpoint_url)
    kwargs = {"endpoint_url": endpoint_url, "region_name": REGION}
    iam = boto3.client("iam", **kwargs)
    role_arn = iam.create_role(RoleName="local-workflow-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = boto3.client("lambda", **kwargs)
    sfn = boto3.client("stepfunctions", **kwargs)
    fn_arns: dict[str, str] = {}
    for name, resource in functions().items():
        props = resource["Properties"]
        if props.get("Events") or props.get("FunctionUrlConfig"):
            continue  # API functions are served by the gateway, not invoked by workflows
        _task_handlers[name] = (ROOT / props["CodeUri"], handler_of(name))
        created = lam.create_function(
            FunctionName=name, Runtime="python3.13", Role=role_arn, Handler="app.lambda_handler", Code={"ZipFile": _zip()}
        )
        fn_arns[name] = created["FunctionArn"]
    arns: dict[str, str] = {}
    for name, resource in _state_machines().items():
        props = resource["Properties"]
        definition = (ROOT / props["DefinitionUri"]).read_text(encoding="utf-8")
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", _resolve(value, fn_arns))
        arn = sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn, type=props.get("Type", "STANDARD"))[
            "stateMachineArn"
        ]
        arns[name] = arn
    return arns


def _resolve(value: Any, fn_arns: dict[str, str]) -> str:
    """The few intrinsic forms the template uses in DefinitionSubstitutions."""
    if isinstance(value, dict) and "GetAtt" in value:
        target = value["GetAtt"]
        logical = target.split(".")[0] if isinstance(target, str) else target[0]
        return fn_arns[logical]
    if isinstance(value, dict) and "Ref" in value:
        return str(fn_arns.get(value["Ref"], value["Ref"]))
    return str(value)


def configure(arns: dict[str, str]) -> None:
    if "GroupRunStateMachine" in arns:
        os.environ["STATE_MACHINE_ARN"] = arns["GroupRunStateMachine"]
    os.environ.pop("STEPFUNCTIONS_ENDPOINT_URL", None)  # in-process, like the table (emulation.configure_environment)
