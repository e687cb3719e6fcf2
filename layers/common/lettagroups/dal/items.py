"""Generic single-item operations used by the agent, block and user repositories."""

from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import ClientError

from .table import Expr, client, deserialize, error_code, key, raise_if_unavailable, serialize, table_name


class ConditionFailed(Exception):
    """A conditional write did not apply (the item is missing, exists already, or changed)."""


def get(pk: str, sk: str) -> Optional[dict[str, Any]]:
    try:
        response = client().get_item(TableName=table_name(), Key=key(pk, sk), ConsistentRead=True)
    except ClientError as exc:
        raise_if_unavailable(exc)
        raise
    item = response.get("Item")
    return deserialize(item) if item else None


def put_new(item: dict[str, Any]) -> None:
    """Put that refuses to overwrite an existing item."""
    expr = Expr()
    try:
        client().put_item(
            TableName=table_name(),
            Item=serialize(item),
            ConditionExpression=f"attribute_not_exists({expr.name('SK')})",
            **expr.params(),
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            raise ConditionFailed() from exc
        raise_if_unavailable(exc)
        raise


def replace_versioned(item: dict[str, Any], expected_version: int) -> None:
    """Replace an item only if its `version` is still `expected_version` (and it still exists)."""
    expr = Expr()
    item = {**item, "version": expected_version + 1}
    try:
        client().put_item(
            TableName=table_name(),
            Item=serialize(item),
            ConditionExpression=f"{expr.name('version')} = {expr.value(expected_version)}",
            **expr.params(),
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            raise ConditionFailed() from exc
        raise_if_unavailable(exc)
        raise


def delete_existing(pk: str, sk: str) -> None:
    expr = Expr()
    try:
        client().delete_item(
            TableName=table_name(),
            Key=key(pk, sk),
            ConditionExpression=f"attribute_exists({expr.name('SK')})",
            **expr.params(),
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            raise ConditionFailed() from exc
        raise_if_unavailable(exc)
        raise


def transact(actions: list[dict[str, Any]]) -> None:
    try:
        client().transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if error_code(exc) == "TransactionCanceledException":
            raise ConditionFailed() from exc
        raise_if_unavailable(exc)
        raise


def put_action(item: dict[str, Any], must_be_new: bool = True) -> dict[str, Any]:
    action: dict[str, Any] = {"TableName": table_name(), "Item": serialize(item)}
    if must_be_new:
        expr = Expr()
        action["ConditionExpression"] = f"attribute_not_exists({expr.name('SK')})"
        action.update(expr.params())
    return {"Put": action}


def delete_action(pk: str, sk: str, must_exist: bool = False) -> dict[str, Any]:
    action: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk)}
    if must_exist:
        expr = Expr()
        action["ConditionExpression"] = f"attribute_exists({expr.name('SK')})"
        action.update(expr.params())
    return {"Delete": action}


def replace_action(item: dict[str, Any], expected_version: int) -> dict[str, Any]:
    expr = Expr()
    return {
        "Put": {
            "TableName": table_name(),
            "Item": serialize({**item, "version": expected_version + 1}),
            "ConditionExpression": f"{expr.name('version')} = {expr.value(expected_version)}",
            **expr.params(),
        }
    }
