"""Decode cost per line, by kind of line: the daemon's batcher alone (no broker, no store), as JSON.

    python -m benchmarks.decode_cost [--calls 2000] [--rounds 7]

The lines are ``benchmarks.pipeline_throughput``'s realistic workload (``mixed_workload``:
six step lines and a "started" line per call, a fifth of the calls masked failures with their
traceback line, a usage-metrics row per call). Each kind is decoded by
:class:`~correlator.processing.batching.PartitionBatcher` (the C scanner for log lines, the
lean path, validation and rows for the rest, redaction) in fetches of one partition's share of
the daemon's fetch, the kinds alternating within each round:

- ``plain_lines``: the info lines alone; ``failure_lines``: the error lines with their tracebacks
  alone; ``usage_rows_returned`` / ``usage_rows_failed``: the calls that returned and failed;
- ``log_stream`` / ``metrics_stream``: each topic's lines in their order, as a partition holds them
  (a failure line between plain lines splits the scanner's runs).

Per line, the least process CPU of the rounds (other work on the machine only adds).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import orjson

from correlator.devkit.workload import mixed_workload
from correlator.processing.batching import LOGS, METRICS, PartitionBatcher, StreamKind, collect_cycles_less_often
from correlator.processing.classify import Classifier
from correlator.processing.plainlines import plain_lines
from correlator.records import Fetched, Message, Provenance

STEPS_PER_CALL = 6  # as benchmarks.pipeline_throughput
FETCH_PER_PARTITION = 1_250  # the daemon's 10,000-record fetch over 4 + 4 partitions


def _kinds(calls: int) -> dict[str, tuple[StreamKind, list[bytes]]]:
    workload = mixed_workload(calls, failure_share=0.2, seed=9, steps_per_call=STEPS_PER_CALL)
    return {
        "plain_lines": (LOGS, [line for line in workload.logs if b'"level":"info"' in line]),
        "failure_lines": (LOGS, [line for line in workload.logs if b'"level":"error"' in line]),
        "usage_rows_returned": (METRICS, [row for row in workload.metrics if b'"success":true' in row]),
        "usage_rows_failed": (METRICS, [row for row in workload.metrics if b'"success":false' in row]),
        "log_stream": (LOGS, workload.logs),
        "metrics_stream": (METRICS, workload.metrics),
    }


def _decode_seconds(batcher: PartitionBatcher, lines: list[bytes], first: int) -> float:
    messages = [Message(line, Provenance("bench", 0, first + n, None)) for n, line in enumerate(lines)]
    # as the Kafka source hands them over: each fetch's records as columns
    fetches = [
        Fetched.of(messages[start : start + FETCH_PER_PARTITION])
        for start in range(0, len(messages), FETCH_PER_PARTITION)
    ]
    started = time.process_time()
    for fetched in fetches:
        batcher.add(fetched)
    seconds = time.process_time() - started
    batch = batcher.take()
    assert batch is not None and batch.row_count + len(batch.dead_letters) == len(lines)
    assert not batch.dead_letters, "every line of the workload is a row"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    kinds = _kinds(args.calls)
    classifier = Classifier.from_file()
    plain = plain_lines(classifier, redact=True, hash_prompts=False)
    collect_cycles_less_often()
    seconds: dict[str, list[float]] = {name: [] for name in kinds}
    first = 0
    for _ in range(args.rounds):
        for name, (kind, lines) in kinds.items():
            batcher = PartitionBatcher(kind, classifier, max_records=len(lines) + 1, plain=plain)
            seconds[name].append(_decode_seconds(batcher, lines, first))
            first += len(lines)
    report = {
        "benchmark": "decode_cost",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "rounds": args.rounds,
        "lines": {name: len(lines) for name, (_, lines) in kinds.items()},
        "scanner": plain is not None,
        "process_cpu_us_per_line": {
            name: round(min(runs) * 1e6 / len(kinds[name][1]), 2) for name, runs in seconds.items()
        },
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
