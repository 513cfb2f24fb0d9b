"""`review list` and `dataset export` over a week of history at the incident benchmark's load, as JSON.

    python -m benchmarks.review_queries [--logs 10000000] [--metrics 1000000] [--reviews 2000]

The week of calls and log lines is the incident benchmark's (``benchmarks/incident_queries.py``);
beside it, one judge score per call, a content failure in one call in a hundred and
``--reviews`` human verdicts (half of them fails). Each answer is timed cold and as the median
of five warm runs; the target (issue 16) is under a second.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import orjson

from benchmarks.incident_queries import DATABASE, timed, week_options, week_warehouse
from correlator.commands.dataset import Selection, export_dataset
from correlator.commands.review import review_queue
from correlator.warehouse.sql import render, statements


def main() -> None:
    parser = week_options(__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=2_000)
    args = parser.parse_args()
    client, data_dir, generated = week_warehouse(args)
    started = time.perf_counter()
    for statement in statements(render("queries/bench/generate_quality.sql", DATABASE)):
        client.command(statement, parameters={"metrics": args.metrics, "reviews": args.reviews})
    generated += time.perf_counter() - started
    counts = client.query(
        f"SELECT (SELECT count() FROM {DATABASE}.log_events), (SELECT count() FROM {DATABASE}.usage_metrics), "
        f"(SELECT count() FROM {DATABASE}.scores)"
    ).result_rows[0]
    now = datetime.now(UTC)
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    output = data_dir / "dataset.jsonl"

    def export(selection: Selection, since: datetime) -> int:
        return export_dataset(client, DATABASE, "bench", selection, since, "bench", output).items

    report = {
        "log_rows": counts[0],
        "metrics_rows": counts[1],
        "score_rows": counts[2],
        "generate_seconds": round(generated, 1),
        "review_list_since_24h": timed(lambda: review_queue(client, DATABASE, day)),
        "review_list_since_7d": timed(lambda: review_queue(client, DATABASE, week)),
        "queue_length_24h_limit_200": len(review_queue(client, DATABASE, day)),
        "dataset_export_reviewed_7d": timed(lambda: export(Selection("7d", reviewed=True), week)),
        "reviewed_items": export(Selection("7d", reviewed=True), week),
        "dataset_export_class_invalid_json_24h": timed(lambda: export(Selection("24h", error_class="invalid_json"),
                                                                       day)),
        "class_items_24h": export(Selection("24h", error_class="invalid_json"), day),
        "target_seconds": 1.0,
    }  # fmt: skip
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
