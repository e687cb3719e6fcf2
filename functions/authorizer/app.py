"""Lambda REQUEST authorizer of the HTTP API (payload format 2.0, simple responses).

`Authorization: Bearer <key>` → SHA-256 → one GetItem of APIKEY#<hash> → allow with the key's
organization and user as context, which handlers read from requestContext.authorizer.lambda
(api/identity.py). In password mode the bearer must be the server password (the default user).
API Gateway caches the answer per Authorization value (ReauthorizeEvery).

Invalid credentials are answered with an allow whose context says `denied`, and every handler
then refuses with 401 {"detail": "Unauthorized"} (api/identity.py) before touching data. A plain
deny would make API Gateway answer 403 {"message": "Forbidden"}, while the contract (§2.3) and
letta-client expect 401 for bad credentials; a missing Authorization header never reaches this
function (API Gateway answers 401 itself).

A storage fault is raised, not turned into a deny: API Gateway then answers 500 and caches nothing,
instead of telling a valid caller that their key is wrong.
"""

from typing import Any

from lettagroups.auth.credentials import OPEN, auth_mode, authenticate
from lettagroups.observability import logger


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if auth_mode() == OPEN:
        # No credentials to check; with no context, handlers apply the open-mode rules (contract §2.1).
        return {"isAuthorized": True}
    actor = authenticate(event.get("headers") or {})
    if actor is None:
        logger.info("denied", extra={"route_arn": event.get("routeArn")})  # never log the credential itself
        return {"isAuthorized": True, "context": {"denied": True}}
    return {
        "isAuthorized": True,
        "context": {"organization_id": actor.organization_id, "user_id": actor.user_id},
    }
