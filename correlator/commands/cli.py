"""The ``correlator`` command line: settings come from flags, then environment, then defaults."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import orjson
import structlog

from correlator.config import (
    KAFKA_SASL_MECHANISMS,
    KAFKA_SECURITY_PROTOCOLS,
    KafkaSecurity,
    Settings,
    Thresholds,
    read_secret,
)
from correlator.errors import ConfigurationError, CorrelatorError, InputError, WarehouseError, WarehousePermanentError
from correlator.processing.classify import RULES_PATH, Classifier, RulesError
from correlator.runtime.ownlogs import configure_logging
from correlator.sources.textlog import DEFAULT_FORMAT as DEFAULT_LOG_FORMAT

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

_WAREHOUSE_OPTIONS = [
    click.option(
        "--clickhouse",
        "clickhouse_url",
        envvar="CORRELATOR_CLICKHOUSE_URL",
        default="",
        help="clickhouse-connect DSN: chdb:///dir (embedded) or http(s)://host:port/db.",
    ),
    click.option(
        "--clickhouse-user",
        envvar="CORRELATOR_CLICKHOUSE_USER",
        default="",
        help="ClickHouse user (overrides the URL's).",
    ),
    click.option(
        "--clickhouse-password",
        envvar="CORRELATOR_CLICKHOUSE_PASSWORD",
        default="",
        help="ClickHouse password; prefer the environment or a file: flags show in process lists.",
    ),
    click.option(
        "--clickhouse-password-file",
        envvar="CORRELATOR_CLICKHOUSE_PASSWORD_FILE",
        default=None,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A mounted secret file.",
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
_THRESHOLD_HELP = {
    "spike_warn_rate": "error_spikes: warn when the 5-minute error rate stays above this",
    "spike_page_rate": "error_spikes: page when it stays above this",
    "spike_sustained_windows": "error_spikes: for this many consecutive 5-minute windows",
    "spike_jump_factor": "error_spikes: or jumps to this multiple of its trailing 24-hour rate",
    "spike_min_errors": "error_spikes: a jump needs at least this many errors in the window",
    "cost_warn_factor": "cost_anomalies: warn at this multiple of the trailing 7-day hourly mean",
    "cost_page_factor": "cost_anomalies: page at this multiple",
    "eval_pass_threshold": "eval_pass_rate: a NUMERIC score passes at or above this (unless the scorers file says)",
    "drift_window_minutes": "score_drift: the rolling window (15, 30, 45 or 60 minutes) judged against the day before",
    "drift_min_drop": "score_drift: a drift or pass-rate drop is a fall below the baseline by more than this…",
    "drift_sigmas": "score_drift: …and by more than this many standard errors of the difference",
    "drift_min_samples": "score_drift: scores needed in the rolling window and in the baseline",
}
_WAREHOUSE_OPTIONS += [
    click.option("--scorers", "scorers_file", envvar="CORRELATOR_SCORERS_FILE", default=None,
                 type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Per-scorer pass thresholds, floors and safety flags (JSON; default: the shipped "
                      "schemas/rules/scorers.json)."),
]  # fmt: skip
_WAREHOUSE_OPTIONS += [
    click.option(f"--{name.replace('_', '-')}", name, envvar=f"CORRELATOR_{name.upper()}", show_default=True,
                 default=default, type=type(default), help=_THRESHOLD_HELP[name])
    for name, default in ((n, getattr(Thresholds(), n)) for n in Thresholds.__dataclass_fields__)
]  # fmt: skip
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_KAFKA_OPTIONS = [
    click.option("--kafka", "kafka_bootstrap", envvar="CORRELATOR_KAFKA_BOOTSTRAP", default="localhost:9092",
                 show_default=True),
    click.option("--logs-topic", envvar="CORRELATOR_LOGS_TOPIC", default="app-logs", show_default=True),
    click.option("--metrics-topic", envvar="CORRELATOR_METRICS_TOPIC", default="usage-metrics", show_default=True),
    click.option("--otlp-spans-topic", envvar="CORRELATOR_OTLP_SPANS_TOPIC", default="otlp_spans", show_default=True,
                 help="OTLP spans, as the OpenTelemetry Collector's Kafka exporter writes them."),
    click.option("--otlp-logs-topic", envvar="CORRELATOR_OTLP_LOGS_TOPIC", default="otlp_logs", show_default=True,
                 help="OTLP log records, likewise."),
    click.option("--otlp/--no-otlp", envvar="CORRELATOR_OTLP", default=True, show_default=True,
                 help="Consume the OTLP topics."),
    click.option("--scores-topic", envvar="CORRELATOR_SCORES_TOPIC", default="llm-scores", show_default=True),
    click.option("--group-id", envvar="CORRELATOR_GROUP_ID", default="correlator", show_default=True),
    click.option("--kafka-session-timeout-ms", envvar="CORRELATOR_KAFKA_SESSION_TIMEOUT_MS", default=10_000,
                 show_default=True, type=click.IntRange(min=1_000)),
    click.option("--kafka-metadata-max-age-ms", envvar="CORRELATOR_KAFKA_METADATA_MAX_AGE_MS", default=30_000,
                 show_default=True, type=click.IntRange(min=100),
                 help="How often topic metadata is refreshed: a topic created, partitions added or a topic "
                      "deleted are seen within it."),
    click.option("--kafka-group-instance-id", envvar="CORRELATOR_KAFKA_GROUP_INSTANCE_ID", default="",
                 help="Static group membership: a stable name per replica (a StatefulSet pod's name); restarted "
                      "within the session timeout it gets its partitions back without a rebalance, and a stop "
                      "sends no LeaveGroup."),
    click.option("--batch-max-records", envvar="CORRELATOR_BATCH_MAX_RECORDS", default=50_000, show_default=True,
                 type=click.IntRange(min=1)),
    click.option("--batch-max-seconds", envvar="CORRELATOR_BATCH_MAX_SECONDS", default=0.1, show_default=True,
                 type=click.FloatRange(min=0.001)),
    click.option("--kafka-security-protocol", envvar="CORRELATOR_KAFKA_SECURITY_PROTOCOL", default="PLAINTEXT",
                 show_default=True, type=click.Choice(KAFKA_SECURITY_PROTOCOLS)),
    click.option("--kafka-sasl-mechanism", envvar="CORRELATOR_KAFKA_SASL_MECHANISM", default="PLAIN",
                 show_default=True, type=click.Choice(KAFKA_SASL_MECHANISMS)),
    click.option("--kafka-sasl-username", envvar="CORRELATOR_KAFKA_SASL_USERNAME", default=""),
    click.option("--kafka-sasl-password", envvar="CORRELATOR_KAFKA_SASL_PASSWORD", default="",
                 help="Prefer the environment or a file: flags show in process lists."),
    click.option("--kafka-sasl-password-file", envvar="CORRELATOR_KAFKA_SASL_PASSWORD_FILE", default=None,
                 type=_FILE, help="A mounted secret file."),
    click.option("--kafka-ssl-cafile", envvar="CORRELATOR_KAFKA_SSL_CAFILE", default=None,
                 type=_FILE, help="CA bundle (default: the system's)."),
    click.option("--kafka-ssl-certfile", envvar="CORRELATOR_KAFKA_SSL_CERTFILE", default=None,
                 type=_FILE, help="Client certificate (mutual TLS)."),
    click.option("--kafka-ssl-keyfile", envvar="CORRELATOR_KAFKA_SSL_KEYFILE", default=None,
                 type=_FILE, help="The client certificate's key."),
    click.option("--kafka-ssl-key-password", envvar="CORRELATOR_KAFKA_SSL_KEY_PASSWORD", default="",
                 help="The client key's passphrase, if it is encrypted; prefer the environment or a file."),
    click.option("--kafka-ssl-key-password-file", envvar="CORRELATOR_KAFKA_SSL_KEY_PASSWORD_FILE", default=None,
                 type=_FILE, help="A mounted secret file."),
    click.option("--redact/--no-redact", envvar="CORRELATOR_REDACT", default=True, show_default=True,
                 help="Mask API keys, tokens, e-mail addresses and card numbers before storing."),
    click.option("--hash-prompts", envvar="CORRELATOR_HASH_PROMPTS", is_flag=True,
                 help="Store prompt and output attributes as SHA-256 digests instead of text."),
]  # fmt: skip
_CLUSTER_OPTION = click.option(
    "--cluster", "clickhouse_cluster", envvar="CORRELATOR_CLICKHOUSE_CLUSTER", default="",
    help="A ClickHouse cluster: Replicated tables, Distributed tables and views ON CLUSTER NAME.",
)  # fmt: skip
_OPS_OPTIONS = [
    click.option("--http-host", envvar="CORRELATOR_HTTP_HOST", default="0.0.0.0", show_default=True,
                 help="Where /healthz, /readyz and /metrics listen."),
    click.option("--http-port", envvar="CORRELATOR_HTTP_PORT", default=8080, show_default=True,
                 type=click.IntRange(min=0, max=65535), help="Port of those endpoints; 0 turns them off."),
    click.option("--shutdown-grace-seconds", envvar="CORRELATOR_SHUTDOWN_GRACE_SECONDS", default=20.0,
                 show_default=True, type=click.FloatRange(min=0.1),
                 help="On SIGTERM, store and commit in-flight batches within this; keep it below the pod's grace."),
    click.option("--liveness-stall-seconds", envvar="CORRELATOR_LIVENESS_STALL_SECONDS", default=300.0,
                 show_default=True, type=click.FloatRange(min=0.1),
                 help="/healthz fails once the loop has made no progress for this long, even while it retries."),
    click.option("--session-check-seconds", envvar="CORRELATOR_SESSION_CHECK_SECONDS", default=60.0,
                 show_default=True, type=click.FloatRange(min=0.1),
                 help="How often, at most, runaway sessions are counted for llm_runaway_sessions."),
]  # fmt: skip


_RULES_OPTION = click.option(
    "--rules", "rules_path", envvar="CORRELATOR_RULES_FILE", default=str(RULES_PATH), show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The versioned classification rules (JSON).",
)  # fmt: skip


class _TimeBound(click.ParamType[datetime]):
    """``--since``/``--until``: a duration back from now (90m, 24h, 7d) or an ISO 8601 time."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from correlator.commands.timebounds import parse_time_bound

        if not isinstance(value, str):
            return value
        try:
            return parse_time_bound(value)
        except ConfigurationError as exc:
            self.fail(str(exc), param, ctx)


TIME = _TimeBound()


def _classifier(rules_path: Path) -> Classifier:
    try:
        return Classifier.from_file(rules_path)
    except RulesError as exc:
        raise click.ClickException(f"{rules_path}: {exc.describe()}") from None


def _options(options: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def decorate(command: Any) -> Any:
        return functools.reduce(lambda cmd, option: option(cmd), reversed(options), command)

    return decorate


def _settings(**values: Any) -> Settings:
    try:
        thresholds = Thresholds(
            **{name: values.pop(name) for name in Thresholds.__dataclass_fields__ if name in values}
        )
        if "clickhouse_password_file" in values:
            values["clickhouse_password"] = read_secret(
                values["clickhouse_password"], values.pop("clickhouse_password_file"), "ClickHouse password"
            )
        if "kafka_security_protocol" in values:
            values["kafka_security"] = KafkaSecurity(
                protocol=values.pop("kafka_security_protocol"),
                sasl_mechanism=values.pop("kafka_sasl_mechanism"),
                sasl_username=values.pop("kafka_sasl_username"),
                sasl_password=read_secret(
                    values.pop("kafka_sasl_password"), values.pop("kafka_sasl_password_file"), "Kafka SASL password"
                ),
                ssl_cafile=values.pop("kafka_ssl_cafile"),
                ssl_certfile=values.pop("kafka_ssl_certfile"),
                ssl_keyfile=values.pop("kafka_ssl_keyfile"),
                ssl_key_password=read_secret(
                    values.pop("kafka_ssl_key_password"),
                    values.pop("kafka_ssl_key_password_file"),
                    "Kafka SSL key password",
                ),
            )
        return Settings(thresholds=thresholds, **values)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc)) from None


def _apply_schema(client: Any, settings: Settings, views_later: bool = False) -> Any:
    """``correlator migrate``'s work, with the settings' thresholds and scorers file."""
    from correlator.processing.scorers import Scorers
    from correlator.warehouse.migrate import migrate as apply_schema

    return apply_schema(client, settings.database, settings.retention_days, settings.thresholds,
                        settings.clickhouse_cluster or None, Scorers.for_settings(settings),
                        views_later=views_later)  # fmt: skip


class _Commands(click.Group):
    """Every command's :class:`CorrelatorError` ends as its message and what to do, with exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CorrelatorError as exc:
            raise click.ClickException(exc.describe()) from None


@click.group(cls=_Commands)
@click.option("--log-level", envvar="CORRELATOR_LOG_LEVEL", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))  # fmt: skip
@click.version_option(package_name="correlator")
def main(log_level: str) -> None:
    """Correlate LLM application logs with usage metrics in ClickHouse and explain masked failures."""
    configure_logging(log_level)


@main.command()
@_options(_WAREHOUSE_OPTIONS)
@_CLUSTER_OPTION
def migrate(**values: Any) -> None:
    """Apply the schema (idempotent)."""
    from correlator.warehouse.connection import connect

    settings = _settings(**values)
    report = _apply_schema(connect(settings.clickhouse_url, settings.clickhouse_user, settings.clickhouse_password),
                           settings)  # fmt: skip
    applied = ", ".join(report.applied) or "nothing new"
    views = ", ".join(report.views) or "none (the schema is as the last migrate left it)"
    click.echo(
        f"database {settings.database}: applied {applied}; retention changed: {report.retention_changed}; "
        f"views re-created: {views}"
    )


@main.command()
@_options(_KAFKA_OPTIONS + _WAREHOUSE_OPTIONS + _OPS_OPTIONS)
@_CLUSTER_OPTION
@_RULES_OPTION
@click.option("--migrate/--no-migrate", "apply_migrations", envvar="CORRELATOR_MIGRATE", default=True,
              show_default=True, help="Apply the schema at start (off: schemas/grants.sql users).")  # fmt: skip
def run(rules_path: Path, apply_migrations: bool, **values: Any) -> None:
    """The daemon: migrate, then consume both topics until SIGTERM/SIGINT."""
    stop_asked = _stop_signals_noted()
    settings = _settings(**values)

    def open_warehouse() -> tuple[Client, Callable[[], None] | None]:
        """Connect and migrate, on a thread of its own from the command's start, while the rest is made
        ready and the group joined: the engine's work runs mostly outside the interpreter lock. Its
        libraries are imported before (``load_libraries``), that being interpreter work. The views no
        row is stored through are left for after the first store (``migrate``'s ``views_later``)."""
        from clickhouse_connect.driver.exceptions import DatabaseError

        from correlator.warehouse.connection import connect

        with _as_warehouse_error(DatabaseError):
            client = connect(settings.clickhouse_url, settings.clickhouse_user, settings.clickhouse_password)
            finish = _apply_schema(client, settings, views_later=True).finish if apply_migrations else None
        if finish is None:
            return client, None

        def finish_schema() -> None:
            with _as_warehouse_error(DatabaseError):
                finish()

        return client, finish_schema

    with _collector_held_off():
        from correlator.warehouse.connection import load_libraries

        load_libraries(settings.clickhouse_url)
        # the daemon's first warehouse call waits for this (and gets its error, if any); nothing is fetched before
        opener = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warehouse-open")
        opening = opener.submit(open_warehouse)
        opener.shutdown(wait=False)  # its thread ends with this one task
        from correlator.processing.batching import collect_cycles_less_often
        from correlator.runtime.daemon import Daemon
        from correlator.runtime.ops.http import serving
        from correlator.warehouse.writer import Warehouse

        classifier = _classifier(rules_path)
        daemon = Daemon(settings, Warehouse.opened_by(opening.result, settings.database), classifier)
    collect_cycles_less_often()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if stop_asked.is_set():
            stop.set()
        if not settings.http_port:
            await daemon.run(stop)
            return
        async with serving(daemon, settings.http_host, settings.http_port):
            await daemon.run(stop)

    try:
        asyncio.run(serve())
    except CorrelatorError as exc:
        _daemon_failed(settings.mask_secrets(str(exc)))


@contextlib.contextmanager
def _collector_held_off() -> Iterator[None]:
    """No cycle collection while a start imports and sets up: what it makes (modules, models, rules) is
    no garbage and lives as long as the process, yet the collector walked it again and again, about
    0.05 CPU-s of the daemon's start (the warehouse thread's imports included: the switch is the
    process's). ``collect_cycles_less_often`` freezes it all afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _as_warehouse_error(database_error: type[Exception]) -> Iterator[None]:
    """The engine's refusal as the daemon's failure: its message, exit code 1."""
    try:
        yield
    except database_error as exc:
        raise WarehouseError(str(exc)) from None


def _stop_signals_noted() -> threading.Event:
    """SIGTERM/SIGINT are noted from the command's first moment, until the event loop takes them over.

    A pod can be stopped while the daemon connects and migrates: it then exits 0 before
    consuming anything, instead of dying of the signal halfway through its start.
    """
    asked = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: asked.set())
    return asked


def _daemon_failed(reason: str) -> NoReturn:
    """The daemon's last line is JSON like all its others: a pod's log pipeline parses every line."""
    structlog.get_logger("correlator.daemon").error("daemon failed", reason=reason)
    sys.exit(1)


@main.command()
@_RULES_OPTION
def classify(rules_path: Path) -> None:
    """Classify JSON lines from stdin (log events, metrics rows, {"message"} or {"traceback"})."""
    from correlator.commands.classify_lines import classify_line

    classifier = _classifier(rules_path)
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
@_options(_WAREHOUSE_OPTIONS)
@_RULES_OPTION
@click.option("--since", type=TIME, default="100000d", show_default=True, help="A duration back or a time.")
@click.option("--until", type=TIME, default="0s", show_default=True, help="A duration back or a time.")
@click.option("--dry-run", is_flag=True, help="Count what would change; change nothing.")
def reclassify(rules_path: Path, since: datetime, until: datetime, dry_run: bool, **values: Any) -> None:
    """Re-derive stored labels with the current rules; prints what changed, from what to what."""
    from correlator.commands.reclassify import reclassify as relabel
    from correlator.commands.tables import print_table

    classifier = _classifier(rules_path)
    with _warehouse(values) as (client, settings):
        report = relabel(client, settings.database, classifier, since, until, dry_run=dry_run)
    verb = "would change" if dry_run else "changed"
    click.echo(f"rules {classifier.version}: examined {report.examined} labelled rows, {verb} {report.changed}")
    if report.changes:
        changes = sorted(report.changes.items(), key=lambda item: -item[1])
        print_table("label changes", ["from", "to", "rows"], [(old, new, n) for (old, new), n in changes])


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--from-kafka", is_flag=True, help="Load the logs and metrics topics' history instead of files.")
@click.option("--since", type=TIME, default=None, help="Kafka: from the first record at this time.")
@click.option("--until", type=TIME, default=None, help="Kafka: up to the first record at this time; default: the end.")
@click.option(
    "--offsets",
    multiple=True,
    metavar="TOPIC:PARTITION:START-END",
    help="Kafka: an explicit offset range, end exclusive; repeatable.",
)
@click.option(
    "--log-format",
    default=DEFAULT_LOG_FORMAT,
    show_default=True,
    help="Plain-text log files: the logging format they were written with.",
)
@click.option("--dry-run", is_flag=True, help="Decode and count what would be loaded; store nothing.")
@click.option("--strict", is_flag=True, help="Exit 3 if any record was undecodable (it is still dead-lettered).")
@click.option("--restart", is_flag=True, help="Ignore checkpoints and load every range from its start again.")
@click.option(
    "--progress-interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Seconds between JSON progress lines when stderr is not a terminal.",
)
@_options(_KAFKA_OPTIONS + _WAREHOUSE_OPTIONS)
@_RULES_OPTION
def backfill(paths: tuple[Path, ...], from_kafka: bool, since: datetime | None, until: datetime | None,
             offsets: tuple[str, ...], log_format: str, dry_run: bool, strict: bool, restart: bool,
             progress_interval: float, rules_path: Path, **values: Any) -> None:  # fmt: skip
    """Load history (JSONL, gzip, plain-text logs, or a Kafka range) through the daemon's path; resumable.

    Prints progress to stderr (a bar on a terminal, JSON lines otherwise) and a JSON summary
    to stdout. Exit 130 when interrupted (run it again to resume), 3 with --strict and dead letters.
    """
    from correlator.processing.batching import collect_cycles_less_often
    from correlator.runtime import backfill as load
    from correlator.runtime.progress import progress_for
    from correlator.sources.files import discover
    from correlator.sources.textlog import compile_format

    from_kafka = from_kafka or bool(offsets)
    if from_kafka == bool(paths):
        raise click.UsageError("give files or folders to load, or --from-kafka (with --since/--until or --offsets)")
    try:
        compile_format(log_format)
        runs = [] if from_kafka else discover(paths)
        explicit = _offset_ranges(offsets) if offsets else None
    except (ConfigurationError, InputError) as exc:
        raise click.BadParameter(str(exc)) from None
    classifier = _classifier(rules_path)
    collect_cycles_less_often()
    stop = load.StopFlag()
    with contextlib.ExitStack() as stack:
        warehouse = None
        if not dry_run:
            warehouse = stack.enter_context(_migrated_warehouse(values))
        settings = _settings(**values)
        progress = progress_for("backfill", "messages" if from_kafka else "lines", progress_interval)
        stack.callback(progress.close)
        loader = load.Loader(warehouse, classifier, settings.batch_max_records, progress, settings.redact,
                             settings.hash_prompts)  # fmt: skip
        stack.enter_context(load.stop_on_signals(stop))
        if from_kafka:
            from aiokafka.errors import KafkaError

            from correlator.processing.batching import stream_kinds
            from correlator.sources.kafka import KafkaRangeReader

            reader = KafkaRangeReader(settings.kafka_bootstrap, settings.batch_max_records, settings.kafka_security)
            kinds = stream_kinds(settings)
            try:
                tally = asyncio.run(load.backfill_kafka(loader, reader, kinds, stop, since, until, explicit, restart,
                                                        progress.set_total))  # fmt: skip
            except (CorrelatorError, KafkaError) as exc:
                raise click.ClickException(f"Kafka {settings.kafka_bootstrap}: {exc}") from None
        else:
            tally = load.backfill_files(loader, runs, stop, restart, log_format, progress.set_total)
    sys.stdout.buffer.write(orjson.dumps(tally.summary(dry_run)) + b"\n")
    sys.stdout.flush()
    if tally.interrupted:
        sys.exit(130)
    if strict and tally.dead_letters:
        sys.exit(3)


def _offset_ranges(specs: tuple[str, ...]) -> dict[Any, tuple[int, int]]:
    """``topic:partition:start-end`` → {TopicPartition: (start, end)}."""
    from aiokafka import TopicPartition

    ranges = {}
    for spec in specs:
        try:
            topic, partition, span = spec.rsplit(":", 2)
            start, end = (int(part) for part in span.split("-", 1))
            if not 0 <= start <= end:
                raise ValueError
        except ValueError:
            raise InputError(f"{spec!r} is not TOPIC:PARTITION:START-END with 0 <= START <= END") from None
        ranges[TopicPartition(topic, int(partition))] = (start, end)
    return ranges


@contextlib.contextmanager
def _migrated_warehouse(values: dict[str, Any]) -> Iterator[Any]:
    """A writer on the configured warehouse, its schema brought up to date first."""
    from correlator.warehouse.writer import Warehouse

    with _warehouse(dict(values)) as (client, settings):
        _apply_schema(client, settings)
        yield Warehouse(client, settings.database)


@contextlib.contextmanager
def _warehouse(values: dict[str, Any]) -> Iterator[tuple[Any, Settings]]:
    """The configured warehouse; a query that fails says why, and what usually fixes it."""
    from clickhouse_connect.driver.exceptions import DatabaseError

    from correlator.warehouse.connection import connect

    settings = _settings(**values)
    client = connect(settings.clickhouse_url, settings.clickhouse_user, settings.clickhouse_password)
    try:
        yield client, settings
    except DatabaseError as exc:
        first_line = settings.mask_secrets(str(exc)).splitlines()[0][:300]
        hint = ""
        if "UNKNOWN_TABLE" in str(exc) or "UNKNOWN_FUNCTION" in str(exc) or "UNKNOWN_DATABASE" in str(exc):
            hint = f"; database {settings.database} lacks objects this version needs: run `correlator migrate`"
        raise WarehousePermanentError(f"the query failed: {first_line}{hint}") from None


def _print_json(value: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC) + b"\n")


_JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@main.command()
@click.argument("error_id")
@_options(_WAREHOUSE_OPTIONS)
@_JSON_OPTION
def lookup(error_id: str, as_json: bool, **values: Any) -> None:
    """One failure: its metrics row, its log lines, the exception chain, the label and the rule."""
    from correlator.commands import incidents
    from correlator.commands.tables import print_table

    with _warehouse(values) as (client, settings):
        found = incidents.lookup(client, settings.database, error_id)
    if found is None:
        raise click.ClickException(f"no failure with error_id {error_id!r} in database {settings.database}")
    if as_json:
        _print_json(found)
        return
    label = f"{found['category']}/{found['error_class']}"
    changed = f" (the metrics row said {found['original_error']!r})" if found["reclassified"] else ""
    click.echo(f"error {found['error_id']}  trace {found['trace_id'] or '-'}  first seen {found['first_seen']}")
    click.echo(f"label {label}{changed}, chosen by rule {found['rule']}")
    click.echo(f"root cause {found['root_cause_type'] or '-'}: {found['root_cause_message']}")
    columns = ("ts", "model", "success", "error", "duration_seconds", "input_tokens", "output_tokens")
    metrics = [tuple(m[c] for c in columns) for m in found["metrics"]]
    print_table("usage-metrics rows", ["time", "model", "success", "error", "seconds", "in", "out"], metrics)
    for line in found["logs"]:
        chain = [
            (("root cause → " if link["root_cause"] else "") + link["type"], link["message"]) for link in line["chain"]
        ]
        print_table(f"log line {line['ts']} {line['level']} {line['message']}", ["exception", "message"], chain)


@main.command(name="trace")
@click.argument("trace_id")
@click.option("--tree", "tree_only", is_flag=True,
              help="Only the span tree; with --json, the tree as nested records instead of the timeline.")  # fmt: skip
@_options(_WAREHOUSE_OPTIONS)
@_JSON_OPTION
def trace_command(trace_id: str, tree_only: bool, as_json: bool, **values: Any) -> None:
    """The trace's steps as a tree (first failing step named), then every record of it in time order."""
    from correlator.commands import incidents, trace_tree
    from correlator.commands.tables import print_table

    with _warehouse(values) as (client, settings):
        spans = incidents.trace_spans(client, settings.database, trace_id)
        timeline = [] if tree_only else incidents.trace(client, settings.database, trace_id)
    if not spans and not timeline:
        what = "spans" if tree_only else "rows"
        raise click.ClickException(f"no {what} with trace_id {trace_id!r} in database {settings.database}")
    if as_json:
        first = trace_tree.first_failure(spans)
        _print_json({"trace_id": trace_id, "first_failure": first and first["span_id"],
                     "spans": trace_tree.nest(spans)} if tree_only else timeline)  # fmt: skip
        return
    if spans:
        trace_tree.print_tree(trace_id, spans)
    if tree_only:
        return
    failed = [row["status"] in ("failure", "error", "critical") or bool(row["error_class"]) for row in timeline]
    rows = [
        (row["ts"], row["kind"], row["service"], row["status"], row["model"], row["error_id"],
         f"{row['category']}/{row['error_class']}" if row["error_class"] else "", row["detail"])
        for row in timeline
    ]  # fmt: skip
    print_table(
        f"trace {trace_id}",
        ("time", "kind", "service", "status", "model", "error_id", "label", "detail"),
        rows,
        row_styles=["bold red" if failure else None for failure in failed],
    )


@main.command()
@click.option("--since", type=TIME, default="1h", show_default=True, help="A duration back (90m, 24h) or a time.")
@_options(_WAREHOUSE_OPTIONS)
@_JSON_OPTION
def incidents(since: datetime, as_json: bool, **values: Any) -> None:
    """What is failing since a time: by class and model, the share still unknown, newest examples."""
    from correlator.commands import incidents as answers
    from correlator.commands.quality import quality
    from correlator.commands.tables import print_table

    with _warehouse(values) as (client, settings):
        report = answers.incidents(client, settings.database, since)
        report["quality"] = quality(client, settings.database, since, settings.thresholds.eval_pass_threshold)
    if as_json:
        _print_json(report)
        return
    click.echo(f"since {since:%Y-%m-%d %H:%M:%S} UTC: {report['calls']} calls, {report['failures']} failures, "
               f"{report['reclassified']} explained by their root cause, "
               f"{report['still_unknown']} still unknown ({report['unknown_share']:.0%})")  # fmt: skip
    by_class = [(r["category"], r["error_class"], r["model"], r["failures"], r["reclassified"], r["latest"])
                for r in report["by_class_and_model"]]  # fmt: skip
    print_table("failures by class and model", ["category", "class", "model", "failures", "reclassified", "latest"],
                by_class)  # fmt: skip
    groups = [
        ("new" if g["is_new"] else "", g["failures"], g["error_class"], g["root_cause_type"],
         g["example_message"][:160], ", ".join(g["models"]), ", ".join(g["example_error_ids"][:3]))
        for g in report["top_groups"]
    ]  # fmt: skip
    print_table("top failure groups (root-cause fingerprint)", ["", "failures", "class", "root cause", "latest message",
                "models", "examples"], groups)  # fmt: skip
    spikes = [(r["window"], r["model"], r["alert"], f"{r['error_rate']:.1%}", f"{r['baseline_rate']:.1%}")
              for r in report["spikes"]]  # fmt: skip
    print_table("error-rate spikes", ["window", "model", "alert", "error rate", "24h baseline"], spikes)
    costs = [(r["hour"], r["model"], r["service"], r["alert"], f"${r['cost_usd']:.2f}", f"{r['ratio']:.1f}x")
             for r in report["cost_anomalies"]]  # fmt: skip
    print_table("cost anomalies", ["hour", "model", "service", "alert", "cost", "vs 7-day mean"], costs)
    examples = [(r["error_class"], r["error_id"], r["model"], r["first_seen"], r["root_cause_type"], r["root_cause"])
                for r in report["newest_example_per_class"]]  # fmt: skip
    print_table("newest example of each class", ["class", "error_id", "model", "seen", "root cause", "message"],
                examples)  # fmt: skip
    _print_quality(report["quality"])


def _print_quality(section: dict[str, Any]) -> None:
    """The quality section of ``incidents``: pass rates, drift alerts, content failures, safety failures."""
    from correlator.commands.tables import print_table

    rate = "n/a" if section["pass_rate"] is None else f"{section['pass_rate']:.1%}"
    click.echo(f"quality: {section['scores_evaluated']} scores evaluated, {rate} passed;\n"
               f"  {len(section['drift_alerts'])} drift alerts, {section['content_failures']} content failures, "
               f"{len(section['safety_failures'])} safety failures")  # fmt: skip
    print_table("quality: pass rates by scorer and model", ["scorer", "model", "evaluated", "pass rate", "threshold"],
                [(r["name"], r["model"], r["evaluated"], f"{r['pass_rate']:.1%}", r["threshold"])
                 for r in section["pass_rates"]])  # fmt: skip
    print_table("quality: score drift alerts (score_drift)",
                ["latest window", "scorer", "model", "alert", "now", "24h before", "windows"],
                [(r["latest"], r["name"], r["model"], r["alert"],
                  *(f"{a:.2f}" for a in ((r["pass_rate"], r["baseline_pass_rate"]) if r["alert"] == "pass_rate_drop"
                                         else (r["mean"], r["baseline"]))), r["windows"])
                 for r in section["drift_alerts"]])  # fmt: skip
    print_table("quality: content failures by class (HTTP 200, unusable answer)",
                ["class", "model", "failures", "rules", "latest trace"],
                [(r["error_class"], r["model"], r["failures"], ", ".join(r["rules"]), r["latest_trace_id"])
                 for r in section["content_failures_by_class"]])  # fmt: skip
    print_table(
        "quality: safety failures",
        ["seen", "scorer", "model", "trace"],
        [(r["ts"], r["name"], r["model"], r["trace_id"]) for r in section["safety_failures"]],
    )
    backlog = section["review_backlog"]
    reasons = ", ".join(f"{count} {reason}" for reason, count in backlog["by_reason"].items())
    print_table(f"quality: review backlog, {backlog['waiting']} traces ({reasons or 'none'}); "
                "`correlator review list`", ["trace", "reason", "model", "latest"],
                [(r["trace_id"], r["reason"], r["model"], r["latest"]) for r in backlog["worst"]])  # fmt: skip


@main.command()
@click.option("--since", type=TIME, default="24h", show_default=True, help="A duration back (24h, 7d) or a time.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True)  # fmt: skip
@click.option("--trace", "trace_ids", multiple=True, metavar="TRACE_ID",
              help="Draw this trace's waterfall (repeatable); else the traces with the most failed steps.")  # fmt: skip
@_options(_WAREHOUSE_OPTIONS)
def report(since: datetime, output: Path, trace_ids: tuple[str, ...], **values: Any) -> None:
    """One self-contained HTML file: error rates by class, latency and cost by model, root causes, quality, traces."""
    from correlator.commands.report import build_report

    with _warehouse(values) as (client, settings):
        page = build_report(client, settings.database, since, settings.thresholds.eval_pass_threshold, trace_ids)
    output.write_text(page, encoding="utf-8")
    click.echo(f"wrote {output} ({output.stat().st_size // 1024} KiB)")


@main.command()
@click.option("--data-dir", envvar="CORRELATOR_DATA_DIR", default=".correlator", show_default=True,
              type=click.Path(path_type=Path))  # fmt: skip
@click.option("--database", default="correlator_demo", show_default=True)
def demo(data_dir: Path, database: str) -> None:
    """Start a local broker and the embedded warehouse, run a mixed workload, show the result."""
    from correlator.devkit.demo import run_demo

    sys.exit(asyncio.run(run_demo(_settings(data_dir=data_dir, database=database))))


@main.group()
def review() -> None:
    """The review queue: traces a person should look at, and their verdicts (README, "Review queue")."""


@review.command(name="list")
@click.option("--since", type=TIME, default="24h", show_default=True, help="A duration back (24h, 7d) or a time.")
@click.option("--reason", type=click.Choice(["low_score", "content_failure", "safety", "sampled"]), default=None,
              help="Only traces waiting for this reason.")  # fmt: skip
@click.option("--sample-rate", envvar="CORRELATOR_REVIEW_SAMPLE_RATE", default=0.01, show_default=True,
              type=click.FloatRange(0, 1), help="Share of ordinary traces offered for calibration.")  # fmt: skip
@click.option("--limit", default=200, show_default=True, type=click.IntRange(min=1))
@_options(_WAREHOUSE_OPTIONS)
@_JSON_OPTION
def review_list(since: datetime, reason: str | None, sample_rate: float, limit: int, as_json: bool,
                **values: Any) -> None:  # fmt: skip
    """Traces waiting for a person, worst first: safety, content failures, low scores, a calibration sample."""
    from correlator.commands.review import review_queue
    from correlator.commands.tables import print_table
    from correlator.processing.scorers import Scorers

    with _warehouse(values) as (client, settings):
        queue = review_queue(client, settings.database, since, reason or "", settings.thresholds.eval_pass_threshold,
                             sample_rate, limit, Scorers.for_settings(settings))  # fmt: skip
    if as_json:
        _print_json(queue)
        return
    print_table(f"review queue since {since:%Y-%m-%d %H:%M:%S} UTC ({len(queue)} traces)",
                ["trace", "reason", "model", "latest", "why"],
                [(r["trace_id"], r["reason"], r["model"], r["latest"], r["detail"]) for r in queue])  # fmt: skip


@review.command(name="label")
@click.argument("trace_id")
@click.option("--verdict", required=True, type=click.Choice(["pass", "fail"]))
@click.option("--mode", default="", help="The failure mode: specific snake_case, e.g. stale_policy_retrieval.")
@click.option("--span", "span_id", default="", help="The span the verdict is about.")
@click.option("--note", default="", help="What the reviewer saw (kept with the verdict, and in datasets).")
@_options(_KAFKA_OPTIONS)
def review_label(trace_id: str, verdict: str, mode: str, span_id: str, note: str, **values: Any) -> None:
    """Send a verdict as a `human` score to the scores topic; the daemon stores it and the trace leaves the queue."""
    from correlator.commands.review import send_verdict, verdict_score

    score = verdict_score(trace_id, verdict, mode, span_id, note)
    settings = _settings(**values)
    asyncio.run(send_verdict(settings, score))
    click.echo(f"sent {verdict} {score['label']!r} for trace {trace_id} to {settings.scores_topic}")


@main.group()
def dataset() -> None:
    """Regression datasets: stored failures as versioned JSON lines (README, "Regression datasets")."""


@dataset.command(name="export")
@click.argument("name")
@click.option("--reviewed", is_flag=True, help="Only traces a reviewer marked as failed.")
@click.option("--group", default="", help="Only this failure group (its root-cause fingerprint).")
@click.option("--class", "error_class", default="", help="Only this class: error_class or category/error_class.")
@click.option("--since", default="7d", show_default=True, help="A duration back (24h, 7d) or a time.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_options(_WAREHOUSE_OPTIONS)
@_RULES_OPTION
def dataset_export(name: str, reviewed: bool, group: str, error_class: str, since: str, output: Path,
                   rules_path: Path, **values: Any) -> None:  # fmt: skip
    """Write failures as a regression dataset: a manifest line, then one canonical JSON line per case."""
    from correlator.commands.dataset import Selection, export_dataset

    selection = Selection(since, reviewed, group, error_class)
    rules_version = str(orjson.loads(rules_path.read_bytes()).get("version", ""))
    with _warehouse(values) as (client, settings):
        written = export_dataset(client, settings.database, name, selection, TIME.convert(since, None, None),
                                 rules_version, output)  # fmt: skip
    click.echo(f"wrote {output}: {written.items} items, version {written.version}")
