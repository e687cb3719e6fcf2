"""GET /v1/agents: the organization's agents in creation order."""

from typing import Annotated, Any, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from lettagroups.api.app import create_app, current_actor, json_response, make_handler, ok
from lettagroups.logic import agents
from lettagroups.models.agents import AgentState

app = create_app()


@app.get("/v1/agents", operation_id="list_agents", responses=ok(list[AgentState]))
def list_agents(
    name: Annotated[Optional[str], Query(max_length=500)] = None,
    tags: Annotated[Optional[list[str]], Query()] = None,
    match_all_tags: Annotated[bool, Query()] = False,
    before: Annotated[Optional[str], Query(max_length=200)] = None,
    after: Annotated[Optional[str], Query(max_length=200)] = None,
    limit: Annotated[Optional[int], Query(ge=0, le=10_000)] = 50,
    project_id: Annotated[Optional[str], Query(max_length=500)] = None,
) -> Response[Any]:
    return json_response(
        agents.list_agents(
            current_actor(app),
            name=name,
            tags=tags,
            match_all_tags=match_all_tags,
            after=after,
            before=before,
            limit=limit,
            project_id=project_id,
        )
    )


lambda_handler = make_handler(app)
