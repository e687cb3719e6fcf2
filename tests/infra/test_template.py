"""template.yaml: offline SAM translate + cfn-lint, routes, handlers, and the resource settings the design relies on.

cfn-lint on the SAM template alone misses errors that only show after the transform
(aws-offline-toolchain.md §7.3), so the template is also translated with aws-sam-translator
and the resulting CloudFormation is linted. The cfn-lint runs start together, once per module.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lettagroups_local.template import http_routes, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
PARAMETERS = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}

# This stage's contract surface: operation -> (method, API Gateway path).
OPERATIONS = {
    "health_check": ("GET", "/v1/health"),
    "list_groups": ("GET", "/v1/groups"),
    "count_groups": ("GET", "/v1/groups/count"),
    "retrieve_group": ("GET", "/v1/groups/{group_id}"),
    "create_group": ("POST", "/v1/groups"),
    "modify_group": ("PATCH", "/v1/groups/{group_id}"),
    "delete_group": ("DELETE", "/v1/groups/{group_id}"),
    "list_agent_groups": ("GET", "/v1/agents/{agent_id}/groups"),
    "create_agent": ("POST", "/v1/agents"),
    "list_agents": ("GET", "/v1/agents"),
    "retrieve_agent": ("GET", "/v1/agents/{agent_id}"),
    "modify_agent": ("PATCH", "/v1/agents/{agent_id}"),
    "delete_agent": ("DELETE", "/v1/agents/{agent_id}"),
    "create_block": ("POST", "/v1/blocks"),
    "list_blocks": ("GET", "/v1/blocks"),
    "retrieve_block": ("GET", "/v1/blocks/{block_id}"),
    "modify_block": ("PATCH", "/v1/blocks/{block_id}"),
    "delete_block": ("DELETE", "/v1/blocks/{block_id}"),
    "list_agents_for_block": ("GET", "/v1/blocks/{block_id}/agents"),
    "list_core_memory_blocks": ("GET", "/v1/agents/{agent_id}/core-memory/blocks"),
    "retrieve_core_memory_block": ("GET", "/v1/agents/{agent_id}/core-memory/blocks/{block_label}"),
    "modify_core_memory_block": ("PATCH", "/v1/agents/{agent_id}/core-memory/blocks/{block_label}"),
    "attach_core_memory_block": ("PATCH", "/v1/agents/{agent_id}/core-memory/blocks/attach/{block_id}"),
    "detach_core_memory_block": ("PATCH", "/v1/agents/{agent_id}/core-memory/blocks/detach/{block_id}"),
    "send_group_message": ("POST", "/v1/groups/{group_id}/messages"),
    "send_group_message_async": ("POST", "/v1/groups/{group_id}/messages/async"),
    "list_group_messages": ("GET", "/v1/groups/{group_id}/messages"),
    "modify_group_message": ("PATCH", "/v1/groups/{group_id}/messages/{message_id}"),
    "reset_group_messages": ("PATCH", "/v1/groups/{group_id}/reset-messages"),
    "retrieve_run": ("GET", "/v1/runs/{run_id}"),
    "list_run_messages": ("GET", "/v1/runs/{run_id}/messages"),
    "retrieve_run_usage": ("GET", "/v1/runs/{run_id}/usage"),
    "openapi_document": ("GET", "/openapi.json"),
    "send_message": ("POST", "/v1/agents/{agent_id}/messages"),
    "create_agent_message_async": ("POST", "/v1/agents/{agent_id}/messages/async"),
    "list_messages": ("GET", "/v1/agents/{agent_id}/messages"),
    "modify_message": ("PATCH", "/v1/agents/{agent_id}/messages/{message_id}"),
    "reset_messages": ("PATCH", "/v1/agents/{agent_id}/reset-messages"),
    "list_runs": ("GET", "/v1/runs"),
    "list_active_runs": ("GET", "/v1/runs/active"),
}
# Operations that need no table at all (the OpenAPI document resolves its caller, so it reads the table), and
# those that also start (and watch) group-run executions.
TABLELESS_OPERATIONS = {"health_check"}
# The functions that start group-run executions, and with what: a synchronous send also runs one to its end
# (StartSyncExecution), the stream function too for the voice route's non-streaming completions; the task starts
# background sleeptime passes.
SYNC, ASYNC = ["states:StartExecution", "states:StartSyncExecution"], ["states:StartExecution"]
EXECUTION_ACTIONS = {
    "SendGroupMessageFunction": SYNC,
    "SendMessageFunction": SYNC,
    "StreamFunction": SYNC,
    "SendGroupMessageAsyncFunction": ASYNC,
    "CreateAgentMessageAsyncFunction": ASYNC,
    "GroupRunTaskFunction": ASYNC,
}


# --- translation ----------------------------------------------------------------------------------


class StubManagedPolicies:
    """The managed-policy loader the translator asks for ARNs (no IAM call offline)."""

    def load(self) -> dict[str, str]:
        return {
            "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
            "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        }


@functools.lru_cache(maxsize=1)
def _parsed_template() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(TEMPLATE.read_text())


def sam_template() -> dict[str, Any]:
    """template.yaml as the translator reads it (short-form tags become Ref/Fn:: dicts); a fresh copy each call."""
    return copy.deepcopy(_parsed_template())


def translate(template: dict[str, Any]) -> dict[str, Any]:
    """SAM → CloudFormation offline: local code paths become S3 URIs, state machine files are inlined."""
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = f"s3://local-bucket/{props['CodeUri'].strip('/')}.zip"
        if resource["Type"] == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            props["ContentUri"] = f"s3://local-bucket/{props['ContentUri'].strip('/')}.zip"
        if resource["Type"] == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            props["Definition"] = json.loads((ROOT / props.pop("DefinitionUri")).read_text())
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(template, PARAMETERS, StubManagedPolicies())


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return translate(sam_template())


@pytest.fixture(scope="module")
def lint_runs(
    translated: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    """cfn-lint on the translated template, on template.yaml, and on a deliberately broken translation."""
    folder = tmp_path_factory.mktemp("cfn")
    good = folder / "translated.json"
    good.write_text(json.dumps(translated))
    broken_sam = sam_template()
    broken_sam["Globals"]["Function"]["Runtime"] = "python2.1"
    broken = folder / "broken.json"
    broken.write_text(json.dumps(translate(broken_sam)))
    procs = {
        name: subprocess.Popen([CFN_LINT, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, path in {"translated": good, "sam": TEMPLATE, "broken": broken}.items()
    }
    results = {}
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=120)
        results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, "")
    return results


def findings(output: str, level: str) -> list[str]:
    """cfn-lint's default formatter prints one `<rule id> <message>` line per finding: E… errors, W… warnings."""
    return [line for line in output.splitlines() if re.match(rf"^{level}\d{{4}} ", line)]


# --- (a) translate, then lint --------------------------------------------------------------------


def test_translated_template_lints_clean(lint_runs: dict[str, subprocess.CompletedProcess[str]]):
    # Given the template translated to plain CloudFormation
    result = lint_runs["translated"]
    # Then cfn-lint finds no errors and no warnings
    assert findings(result.stdout, "E") == [], result.stdout
    assert findings(result.stdout, "W") == [], result.stdout
    assert result.returncode == 0, result.stdout


def test_sam_template_lints_clean(lint_runs: dict[str, subprocess.CompletedProcess[str]]):
    result = lint_runs["sam"]
    assert findings(result.stdout, "E") == [], result.stdout
    assert findings(result.stdout, "W") == [], result.stdout
    assert result.returncode == 0, result.stdout


def test_the_lint_gate_catches_an_error_only_visible_after_translation(lint_runs: dict[str, subprocess.CompletedProcess[str]]):
    # Given a translation of the template with an invalid runtime in Globals
    result = lint_runs["broken"]
    # Then cfn-lint fails it on the runtime (so a clean run above means something)
    assert result.returncode != 0
    assert any("python2.1" in line for line in findings(result.stdout, "E")), result.stdout


def test_translation_keeps_every_route(translated: dict[str, Any]):
    # Given the HttpApi's generated OpenAPI body
    apis = [r for r in translated["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert len(apis) == 1
    paths = apis[0]["Properties"]["Body"]["paths"]
    generated = {(method.upper(), path) for path, item in paths.items() for method in item}
    # Then every HttpApi event of the template became a route (SAM silently drops some, see §8.y)
    declared = {(r.method, r.path) for r in http_routes()}
    assert declared == generated


def test_functions_translate_to_arm64_python313_with_the_shared_layer(translated: dict[str, Any]):
    # Given every Lambda function after translation (Globals merged in)
    functions = {k: r for k, r in translated["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    layers = [k for k, r in translated["Resources"].items() if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert len(layers) == 1
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert {"Ref": layers[0]} in props["Layers"], name


# --- (b) paths ----------------------------------------------------------------------------------


def test_no_http_api_path_has_a_trailing_slash():
    # Given every HttpApi event Path (a trailing slash makes SAM drop the route silently)
    paths = [r.path for r in http_routes()]
    assert paths
    # Then each is absolute and none ends in "/"
    for path in paths:
        assert path.startswith("/v1/") or path == "/openapi.json", path
        assert not path.endswith("/"), path


def test_no_two_routes_share_a_method_and_path():
    keys = [(r.method, r.path) for r in http_routes()]
    assert len(keys) == len(set(keys))


# --- (c) the contract's routes -> functions -> handlers ---------------------------------------------


def _handler_routes(app_py: Path) -> tuple[bool, list[tuple[str, str, str | None]]]:
    """Whether the module defines `lambda_handler`, and its `@app.<method>(path, operation_id=...)` routes."""
    tree = ast.parse(app_py.read_text())
    defines = False
    routes = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "lambda_handler" for t in node.targets):
            defines = True
        if isinstance(node, ast.FunctionDef) and node.name == "lambda_handler":
            defines = True
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and isinstance(deco.func, ast.Attribute)
                    and isinstance(deco.func.value, ast.Name)
                    and deco.func.value.id == "app"
                    and deco.args
                    and isinstance(deco.args[0], ast.Constant)
                ):
                    op_id = next((k.value.value for k in deco.keywords if k.arg == "operation_id"), None)  # type: ignore[attr-defined]
                    routes.append((deco.func.attr.upper(), deco.args[0].value, op_id))
    return defines, routes


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_operation_maps_to_exactly_one_function_with_a_handler(operation: str):
    method, path = OPERATIONS[operation]
    # Given the template's routes
    matching = [r for r in http_routes() if (r.method, r.path) == (method, path)]
    # Then exactly one function serves the contract route, from functions/<operation>/
    assert len(matching) == 1, f"{method} {path}: {[r.function for r in matching]}"
    route = matching[0]
    assert route.code_dir == ROOT / "functions" / operation
    assert route.handler == "app.lambda_handler"
    app_py = route.code_dir / "app.py"
    assert app_py.is_file()
    # And its app.py defines lambda_handler and resolves that same route under that operation id
    defines, resolved = _handler_routes(app_py)
    assert defines, f"{app_py} defines no lambda_handler"
    assert (method, re.sub(r"\{(\w+)\}", r"<\1>", path), operation) in resolved, resolved


def test_every_function_folder_is_deployed():
    # Given the function folders on disk
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    # Then each one is some function's CodeUri (no orphan code)
    code_uris = {
        Path(r["Properties"]["CodeUri"]).name
        for r in sam_template()["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert folders <= code_uris, sorted(folders - code_uris)


# --- (d) resource settings --------------------------------------------------------------------------


def test_globals_python313_arm64():
    globals_ = sam_template()["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Handler"] == "app.lambda_handler"


def test_table_is_on_demand_with_pitr_ttl_and_both_indexes():
    resources = sam_template()["Resources"]
    tables = [k for k, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"]
    assert tables == ["Table"]
    props = resources["Table"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["KeySchema"] == [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]
    indexes = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"GSI1", "GSI2"}
    for name, index in indexes.items():
        assert index["KeySchema"] == [
            {"AttributeName": f"{name}PK", "KeyType": "HASH"},
            {"AttributeName": f"{name}SK", "KeyType": "RANGE"},
        ]
        assert index["Projection"] == {"ProjectionType": "ALL"}
    declared = {a["AttributeName"] for a in props["AttributeDefinitions"]}
    assert declared == {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"}


def test_every_function_logs_to_its_own_log_group_with_retention():
    resources = sam_template()["Resources"]
    functions = {k: r for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions
    used = []
    for name, function in functions.items():
        ref = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        assert isinstance(ref, dict) and set(ref) == {"Ref"}, f"{name} has no LoggingConfig.LogGroup !Ref"
        group = resources[ref["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup", name
        assert group["Properties"].get("RetentionInDays"), f"{ref['Ref']} keeps logs forever"
        used.append(ref["Ref"])
    assert len(used) == len(set(used)), "functions share a log group"


def _dynamodb_policies(function: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[dict[str, Any]]]:
    templates, statements = [], []
    for policy in function["Properties"].get("Policies") or []:
        if isinstance(policy, dict) and "Statement" in policy:
            statements += policy["Statement"]
        elif isinstance(policy, dict):
            templates += [(name, args) for name, args in policy.items() if name.startswith("DynamoDB")]
    return templates, statements


def test_table_access_only_through_sam_policy_templates_on_the_table():
    resources = sam_template()["Resources"]
    for name, function in resources.items():
        if function["Type"] != "AWS::Serverless::Function":
            continue
        templates, statements = _dynamodb_policies(function)
        # No hand-written statement grants DynamoDB actions (Scan included)
        for statement in statements:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a.lower().startswith("dynamodb:") for a in actions), f"{name}: {actions}"
        # And every DynamoDB policy template is scoped to the table
        for policy, args in templates:
            assert policy in {"DynamoDBReadPolicy", "DynamoDBCrudPolicy"}, f"{name}: {policy}"
            assert args == {"TableName": {"Ref": "Table"}}, f"{name}: {policy} {args}"


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_operation_gets_the_least_table_access_it_needs(operation: str):
    method, path = OPERATIONS[operation]
    route = next(r for r in http_routes() if (r.method, r.path) == (method, path))
    templates, statements = _dynamodb_policies(sam_template()["Resources"][route.function])
    granted = {name for name, _ in templates}
    # Then health needs no table, reads get read access, writes get CRUD
    if operation in TABLELESS_OPERATIONS:
        assert granted == set()
    elif method == "GET":
        assert granted == {"DynamoDBReadPolicy"}
    else:
        assert granted == {"DynamoDBCrudPolicy"}
    assert len(templates) == len(granted), templates
    # And only the functions that start runs get a hand-written statement (test below)
    if route.function not in EXECUTION_ACTIONS:
        assert statements == [], statements


def test_only_the_functions_that_start_runs_may_start_executions_of_the_group_run_machine():
    # Given every function's hand-written statements
    for name, function in sam_template()["Resources"].items():
        if function["Type"] != "AWS::Serverless::Function":
            continue
        _, statements = _dynamodb_policies(function)
        starting = [s for s in statements if any(str(a).startswith("states:") for a in s["Action"])]
        # Then exactly the functions that start runs may, with exactly the actions their code calls, on that machine
        actions = sorted(a for statement in starting for a in statement["Action"])
        assert actions == EXECUTION_ACTIONS.get(name, []), (name, starting)
        for statement in starting:
            assert statement["Effect"] == "Allow"
            assert "-group-run" in statement["Resource"]["Fn::Sub"], statement


def test_translated_dynamodb_statements_name_only_the_table(translated: dict[str, Any]):
    # Given every IAM statement that grants DynamoDB actions after translation
    found = 0
    for name, resource in translated["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        policies = resource["Properties"].get("Policies", [])
        # a conditional policy (Fn::If [condition, policy, AWS::NoValue]) is checked like any other
        policies = [p["Fn::If"][1] if "Fn::If" in p else p for p in policies]
        for policy in policies:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if not any(a.startswith("dynamodb:") for a in actions):
                    continue
                found += 1
                resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                # Then each resource is the table (or its indexes), never "*"
                for res in resources:
                    assert res != "*", name
                    assert {"Ref": "Table"} in res["Fn::Sub"][1].values(), f"{name}: {res}"
    assert found > 0


# --- (e) authentication -----------------------------------------------------------------------------

OPEN_ROUTES = {("GET", "/v1/health")}


def _api_body(translated: dict[str, Any]) -> dict[str, Any]:
    apis = [r for r in translated["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert len(apis) == 1
    return apis[0]["Properties"]["Body"]


def test_authorizer_function_exists_reads_the_table_and_logs_to_its_own_group():
    # Given the template's authorizer function
    resources = sam_template()["Resources"]
    function = resources["AuthorizerFunction"]
    props = function["Properties"]
    # Then it is a function of its own folder, with a handler, read-only table access and no route of its own
    assert function["Type"] == "AWS::Serverless::Function"
    assert props["CodeUri"].rstrip("/") == "functions/authorizer"
    defines, _ = _handler_routes(ROOT / "functions" / "authorizer" / "app.py")
    assert defines
    templates, _ = _dynamodb_policies(function)
    assert templates == [("DynamoDBReadPolicy", {"TableName": {"Ref": "Table"}})]
    assert not props.get("Events")
    assert resources[props["LoggingConfig"]["LogGroup"]["Ref"]]["Type"] == "AWS::Logs::LogGroup"


def test_http_api_default_authorizer_is_the_lambda_request_authorizer():
    # Given the HttpApi's Auth
    auth = sam_template()["Resources"]["HttpApi"]["Properties"]["Auth"]
    config = auth["Authorizers"][auth["DefaultAuthorizer"]]
    # Then it is the authorizer function, payload 2.0 with simple responses, keyed on Authorization, cached 300 s
    assert config["FunctionArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert config["AuthorizerPayloadFormatVersion"] == "2.0"
    assert config["EnableSimpleResponses"] is True
    assert config["EnableFunctionDefaultPermissions"] is True
    assert config["Identity"] == {"Headers": ["Authorization"], "ReauthorizeEvery": 300}


def test_every_route_but_health_has_the_authorizer(translated: dict[str, Any]):
    # Given the generated OpenAPI body of the HTTP API
    body = _api_body(translated)
    scheme = body["components"]["securitySchemes"]["ApiKeyAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert scheme["type"] == "request"
    assert scheme["identitySource"] == ["$request.header.Authorization"]
    assert scheme["authorizerPayloadFormatVersion"] == "2.0"
    assert scheme["enableSimpleResponses"] is True
    assert scheme["authorizerResultTtlInSeconds"] == 300
    # Then health is explicitly open and every other route requires the Lambda authorizer
    seen = set()
    for path, item in body["paths"].items():
        for method, operation in item.items():
            route = (method.upper(), path)
            seen.add(route)
            expected = [{"NONE": []}] if route in OPEN_ROUTES else [{"ApiKeyAuthorizer": []}]
            assert operation.get("security") == expected, route
    assert OPEN_ROUTES <= seen
    assert len(seen) > len(OPEN_ROUTES)


def test_api_gateway_may_invoke_the_authorizer(translated: dict[str, Any]):
    # Given the translated Lambda permissions
    permissions = [r["Properties"] for r in translated["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"]
    # Then one lets API Gateway invoke the authorizer function (else every request is 500)
    assert any(
        p["FunctionName"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]} and p["Principal"] == "apigateway.amazonaws.com"
        for p in permissions
    ), permissions


def test_functions_run_in_api_key_mode_and_the_stream_function_checks_the_origin_secret(translated: dict[str, Any]):
    # Given every function's environment after Globals are merged in
    functions = {k: r for k, r in translated["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        # Then every function (the authorizer, and the stream function that checks keys itself) is in apikey mode
        assert variables["AUTH_MODE"] == "apikey", name
        assert variables["TABLE_NAME"] == {"Ref": "Table"}, name
    # And the stream function gets the CloudFront origin secret it requires
    stream = functions["StreamFunction"]["Properties"]["Environment"]["Variables"]
    assert stream["ORIGIN_SECRET"] == {"Ref": "OriginSecret"}


def test_the_local_runner_is_never_packaged():
    # Given every code location the template deploys
    uris = []
    for resource in load_template()["Resources"].values():
        props = resource.get("Properties", {})
        uris += [props[k] for k in ("CodeUri", "ContentUri") if isinstance(props.get(k), str)]
    assert uris
    # Then none is (or contains) the local runner
    for uri in uris:
        assert not uri.startswith("local"), uri
        assert not (ROOT / uri / "lettagroups_local").exists(), uri
