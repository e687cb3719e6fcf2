"""The local runner relies on a moto internal; these tests fail loudly when moto changes it."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_moto_is_the_pinned_version():
    # Given the pin in pyproject.toml
    pinned = next(line for line in (ROOT / "pyproject.toml").read_text().splitlines() if "moto[" in line)
    # Then the installed moto is exactly that version
    assert f"=={version('moto')}" in pinned


def test_every_moto_internal_we_patch_still_exists():
    # Given the moto internals the local emulation changes (lettagroups_local/moto_patches.py)
    import importlib

    from lettagroups_local.moto_patches import PATCH_TARGETS

    for module_name, attribute in PATCH_TARGETS:
        # Then each one is still there to patch
        target = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)


def test_simple_lambda_backend_invoke_has_the_signature_we_patch():
    # Given moto's simple Lambda backend, as moto ships it (read from its source, since the emulation replaced it)
    import ast

    import moto.awslambda_simple.models as simple

    from lettagroups_local.moto_patches import EXPECTED_INVOKE_PARAMS

    tree = ast.parse(Path(simple.__file__).read_text())
    backend = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "LambdaSimpleBackend")
    invoke = next(n for n in backend.body if isinstance(n, ast.FunctionDef) and n.name == "invoke")
    # Then its invoke method still takes the parameters our in-process dispatcher expects
    assert [a.arg for a in invoke.args.args] == EXPECTED_INVOKE_PARAMS


@pytest.mark.skipif(
    shutil.which("npx") is None or not (ROOT / "node_modules" / ".bin" / "asl-validator").exists(),
    reason="asl-validator (npm) not installed",
)
def test_every_state_machine_definition_passes_asl_validator():
    # Given every ASL file of the project
    definitions = sorted((ROOT / "statemachines").glob("*.asl.json"))
    assert definitions
    for path in definitions:
        # When asl-validator checks it
        result = subprocess.run(
            [str(ROOT / "node_modules" / ".bin" / "asl-validator"), "--json-path", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # Then it is valid
        assert result.returncode == 0, result.stdout + result.stderr


def test_definitions_use_jsonpath_only():
    # Given every ASL file: moto's interpreter (and so `make run`) cannot execute JSONata or variables
    definitions = sorted((ROOT / "statemachines").glob("*.asl.json"))
    assert definitions
    for path in definitions:
        text = path.read_text()
        definition = json.loads(text)
        # Then none opts into JSONata or uses Assign
        assert definition.get("QueryLanguage", "JSONPath") == "JSONPath"
        assert '"Assign"' not in text and "JSONata" not in text


def test_journaled_transactions_still_roll_back_whole(emulation):
    # Given the per-item journal that replaces moto's whole-table backup (lettagroups_local.emulation)
    import uuid

    from botocore.exceptions import ClientError

    from lettagroups.dal.table import client, table_name

    pk = f"TEST#{uuid.uuid4()}"
    c = client()
    c.put_item(TableName=table_name(), Item={"PK": {"S": pk}, "SK": {"S": "kept"}, "v": {"N": "1"}})
    # When a transaction changes one item, adds another, then fails a condition on a third
    actions = [
        {"Put": {"TableName": table_name(), "Item": {"PK": {"S": pk}, "SK": {"S": "kept"}, "v": {"N": "2"}}}},
        {"Put": {"TableName": table_name(), "Item": {"PK": {"S": pk}, "SK": {"S": "new"}}}},
        {
            "ConditionCheck": {
                "TableName": table_name(),
                "Key": {"PK": {"S": pk}, "SK": {"S": "missing"}},
                "ConditionExpression": "attribute_exists(PK)",
            }
        },
    ]
    with pytest.raises(ClientError) as cancelled:
        c.transact_write_items(TransactItems=actions)
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    # Then nothing of it remains: the changed item is back, the added one is gone
    items = c.query(
        TableName=table_name(), KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": pk}}, ConsistentRead=True
    )["Items"]
    assert [(i["SK"]["S"], i["v"]["N"]) for i in items] == [("kept", "1")]


def test_table_queries_read_the_partition_and_page_as_dynamodb_does(emulation):
    # Given a partition of 12 messages and 2 other items, and a neighbouring partition (lettagroups_local's query)
    import uuid

    from lettagroups.dal.table import client, table_name

    c, table = client(), table_name()
    pk, other = f"TEST#{uuid.uuid4()}", f"TEST#{uuid.uuid4()}"
    for i in range(12):
        c.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": f"MSG#{i:03d}"}, "n": {"N": str(i)}})
    c.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": "EVT#001"}})
    c.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": "STEP#a"}})
    c.put_item(TableName=table, Item={"PK": {"S": other}, "SK": {"S": "MSG#005"}})

    def pages(**params: object) -> list[list[str]]:
        out, start = [], None
        while True:
            extra = {"ExclusiveStartKey": start} if start else {}
            page = c.query(TableName=table, ConsistentRead=True, **params, **extra)  # type: ignore[arg-type]
            out.append([i["SK"]["S"] for i in page["Items"]])
            start = page.get("LastEvaluatedKey")
            if not start:
                return out

    between = {
        "KeyConditionExpression": "PK = :p AND SK BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {":p": {"S": pk}, ":lo": {"S": "MSG#"}, ":hi": {"S": "MSG$"}},
    }
    # When it is read in pages of 5, forwards and backwards
    forward = pages(Limit=5, **between)
    backward = pages(Limit=5, ScanIndexForward=False, **between)
    # Then each page continues where the last stopped, within the key range and the partition only
    assert forward == [[f"MSG#{i:03d}" for i in range(s, min(s + 5, 12))] for s in (0, 5, 10)]
    assert [sk for page in backward for sk in page] == [f"MSG#{i:03d}" for i in reversed(range(12))]
    # And begins_with, a filter (applied after the limit) and a projection work as on DynamoDB
    prefix = {
        "KeyConditionExpression": "PK = :p AND begins_with(SK, :s)",
        "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"S": "STEP#"}},
    }
    assert pages(**prefix) == [["STEP#a"]]
    filtered = c.query(
        TableName=table,
        Limit=4,
        FilterExpression="n > :two",
        **{**between, "ExpressionAttributeValues": {**between["ExpressionAttributeValues"], ":two": {"N": "2"}}},  # type: ignore[dict-item]
    )
    assert [i["SK"]["S"] for i in filtered["Items"]] == ["MSG#003"] and filtered["ScannedCount"] == 4
    projected = c.query(TableName=table, ProjectionExpression="SK", Limit=1, **between)  # type: ignore[arg-type]
    assert projected["Items"] == [{"SK": {"S": "MSG#000"}}]
