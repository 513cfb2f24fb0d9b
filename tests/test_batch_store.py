"""The batcher-and-store component the daemon and backfill share, driven by messages held in memory.

The warehouse is the real (embedded) engine: what is asserted is the rows and dead letters
stored, the positions reported as durable, and that a try that failed on what may heal
stores everything exactly once when it is run again.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator.devkit.workload import POISON_MESSAGES, render_log
from correlator.processing.batching import LOGS, METRICS, PartitionBatcher
from correlator.processing.classify import Classifier
from correlator.records import Message, Provenance
from correlator.runtime.backfill import Loader, StopFlag, backfill_files
from correlator.runtime.batch_store import BatchStore
from correlator.runtime.progress import JsonProgress
from correlator.sources.files import discover
from correlator.warehouse.failures import is_permanent
from correlator.warehouse.writer import Warehouse
from tests.clock import hours_ago
from tests.conftest import rows

TOPIC = "logs"


def _messages(partition: int, lines: list[bytes]) -> list[Message]:
    return [Message(line, Provenance(TOPIC, partition, offset, None)) for offset, line in enumerate(lines)]


def _lines(count: int, poison_at: int | None = None) -> list[bytes]:
    lines = [render_log(f"step {n} done", "info", hours_ago(1), trace_id=f"{n:032x}") for n in range(count)]
    if poison_at is not None:
        lines.insert(poison_at, render_log("poison", "error", hours_ago(1), trace_id="f" * 32))
    return lines


def _store(warehouse: Warehouse | None, refusals: list[int]) -> BatchStore[int]:
    return BatchStore(warehouse, Classifier.from_file(), 25, on_refusal=lambda: refusals.append(1))


def test_batches_of_two_partitions_are_stored_and_their_next_positions_reported(warehouse: Client, database: str):
    refusals: list[int] = []
    store = _store(Warehouse(warehouse, database), refusals)
    first, second = _lines(60), [*_lines(9), POISON_MESSAGES["not_json"]]
    for partition, lines in ((0, first), (1, second)):
        store.batches.begin(partition, LOGS)
        store.batches.add(partition, _messages(partition, lines))

    stored = store.attempt(store.batches.take([0, 1], end=True)).run()

    assert stored.positions() == {0: 60, 1: 10} and stored.refused == 0 and refusals == []
    assert [(key, batch.size) for key, batch in stored.batches] == [(0, 25), (0, 25), (0, 10), (1, 10)]
    assert rows(warehouse, f"SELECT partition, count(), max(offset) FROM {database}.log_events GROUP BY partition "
                "ORDER BY partition") == [(0, 60, 59), (1, 9, 8)]  # fmt: skip
    assert rows(warehouse, f"SELECT partition, offset, reason FROM {database}.dead_letters") == [(1, 9, "not_json")]


def test_rows_the_warehouse_refuses_become_dead_letters_and_the_rest_is_stored(warehouse: Client, database: str):
    warehouse.command(f"ALTER TABLE {database}.log_events ADD CONSTRAINT no_poison CHECK message != 'poison'")
    refusals: list[int] = []
    store = _store(Warehouse(warehouse, database), refusals)
    store.batches.begin(0, LOGS)
    store.batches.add(0, _messages(0, _lines(20, poison_at=7)))

    stored = store.attempt(store.batches.take([0], end=True)).run()

    assert stored.refused == 1 and refusals == [1] and stored.positions() == {0: 21}
    [(_, batch)] = stored.batches
    assert (len(batch.rows), [(d.provenance.offset, d.reason) for d in batch.dead_letters]) == (20, [(7, "refused")])
    assert rows(warehouse, f"SELECT count(), countIf(offset = 7) FROM {database}.log_events") == [(20, 0)]
    [(reason, detail)] = rows(warehouse, f"SELECT reason, detail FROM {database}.dead_letters")
    assert reason == "refused" and "no_poison" in detail


def test_a_refused_row_of_a_plain_line_the_scanner_took_is_found_and_dead_lettered(warehouse: Client, database: str):
    """The scanner's lines are stored as Native blocks; stored apart, they are decoded again into rows to be halved."""
    warehouse.command(f"ALTER TABLE {database}.log_events ADD CONSTRAINT no_poison CHECK message != 'poison'")
    refusals: list[int] = []
    store = _store(Warehouse(warehouse, database), refusals)
    store.batches.begin(0, LOGS)
    lines = _lines(20)
    lines.insert(7, render_log("poison", "info", hours_ago(1), trace_id="f" * 32))
    store.batches.add(0, _messages(0, lines))
    [(_, taken)] = ready = store.batches.take([0], end=True)
    assert (taken.run_lines, len(taken.rows)) == (21, 0)  # every line the scanner's, the poison one too

    stored = store.attempt(ready).run()

    assert stored.refused == 1 and refusals == [1] and stored.positions() == {0: 21}
    [(_, batch)] = stored.batches
    assert (batch.row_count, [(d.provenance.offset, d.reason) for d in batch.dead_letters]) == (20, [(7, "refused")])
    assert rows(warehouse, f"SELECT count(), countIf(offset = 7) FROM {database}.log_events") == [(20, 0)]
    [(raw,)] = rows(warehouse, f"SELECT raw FROM {database}.dead_letters")
    assert '"message":"poison"' in raw


def test_a_try_that_may_heal_raises_and_the_next_try_stores_everything_once(warehouse: Client, database: str):
    store = _store(Warehouse(warehouse, database), [])
    store.batches.begin(0, LOGS)
    store.batches.add(0, _messages(0, [*_lines(30), POISON_MESSAGES["not_json"]]))
    attempt = store.attempt(store.batches.take([0], end=True))

    warehouse.command(f"DETACH TABLE {database}.log_events")
    with pytest.raises(Exception) as raised:
        attempt.run()  # the dead letters went in before the rows' insert failed
    assert not is_permanent(raised.value)
    warehouse.command(f"ATTACH TABLE {database}.log_events")
    stored = attempt.run()

    assert stored.positions() == {0: 31}
    assert rows(warehouse, f"SELECT count(), uniqExact(offset) FROM {database}.log_events") == [(30, 30)]
    assert rows(warehouse, f"SELECT count() FROM {database}.dead_letter_log") == [(1,)]


def test_without_a_warehouse_batches_are_decoded_and_counted_but_nothing_is_stored(warehouse: Client, database: str):
    store = _store(None, [])
    store.batches.begin(0, LOGS)
    store.batches.add(0, _messages(0, [*_lines(5), POISON_MESSAGES["not_json"]]))

    stored = store.attempt(store.batches.take([0], end=True)).run()

    [(_, batch)] = stored.batches
    assert (batch.row_count, len(batch.dead_letters), stored.positions()) == (5, 1, {0: 6})
    assert rows(warehouse, f"SELECT count() FROM {database}.log_events") == [(0,)]


def test_a_backfill_dead_letters_the_rows_the_warehouse_refuses_and_checkpoints_past_them(
    warehouse: Client, database: str, tmp_path: Path
):
    warehouse.command(f"ALTER TABLE {database}.log_events ADD CONSTRAINT no_poison CHECK message != 'poison'")
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "app-logs.jsonl").write_bytes(b"".join(line + b"\n" for line in _lines(40, poison_at=12)))
    loader = Loader(Warehouse(warehouse, database), Classifier.from_file(), 25, JsonProgress("t", "u", io.StringIO()))

    tally = backfill_files(loader, discover([folder]), StopFlag())

    assert (tally.rows, dict(tally.dead_letters)) == (40, {"refused": 1})
    assert rows(warehouse, f"SELECT count(), countIf(message = 'poison') FROM {database}.log_events") == [(40, 0)]
    assert rows(warehouse, f"SELECT offset, reason FROM {database}.dead_letters") == [(13, "refused")]  # line 13
    [(source, next_line)] = rows(warehouse, f"SELECT source, max(next_offset) FROM {database}.backfill_checkpoints "
                                 "GROUP BY source")  # fmt: skip
    assert source.endswith("app-logs.jsonl") and next_line == 42  # past the file's 41 lines


def test_event_times_are_stored_to_the_microsecond_whatever_their_offset(warehouse: Client, database: str):
    """The writer turns each row's time into the engine's ticks itself: the instant stored is the event's."""
    classifier = Classifier.from_file()
    base = hours_ago(2).replace(microsecond=0)
    offsets = [timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-8), timedelta(hours=-3, minutes=-15)]
    moments = [
        (base + timedelta(seconds=n, microseconds=micro)).astimezone(timezone(offset))
        for n, (offset, micro) in enumerate((o, m) for o in offsets for m in (0, 1, 499_999, 999_999))
    ]
    usage = [
        orjson.dumps({"timestamp": moment.isoformat(), "success": True, "model": "m", "finish_reason": "stop"})
        for moment in moments
    ]
    failures = [render_log("call failed", "error", moment, error_id=f"e{n}") for n, moment in enumerate(moments)]
    batches = []
    for kind, lines in ((METRICS, usage), (LOGS, failures)):
        batcher = PartitionBatcher(kind, classifier, max_records=1_000)
        batches += batcher.add([Message(line, Provenance(kind.name, 0, n, None)) for n, line in enumerate(lines)])
        batches.append(batcher.take())
    Warehouse(warehouse, database).store([batch for batch in batches if batch is not None])

    epoch, microsecond = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)
    expected = [(n, (moment - epoch) // microsecond) for n, moment in enumerate(moments)]
    for table in ("usage_metrics", "log_events"):
        stored = rows(warehouse, f"SELECT offset, toUnixTimestamp64Micro(ts) FROM {database}.{table} ORDER BY offset")
        assert stored == expected, table
