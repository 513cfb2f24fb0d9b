"""Scores stored per second against log lines, through the same decode → batch → insert path, as JSON.

The target (issue 16): the scores topic is stored at least as fast as log lines. Both run
the daemon's own pieces in one process (a PartitionBatcher, the Warehouse's insert) into a
fresh embedded engine, in batches of the daemon's default size; the best of ``--repeat``
runs counts, so a neighbour's burst on a shared machine does not decide the result.

    python -m benchmarks.scores_throughput [--events 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import UTC, datetime, timedelta

import orjson

from correlator.devkit.workload import mixed_workload
from correlator.processing.batching import LOGS, SCORES, PartitionBatcher, StreamKind
from correlator.processing.classify import Classifier
from correlator.records import Message, Provenance
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
from correlator.warehouse.writer import Warehouse

BATCH = 50_000


def score_messages(count: int) -> list[bytes]:
    """Judge, code and human scores in the three spellings, over the last hour."""
    start = datetime.now(UTC) - timedelta(hours=1)
    messages = []
    for n in range(count):
        ts = (start + timedelta(milliseconds=n)).isoformat()
        if n % 3 == 0:
            document = {
                "name": "groundedness",
                "trace_id": f"t{n // 4}",
                "value": (n % 100) / 100,
                "source": "judge",
                "judge_model": "gpt-4o-mini",
                "id": f"s{n}",
                "timestamp": ts,
                "comment": "cites doc 3",
            }
        elif n % 3 == 1:
            document = {
                "name": "is_json",
                "traceId": f"t{n // 4}",
                "value": n % 2,
                "dataType": "BOOLEAN",
                "source": "code",
                "timestamp": ts,
            }
        else:
            document = {
                "gen_ai.evaluation.name": "tone",
                "trace_id": f"t{n // 4}",
                "timestamp": ts,
                "gen_ai.evaluation.score.label": "polite",
                "source": "human",
            }
        messages.append(orjson.dumps(document))  # fmt: skip
    return messages


def store_rate(kind: StreamKind, values: list[bytes], classifier: Classifier, repeat: int) -> float:
    """Messages stored per second, best of ``repeat`` runs, each into its own database."""
    best = 0.0
    with tempfile.TemporaryDirectory() as directory:
        client = connect(f"chdb://{directory}")
        for run in range(repeat):
            database = f"bench_{kind.name}_{run}"
            migrate(client, database, retention_days=30)
            warehouse = Warehouse(client, database)
            batcher = PartitionBatcher(kind, classifier, BATCH)
            messages = [Message(value, Provenance(kind.name, 0, offset)) for offset, value in enumerate(values)]
            started = time.perf_counter()
            for first in range(0, len(messages), BATCH):
                closed = batcher.add(messages[first : first + BATCH])
                last = batcher.take()
                warehouse.store([*closed, *([last] if last is not None else [])])
            best = max(best, len(values) / (time.perf_counter() - started))
        client.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    classifier = Classifier.from_file()
    logs = mixed_workload(args.events, failure_share=0.05, seed=7).logs[: args.events]
    scores = score_messages(len(logs))
    log_rate = store_rate(LOGS, logs, classifier, args.repeat)
    score_rate = store_rate(SCORES, scores, classifier, args.repeat)
    print(orjson.dumps({
        "benchmark": "scores_throughput", "messages": len(logs), "repeat": args.repeat,
        "log_lines_per_second": round(log_rate), "scores_per_second": round(score_rate),
        "scores_vs_logs": round(score_rate / log_rate, 3), "target_met": score_rate >= log_rate,
        "python": platform.python_version(), "machine": platform.machine(),
    }).decode())  # fmt: skip


if __name__ == "__main__":
    main()
