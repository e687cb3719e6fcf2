"""Async-send callbacks: when a run with a `callback_url` finishes, POST its Run to that URL once.

Best effort with a short deadline: a slow or failing receiver never fails or delays the run
beyond the timeout; what happened is recorded on the run (`callback_sent_at`,
`callback_status_code`, or `callback_error`).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime

from ..dal import runs as runs_dal
from ..observability import logger

TIMEOUT_SECONDS = 5.0


def send_callback(org_id: str, run_id: str) -> None:
    run = runs_dal.get_run(org_id, run_id)
    if run is None or not run.callback_url or run.callback_sent_at:
        return  # no callback asked for, or already sent by an earlier attempt of this task
    if not run.callback_url.startswith(("http://", "https://")):
        runs_dal.update_run(org_id, run_id, {"callback_error": "callback_url must be http(s)"}, unless_terminal=False)
        return
    body = run.to_run().model_dump_json().encode()
    request = urllib.request.Request(run.callback_url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    fields: dict[str, object] = {"callback_sent_at": datetime.now(UTC).isoformat()}
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) checked above
            fields["callback_status_code"] = response.status
    except urllib.error.HTTPError as exc:
        fields["callback_status_code"] = exc.code
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        logger.warning("run callback failed", extra={"run_id": run_id, "error": str(exc)})
        fields["callback_error"] = str(exc)[:500]
    runs_dal.update_run(org_id, run_id, fields, unless_terminal=False)


__all__ = ["send_callback"]
