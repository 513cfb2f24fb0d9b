"""What the daemon's own start-up steps cost, each in a fresh process, as JSON.

    python -m benchmarks.startup_steps [--runs 3]

- the imports of ``correlator run`` before its first commit (the daemon's, the warehouse libraries'
  included) and the rules, with the Hyperscan cache cold (an empty cache directory: every
  database compiled and written) and warm (the same directory again: loaded);
- the migrations on a new embedded warehouse, then again on the same one (the fingerprint
  matches: no DDL), after the engine is open.

CPU seconds of the process (``time.process_time``: all its threads), which other work on a
shared machine does not inflate, and the clock.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from benchmarks.report import write_report

_TIMED = """
import sys, time
import orjson
clock, cpu = time.perf_counter(), time.process_time()
def step():
    global clock, cpu
    spent = {"seconds": round(time.perf_counter() - clock, 4), "cpu_seconds": round(time.process_time() - cpu, 4)}
    clock, cpu = time.perf_counter(), time.process_time()
    return spent
"""
# what ``correlator run`` imports before its first commit, as it does (``cli.run``: the collector held off, the
# warehouse's libraries first): a run's modules at its first commit are these and clickhouse-connect's chdb
# client, which ``connect`` imports (the ``engine_open`` step below)
RULES = (
    _TIMED
    + """
import gc
gc.disable()
import correlator.commands.cli
from correlator.warehouse.connection import load_libraries
load_libraries(sys.argv[1])
import correlator.processing.batching, correlator.runtime.daemon
import correlator.runtime.ops.http, correlator.warehouse.writer
from correlator.processing.classify import RULES_PATH, Classifier
Classifier.from_file(RULES_PATH)
print(orjson.dumps(step()).decode())
"""
)
MIGRATE = (
    _TIMED
    + """
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
client = connect(sys.argv[1])
opened = step()
report = migrate(client, "correlator", 30)
print(orjson.dumps({"engine_open": opened, "migrate": step(), "up_to_date": report.up_to_date}).decode())
"""
)


def _timed(script: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, check=True, env={**os.environ, **(env or {})}
    )
    result: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="correlator-startup-") as directory:
            home = {"HOME": str(Path(directory) / "home")}  # the cache is ~/.cache/correlator/hyperscan
            url = f"chdb://{Path(directory) / 'warehouse'}"
            runs.append(
                {
                    "imports_and_rules_cache_cold": _timed(RULES, url, env=home),
                    "imports_and_rules_cache_warm": _timed(RULES, url, env=home),
                    "new_warehouse": _timed(MIGRATE, url),
                    "migrated_warehouse": _timed(MIGRATE, url),
                }
            )
    write_report("startup_steps", {"runs": runs})


if __name__ == "__main__":
    main()
