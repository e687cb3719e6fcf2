"""Reading template.yaml: the same route-to-function map and table definition the deployment uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as plain {"Tag": value} dicts."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_Loader.add_multi_constructor("!", _tag)


@lru_cache(maxsize=1)
def load_template(path: str = str(TEMPLATE)) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form: /v1/groups/{group_id}
    function: str  # logical id
    code_dir: Path
    handler: str
    pattern: re.Pattern[str]

    @property
    def specificity(self) -> tuple[int, int]:
        segments = self.path.strip("/").split("/")
        return (sum(1 for s in segments if not s.startswith("{")), len(segments))


def _pattern(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))
    return re.compile(f"^{regex}$")


def functions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load_template()
    return {
        name: resource for name, resource in template["Resources"].items() if resource.get("Type") == "AWS::Serverless::Function"
    }


def handler_of(name: str, template: dict[str, Any] | None = None) -> str:
    """A function's handler setting, falling back to Globals as SAM does."""
    template = template or load_template()
    default = template.get("Globals", {}).get("Function", {}).get("Handler", "app.lambda_handler")
    return str(template["Resources"][name]["Properties"].get("Handler", default))


def http_routes(template: dict[str, Any] | None = None) -> list[Route]:
    template = template or load_template()
    routes = []
    for name, resource in functions(template).items():
        props = resource.get("Properties", {})
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            method = event["Properties"]["Method"].upper()
            path = event["Properties"]["Path"]
            routes.append(
                Route(
                    method=method,
                    path=path,
                    function=name,
                    code_dir=ROOT / props["CodeUri"],
                    handler=handler_of(name, template),
                    pattern=_pattern(path),
                )
            )
    routes.sort(key=lambda r: r.specificity, reverse=True)
    return routes


def table_definition(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """CreateTable arguments from the `Table` resource, so tests and the runner never drift from it."""
    template = template or load_template()
    props = template["Resources"]["Table"]["Properties"]
    return {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "GlobalSecondaryIndexes": props.get("GlobalSecondaryIndexes", []),
        "BillingMode": props["BillingMode"],
    }
