"""Where the content checks' code scores are stored, Kafka → daemon → ClickHouse: the lean table the engine
fills (migration 0015, views/0015_content_checks.sql), read with the received scores by every score view; a
database upgraded from migration 0012's view into `scores`; the scorer version rendered by `migrate`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.warehouse import migrate as migrate_module
from correlator.warehouse.migrate import migrate
from correlator.warehouse.sql import render
from tests.conftest import rows
from tests.test_content_checks import _call, _deliver

RETENTION_DAYS = 30
STOPPED = {"finish_reason": "stop"}
CUT_OFF = {"finish_reason": "length"}


def _objects(warehouse: Client, database: str) -> set[str]:
    return {name for [name] in rows(warehouse, "SELECT name FROM system.tables WHERE database = {db:String}",
                                    db=database)}  # fmt: skip


def _as_an_old_database(warehouse: Client, database: str) -> None:
    """The schema as migration 0012 left it: its view writing each check as a row of `scores`."""
    warehouse.command(f"DROP VIEW {database}.content_checks_from_calls")
    warehouse.command(render("migrations/0012_content_check_scores.sql", database, retention_days=RETENTION_DAYS))


def test_check_scores_are_stored_one_row_a_call_and_read_by_the_score_views(settings: Settings, warehouse: Client):
    db = settings.database
    _deliver(settings, warehouse, [_call("stopped", STOPPED), _call("cut-off", CUT_OFF), _call("plain", {})])

    stored = rows(warehouse, f"SELECT trace_id, names, passed FROM {db}.content_checks ORDER BY trace_id")
    assert stored == [("cut-off", ["truncation", "content_filter"], [False, True]),
                      ("stopped", ["truncation", "content_filter"], [True, True])]  # fmt: skip
    assert rows(warehouse, f"SELECT count() FROM {db}.scores") == [(0,)]  # only the scores received are rows there
    scores = rows(warehouse, f"SELECT trace_id, name, source, data_type, value, label, scorer_version, model"
                             f" FROM {db}.trace_scores ORDER BY trace_id, name")  # fmt: skip
    assert scores == [
        ("cut-off", "content_filter", "code", "BOOLEAN", 1.0, "pass", "content-checks-1", "gpt-test"),
        ("cut-off", "truncation", "code", "BOOLEAN", 0.0, "fail", "content-checks-1", "gpt-test"),
        ("stopped", "content_filter", "code", "BOOLEAN", 1.0, "pass", "content-checks-1", "gpt-test"),
        ("stopped", "truncation", "code", "BOOLEAN", 1.0, "pass", "content-checks-1", "gpt-test"),
    ]
    [(score_id, comment)] = rows(
        warehouse, f"SELECT score_id, comment FROM {db}.check_scores WHERE trace_id = 'cut-off' AND name = 'truncation'"
    )
    assert score_id.endswith(":truncation") and comment == "finish_reason=length"
    since = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None)
    rates = rows(warehouse, f"SELECT name, sum(evaluated), sum(passed) FROM {db}.eval_pass_rate"
                            "(since = {s:DateTime64(6)}) GROUP BY name ORDER BY name", s=since)  # fmt: skip
    assert rates == [("content_filter", 2, 2), ("truncation", 2, 1)]


def test_an_upgraded_database_keeps_the_check_scores_it_stored_in_scores_and_stores_new_ones_once(
    settings: Settings, warehouse: Client
):
    db = settings.database
    _as_an_old_database(warehouse, db)
    _deliver(settings, warehouse, [_call("before", CUT_OFF)])
    assert rows(warehouse, f"SELECT count() FROM {db}.scores WHERE trace_id = 'before'") == [(2,)]

    migrate(warehouse, db, retention_days=RETENTION_DAYS)
    objects = _objects(warehouse, db)
    assert "content_checks_from_calls" in objects and "content_check_scores" not in objects
    _deliver(settings, warehouse, [_call("after", CUT_OFF)])

    assert rows(warehouse, f"SELECT count() FROM {db}.scores WHERE trace_id = 'after'") == [(0,)]
    scores = rows(warehouse, f"SELECT trace_id, name, value FROM {db}.trace_scores ORDER BY trace_id, name")
    assert scores == [("after", "content_filter", 1.0), ("after", "truncation", 0.0),
                      ("before", "content_filter", 1.0), ("before", "truncation", 0.0)]  # fmt: skip


def test_a_new_checks_version_is_rendered_into_the_view_by_migrate(
    settings: Settings, warehouse: Client, monkeypatch: pytest.MonkeyPatch
):
    db = settings.database
    _deliver(settings, warehouse, [_call("first", STOPPED)])
    monkeypatch.setattr(migrate_module, "CONTENT_CHECKS_VERSION", "content-checks-2")
    report = migrate(warehouse, db, retention_days=RETENTION_DAYS)
    assert "0015_content_checks" in report.views  # the view's text changed, so migrate re-made it
    _deliver(settings, warehouse, [_call("second", STOPPED)])

    versions = rows(warehouse, f"SELECT DISTINCT trace_id, scorer_version FROM {db}.trace_scores ORDER BY trace_id")
    assert versions == [("first", "content-checks-1"), ("second", "content-checks-2")]  # each as it was scored
