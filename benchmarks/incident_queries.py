"""lookup, trace and incidents --since 1h on a large embedded warehouse, as JSON.

    python -m benchmarks.incident_queries [--logs 10000000] [--metrics 1000000] [--data-dir DIR]

Generates the rows inside ClickHouse (a week of traffic: ten log lines per call, one
call in five a masked failure with its traceback line), then times each answer: the
first (cold) run and the median of five warm runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from clickhouse_connect.driver.client import Client

from correlator.commands import incidents
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
from correlator.warehouse.sql import render

DATABASE = "bench"


def timed(answer: Callable[[], Any]) -> dict[str, float]:
    started = time.perf_counter()
    answer()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        answer()
        warm.append(time.perf_counter() - started)
    return {"cold_seconds": round(cold, 3), "warm_median_seconds": round(statistics.median(warm), 3)}


def fresh_database(client: Client, database: str) -> None:
    """``database`` dropped and migrated anew: every benchmark starts from empty tables."""
    client.command(f"DROP DATABASE IF EXISTS {database}")
    migrate(client, database, retention_days=30)


def generate_week(client: Client, metrics: int, logs: int) -> float:
    """A fresh database holding a week of calls and their log lines; returns the seconds it took."""
    fresh_database(client, DATABASE)
    started = time.perf_counter()
    parameters = {"metrics": metrics, "lines_per_call": max(1, logs // metrics)}
    client.command(render("queries/bench/generate_metrics.sql", DATABASE), parameters=parameters)
    client.command(render("queries/bench/generate_logs.sql", DATABASE), parameters=parameters)
    return time.perf_counter() - started


def week_options(description: str) -> argparse.ArgumentParser:
    """The week's size and where its warehouse goes: the options of every benchmark over this history."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--logs", type=int, default=10_000_000)
    parser.add_argument("--metrics", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    return parser


def week_warehouse(args: argparse.Namespace) -> tuple[Client, Path, float]:
    """An embedded warehouse holding the week: its client, its directory and the seconds generating took."""
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="correlator-bench-"))
    client = connect(f"chdb://{data_dir / 'clickhouse'}")
    return client, data_dir, generate_week(client, args.metrics, args.logs)


def main() -> None:
    args = week_options(__doc__ or "").parse_args()
    client, _, generated = week_warehouse(args)
    counts = client.query(
        f"SELECT (SELECT count() FROM {DATABASE}.log_events), (SELECT count() FROM {DATABASE}.usage_metrics)"
    ).result_rows[0]
    newest = client.query(
        f"SELECT error_id, trace_id FROM {DATABASE}.usage_metrics WHERE NOT success ORDER BY ts DESC LIMIT 1"
    ).result_rows[0]
    since = datetime.now(UTC) - timedelta(hours=1)
    report = {
        "log_rows": counts[0],
        "metrics_rows": counts[1],
        "generate_seconds": round(generated, 1),
        "lookup": timed(lambda: incidents.lookup(client, DATABASE, newest[0])),
        "trace": timed(lambda: incidents.trace(client, DATABASE, newest[1])),
        "incidents_since_1h": timed(lambda: incidents.incidents(client, DATABASE, since)),
        "target_seconds": 1.0,
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
