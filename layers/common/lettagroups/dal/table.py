"""The DynamoDB client, item (de)serialisation and expression helpers.

The low-level client is used everywhere (transactions need it anyway); values
are converted between Python and DynamoDB types here, so Decimals never leak
into the models.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ..errors import PayloadTooLargeError, StorageUnavailableError
from ..settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
else:
    DynamoDBClient = Any

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

RETRYABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


@lru_cache(maxsize=1)
def client() -> DynamoDBClient:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 4, "mode": "standard"},
        max_pool_connections=50,
    )
    return boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.endpoint_url, config=config)


def table_name() -> str:
    return get_settings().table_name


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return {_from_dynamo(v) for v in value}
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def serialize_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(_to_dynamo(value))


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


class Expr:
    """Builds update/condition expressions that always name their attributes.

    Every attribute goes through ExpressionAttributeNames, so reserved words
    (`name`, `status`, ...) are safe and moto's `#a` gap never applies.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        placeholder = f"#n{len(self.names)}"
        for existing, attr in self.names.items():
            if attr == attribute:
                return existing
        self.names[placeholder] = attribute
        return placeholder

    def path(self, *parts: str) -> str:
        return ".".join(self.name(p) for p in parts)

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = serialize_value(value)
        return placeholder

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.names:
            params["ExpressionAttributeNames"] = self.names
        if self.values:
            params["ExpressionAttributeValues"] = self.values
        return params


def sort_key_range(expr: Expr, pk_attr: str, pk: str, sk_attr: str, prefix: str, after: str | None, before: str | None) -> str:
    """A key condition for the items of one kind (`prefix`) between two id cursors.

    Ids are UUIDv7, so `<prefix><id>` order is creation order. BETWEEN is inclusive: callers drop the
    cursor items themselves. Without a cursor the range is open (`$` sorts right after `#`).
    """
    lo = f"{prefix}{after}" if after else prefix
    hi = f"{prefix}{before}" if before else prefix[:-1] + "$"
    return f"{expr.name(pk_attr)} = {expr.value(pk)} AND {expr.name(sk_attr)} BETWEEN {expr.value(lo)} AND {expr.value(hi)}"


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def raise_if_unavailable(exc: BaseException) -> None:
    """Throttling and service faults become 503, an item over DynamoDB's 400 KB becomes 413; everything else propagates."""
    if error_code(exc) in RETRYABLE_CODES:
        raise StorageUnavailableError() from exc
    if error_code(exc) == "ValidationException" and "exceeded the maximum allowed size" in str(exc):
        raise PayloadTooLargeError("The object is too large to store") from exc
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ReadTimeoutError

    if isinstance(exc, (BotoConnectionError, ReadTimeoutError)):
        raise StorageUnavailableError() from exc


@contextmanager
def storage_request() -> Iterator[None]:
    """Around one DynamoDB request: its throttling, service and connection faults become 503, an oversize item 413
    (`raise_if_unavailable`); anything else propagates as it is."""
    try:
        yield
    except Exception as exc:
        raise_if_unavailable(exc)
        raise


# The attributes that place an item (its keys and index keys, its kind), never part of the record it holds.
KEY_ATTRIBUTES = frozenset({"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "entity"})


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    """An item's record fields: the item without its key attributes."""
    return {k: v for k, v in item.items() if k not in KEY_ATTRIBUTES}


def query_all(**params: Any) -> Iterator[dict[str, Any]]:
    """Yield every item of a query, following LastEvaluatedKey (1 MB pages; empty last page tolerated)."""
    c = client()
    params.setdefault("TableName", table_name())
    while True:
        with storage_request():
            page = c.query(**params)
        for item in page.get("Items", []):
            yield deserialize(item)
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        params["ExclusiveStartKey"] = last


def batch_get(keys: list[dict[str, Any]], consistent: bool = True) -> list[dict[str, Any]]:
    """BatchGetItem in chunks of 100 keys, retrying UnprocessedKeys."""
    import time

    c = client()
    found: list[dict[str, Any]] = []
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for k in keys:
        unique[(k["PK"]["S"], k["SK"]["S"])] = k
    pending = list(unique.values())
    while pending:
        chunk, pending = pending[:100], pending[100:]
        request = {table_name(): {"Keys": chunk, "ConsistentRead": consistent}}
        for attempt in range(6):
            with storage_request():
                response = c.batch_get_item(RequestItems=request)
            found.extend(deserialize(i) for i in response.get("Responses", {}).get(table_name(), []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise StorageUnavailableError()
    return found
