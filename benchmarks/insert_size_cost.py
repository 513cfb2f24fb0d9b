"""What an insert's size does to the cost of storing a row, as JSON: the reason for ``STORE_WAITING_RECORDS``.

The engine charges a fixed cost per insert (a part made, merged later) besides its cost per row,
so a backlog stored in larger inserts takes less of the process's CPU per row; the daemon's
bound on what waits for the store in flight is also the largest insert it makes.

    python -m benchmarks.insert_size_cost [--rows 80000] [--sizes 5000 10000 20000 40000] [--rounds 3]

For each size the same rows are stored in inserts of that size (a fresh table each time, the sizes
taken in turn over rounds); this prints each round's CPU of the whole process per row (Python's
thread and the engine's) and wall time per row, sorted. ``benchmarks.store_cost`` measures what
an insert leaves to Python meanwhile.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import orjson

from correlator.devkit.workload import mixed_workload
from correlator.formats.decode import decode
from correlator.processing.batching import LOGS
from correlator.processing.classify import Classifier
from correlator.records import Provenance
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=80_000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 10_000, 20_000, 40_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    classifier = Classifier.from_file()
    workload = mixed_workload(args.rows // 4, failure_share=0.05, seed=11, steps_per_call=3)
    rows = [LOGS.build_row(decode(v, LOGS.model, Provenance("t", 0, i)), Provenance("t", 0, i), classifier)
            for i, v in enumerate(workload.logs[: args.rows])]  # fmt: skip
    columns = list(LOGS.table.columns)
    client = connect(f"chdb://{Path(tempfile.mkdtemp()) / 'warehouse'}")
    tables = itertools.count()

    def stored_in(size: int) -> tuple[float, float]:
        """The process's CPU and the wall time, per row, to store every row in inserts of ``size`` (fresh table)."""
        database = f"bench{next(tables)}"
        migrate(client, database, retention_days=3650)
        table = f"{database}.{LOGS.table.name}"
        cpu, started = time.process_time(), time.perf_counter()
        for start in range(0, len(rows), size):
            client.insert(table, rows[start : start + size], column_names=columns)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        client.command(f"DROP DATABASE {database}")
        return cpu / len(rows) * 1e6, seconds / len(rows) * 1e6

    stored_in(max(args.sizes))  # the engine's first inserts warm it up
    rounds: dict[int, list[tuple[float, float]]] = {size: [] for size in args.sizes}
    for number in range(args.rounds):  # sizes in turn, the order reversed each round: drift shows as spread
        for size in args.sizes if number % 2 == 0 else reversed(args.sizes):
            rounds[size].append(stored_in(size))
    by_size = {
        str(size): {
            "inserts": -(-len(rows) // size),
            "process_cpu_us_per_row": sorted(round(cpu, 2) for cpu, _ in measured),
            "wall_us_per_row": sorted(round(wall, 2) for _, wall in measured),
        }
        for size, measured in rounds.items()
    }
    report = {
        "rows": len(rows),
        "by_insert_size": by_size,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "load_average": os.getloadavg()[0],
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
