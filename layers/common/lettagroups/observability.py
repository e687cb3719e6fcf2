"""One Logger, Tracer and Metrics per process, configured by POWERTOOLS_* environment variables.

The tracer is Powertools' Tracer made lazily (`LazyTracer`): building it imports the X-Ray SDK and patches
libraries, which a cold start should not pay before it has a request. It is built when the handler is first
invoked, patching botocore only (every DynamoDB, Step Functions and Bedrock call). Powertools' default would
patch every library the X-Ray SDK knows that happens to be importable, which imports httpx, sqlite3 and
http.client into every function; the OpenAI-compatible provider instead asks for httpx to be traced when it
makes its first client (`trace_httpx`).
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any, Optional

from aws_lambda_powertools import Logger, Metrics

# Most requests publish no custom metric; that is expected, not worth a warning per invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

PATCHED_AT_START = ("botocore",)


class LazyTracer:
    """Powertools' Tracer, built on first use. Offers what the handlers use: `capture_lambda_handler` (same
    arguments) and `get()` for anything else."""

    def __init__(self) -> None:
        self._tracer: Any = None
        self._lock = threading.Lock()
        self._patched: set[str] = set()

    def get(self) -> Any:
        with self._lock:
            if self._tracer is None:
                from aws_lambda_powertools import Tracer

                self._tracer = Tracer(patch_modules=PATCHED_AT_START)
                self._patched.update(PATCHED_AT_START)
            return self._tracer

    def patch(self, module: str) -> None:
        """Trace a library from now on (once), if tracing is on."""
        tracer = self.get()
        with self._lock:
            if module in self._patched or tracer.disabled:
                return
            self._patched.add(module)
        tracer.patch(modules=(module,))

    def capture_lambda_handler(
        self,
        lambda_handler: Optional[Callable[..., Any]] = None,
        capture_response: Optional[bool] = None,
        capture_error: Optional[bool] = None,
    ) -> Any:
        if lambda_handler is None:
            return functools.partial(self.capture_lambda_handler, capture_response=capture_response, capture_error=capture_error)
        handler = lambda_handler
        traced: list[Callable[..., Any]] = []

        @functools.wraps(handler)
        def decorate(event: Any, context: Any, **kwargs: Any) -> Any:
            if not traced:
                traced.append(
                    self.get().capture_lambda_handler(handler, capture_response=capture_response, capture_error=capture_error)
                )
            return traced[0](event, context, **kwargs)

        return decorate


logger = Logger()
tracer = LazyTracer()
metrics = Metrics()


def trace_httpx() -> None:
    """Called before the first httpx client is made, so model calls appear in traces like AWS calls do."""
    tracer.patch("httpx")
