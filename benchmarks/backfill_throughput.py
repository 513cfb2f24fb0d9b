"""Backfill throughput from files and from Kafka beside the daemon's, in one run, as JSON.

    python -m benchmarks.backfill_throughput [--calls 20000]

One workload (``mixed_workload``: structlog JSON log lines, a fifth of the calls masked
failures with their tracebacks, and usage-metrics rows) is loaded four ways into fresh
databases of one embedded warehouse: the daemon consuming the topics (timed from partition
assignment to the last row stored), ``backfill`` of the same topics, of the same messages as
JSONL files (each timed from its first range's start to the last row stored), and of a
plain-text run folder (``log.txt`` beside ``usage_metrics.jsonl``) of as many calls, whose
records are heavier (text tracebacks). Records per second, and each backfill ÷ daemon.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from correlator.config import Settings
from correlator.devkit.broker import LocalBroker
from correlator.devkit.demo import produce
from correlator.devkit.workload import mixed_workload, write_run_folder
from correlator.processing.batching import stream_kinds
from correlator.processing.classify import Classifier
from correlator.runtime.backfill import Loader, SourceRange, StopFlag, backfill_files, backfill_kafka
from correlator.runtime.daemon import Daemon
from correlator.runtime.progress import JsonProgress
from correlator.sources.files import discover
from correlator.sources.kafka import KafkaRangeReader, ensure_topics
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
from correlator.warehouse.writer import Warehouse

BATCH = 50_000


class _TimedLoader(Loader):
    """Notes when the first range begins: setup (connecting, resolving ranges, counting lines)
    is left out, as the daemon's figure starts at partition assignment, before its first fetch."""

    first_begin: float | None = None

    def begin(self, source_range: SourceRange, position: int) -> None:
        if self.first_begin is None:
            self.first_begin = time.perf_counter()
        super().begin(source_range, position)

    def rate(self, records: int) -> dict[str, float]:
        assert self.first_begin is not None, "no range was loaded"
        return _rate(records, time.perf_counter() - self.first_begin)


def _loader(client: Any, database: str, classifier: Classifier) -> _TimedLoader:
    migrate(client, database, retention_days=3650)
    return _TimedLoader(Warehouse(client, database), classifier, BATCH, JsonProgress("bench", "units", io.StringIO()))


async def _daemon_rate(settings: Settings, client: Any, classifier: Classifier, total: int) -> dict[str, float]:
    migrate(client, settings.database, retention_days=3650)
    daemon = Daemon(settings, Warehouse(client, settings.database), classifier)
    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop))
    while not daemon.assigned:
        await asyncio.sleep(0.01)
    started = time.perf_counter()
    while daemon.counters.rows + daemon.counters.dead_letters < total:
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    stop.set()
    await running
    return {"records": total, "seconds": round(seconds, 2), "records_per_second": round(total / seconds)}


def _rate(records: int, seconds: float) -> dict[str, float]:
    return {"records": records, "seconds": round(seconds, 2), "records_per_second": round(records / seconds)}


async def _run(calls: int, work: Path) -> dict[str, Any]:
    classifier = Classifier.from_file()
    client = connect(f"chdb://{work / 'warehouse'}")
    workload = mixed_workload(calls, seed=5)
    total = len(workload.logs) + len(workload.metrics)
    results: dict[str, Any] = {}
    with LocalBroker() as broker:
        suffix = secrets.token_hex(3)
        settings = Settings(kafka_bootstrap=broker.bootstrap, clickhouse_url="chdb://unused", database="bench_daemon",
                            logs_topic=f"logs-{suffix}", metrics_topic=f"metrics-{suffix}", group_id=f"bench-{suffix}",
                            batch_max_records=BATCH, kafka_session_timeout_ms=6_000)  # fmt: skip
        await ensure_topics(broker.bootstrap, [settings.logs_topic, settings.metrics_topic], partitions=2)
        await produce(broker.bootstrap, settings.logs_topic, workload.logs)
        await produce(broker.bootstrap, settings.metrics_topic, workload.metrics)
        results["daemon_from_kafka"] = await _daemon_rate(settings, client, classifier, total)

        loader = _loader(client, "bench_kafka", classifier)
        kinds = stream_kinds(settings)
        tally = await backfill_kafka(loader, KafkaRangeReader(broker.bootstrap, BATCH), kinds, StopFlag())
        results["backfill_from_kafka"] = loader.rate(tally.records)

    files = work / "files"
    files.mkdir()
    (files / "app-logs.jsonl").write_bytes(b"".join(line + b"\n" for line in workload.logs))
    (files / "usage_metrics.jsonl").write_bytes(b"".join(line + b"\n" for line in workload.metrics))
    loader = _loader(client, "bench_files", classifier)
    tally = backfill_files(loader, discover([files]), StopFlag())
    results["backfill_from_jsonl"] = loader.rate(tally.records)

    write_run_folder(work / "run", calls)
    loader = _loader(client, "bench_text", classifier)
    tally = backfill_files(loader, discover([work / "run"]), StopFlag())
    results["backfill_from_text_run_folder"] = loader.rate(tally.records)

    daemon = results["daemon_from_kafka"]["records_per_second"]
    results["ratio_to_daemon"] = {
        name: round(result["records_per_second"] / daemon, 2)
        for name, result in results.items()
        if name.startswith("backfill")
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="correlator-bench-") as directory:
        results = asyncio.run(_run(args.calls, Path(directory)))
    report = {
        "benchmark": "backfill_throughput",
        "calls": args.calls,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "arch": platform.machine()},
        **results,
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
