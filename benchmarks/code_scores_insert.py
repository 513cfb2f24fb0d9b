"""What storing the content checks' code scores costs the engine per call, as JSON: the usage-metrics insert alone.

The daemon's CPU per event (``benchmarks/content_checks_cost.py``) holds the decoding, the checks and
both streams' inserts, and on a shared machine its sides differ by more than the code scores cost.
This one times only ``Warehouse.store`` of the same prepared usage-metrics batches (a fifth of the
calls with content, as there) into a fresh database each time, three ways: no view making code scores,
migration 0012's view (each check a row of ``scores``), and views/0015_content_checks.sql's (one row a
call in ``content_checks``). Runs alternate, each way first in turn, each database dropped after it; the
first round warms the engine and is not counted.

    python -m benchmarks.code_scores_insert [--calls 40000] [--repeat 9]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import orjson

from benchmarks.content_checks_cost import NEW, OLD, batched, migrated, with_content
from correlator.devkit.workload import mixed_workload
from correlator.processing.batching import METRICS, collect_cycles_less_often
from correlator.processing.classify import Classifier
from correlator.warehouse.connection import connect

WAYS: dict[str, str | None] = {"none": None, "scores_rows_0012": OLD, "content_checks_0015": NEW}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    classifier = Classifier.from_file()
    collect_cycles_less_often()
    metrics = with_content(mixed_workload(args.calls, failure_share=0.2, seed=11).metrics, seed=11)
    prepared = [batch for batches in batched(METRICS, metrics, classifier) for batch in batches]
    spent: dict[str, list[float]] = {way: [] for way in WAYS}
    names = list(WAYS)
    with tempfile.TemporaryDirectory() as directory:
        client = connect(f"chdb://{directory}")
        for run in range(args.repeat + 1):
            turn = run % len(names)
            for way in names[turn:] + names[:turn]:
                database = f"bench_{way}_{run}"
                warehouse = migrated(client, database, WAYS[way])
                started = time.process_time()
                warehouse.store(prepared)
                if run:
                    spent[way].append(time.process_time() - started)
                client.command(f"DROP DATABASE {database} SYNC")
        client.close()
    median = {way: statistics.median(seconds) for way, seconds in spent.items()}
    per_call = {way: round((median[way] - median["none"]) / len(metrics) * 1e6, 2) for way in names[1:]}
    print(orjson.dumps({
        "benchmark": "code_scores_insert", "calls": len(metrics), "repeat": args.repeat,
        "insert_cpu_seconds": {way: [round(s, 3) for s in seconds] for way, seconds in spent.items()},
        "code_scores_cpu_us_per_call": per_call,
        "new_over_old": round(per_call["content_checks_0015"] / per_call["scores_rows_0012"], 3),
    }).decode())  # fmt: skip


if __name__ == "__main__":
    main()
