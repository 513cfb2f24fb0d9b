"""What a log line costs with and without ``--engine-parse``, the two alternating in one sitting, as JSON.

    python -m benchmarks.engine_parse_cost [--lines 10000] [--rounds 8]

Issue 18's log stream (``benchmarks.versus_script``'s: 37 info steps per call, 5 % failures)
is batched by the daemon's batcher and stored into the embedded engine, once with the lean
path (rows built in Python, Native insert) and once leaving plain lines to the engine
(``schemas/queries/insert_with_lines.sql``), alternating. Per line: the decoding thread's CPU,
the storing thread's CPU, and the whole process's CPU (the engine's threads too) from decode to
stored; the least of the rounds, since other work on the machine only adds.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

import orjson

from correlator.devkit.workload import mixed_workload
from correlator.processing.batching import LOGS, PartitionBatcher, collect_cycles_less_often
from correlator.processing.classify import Classifier
from correlator.records import Message, Provenance
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
from correlator.warehouse.writer import Warehouse

STEPS_PER_CALL = 37


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    lines = mixed_workload(args.lines // STEPS_PER_CALL + 1, 0.05, seed=3, steps_per_call=STEPS_PER_CALL).logs
    lines = lines[: args.lines]
    warehouse = Warehouse(connect(f"chdb://{tempfile.mkdtemp(prefix='correlator-engine-parse-')}"), "bench")
    migrate(warehouse.client, "bench", retention_days=30)
    classifier = Classifier.from_file()
    collect_cycles_less_often()
    now_ms = int(time.time() * 1000)
    costs: dict[str, list[tuple[float, float, float, int]]] = {"lean": [], "engine": []}
    first = 0
    for _ in range(args.rounds):
        for path in costs:
            batcher = PartitionBatcher(LOGS, classifier, max_records=len(lines) + 1, engine_parse=path == "engine")
            messages = [Message(line, Provenance("app-logs", 0, first + n, now_ms)) for n, line in enumerate(lines)]
            first += len(lines)
            process, thread = time.process_time(), time.thread_time()
            batcher.add(messages)
            batch = batcher.take()
            assert batch is not None
            decoded = time.thread_time()
            warehouse.store([batch])
            stored_thread, stored_process = time.thread_time(), time.process_time()
            per_line = 1e6 / len(lines)
            costs[path].append((
                (decoded - thread) * per_line, (stored_thread - decoded) * per_line,
                (stored_process - process) * per_line, len(batch.lines),
            ))  # fmt: skip
    report = {
        "benchmark": "engine_parse_cost",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average_1m": os.getloadavg()[0]},
        "lines": len(lines),
        "rounds": args.rounds,
        **{
            path: {
                "lines_left_to_the_engine": runs[0][3],
                "decode_us_per_line": round(min(run[0] for run in runs), 2),
                "store_thread_us_per_line": round(min(run[1] for run in runs), 2),
                "process_cpu_us_per_line": round(min(run[2] for run in runs), 2),
            }
            for path, runs in costs.items()
        },
    }
    report["engine_to_lean_process_cpu"] = round(
        report["engine"]["process_cpu_us_per_line"] / report["lean"]["process_cpu_us_per_line"], 3
    )
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
