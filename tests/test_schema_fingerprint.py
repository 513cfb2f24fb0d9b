"""A migrate on an unchanged schema runs no DDL; any change to what it would build takes the whole path.

Each test works on a copy of ``schemas/`` it may edit, in a database of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Thresholds
from correlator.warehouse import sql
from correlator.warehouse.migrate import migrate, pending_migrations
from tests.conftest import rows


def _modified(client: Client, database: str) -> dict[str, object]:
    """Each object's metadata modification time: DDL that re-creates an object moves it."""
    query = "SELECT name, metadata_modification_time FROM system.tables WHERE database = {db:String}"
    return dict(rows(client, query, db=database))


def _view_sql(client: Client, database: str, view: str) -> str:
    query = "SELECT create_table_query FROM system.tables WHERE database = {db:String} AND name = {name:String}"
    [[text]] = rows(client, query, db=database, name=view)
    return str(text)


def test_an_unchanged_schema_is_left_alone_and_still_reported_applied(
    warehouse: Client, schemas: Path, fresh_database: str
) -> None:
    first = migrate(warehouse, fresh_database, retention_days=30)
    assert not first.up_to_date and "0001_tables" in first.applied and first.views
    before = _modified(warehouse, fresh_database)
    second = migrate(warehouse, fresh_database, retention_days=30)
    assert second.up_to_date and second.applied == [] and second.views == []
    assert second.already_applied == [path.stem for path in sorted((schemas / "migrations").glob("*.sql"))]
    assert _modified(warehouse, fresh_database) == before
    assert pending_migrations(warehouse, fresh_database) == []


def test_a_new_migration_file_is_applied(warehouse: Client, schemas: Path, fresh_database: str) -> None:
    migrate(warehouse, fresh_database, retention_days=30)
    (schemas / "migrations" / "0099_extra.sql").write_text(
        "CREATE TABLE IF NOT EXISTS ${database}.extra (id UInt64) ENGINE = MergeTree ORDER BY id;\n"
    )
    report = migrate(warehouse, fresh_database, retention_days=30)
    assert not report.up_to_date and report.applied == ["0099_extra"]
    assert "extra" in _modified(warehouse, fresh_database)
    assert ("0099_extra",) in rows(warehouse, f"SELECT version FROM {fresh_database}.schema_migrations")
    assert migrate(warehouse, fresh_database, retention_days=30).up_to_date


def test_an_edited_view_file_is_re_created(warehouse: Client, schemas: Path, fresh_database: str) -> None:
    migrate(warehouse, fresh_database, retention_days=30)
    view = schemas / "views" / "0001_correlation.sql"
    columns = "SELECT received_at, topic, partition, offset, reason, detail, raw\n"
    view.write_text(view.read_text().replace(columns, columns.rstrip() + ", 'edited' AS edited\n", 1))
    sql._template.cache_clear()
    report = migrate(warehouse, fresh_database, retention_days=30)
    assert not report.up_to_date and "0001_correlation" in report.views
    assert "edited" in _view_sql(warehouse, fresh_database, "dead_letters")


def test_an_edited_applied_migration_takes_the_whole_path_as_before(
    warehouse: Client, schemas: Path, fresh_database: str
) -> None:
    """An applied version is not applied twice (as without the fingerprint), but the views are re-created."""
    migrate(warehouse, fresh_database, retention_days=30)
    tables = schemas / "migrations" / "0001_tables.sql"
    tables.write_text(tables.read_text() + "\n-- edited after it was applied\n")
    sql._template.cache_clear()
    report = migrate(warehouse, fresh_database, retention_days=30)
    assert not report.up_to_date and report.applied == [] and "0001_tables" in report.already_applied
    assert report.views
    assert migrate(warehouse, fresh_database, retention_days=30).up_to_date


def test_other_settings_or_a_dropped_view_take_the_whole_path(
    warehouse: Client, schemas: Path, fresh_database: str
) -> None:
    migrate(warehouse, fresh_database, retention_days=30)
    assert migrate(warehouse, fresh_database, retention_days=7).retention_changed
    engine = rows(warehouse, "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = "
                             "'log_events'", db=fresh_database)  # fmt: skip
    assert "toIntervalDay(7)" in str(engine)
    changed = migrate(warehouse, fresh_database, retention_days=7, thresholds=Thresholds(spike_jump_factor=9.0))
    assert not changed.up_to_date and changed.views
    warehouse.command(f"DROP VIEW {fresh_database}.unknown_errors")
    restored = migrate(warehouse, fresh_database, retention_days=7, thresholds=Thresholds(spike_jump_factor=9.0))
    assert not restored.up_to_date and "unknown_errors" in _modified(warehouse, fresh_database)


def test_a_migration_failing_partway_leaves_those_before_it_recorded_and_the_next_run_applies_the_rest(
    warehouse: Client, schemas: Path, fresh_database: str
) -> None:
    """A run records its migrations' rows together after them, and on its way out when one fails."""
    broken = schemas / "migrations" / "0007_broken.sql"
    broken.write_text("CREATE TABLE IF NOT EXISTS ${database}.half (id UInt64) ENGINE = MergeTree ORDER BY id;\n"
                      "SELECT no_such_column FROM ${database}.half;\n")  # fmt: skip
    with pytest.raises(Exception, match="no_such_column"):
        migrate(warehouse, fresh_database, retention_days=30)
    every = [path.stem for path in sorted((schemas / "migrations").glob("*.sql"))]
    before = every[: every.index("0007_broken")]
    recorded = rows(warehouse, f"SELECT version FROM {fresh_database}.schema_migrations ORDER BY version")
    assert [version for (version,) in recorded] == before
    assert pending_migrations(warehouse, fresh_database) == every[len(before) :]

    broken.write_text("CREATE TABLE IF NOT EXISTS ${database}.half (id UInt64) ENGINE = MergeTree ORDER BY id;\n")
    sql._template.cache_clear()
    report = migrate(warehouse, fresh_database, retention_days=30)
    assert report.applied == every[len(before) :] and report.already_applied == before
    assert pending_migrations(warehouse, fresh_database) == []
    versions = rows(warehouse, f"SELECT version, count() FROM {fresh_database}.schema_migrations GROUP BY version")
    assert sorted(versions) == [(version, 1) for version in every]  # each recorded once


def test_views_left_for_later_are_made_by_finish_and_only_then_is_the_schema_up_to_date(
    warehouse: Client, fresh_database: str
) -> None:
    report = migrate(warehouse, fresh_database, retention_days=30, views_later=True)
    assert report.finish is not None and "0001_correlation" in report.views
    made = _modified(warehouse, fresh_database)
    # what an insert writes through is there before any row; a query view is not yet
    assert "content_checks_from_calls" in made and "errors" not in made and "session_costs" not in made
    assert pending_migrations(warehouse, fresh_database) == []
    report.finish()
    made = _modified(warehouse, fresh_database)
    assert {"errors", "session_costs", "content_checks_from_calls"} <= made.keys()
    assert migrate(warehouse, fresh_database, retention_days=30).up_to_date


def test_a_run_stopped_before_its_views_were_made_makes_them_next_time(warehouse: Client, fresh_database: str) -> None:
    left = migrate(warehouse, fresh_database, retention_days=30, views_later=True)
    assert left.finish is not None  # never called: the process stopped after its first store
    again = migrate(warehouse, fresh_database, retention_days=30)
    assert not again.up_to_date and again.finish is None
    assert "errors" in _modified(warehouse, fresh_database)
    assert migrate(warehouse, fresh_database, retention_days=30, views_later=True).finish is None
