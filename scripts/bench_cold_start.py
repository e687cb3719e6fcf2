#!/usr/bin/env python3
"""Cold start of every function, measured on the artifacts `sam build` makes (README "Cold starts").

For each function of the built template: a fresh python3.13 with Lambda's `sys.path` (the function's directory,
then its layers; no site-packages) and the environment the template gives it (tracing on, as deployed), timing
the import of its handler module (for the stream function, what run.sh starts: uvicorn, then the app). The code
directories are used as shipped: nothing is compiled or cached beyond what the artifact contains, and the
interpreter writes no bytecode (Lambda's code directories are read-only).

Side by side, in the same run and interleaved with the functions, the floor every DynamoDB handler pays:
`import boto3`, a DynamoDB client and a Powertools Logger, from a compiled copy of the same layer.

Each number is the median of `--samples` (default 5) fresh interpreters, in wall-clock time and in CPU time of the
importing process (which other processes' load on a shared machine disturbs far less). Every sample of a function is paired
with a floor sample taken right before it, and its ratio is the median of those paired ratios, so that load
from other processes (the machine has 2 cores) weighs on both sides alike; each round visits the functions in a
new random order. `--sources-only` adds a column for the same artifacts stripped of
bytecode (what SAM's python3.13 builder ships). The build is the host-architecture variant (the arm64 build
differs only in its compiled wheels); see lettagroups_local/artifacts.py.

    .venv/bin/python scripts/bench_cold_start.py [--samples 5] [--sources-only] [--json docs/bench/cold-start.json]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "local"))
sys.path.insert(0, str(ROOT / "layers" / "common"))

from lettagroups_local import artifacts  # noqa: E402
from lettagroups_local.artifacts import BuiltFunction  # noqa: E402

FLOOR = "import boto3; boto3.client('dynamodb'); from aws_lambda_powertools import Logger; Logger()"
TIMED = (
    "import time\nstarted, cpu = time.perf_counter(), time.process_time()\n{code}\n"
    "print(time.perf_counter() - started, time.process_time() - cpu)"
)


def entry_code(function: BuiltFunction) -> str:
    module, attribute = function.python_entry()
    code = f"import {module}\n{module}.{attribute}"
    if function.handler.endswith(".sh"):  # run.sh: `python -m uvicorn ... main:app`
        code = f"import uvicorn.main\n{code}"
    return code


def measure(function: BuiltFunction, python: str, env: dict[str, str], code: str) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of the import in a fresh interpreter."""
    command = artifacts.lambda_command(function, python, TIMED.format(code=code))
    result = subprocess.run(command, cwd=function.code_dir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{function.name}: {result.stderr[-2000:]}")
    wall, cpu = result.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def without_bytecode(built_dir: Path, into: Path) -> Path:
    copy = into / "sources-only"
    shutil.copytree(built_dir, copy)
    for cache in copy.rglob("__pycache__"):
        shutil.rmtree(cache)
    return copy


def relocate(function: BuiltFunction, old: Path, new: Path) -> BuiltFunction:
    def moved(path: Path) -> Path:
        return new / path.relative_to(old)

    return BuiltFunction(
        name=function.name,
        code_dir=moved(function.code_dir),
        handler=function.handler,
        layers=[moved(p) for p in function.layers],
        environment=function.environment,
        source_dir=function.source_dir,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--sources-only", action="store_true", help="also measure the artifacts without bytecode")
    parser.add_argument("--json", type=Path, help="write the raw samples here")
    args = parser.parse_args()

    python = artifacts.require_python313()
    built = artifacts.build("host")
    functions = built.functions()
    template = built.template
    work = Path(tempfile.mkdtemp(prefix="cold-start-"))
    try:
        # The floor: the same layer, compiled (compileall is a no-op where the build already compiled it).
        any_function = next(iter(functions.values()))
        floor_layer = work / "floor-layer"
        shutil.copytree(any_function.layers[0], floor_layer)
        subprocess.run([python, "-m", "compileall", "-q", "-j", "0", str(floor_layer)], check=True, capture_output=True)
        empty = work / "empty"
        empty.mkdir()
        floor_fn = BuiltFunction(name="floor", code_dir=empty, handler="app.lambda_handler", layers=[floor_layer])
        floor_env = artifacts.lambda_environment(floor_fn, template)

        targets: dict[str, tuple[BuiltFunction, dict[str, str], str]] = {"floor": (floor_fn, floor_env, FLOOR)}
        for name, function in sorted(functions.items()):
            targets[name] = (function, artifacts.lambda_environment(function, template), entry_code(function))
        if args.sources_only:
            stripped = without_bytecode(built.path, work)
            for name, function in sorted(functions.items()):
                moved = relocate(function, built.path, stripped)
                targets[f"{name} (sources only)"] = (moved, artifacts.lambda_environment(moved, template), entry_code(moved))

        samples: dict[str, list[float]] = {name: [] for name in targets}  # wall-clock
        cpu: dict[str, list[float]] = {name: [] for name in targets}
        ratios: dict[str, list[float]] = {name: [] for name in targets if name != "floor"}
        cpu_ratios: dict[str, list[float]] = {name: [] for name in targets if name != "floor"}
        order = [name for name in targets if name != "floor"]
        shuffler = random.Random(9)
        for round_ in range(args.samples):
            shuffler.shuffle(order)
            for name in order:
                floor_wall, floor_cpu = measure(floor_fn, python, floor_env, FLOOR)
                function, env, code = targets[name]
                wall, used = measure(function, python, env, code)
                samples["floor"].append(floor_wall)
                samples[name].append(wall)
                ratios[name].append(wall / floor_wall)
                cpu["floor"].append(floor_cpu)
                cpu[name].append(used)
                cpu_ratios[name].append(used / floor_cpu)
            print(f"round {round_ + 1}/{args.samples} done", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def cell(name: str) -> str:
        return (
            f"{statistics.median(samples[name]) * 1000:.0f} | {statistics.median(ratios[name]):.2f}× | "
            f"{statistics.median(cpu[name]) * 1000:.0f} | {statistics.median(cpu_ratios[name]):.2f}× |"
        )

    floor_wall, floor_cpu = statistics.median(samples["floor"]), statistics.median(cpu["floor"])
    print(
        "\nFloor (boto3 + DynamoDB client + Powertools Logger, compiled layer): "
        f"{floor_wall * 1000:.0f} ms wall-clock, {floor_cpu * 1000:.0f} ms CPU\n"
    )
    header = "| Function | as shipped: wall (ms) | ratio | CPU (ms) | ratio |"
    rule = "|---|---|---|---|---|"
    if args.sources_only:
        header += " sources only: wall (ms) | ratio | CPU (ms) | ratio |"
        rule += "---|---|---|---|"
    print(header)
    print(rule)
    for name in sorted(functions):
        row = f"| {name} | {cell(name)}"
        if args.sources_only:
            row += f" {cell(f'{name} (sources only)')}"
        print(row)
    worst_wall = max(statistics.median(ratios[name]) for name in functions)
    worst_cpu = max(statistics.median(cpu_ratios[name]) for name in functions)
    print(f"\nworst ratio: {worst_wall:.2f}× wall-clock, {worst_cpu:.2f}× CPU")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "date": datetime.now(UTC).isoformat(),
                    "python": subprocess.run([python, "-V"], capture_output=True, text=True).stdout.strip(),
                    "arch": built.arch,
                    "samples_seconds": samples,
                    "cpu_samples_seconds": cpu,
                    "median_cpu_ratio_to_floor": {k: round(statistics.median(v), 3) for k, v in cpu_ratios.items()},
                    "median_ms": {k: round(statistics.median(v) * 1000, 1) for k, v in samples.items()},
                    "median_ratio_to_floor": {k: round(statistics.median(v), 3) for k, v in ratios.items()},
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
