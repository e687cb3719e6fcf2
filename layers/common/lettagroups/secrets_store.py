"""Secrets (model provider API keys) from AWS Secrets Manager or SSM Parameter Store, read once per process.

A reference is a Secrets Manager secret ARN (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>`),
an SSM parameter ARN (`arn:aws:ssm:<region>:<account>:parameter/<name>`) or an SSM parameter name (`/<name>`;
SecureString parameters are decrypted). The value is the key itself, or a JSON object holding it under
`api_key` (or as its only value), which is how the Secrets Manager console stores key/value secrets.

The deployed template grants the task function read access to exactly the one ARN it passes in
(`OpenAIApiKeySecretArn`), and nothing is ever put in a plain environment variable. A value is cached for the
life of the execution environment: a rotated key reaches new environments at once and warm ones when they are
recycled (or redeploy to force it).
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from typing import Any

_lock = threading.Lock()
_values: dict[str, str] = {}


class SecretUnavailable(Exception):
    """The secret could not be read. `retryable`: a throttle or an outage rather than a missing secret or permission."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def _service_and_region(reference: str) -> tuple[str, str | None]:
    if reference.startswith("arn:"):
        parts = reference.split(":")
        if len(parts) >= 6 and parts[2] in ("secretsmanager", "ssm"):
            return parts[2], parts[3] or None
        raise SecretUnavailable(f"not a Secrets Manager or SSM parameter ARN: {reference}", retryable=False)
    return "ssm", None


@lru_cache(maxsize=8)
def _client(service: str, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client(service, region_name=region, config=Config(connect_timeout=2, read_timeout=5))


def _unwrap(value: str) -> str:
    try:
        parsed = json.loads(value)
    except ValueError:
        return value.strip()
    if isinstance(parsed, dict):
        if "api_key" in parsed:
            return str(parsed["api_key"])
        if len(parsed) == 1:
            return str(next(iter(parsed.values())))
        raise SecretUnavailable("the secret is a JSON object without an `api_key` field", retryable=False)
    return value.strip()


def _fetch(reference: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    service, region = _service_and_region(reference)
    client = _client(service, region)
    try:
        if service == "secretsmanager":
            return _unwrap(str(client.get_secret_value(SecretId=reference)["SecretString"]))
        return _unwrap(str(client.get_parameter(Name=reference, WithDecryption=True)["Parameter"]["Value"]))
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code") or "")
        retryable = code in ("ThrottlingException", "InternalServiceError", "InternalServerError", "ServiceUnavailable")
        raise SecretUnavailable(f"{code}: {exc.response.get('Error', {}).get('Message', exc)}", retryable=retryable) from exc
    except BotoCoreError as exc:
        raise SecretUnavailable(f"{type(exc).__name__}: {exc}", retryable=True) from exc


def read_secret(reference: str) -> str:
    """The secret's value, fetched on first use and then served from memory."""
    with _lock:
        if reference not in _values:
            _values[reference] = _fetch(reference)
        return _values[reference]


def clear_cache() -> None:
    with _lock:
        _values.clear()
    _client.cache_clear()
