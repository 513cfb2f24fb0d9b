"""The ``correlator`` command line: settings come from flags, then environment, then defaults."""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson

from correlator.classify import Classifier
from correlator.config import Settings
from correlator.ownlogs import configure_logging

_WAREHOUSE_OPTIONS = [
    click.option(
        "--clickhouse",
        "clickhouse_url",
        envvar="CORRELATOR_CLICKHOUSE_URL",
        default="",
        help="clickhouse-connect DSN: chdb:///dir (embedded) or http(s)://user:pass@host:port/db.",
    ),
    click.option("--database", envvar="CORRELATOR_DATABASE", default="correlator", show_default=True),
    click.option(
        "--data-dir",
        envvar="CORRELATOR_DATA_DIR",
        default=".correlator",
        show_default=True,
        type=click.Path(path_type=Path),
        help="Where the embedded warehouse lives.",
    ),
    click.option(
        "--retention-days",
        envvar="CORRELATOR_RETENTION_DAYS",
        default=30,
        show_default=True,
        type=click.IntRange(min=1),
        help="Rows older than this are dropped, a day's part at a time.",
    ),
]
_KAFKA_OPTIONS = [
    click.option("--kafka", "kafka_bootstrap", envvar="CORRELATOR_KAFKA_BOOTSTRAP", default="localhost:9092",
                 show_default=True),
    click.option("--logs-topic", envvar="CORRELATOR_LOGS_TOPIC", default="app-logs", show_default=True),
    click.option("--metrics-topic", envvar="CORRELATOR_METRICS_TOPIC", default="usage-metrics", show_default=True),
    click.option("--group-id", envvar="CORRELATOR_GROUP_ID", default="correlator", show_default=True),
    click.option("--kafka-session-timeout-ms", envvar="CORRELATOR_KAFKA_SESSION_TIMEOUT_MS", default=10_000,
                 show_default=True, type=click.IntRange(min=1_000)),
    click.option("--batch-max-records", envvar="CORRELATOR_BATCH_MAX_RECORDS", default=50_000, show_default=True,
                 type=click.IntRange(min=1)),
    click.option("--batch-max-seconds", envvar="CORRELATOR_BATCH_MAX_SECONDS", default=0.25, show_default=True,
                 type=click.FloatRange(min=0.001)),
]  # fmt: skip


def _options(options: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def decorate(command: Any) -> Any:
        return functools.reduce(lambda cmd, option: option(cmd), reversed(options), command)

    return decorate


def _settings(**values: Any) -> Settings:
    try:
        return Settings(**values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group()
@click.option("--log-level", envvar="CORRELATOR_LOG_LEVEL", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))  # fmt: skip
@click.version_option(package_name="correlator")
def main(log_level: str) -> None:
    """Correlate LLM application logs with usage metrics in ClickHouse and explain masked failures."""
    configure_logging(log_level)


@main.command()
@_options(_WAREHOUSE_OPTIONS)
def migrate(**values: Any) -> None:
    """Apply the schema (idempotent)."""
    from correlator.warehouse.connection import WarehouseError, connect
    from correlator.warehouse.migrate import migrate as apply_schema

    settings = _settings(**values)
    try:
        report = apply_schema(connect(settings.clickhouse_url), settings.database, settings.retention_days)
    except WarehouseError as exc:
        raise click.ClickException(str(exc)) from None
    applied = ", ".join(report.applied) or "nothing new"
    click.echo(f"database {settings.database}: applied {applied}; retention changed: {report.retention_changed}")


@main.command()
@_options(_KAFKA_OPTIONS + _WAREHOUSE_OPTIONS)
def run(**values: Any) -> None:
    """The daemon: migrate, then consume both topics until SIGTERM/SIGINT."""
    from correlator.daemon import Daemon, ShutdownTimeout
    from correlator.warehouse.connection import WarehouseError, connect
    from correlator.warehouse.migrate import migrate as apply_schema
    from correlator.warehouse.writer import Warehouse

    settings = _settings(**values)
    try:
        client = connect(settings.clickhouse_url)
        apply_schema(client, settings.database, settings.retention_days)
    except WarehouseError as exc:
        raise click.ClickException(str(exc)) from None
    daemon = Daemon(settings, Warehouse(client, settings.database), Classifier.from_file())

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await daemon.run(stop)

    try:
        asyncio.run(serve())
    except ShutdownTimeout as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
def classify() -> None:
    """Classify JSON lines from stdin (log events, metrics rows, {"message"} or {"traceback"})."""
    from correlator.classify_lines import classify_line

    classifier = Classifier.from_file()
    failures = 0
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        result = classify_line(line, classifier)
        failures += "error" in result
        sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
    sys.stdout.flush()
    if failures:
        sys.exit(1)


@main.command()
@click.option("--data-dir", envvar="CORRELATOR_DATA_DIR", default=".correlator", show_default=True,
              type=click.Path(path_type=Path))  # fmt: skip
@click.option("--database", default="correlator_demo", show_default=True)
def demo(data_dir: Path, database: str) -> None:
    """Start a local broker and the embedded warehouse, run a mixed workload, show the result."""
    from correlator.demo import run_demo

    sys.exit(asyncio.run(run_demo(_settings(data_dir=data_dir, database=database))))
