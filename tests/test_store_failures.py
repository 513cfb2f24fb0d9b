"""The store's failure policy: rows the warehouse refuses for good are dead-lettered, errors that may heal retried."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import render_log
from correlator.processing.classify import Classifier
from correlator.runtime.daemon import Daemon
from correlator.warehouse.failures import error_code, is_permanent
from correlator.warehouse.writer import Warehouse
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import committed_offsets, samples, total, wait_until


def _server_error(client: Client, sql: str) -> Exception:
    with pytest.raises(Exception) as raised:
        client.command(sql)
    return raised.value


def test_errors_about_the_rows_are_permanent_and_the_rest_may_heal(warehouse: Client, database: str):
    warehouse.command(f"CREATE TABLE {database}.checked (n Int32, CONSTRAINT positive CHECK n > 0) ENGINE = Memory")
    refused = _server_error(warehouse, f"INSERT INTO {database}.checked VALUES (-1)")
    unparsable = _server_error(warehouse, "SELECT toInt32('seven')")
    warehouse.command(f"DETACH TABLE {database}.checked")
    detached = _server_error(warehouse, f"INSERT INTO {database}.checked VALUES (1)")
    timed_out = _server_error(warehouse, "SELECT count() FROM system.numbers SETTINGS max_execution_time = 0.2")
    # as the HTTP driver words a server's error: the code is read from the message
    too_many_parts = DatabaseError(
        "HTTPDriver received ClickHouse error code 252\n Code: 252. DB::Exception: Too many parts (3001)."
    )

    assert [error_code(e) for e in (refused, unparsable, detached, timed_out, too_many_parts)] == [469, 6, 60, 159, 252]
    assert [is_permanent(e) for e in (refused, unparsable)] == [True, True]
    assert [is_permanent(e) for e in (detached, timed_out, too_many_parts, ConnectionError("reset"))] == [False] * 4


def test_one_line_the_warehouse_refuses_is_dead_lettered_and_the_600_others_stored(
    settings: Settings, warehouse: Client
):
    """As a DBA's schema change might: a CHECK constraint on log_events that one line among 601 breaks."""
    db = settings.database
    warehouse.command(f"ALTER TABLE {db}.log_events ADD CONSTRAINT no_poison CHECK message != 'poison'")
    lines = [render_log(f"step {n} done", "info", hours_ago(1), trace_id=f"{n:032x}") for n in range(600)]
    lines.insert(317, render_log("poison", "error", hours_ago(1), trace_id="f" * 32))
    daemon = Daemon(settings, Warehouse(warehouse, db), Classifier.from_file())

    async def scenario() -> dict[int, int]:
        ends = await produce(settings.kafka_bootstrap, settings.logs_topic, lines)
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))

        async def committed_to_the_end() -> bool:
            assert not task.done(), "the daemon stopped"
            return await committed_offsets(settings.kafka_bootstrap, settings.group_id, settings.logs_topic, 2) == {
                p: ends.get(p, 0) for p in range(2)
            }

        try:
            await wait_until(committed_to_the_end, 60, "every offset committed, the refused line's too")
        finally:
            stop.set()
            await task
        return ends

    asyncio.run(scenario())
    assert rows(warehouse, f"SELECT count(), uniqExact(partition, offset) FROM {db}.log_events") == [(600, 600)]
    assert rows(warehouse, f"SELECT countIf(message = 'poison') FROM {db}.log_events") == [(0,)]
    [(reason, detail, raw)] = rows(warehouse, f"SELECT reason, detail, raw FROM {db}.dead_letters")
    assert reason == "refused" and "VIOLATED_CONSTRAINT" in detail and "no_poison" in detail
    assert orjson.loads(raw)["message"] == "poison"
    assert (daemon.counters.rows, daemon.counters.dead_letters) == (600, 1)
    scraped = samples(daemon.metrics.render().decode())
    assert total(scraped, "correlator_insert_refusals_total") >= 1 and daemon.warehouse_healthy
