"""Generic single-item operations used by the agent, block and user repositories."""

from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import ClientError

from ..errors import StorageUnavailableError
from .table import Expr, client, deserialize, error_code, key, raise_if_unavailable, serialize, storage_request, table_name

# Cancellation reasons that say "try again", not "your condition failed" or "your request is wrong".
TRANSIENT_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}


class ConditionFailed(Exception):
    """A conditional write did not apply (the item is missing, exists already, or changed).

    For a transaction, `reasons` are DynamoDB's cancellation codes in request order, so a caller can
    tell which of its actions failed.
    """

    def __init__(self, reasons: list[str] | None = None) -> None:
        super().__init__(", ".join(reasons or ["ConditionalCheckFailed"]))
        self.reasons = reasons or ["ConditionalCheckFailed"]


def get(pk: str, sk: str) -> Optional[dict[str, Any]]:
    """One item by key, strongly consistent (None when absent)."""
    with storage_request():
        response = client().get_item(TableName=table_name(), Key=key(pk, sk), ConsistentRead=True)
    item = response.get("Item")
    return deserialize(item) if item else None


def write_if(operation: str, **params: Any) -> Optional[dict[str, Any]]:
    """A conditional single-item write (`put_item`, `update_item`, `delete_item`): its response, or None
    when its ConditionExpression did not hold. Throttling and service faults become StorageUnavailableError."""
    try:
        return dict(getattr(client(), operation)(TableName=table_name(), **params))
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return None
        raise_if_unavailable(exc)
        raise


def put_new(item: dict[str, Any]) -> None:
    """Put that refuses to overwrite an existing item (ConditionFailed)."""
    expr = Expr()
    condition = f"attribute_not_exists({expr.name('SK')})"
    if write_if("put_item", Item=serialize(item), ConditionExpression=condition, **expr.params()) is None:
        raise ConditionFailed()


def transact(actions: list[dict[str, Any]]) -> None:
    """TransactWriteItems. A failed condition is ConditionFailed (with the reasons of every action);
    a cancellation for contention or throttling is StorageUnavailableError, which callers retry."""
    try:
        client().transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if error_code(exc) == "TransactionCanceledException":
            reasons = [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons") or []]
            if "ConditionalCheckFailed" in reasons:
                raise ConditionFailed(reasons) from exc
            if TRANSIENT_REASONS & set(reasons):
                raise StorageUnavailableError() from exc
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
