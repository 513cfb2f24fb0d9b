"""What storing rows costs the daemon's Python thread, per way of encoding them, as JSON.

The daemon stores with clickhouse-connect's Native encoding. JSON written by orjson takes
less of Python's time but more of the engine's; end to end the two measured the same
(``benchmarks/pipeline_throughput.py``, one and two processes, same sitting), so Native stays.

    python -m benchmarks.store_cost [--events 50000]

The daemon decodes on one thread while another stores; the engine runs inside the
process. Time spent encoding rows in Python holds the interpreter lock and so is taken
from decoding; time the engine spends parsing is not. For each encoding this prints the
rows stored per second, and how much of a spinning Python thread's speed survived the
insert (1.0: the insert took nothing from Python; 0.0: Python stood still).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from correlator.devkit.workload import mixed_workload
from correlator.formats.decode import decode
from correlator.processing.batching import LOGS
from correlator.processing.classify import Classifier
from correlator.records import Provenance
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate


class Spinner:
    """A Python thread counting as fast as it can: its speed is what the interpreter lock leaves to Python."""

    def __init__(self) -> None:
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin)

    def _spin(self) -> None:
        while not self._stop.is_set():
            self.count += 1

    def __enter__(self) -> Spinner:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _spin_rate(seconds: float) -> float:
    with Spinner() as spinner:
        time.sleep(seconds)
    return spinner.count / seconds


def _measure(store: Callable[[], None], rows: int, alone: float) -> dict[str, Any]:
    started = time.perf_counter()
    with Spinner() as spinner:
        store()
    seconds = time.perf_counter() - started
    return {
        "rows_per_second": round(rows / seconds),
        "python_speed_left": round(spinner.count / seconds / alone, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    classifier = Classifier.from_file()
    workload = mixed_workload(args.events // 8, failure_share=0.2, seed=9, steps_per_call=6)
    rows = [LOGS.build_row(decode(v, LOGS.model, Provenance("t", 0, i)), Provenance("t", 0, i), classifier)
            for i, v in enumerate(workload.logs)]  # fmt: skip
    columns = list(LOGS.table.columns)
    client = connect(f"chdb://{Path(tempfile.mkdtemp()) / 'warehouse'}")
    migrate(client, "bench", retention_days=3650)
    table = f"bench.{LOGS.table.name}"

    def native() -> None:
        client.insert(table, rows, column_names=columns)

    def json_rows() -> None:
        client.raw_insert(table, column_names=columns, insert_block=b"\n".join(map(orjson.dumps, rows)),
                          settings={"date_time_input_format": "best_effort"}, fmt="JSONCompactEachRow")  # fmt: skip

    def json_columns() -> None:
        client.raw_insert(table, column_names=columns, insert_block=orjson.dumps(list(zip(*rows, strict=True))),
                          settings={"date_time_input_format": "best_effort"}, fmt="JSONCompactColumns")  # fmt: skip

    body = b"\n".join(map(orjson.dumps, rows))

    def json_parse_only() -> None:
        client.raw_insert(table, column_names=columns, insert_block=body,
                          settings={"date_time_input_format": "best_effort"}, fmt="JSONCompactEachRow")  # fmt: skip

    alone = _spin_rate(1.0)
    report = {
        "rows": len(rows),
        "native_clickhouse_connect": _measure(native, len(rows), alone),
        "orjson_json_compact_each_row": _measure(json_rows, len(rows), alone),
        "orjson_json_compact_columns": _measure(json_columns, len(rows), alone),
        "engine_parsing_json_rows_alone": _measure(json_parse_only, len(rows), alone),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
