"""trace_spans and agent_loops on 10 million spans in the embedded engine, as JSON.

    python -m benchmarks.trace_queries [--spans 10000000] [--spans-per-trace 20] [--log-steps 2000000]
                                       [--steps-per-trace 10] [--data-dir DIR]

Generates the spans inside ClickHouse (a week of agent runs: chat calls with their HTTP
requests, tool calls, one run in ten failing, one in fifty looping on one tool), and beside
them structlog runs as log lines in ``log_events`` (an agent line, then tool steps; the same
share failing and looping), then times each answer: the first (cold) run and the median of
five warm runs. The target is under a second for each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from benchmarks.incident_queries import fresh_database, timed
from correlator.commands import incidents
from correlator.warehouse.connection import connect
from correlator.warehouse.sql import render

DATABASE = "bench_traces"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=10_000_000)
    parser.add_argument("--spans-per-trace", type=int, default=20)
    parser.add_argument("--log-steps", type=int, default=2_000_000, help="structlog step lines in log_events")
    parser.add_argument("--steps-per-trace", type=int, default=10)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    client = connect(f"chdb://{(args.data_dir or Path(tempfile.mkdtemp(prefix='correlator-bench-'))) / 'clickhouse'}")
    fresh_database(client, DATABASE)
    started = time.perf_counter()
    parameters = {"traces": args.spans // args.spans_per_trace, "spans_per_trace": args.spans_per_trace}
    client.command(render("queries/bench/generate_spans.sql", DATABASE), parameters=parameters)
    log_parameters = {"log_traces": args.log_steps // args.steps_per_trace, "steps_per_trace": args.steps_per_trace}
    client.command(render("queries/bench/generate_log_steps.sql", DATABASE), parameters=log_parameters)
    generated = time.perf_counter() - started
    [(spans, newest_failed, oldest_failed)] = client.query(
        f"SELECT count(), argMaxIf(trace_id, ts, error_id != ''), argMinIf(trace_id, ts, error_id != '')"
        f" FROM {DATABASE}.spans"
    ).result_rows
    [(log_steps, newest_failed_log)] = client.query(
        f"SELECT count(), argMaxIf(trace_id, ts, error_id != '') FROM {DATABASE}.log_events WHERE step != ''"
    ).result_rows
    now = datetime.now(UTC)

    def loops(hours: int) -> list[incidents.Record]:
        return incidents.query(client, DATABASE, "bench/agent_loops", since=now - timedelta(hours=hours))

    report = {
        "spans": spans,
        "spans_per_trace": args.spans_per_trace,
        "log_steps": log_steps,
        "steps_per_trace": args.steps_per_trace,
        "generate_seconds": round(generated, 1),
        "trace_spans_newest_failed": timed(lambda: incidents.trace_spans(client, DATABASE, newest_failed)),
        "trace_spans_oldest_failed": timed(lambda: incidents.trace_spans(client, DATABASE, oldest_failed)),
        "trace_spans_newest_failed_log_steps": timed(
            lambda: incidents.trace_spans(client, DATABASE, newest_failed_log)
        ),
        "agent_loops_since_1h": timed(lambda: loops(1)),
        "agent_loops_since_24h": timed(lambda: loops(24)),
        "agent_loops_24h_found": len(loops(24)),
        "target_seconds": 1.0,
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
