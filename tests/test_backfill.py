"""``correlator backfill``: files and Kafka ranges through the daemon's path, once, resumable."""

from __future__ import annotations

import asyncio
import gzip
import io
import os
import pty
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import TopicPartition
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import POISON_MESSAGES, mixed_workload, write_run_folder
from correlator.processing.batching import stream_kinds
from correlator.processing.classify import Classifier
from correlator.runtime.backfill import Loader, StopFlag, backfill_files, backfill_kafka
from correlator.runtime.daemon import Daemon
from correlator.runtime.progress import JsonProgress
from correlator.sources.files import discover
from correlator.sources.kafka import KafkaRangeReader
from correlator.warehouse.writer import Warehouse
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import committed_offsets, query_warehouse, wait_until

CLASSIFIER = Classifier.from_file()


def _loader(client: Client | None, database: str, batch_max_records: int = 1_000) -> Loader:
    warehouse = Warehouse(client, database) if client is not None else None
    return Loader(warehouse, CLASSIFIER, batch_max_records, JsonProgress("test", "units", io.StringIO()))


def _snapshot(query: Any, database: str) -> dict[str, list[Any]]:
    """What an on-call engineer sees: the correlated views, plus how many copies the raw tables hold."""
    return {
        "errors": query(f"SELECT error_id, trace_id, original_error, category, error_class, reclassified, "
                        f"root_cause_type, root_cause_message, rule FROM {database}.errors ORDER BY error_id"),
        "model_health": query(f"SELECT * FROM {database}.model_health_1h ORDER BY ALL"),
        "dead_letters": query(f"SELECT topic, offset, reason, raw FROM {database}.dead_letters ORDER BY ALL"),
        "raw_copies": query(
            f"SELECT * FROM (SELECT 'logs', count(), uniqExact(topic, partition, offset) FROM {database}.log_events "
            f"UNION ALL SELECT 'metrics', count(), uniqExact(topic, partition, offset) FROM {database}.usage_metrics) "
            "ORDER BY 1"
        ),
    }  # fmt: skip


def test_a_run_folder_explains_every_masked_metrics_row(warehouse: Client, database: str, tmp_path: Path):
    run = write_run_folder(tmp_path / "history" / "run-1", calls=600)
    json_logs = mixed_workload(150, seed=3)
    other = tmp_path / "history" / "exported"
    other.mkdir()
    with gzip.open(other / "app-logs.jsonl.gz", "wb") as stream:
        stream.writelines(line + b"\n" for line in json_logs.logs)
    (other / "usage.jsonl").write_bytes(b"".join(line + b"\n" for line in json_logs.metrics))

    runs = discover([tmp_path / "history"])
    assert [len(r.files) for r in runs] == [2, 2]  # both folders hold logs beside metrics: one unit each
    tally = backfill_files(_loader(warehouse, database), runs, StopFlag())

    assert tally.dead_letters == {} and not tally.interrupted
    expected = run.expected_class | json_logs.expected_class
    found = {error_id: (original, error_class, reclassified) for error_id, original, error_class, reclassified in rows(
        warehouse, f"SELECT error_id, original_error, error_class, reclassified FROM {database}.errors")}  # fmt: skip
    assert found == {
        error_id: ("unknown", error_class, int(error_class != "unknown")) for error_id, error_class in expected.items()
    }
    [(calls,)] = rows(warehouse, f"SELECT sum(calls) FROM {database}.model_health_1h")
    assert calls == 600 + 150
    # a text-log failure keeps its chain, root cause first, and its trace
    [(types, trace_id)] = rows(warehouse, f"SELECT exception_types, trace_id FROM {database}.log_events "
                               "WHERE error_id = {id:String}", id=next(iter(run.expected_class)))  # fmt: skip
    assert types[-1] in ("ValueError", "correlator.emit.errors.LLMChatError") and len(trace_id) == 32


def test_loading_twice_or_after_an_interruption_changes_no_view(warehouse: Client, database: str, tmp_path: Path):
    # a day ends 500 calls in, inside the part loaded before the interruption: batches are cut there too
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    write_run_folder(tmp_path / "run", calls=3_000, start=midnight - timedelta(seconds=1_000))
    runs = discover([tmp_path / "run"])
    reference = f"{database}_ref"
    from correlator.warehouse.migrate import migrate

    migrate(warehouse, reference, retention_days=3650)
    try:
        uninterrupted = backfill_files(_loader(warehouse, reference, 500), runs, StopFlag())

        stop = StopFlag()
        loader = _loader(warehouse, database, 500)
        original_add = loader.add

        def add_then_interrupt(source_range: Any, messages: Any) -> None:
            original_add(source_range, messages)
            if loader.tally.batches >= 1:
                stop.set()  # what SIGINT does

        loader.add = add_then_interrupt  # type: ignore[method-assign]
        first = backfill_files(loader, runs, stop)
        assert first.interrupted and 0 < first.records < uninterrupted.records

        resumed = backfill_files(_loader(warehouse, database, 500), runs, StopFlag())
        assert resumed.resumed == 1 and not resumed.interrupted
        assert first.rows + resumed.rows == uninterrupted.rows
        query = lambda sql: rows(warehouse, sql)  # noqa: E731
        assert _snapshot(query, database) == _snapshot(query, reference)

        again = backfill_files(_loader(warehouse, database, 500), runs, StopFlag(), restart=True)
        assert again.records == uninterrupted.records
        assert _snapshot(query, database) == _snapshot(query, reference)
    finally:
        warehouse.command(f"DROP DATABASE IF EXISTS {reference}")


def _backfill_cli(*args: str, data_dir: Path, database: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CORRELATOR_DATA_DIR": str(data_dir), "CORRELATOR_DATABASE": database}
    return subprocess.Popen([sys.executable, "-m", "correlator", "backfill", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def _finish(process: subprocess.Popen[bytes]) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    out, err = process.communicate(timeout=240)
    progress = [orjson.loads(line) for line in err.splitlines() if line.startswith(b'{"progress"')]
    return process.returncode, orjson.loads(out) if out.strip() else {}, progress


@pytest.mark.slow
def test_cli_survives_sigint_and_sigkill_and_ends_as_one_uninterrupted_run(tmp_path: Path):
    write_run_folder(tmp_path / "run", calls=8_000)
    folder, data_dir = str(tmp_path / "run"), tmp_path / "warehouse"
    url = f"chdb://{data_dir / 'clickhouse'}"
    args = (folder, "--batch-max-records", "1000", "--progress-interval", "0.2")

    code, reference, _ = _finish(_backfill_cli(*args, data_dir=data_dir, database="reference"))
    assert code == 0 and reference["records"] > 8_000

    for how in (signal.SIGINT, signal.SIGKILL):
        process = _backfill_cli(*args, data_dir=data_dir, database="resumed")
        assert process.stderr is not None
        first_progress = process.stderr.readline()  # the first progress line: loading is under way
        assert first_progress.startswith(b'{"progress"'), first_progress
        process.send_signal(how)
        code, summary, _ = _finish(process)
        assert code == (130 if how == signal.SIGINT else -signal.SIGKILL)
        if how == signal.SIGINT:
            assert summary["interrupted"] and 0 < summary["records"] < reference["records"]

    code, summary, progress = _finish(_backfill_cli(*args, data_dir=data_dir, database="resumed"))
    assert code == 0 and summary["resumed_sources"] >= 1 and summary["records"] < reference["records"]
    assert progress[-1]["eta_seconds"] == 0.0 and progress[-1]["lines"] == progress[-1]["total"]

    query = lambda sql: query_warehouse(url, sql)  # noqa: E731
    assert _snapshot(query, "resumed") == _snapshot(query, "reference")
    [[copies, distinct]] = query("SELECT count(), uniqExact(topic, partition, offset) FROM resumed.log_events")
    assert copies == distinct  # a batch re-read after SIGKILL kept its deduplication token


def test_undecodable_lines_are_dead_lettered_with_file_and_line_and_strict_fails(tmp_path: Path):
    history = tmp_path / "history"
    history.mkdir()
    metrics = mixed_workload(20, seed=5).metrics
    lines = [*metrics[:10], POISON_MESSAGES["not_json"], *metrics[10:], POISON_MESSAGES["not_utf8"]]
    (history / "usage_metrics.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    data_dir = tmp_path / "warehouse"

    code, dry, _ = _finish(_backfill_cli(str(history), "--dry-run", data_dir=data_dir, database="bf"))
    assert code == 0 and dry["dry_run"]
    assert (dry["records"], dry["rows"], dry["dead_letters_by_reason"]) == (22, 20, {"not_json": 1, "not_utf8": 1})
    assert not data_dir.exists()  # a dry run opens no warehouse

    code, summary, _ = _finish(_backfill_cli(str(history), "--strict", data_dir=data_dir, database="bf"))
    assert code == 3 and summary["rows"] == 20
    source = f"file:{(history / 'usage_metrics.jsonl').resolve()}"
    stored = query_warehouse(
        f"chdb://{data_dir / 'clickhouse'}",
        "SELECT topic, offset, reason, lower(hex(raw)) FROM bf.dead_letters ORDER BY offset",
    )
    assert stored == [[source, 11, "not_json", POISON_MESSAGES["not_json"].hex()],
                      [source, 22, "not_utf8", POISON_MESSAGES["not_utf8"].hex()]]  # fmt: skip


async def _produce_workload(settings: Settings, calls: int, seed: int) -> dict[TopicPartition, int]:
    workload = mixed_workload(calls, seed=seed)
    ends = {}
    for topic, values in ((settings.logs_topic, workload.logs), (settings.metrics_topic, workload.metrics)):
        sent = await produce(settings.kafka_bootstrap, topic, values)
        ends |= {TopicPartition(topic, partition): end for partition, end in sent.items()}
    return ends


@pytest.mark.kafka  # the partitions are found as Apache Kafka answers metadata
def test_kafka_range_beside_the_live_daemon_leaves_its_offsets_and_views_alone(
    settings: Settings, warehouse: Client
) -> None:
    async def scenario() -> None:
        before = await _produce_workload(settings, 300, seed=21)
        await asyncio.sleep(1.5)  # brokers index offsets by time at millisecond precision
        mark = time.time()
        await asyncio.sleep(0.1)
        after = await _produce_workload(settings, 300, seed=22)
        daemon = Daemon(settings, Warehouse(warehouse, settings.database), CLASSIFIER)
        stop = asyncio.Event()
        running = asyncio.create_task(daemon.run(stop))
        total = sum(after.values())

        async def committed() -> dict[str, dict[int, int]]:
            return {topic: await committed_offsets(settings.kafka_bootstrap, settings.group_id, topic, 2)
                    for topic in (settings.logs_topic, settings.metrics_topic)}  # fmt: skip

        async def daemon_caught_up() -> bool:
            offsets = await committed()
            return all(offsets[tp.topic][tp.partition] == end for tp, end in after.items())

        await wait_until(daemon_caught_up, 60, "the daemon to commit every message")
        committed_before = await committed()

        loader = _loader(warehouse, settings.database)
        reader = KafkaRangeReader(settings.kafka_bootstrap, 500)
        kinds = stream_kinds(settings)
        tally = await backfill_kafka(loader, reader, kinds, StopFlag(), since=datetime.fromtimestamp(mark, UTC))
        assert tally.records == total - sum(before.values())  # exactly the second half, by offsets-for-times
        assert await committed() == committed_before
        stop.set()
        await running

    asyncio.run(scenario())
    db = settings.database
    [(calls,)] = rows(warehouse, f"SELECT sum(calls) FROM {db}.model_health_1h")
    [(errors, distinct)] = rows(warehouse, f"SELECT count(), uniqExact(error_id) FROM {db}.errors")
    assert calls == 600 and errors == distinct > 0
    [(copies, messages)] = rows(warehouse, f"SELECT count(), uniqExact(partition, offset) FROM {db}.usage_metrics")
    assert copies == messages + 300  # the backfill did store the second half again; the views counted it once


@pytest.mark.kafka  # the partitions are found as Apache Kafka answers metadata
def test_kafka_explicit_offsets_from_the_command_line(settings: Settings, tmp_path: Path):
    ends = asyncio.run(_produce_workload(settings, 100, seed=31))
    partition_end = ends[TopicPartition(settings.metrics_topic, 0)]
    assert partition_end >= 30
    data_dir = tmp_path / "warehouse"
    process = _backfill_cli(
        "--kafka", settings.kafka_bootstrap, "--logs-topic", settings.logs_topic,
        "--metrics-topic", settings.metrics_topic, "--offsets", f"{settings.metrics_topic}:0:10-30",
        data_dir=data_dir, database="bf",
    )  # fmt: skip
    code, summary, _ = _finish(process)
    assert code == 0 and summary["records"] == 20 == summary["rows"]
    stored = query_warehouse(f"chdb://{data_dir / 'clickhouse'}", "SELECT min(offset), max(offset), count(), "
                             "uniqExact(partition) FROM bf.usage_metrics")  # fmt: skip
    assert stored == [[10, 29, 20, 1]]


def test_on_a_terminal_progress_is_a_bar_with_records_rate_and_eta(tmp_path: Path):
    write_run_folder(tmp_path / "run", calls=300)
    controller, terminal = pty.openpty()
    env = {**os.environ, "CORRELATOR_DATA_DIR": str(tmp_path / "warehouse"), "COLUMNS": "120"}
    process = subprocess.Popen([sys.executable, "-m", "correlator", "backfill", str(tmp_path / "run")], env=env,
                               stdout=subprocess.PIPE, stderr=terminal)  # fmt: skip
    os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        screen += chunk
    assert process.wait(timeout=120) == 0
    assert process.stdout is not None and orjson.loads(process.stdout.read())["records"] > 300
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode(errors="replace"))
    last = [line for line in text.replace("\r", "\n").splitlines() if "records" in line][-1]
    assert "━" in last and re.search(r"(\d+)/\1 lines [\d,]+ records [\d,]+/s 0:00:00", last), last


def test_backfilled_rows_are_redacted_like_the_daemons(warehouse: Client, database: str, tmp_path: Path):
    key = "sk-proj-Abc123def456GHI789jkl"
    lines = [
        {"timestamp": hours_ago(2).isoformat(), "success": False, "model": "gpt-4o", "error": "auth",
         "error_id": "0123456789ab", "error_detail": f"Incorrect API key provided: {key}. Contact ops@example.com"},
    ]  # fmt: skip
    (tmp_path / "usage_metrics.jsonl").write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    backfill_files(_loader(warehouse, database), discover([tmp_path]), StopFlag())
    [(detail, error_class)] = rows(warehouse, f"SELECT error_detail, error_class FROM {database}.usage_metrics")
    assert key not in detail and "ops@example.com" not in detail and error_class == "auth"
