"""The script a user would write instead of correlator: aiokafka + ``json`` + clickhouse-connect.

    python -m benchmarks.plain_script BOOTSTRAP GROUP LOGS_TOPIC METRICS_TOPIC CLICKHOUSE_URL MESSAGES

It reads both topics in one consumer group, keeps a few fields of each message, inserts
10,000 rows at a time into the same embedded engine correlator uses, and commits after
each insert; no validation, classification, redaction or dead letters. It exits once it
has stored and committed ``MESSAGES`` messages. ``benchmarks.versus_script`` runs it as
its own process beside ``correlator run`` on the same backlog.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any

import clickhouse_connect
from aiokafka import AIOKafkaConsumer

INSERT_ROWS = 10_000
LOG_COLUMNS = ["timestamp", "level", "event", "logger", "trace_id", "span_id", "error_id", "exception"]
METRIC_COLUMNS = ["timestamp", "model", "success", "error", "error_id", "trace_id", "input_tokens", "output_tokens",
                  "cost_usd"]  # fmt: skip


def _create_tables(client: Any) -> None:
    client.command("CREATE DATABASE IF NOT EXISTS plain")
    client.command(
        "CREATE TABLE IF NOT EXISTS plain.logs (timestamp DateTime64(6, 'UTC'), level LowCardinality(String), "
        "event String, logger String, trace_id String, span_id String, error_id String, exception String) "
        "ENGINE = MergeTree ORDER BY timestamp"
    )
    client.command(
        "CREATE TABLE IF NOT EXISTS plain.metrics (timestamp DateTime64(6, 'UTC'), model String, success Bool, "
        "error String, error_id String, trace_id String, input_tokens UInt32, output_tokens UInt32, "
        "cost_usd Float64) ENGINE = MergeTree ORDER BY timestamp"
    )


def _log_row(line: dict[str, Any]) -> list[Any]:
    exception = line.get("exception")
    return [datetime.fromisoformat(line["timestamp"]), line.get("level", ""), line.get("event", ""),
            line.get("logger", ""), line.get("trace_id", ""), line.get("span_id", ""), line.get("error_id", ""),
            json.dumps(exception) if exception else ""]  # fmt: skip


def _metric_row(row: dict[str, Any]) -> list[Any]:
    return [datetime.fromisoformat(row["timestamp"]), row.get("model", ""), row.get("success", False),
            row.get("error", ""), row.get("error_id", ""), row.get("trace_id", ""), row.get("input_tokens", 0),
            row.get("output_tokens", 0), row.get("cost_usd", 0.0)]  # fmt: skip


async def main(bootstrap: str, group: str, logs_topic: str, metrics_topic: str, url: str, messages: int) -> None:
    client = clickhouse_connect.get_client(dsn=url)
    _create_tables(client)
    consumer = AIOKafkaConsumer(logs_topic, metrics_topic, bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    logs: list[list[Any]] = []
    metrics: list[list[Any]] = []
    stored = pending = 0
    try:
        while stored < messages:
            fetched = await consumer.getmany(timeout_ms=500, max_records=INSERT_ROWS)
            for tp, records in fetched.items():
                rows, build = (logs, _log_row) if tp.topic == logs_topic else (metrics, _metric_row)
                for record in records:
                    rows.append(build(json.loads(record.value)))
                pending += len(records)
            if pending and (len(logs) >= INSERT_ROWS or len(metrics) >= INSERT_ROWS or not fetched
                            or stored + pending >= messages):  # fmt: skip
                if logs:
                    client.insert("plain.logs", logs, column_names=LOG_COLUMNS)
                if metrics:
                    client.insert("plain.metrics", metrics, column_names=METRIC_COLUMNS)
                await consumer.commit()
                logs, metrics, stored, pending = [], [], stored + pending, 0
    finally:
        await consumer.stop()


if __name__ == "__main__":
    bootstrap, group, logs_topic, metrics_topic, url, messages = sys.argv[1:7]
    asyncio.run(main(bootstrap, group, logs_topic, metrics_topic, url, int(messages)))
