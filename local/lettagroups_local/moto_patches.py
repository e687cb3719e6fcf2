"""Every moto internal the local emulation relies on, changed in this one module (never in the layer).

moto is pinned exactly in pyproject.toml, and tests/workflow/test_moto_contract.py fails loudly when an attribute
patched here changes. Each patch either makes moto behave like AWS where the project needs it (Lambda tasks that
run this repository's handlers, synchronous Express executions, thread safety) or removes a cost that exists only
in the emulator (whole-table copies, re-parsing the state machine, a generic response serializer, a new boto3
client per Lambda task). None changes what a request returns.
"""

from __future__ import annotations

import copy as std_copy
import inspect
import json
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXPECTED_INVOKE_PARAMS = ["self", "function_name", "qualifier", "body", "headers", "response_headers"]
SYNC_STATES_URL = r"https?://sync-states\.(.+)\.amazonaws.com"
_applied: set[str] = set()
_dynamodb_lock = threading.RLock()

# (module, attribute) of every moto internal patched below; tests/workflow/test_moto_contract.py checks they exist.
PATCH_TARGETS = [
    ("moto.dynamodb.responses", "DynamoHandler.call_action"),
    ("moto.dynamodb.models", "DynamoDBBackend.transact_write_items"),
    ("moto.dynamodb.models", "copy"),
    ("moto.dynamodb.responses", "DynamoResult.execute_result"),
    ("moto.stepfunctions.parser.backend.execution_worker", "ExecutionWorker._get_evaluation_entrypoint"),
    ("moto.stepfunctions.parser.asl.utils.boto_client", "boto_client_for"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils", "boto_client_for"),
    ("moto.awslambda_simple.models", "LambdaSimpleBackend.invoke"),
    ("moto.stepfunctions.parser.backend.execution", "SyncExecution"),
    ("moto.stepfunctions.urls", "url_bases"),
    ("moto.backend_index", "backend_url_patterns"),
    ("moto.core.responses", "BaseResponse.call_action"),
    ("moto.dynamodb.models.table", "Table.query"),
    ("moto.dynamodb.models.table", "Table._get_last_evaluated_key"),
    ("moto.dynamodb.models.table", "RESULT_SIZE_LIMIT"),
]


def _once(name: str) -> bool:
    if name in _applied:
        return False
    _applied.add(name)
    return True


def serialise_dynamodb() -> None:
    """moto's DynamoDB backend is not thread-safe (queries iterate dicts that writers change), so its requests take
    turns, whether they arrive in-process or over HTTP. Other services stay concurrent: a Step Functions task runs a
    handler that calls DynamoDB, and one lock across both would deadlock."""
    if not _once("serialise_dynamodb"):
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _dynamodb_lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def journal_transactions() -> None:
    """TransactWriteItems rolls back per item instead of deep-copying whole tables.

    moto 5.2.5 deep-copies the entire table once per action of every transaction, so a write costs time proportional
    to the table. This keeps moto's own evaluation of the actions and replaces only the backup: the items an action
    touches are saved before the call and put back if it fails. Equivalent because DynamoDB requests take turns
    (`serialise_dynamodb`).
    """
    if not _once("journal_transactions"):
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    class _TablesByReference:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else std_copy.deepcopy(value, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        journal: list[tuple[str, dict[str, Any], Any]] = []
        for action in transact_items:
            for op_type, op in action.items():
                table = self.tables.get(op.get("TableName"))
                source = op.get("Item") if op_type == "Put" else op.get("Key")
                if table is None or not isinstance(source, dict):
                    continue
                try:
                    key = {table.hash_key_attr: source[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = source[table.range_key_attr]
                    current = self.get_item(table.name, key)
                except Exception:  # noqa: BLE001 - moto reports the malformed action itself
                    continue
                journal.append((table.name, key, current.to_json()["Attributes"] if current else None))
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, previous in reversed(journal):
                if previous is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, previous, overwrite=True)
            raise

    transact_write_items.journaled = True  # type: ignore[attr-defined]
    models.copy = _TablesByReference  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def fast_dynamodb_results() -> None:
    """DynamoDB answers are already DynamoDB JSON once moto has turned its items into dicts, so they are written with
    `json.dumps` instead of moto's generic, shape-driven serializer (which took longer than the query itself)."""
    if not _once("fast_dynamodb_results"):
        return
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    def execute_result(self: Any, context: Any) -> Any:
        try:
            body = json.dumps(self.result)
        except (TypeError, ValueError):
            return ActionResult.execute_result(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def fast_table_queries() -> None:
    """Query on the table itself reads only the queried partition, as DynamoDB does.

    moto 5.2.5 walks every item of the table for each Query, compares range keys through its generic type machinery,
    sizes every candidate and deep-copies the page, so a query's cost grows with the whole table. Here the partition
    is taken by its key, ordered and compared on the plain string sort keys, and the page is returned as moto would
    (limit, 1 MB page, LastEvaluatedKey, filter and projection after the limit). Index queries, legacy
    `QueryFilter`s and non-string sort keys keep moto's own path.
    """
    if not _once("fast_table_queries"):
        return
    from moto.dynamodb.comparisons import get_comparison_func
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

    original = Table.query

    def query(
        self: Any,
        hash_key: Any,
        range_comparison: Any,
        range_objs: Any,
        limit: Any,
        exclusive_start_key: Any,
        scan_index_forward: Any,
        projection_expressions: Any,
        index_name: Any = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        **rest: Any,
    ) -> Any:
        filter_kwargs = {k: v for k, v in rest.items() if k not in ("hash_key_conditions", "range_key_conditions")}
        partition = self.items.get(hash_key) if hash_key is not None and self.range_key_attr else None
        keyed = [(item.range_key.value, item) for item in partition.values()] if isinstance(partition, dict) else []
        if index_name or filter_kwargs or not isinstance(partition, dict) or any(not isinstance(k, str) for k, _ in keyed):
            return original(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                **rest,
            )
        keyed.sort(key=lambda pair: pair[0], reverse=scan_index_forward is False)
        if range_comparison:
            compare = get_comparison_func(range_comparison)
            bounds = [obj.cast_value for obj in range_objs]
            keyed = [(k, item) for k, item in keyed if compare(k, *bounds)]
        if exclusive_start_key is not None:
            raw = exclusive_start_key[self.range_key_attr]
            start = next(iter(raw.values())) if isinstance(raw, dict) else raw.cast_value
            keyed = [(k, item) for k, item in keyed if (k > start if scan_index_forward is not False else k < start)]
        results: list[Any] = []
        size = 0
        last_evaluated_key = None
        for _, item in keyed:
            item_size = item.size()
            if len(results) == limit or size + item_size > RESULT_SIZE_LIMIT:
                last_evaluated_key = self._get_last_evaluated_key(results[-1], None)
                break
            results.append(item)
            size += item_size
        scanned_count = len(results)
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expressions:
            results = [item.project(projection_expressions) for item in results]
        return results, scanned_count, last_evaluated_key

    Table.query = query  # type: ignore[method-assign, assignment]


def cache_state_machine_programs() -> None:
    """Parse each state machine definition once (moto parses the ASL with ANTLR at every execution). The parsed
    program holds no execution state: each execution evaluates it in its own environment."""
    if not _once("cache_state_machine_programs"):
        return
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_entrypoint
    programs: dict[str, Any] = {}
    lock = threading.Lock()

    def _get_evaluation_entrypoint(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        with lock:
            if definition not in programs:
                programs[definition] = original(self)
            return programs[definition]

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint  # type: ignore[method-assign]


def cache_task_clients() -> None:
    """One boto3 client per (service, region) for the interpreter's Lambda tasks, as a task runner keeps its
    connections; moto creates a new client (a second of set-up over a run) for every task."""
    if not _once("cache_task_clients"):
        return
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_eval_utils
    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client

    original = boto_client.boto_client_for
    clients: dict[tuple[str, str, bool], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        from moto.core.models import botocore_stubber

        key = (region, service, bool(botocore_stubber.enabled))
        with lock:
            if key not in clients:
                clients[key] = original(region=region, service=service, state_credentials=state_credentials)
            return clients[key]

    boto_client.boto_client_for = boto_client_for
    lambda_eval_utils.boto_client_for = boto_client_for  # type: ignore[attr-defined]


def in_process_lambda(dispatch: Callable[[str, dict[str, Any]], Any]) -> None:
    """Lambda invocations (the state machine's tasks) run `dispatch(function_name, payload)` in this process,
    reporting an exception as Lambda reports an unhandled error (`x-amz-function-error: Unhandled`)."""
    import moto.awslambda_simple.models as simple

    params = list(inspect.signature(simple.LambdaSimpleBackend.invoke).parameters)
    if params != EXPECTED_INVOKE_PARAMS and not getattr(simple.LambdaSimpleBackend.invoke, "in_process", False):
        raise RuntimeError(f"moto's LambdaSimpleBackend.invoke changed: {params}; update lettagroups_local.moto_patches")

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> bytes:
        payload = json.loads(body or "{}")
        try:
            return json.dumps(dispatch(function_name.split(":")[-1], payload)).encode()
        except Exception as exc:  # noqa: BLE001 - reported exactly as Lambda reports an unhandled error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()

    invoke.in_process = True  # type: ignore[attr-defined]
    simple.LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def sync_executions() -> None:
    """StartSyncExecution for Express state machines, as AWS runs it: the execution runs to its end and the call
    answers with its status and output. moto's parser has the synchronous execution but no route for it."""
    if not _once("sync_executions"):
        return
    import moto.backend_index as backend_index
    import moto.stepfunctions.urls as sfn_urls
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.backend.execution import SyncExecution
    from moto.stepfunctions.responses import StepFunctionResponse

    sfn_urls.url_bases.append(SYNC_STATES_URL)
    backend_index.backend_url_patterns.append(("stepfunctions", __import__("re").compile(SYNC_STATES_URL)))

    def start_sync_execution(self: Any) -> ActionResult:
        backend = self.stepfunction_backend
        arn = self._get_param("stateMachineArn")
        name = self._get_param("name")
        state_machine = backend.describe_state_machine(arn)
        snapshot = std_copy.deepcopy(
            state_machine, {id(state_machine.executions): [], id(state_machine.backend): state_machine.backend}
        )
        execution_arn = f"arn:aws:states:{backend.region_name}:{backend.account_id}:express:{state_machine.name}:{name}:{int(time.time() * 1000)}"
        execution = SyncExecution(
            name=name,
            sm_type=snapshot.sm_type,
            role_arn=snapshot.roleArn,
            exec_arn=execution_arn,
            account_id=backend.account_id,
            region_name=backend.region_name,
            state_machine=snapshot,
            start_date=__import__("datetime").datetime.now(tz=__import__("datetime").timezone.utc),
            cloud_watch_logging_session=None,
            input_data=self._get_param("input", if_none="{}"),
            trace_header=None,
            activity_store={},
        )
        execution.start()  # runs the whole program in this thread
        status = execution.sync_execution_status
        response: dict[str, Any] = {
            "executionArn": execution_arn,
            "stateMachineArn": arn,
            "name": name,
            "startDate": execution.start_date,
            "stopDate": execution.stop_date,
            "status": getattr(status, "value", status),
            "input": json.dumps(execution.input_data),
        }
        if response["status"] == "SUCCEEDED":
            response["output"] = execution.output if isinstance(execution.output, str) else json.dumps(execution.output)
        if execution.error is not None:
            response["error"] = execution.error
        if execution.cause is not None:
            response["cause"] = execution.cause
        return ActionResult(response)

    StepFunctionResponse.start_sync_execution = start_sync_execution  # type: ignore[attr-defined]


def _item_size(backend: Any, table_name: str, key: dict[str, Any]) -> int:
    try:
        item = backend.get_item(table_name, key)
    except Exception:  # noqa: BLE001 - a malformed key: moto reports it itself
        return 0
    return int(item.size()) if item is not None else 0


def _indexed(backend: Any, table_name: str, key: dict[str, Any]) -> int:
    """How many GSIs hold the item (each one is written again when the item is)."""
    try:
        table = backend.get_table(table_name)
        item = backend.get_item(table_name, key)
    except Exception:  # noqa: BLE001
        return 0
    if item is None:
        return 0
    return sum(1 for index in table.global_indexes if all(k["AttributeName"] in item.attrs for k in index.schema))


def _capacity(handler: Any, operation: str, call: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run a DynamoDB call and estimate the capacity units it consumes, by DynamoDB's published rules: a write costs
    1 unit per KB of the larger of the item before and after (2 in a transaction), again for each GSI holding the
    item; a strongly consistent read 1 unit per 4 KB read (half when eventually consistent), a Query per 4 KB of
    the items it evaluates. moto's own ConsumedCapacity is a constant, so it cannot tell."""
    backend = handler.dynamodb_backend
    body = handler.body
    writes: list[tuple[str, dict[str, Any], float]] = []  # (table, key, factor)

    def key_of(table_name: str, source: dict[str, Any]) -> dict[str, Any]:
        table = backend.get_table(table_name)
        key = {table.hash_key_attr: source[table.hash_key_attr]}
        if table.range_key_attr:
            key[table.range_key_attr] = source[table.range_key_attr]
        return key

    try:
        if operation == "TransactWriteItems":
            for action in body.get("TransactItems", []):
                for kind, op in action.items():
                    source = op.get("Item") if kind == "Put" else op.get("Key")
                    writes.append((op["TableName"], key_of(op["TableName"], source), 2.0))
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            source = body.get("Item") if operation == "PutItem" else body.get("Key")
            writes.append((body["TableName"], key_of(body["TableName"], source), 1.0))
        elif operation == "BatchWriteItem":
            for table_name, requests in body.get("RequestItems", {}).items():
                for request in requests:
                    source = (request.get("PutRequest") or {}).get("Item") or (request.get("DeleteRequest") or {})["Key"]
                    writes.append((table_name, key_of(table_name, source), 1.0))
    except Exception:  # noqa: BLE001 - moto reports malformed requests itself
        writes = []
    before = [_item_size(backend, t, k) for t, k, _ in writes]
    indexed_before = [_indexed(backend, t, k) for t, k, _ in writes]
    result = call()
    wru = 0.0
    for (table_name, key, factor), size_before, gsis_before in zip(writes, before, indexed_before):
        size = max(size_before, _item_size(backend, table_name, key), 1)
        units = math.ceil(size / 1024) * factor
        wru += units * (1 + max(gsis_before, _indexed(backend, table_name, key)))
    rru = 0.0
    try:
        payload = json.loads(result[2]) if isinstance(result, tuple) and isinstance(result[2], (str, bytes)) else {}
    except ValueError:
        payload = {}
    consistent = 1.0 if body.get("ConsistentRead") else 0.5
    if operation == "GetItem" and payload.get("Item"):
        rru = math.ceil(len(json.dumps(payload["Item"])) / 4096) * consistent
    elif operation == "BatchGetItem":
        for table_items in (payload.get("Responses") or {}).values():
            rru += sum(math.ceil(len(json.dumps(i)) / 4096) for i in table_items) * 1.0
    elif operation == "Query":
        rru = max(1, math.ceil(sum(len(json.dumps(i)) for i in payload.get("Items") or []) / 4096)) * consistent
    return result, wru, rru


def call_log(path: Path) -> None:
    """Append one JSON line per AWS request the emulator serves (`{"t", "ms", "service", "operation", "wru", "rru"}`:
    when it started, how long it took (for a Lambda invoke: the task's duration), capacity units estimated for
    DynamoDB calls), for benchmarks that count requests and their cost per operation (scripts/bench_run.py)."""
    if not _once("call_log"):
        return
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action
    lock = threading.Lock()

    def call_action(self: Any) -> Any:
        operation = self._get_action()
        wru = rru = 0.0
        began = time.time()
        if self.service_name == "dynamodb":
            result, wru, rru = _capacity(self, operation, lambda: original(self))
        else:
            result = original(self)
        ms = (time.time() - began) * 1000
        line = json.dumps({"t": began, "ms": ms, "service": self.service_name, "operation": operation, "wru": wru, "rru": rru})
        with lock, open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
        return result

    BaseResponse.call_action = call_action  # type: ignore[method-assign]
