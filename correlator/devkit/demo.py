"""``correlator demo``: the whole path on one machine, with nothing else running.

A local broker, the embedded warehouse, the daemon, a mixed workload with masked failures
(some log lines before their metrics rows, some after) and a few poison messages; then
what an on-call engineer would look at.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from aiokafka import AIOKafkaProducer
from rich.console import Console

from correlator.commands.tables import print_table
from correlator.config import Settings
from correlator.devkit.broker import LocalBroker
from correlator.devkit.workload import POISON_MESSAGES, mixed_workload
from correlator.processing.classify import Classifier
from correlator.runtime.daemon import Daemon
from correlator.sources.kafka import ensure_topics
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
from correlator.warehouse.sql import render
from correlator.warehouse.writer import Warehouse

DEMO_CALLS = 2_000
LOG_POISON = ("not_json", "not_object", "not_utf8")
METRIC_POISON = ("invalid_fields",)


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> dict[int, int]:
    """Send ``values`` in order; returns each partition's next offset after the last one sent."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="zstd", linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, value) for value in values]
        await producer.flush()
        ends: dict[int, int] = {}
        for future in sent:
            metadata = await future
            ends[metadata.partition] = max(ends.get(metadata.partition, 0), metadata.offset + 1)
        return ends
    finally:
        await producer.stop()


async def run_demo(base: Settings, calls: int = DEMO_CALLS) -> int:
    console = Console()
    with LocalBroker() as broker:
        settings = replace(base, kafka_bootstrap=broker.bootstrap, batch_max_seconds=0.2)
        console.print(f"[bold]local broker[/] {broker.bootstrap}   [bold]warehouse[/] {settings.clickhouse_url} "
                      f"database {settings.database}")  # fmt: skip
        client = connect(settings.clickhouse_url)
        client.command(f"DROP DATABASE IF EXISTS {settings.database}")
        migrate(client, settings.database, settings.retention_days)
        await ensure_topics(broker.bootstrap, [settings.logs_topic, settings.metrics_topic], partitions=2)

        daemon = Daemon(settings, Warehouse(client, settings.database), Classifier.from_file())
        stop = asyncio.Event()
        running = asyncio.create_task(daemon.run(stop))

        workload = mixed_workload(calls)
        half = len(workload.metrics) // 2
        logs = workload.logs + [POISON_MESSAGES[name] for name in LOG_POISON]
        metrics_early = workload.metrics[:half]
        metrics_late = workload.metrics[half:] + [POISON_MESSAGES[name] for name in METRIC_POISON]
        started = time.monotonic()
        # metrics rows before their log lines for the first half, after them for the rest
        await produce(broker.bootstrap, settings.metrics_topic, metrics_early)
        await produce(broker.bootstrap, settings.logs_topic, logs)
        await produce(broker.bootstrap, settings.metrics_topic, metrics_late)
        produced = len(logs) + len(metrics_early) + len(metrics_late)
        console.print(f"produced {produced} messages ({len(workload.expected_class)} masked failures, "
                      f"{len(LOG_POISON) + len(METRIC_POISON)} poison)")  # fmt: skip

        while daemon.counters.rows + daemon.counters.dead_letters < produced and not running.done():
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
        stop.set()
        await running
        console.print(f"stored {daemon.counters.rows} rows and {daemon.counters.dead_letters} dead letters "
                      f"in {elapsed:.1f}s\n")  # fmt: skip

        for title, query in (
            (
                "Failures: what the metrics rows said → what the root cause says",
                "demo/reclassified.sql",
            ),
            ("The masked failures, now explained (one per class)", "demo/examples.sql"),
            ("Dead letters: undecodable messages, kept with the reason", "demo/dead_letters.sql"),
        ):
            result = client.query(render(f"queries/{query}", settings.database))
            print_table(title, result.column_names, result.result_rows, console)
        unknown = client.query(f"SELECT count() FROM {settings.database}.unknown_errors").result_rows[0][0]
        console.print(f"still unknown after correlation: {unknown} (wrapper-only failures with no cause logged)")
    return 0
