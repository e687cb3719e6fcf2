"""template.yaml: what a deployment relies on beyond the routes (data retention, CloudFront's origin secret, provider
keys from a secret store, least privilege for every function that resolves its caller, the stream function's cap).

Iterates over every function of the template, never a fixed list, so new functions are held to the same rules.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from lettagroups_local.artifacts import parse_template, resolve

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
# What a handler calls to learn its caller: each reads the table (a user_id header, an API key, a user lookup).
CALLER_RESOLVERS = {"current_actor", "actor_from_event", "actor_for_stream", "authenticate"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return parse_template(TEMPLATE)


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert found
    return found


def test_the_table_survives_stack_deletion_and_replacement(template):
    # Given the one table, holding every group, agent and transcript
    table = template["Resources"]["Table"]
    # Then deleting the stack or replacing the table keeps it
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize(
    ("enable", "secret", "deployable"),
    [("true", "", False), ("true", "0123456789abcdef0123", True), ("false", "", True), ("false", "0123456789abcdef0123", True)],
)
def test_cloudfront_cannot_be_enabled_without_an_origin_secret(template, enable: str, secret: str, deployable: bool):
    # Given the template's rules, evaluated for these parameter values as CloudFormation evaluates them
    refs = {"EnableCloudFront": enable, "OriginSecret": secret}
    verdicts = []
    for rule in template["Rules"].values():
        applies = resolve(rule.get("RuleCondition", True), template, refs)
        verdicts += [not applies or bool(resolve(a["Assert"], template, refs)) for a in rule["Assertions"]]
    # Then CloudFront with an empty origin secret (an open function URL) is refused, everything else deploys
    assert all(verdicts) is deployable


def test_the_origin_secret_must_be_long_when_set(template):
    import re

    pattern = re.compile(template["Parameters"]["OriginSecret"]["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("a" * 16)
    assert not pattern.fullmatch("short") and not pattern.fullmatch("has spaces in it, 16+")


def test_provider_keys_come_from_a_secret_store_never_a_plain_environment_value(template):
    # Given the key parameter and every function's environment
    parameter = template["Parameters"]["OpenAIApiKeySecretArn"]
    assert parameter["Default"] == ""
    import re

    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("arn:aws:secretsmanager:us-east-1:123456789012:secret:openai-AbCdEf")
    assert pattern.fullmatch("arn:aws:ssm:eu-west-1:123456789012:parameter/letta/openai")
    assert not pattern.fullmatch("sk-live-key-pasted-by-mistake")
    globals_env = template["Globals"]["Function"].get("Environment", {}).get("Variables", {})
    readers = []
    for name, function in functions(template).items():
        variables = {**globals_env, **function["Properties"].get("Environment", {}).get("Variables", {})}
        # Then no function is given a key in its environment, only the secret's ARN
        assert "OPENAI_API_KEY" not in variables, name
        if "OPENAI_API_KEY_SECRET_ARN" in variables:
            assert variables["OPENAI_API_KEY_SECRET_ARN"] == {"Ref": "OpenAIApiKeySecretArn"}
            readers.append(name)
        # And only a function given the ARN may read it: exactly that resource, only when it is set
        grants = [
            p
            for p in function["Properties"].get("Policies") or []
            if isinstance(p, dict) and "Fn::If" in p and p["Fn::If"][0] == "WithOpenAIApiKeySecret"
        ]
        assert len(grants) == (1 if name in readers else 0), name
        for grant in grants:
            _, policy, otherwise = grant["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            (statement,) = policy["Statement"]
            assert statement["Resource"] == {"Ref": "OpenAIApiKeySecretArn"}
            assert sorted(statement["Action"]) == ["secretsmanager:GetSecretValue", "ssm:GetParameter"]
    # And some function reads it (today the group-run task, which calls the models)
    assert readers, "no function is given the provider key's ARN"
    assert template["Conditions"]["WithOpenAIApiKeySecret"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "OpenAIApiKeySecretArn"}, ""]}]
    }


def _calls_a_caller_resolver(code_dir: Path) -> bool:
    for path in code_dir.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name in CALLER_RESOLVERS:
                    return True
    return False


def test_every_function_that_resolves_its_caller_may_read_the_table(template):
    # Given every function whose code resolves the caller (which reads users or keys from the table)
    checked = 0
    for name, function in functions(template).items():
        props = function["Properties"]
        if not _calls_a_caller_resolver(ROOT / props["CodeUri"]):
            continue
        checked += 1
        # Then it has read (or read-write) access to the table, else a `user_id` header or a key check is a 500
        granted = {
            policy_name
            for policy in props.get("Policies") or []
            if isinstance(policy, dict)
            for policy_name, args in policy.items()
            if policy_name in ("DynamoDBReadPolicy", "DynamoDBCrudPolicy") and args == {"TableName": {"Ref": "Table"}}
        }
        assert granted, f"{name} resolves its caller but cannot read the table"
    assert checked >= 2  # the OpenAPI document and the stream function at least


def test_the_public_stream_function_url_has_a_concurrency_cap(template):
    # Given the stream function (a public function URL: anyone can call it)
    parameter = template["Parameters"]["StreamReservedConcurrency"]
    stream = next(f for f in functions(template).values() if "FunctionUrlConfig" in f["Properties"])
    # Then its reserved concurrency is a parameter with a default cap, and 0 means none (low-quota accounts)
    assert parameter["Type"] == "Number" and parameter["Default"] > 0 and parameter["MinValue"] == 0
    assert stream["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["WithStreamConcurrencyCap", {"Ref": "StreamReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert resolve({"Condition": "WithStreamConcurrencyCap"}, template, {}) is True
    assert resolve({"Condition": "WithStreamConcurrencyCap"}, template, {"StreamReservedConcurrency": "0"}) is False
