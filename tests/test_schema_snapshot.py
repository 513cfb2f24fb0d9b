"""A new database is made from ``schemas/snapshot.sql``: the same database the migrations make one at a time.

The migrations are the source of truth: the snapshot must be what they generate now, stand
aside when one it covers is edited, and leave later ones to be applied after it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from correlator.devkit.snapshot import generated_snapshot
from correlator.schemas_dir import SCHEMAS_DIR
from correlator.warehouse import sql
from correlator.warehouse.migrate import MigrationReport, migrate, pending_migrations
from correlator.warehouse.snapshot import REGENERATE, SNAPSHOT
from tests.conftest import database_schema, rows


class DdlSent:
    """The statements a client sends through ``command`` (every DDL ``migrate`` runs goes that way)."""

    def __init__(self, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
        self.statements: list[str] = []
        send = client.command

        def command(statement: str, *args: object, **kwargs: object) -> object:
            self.statements.append(statement)
            return send(statement, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(client, "command", command)

    def alters(self) -> list[str]:
        return [statement for statement in self.statements if "ADD COLUMN" in statement]


@pytest.fixture
def database_name(warehouse: Client) -> Iterator[str]:
    name = f"s_{secrets.token_hex(4)}"
    yield name
    warehouse.command(f"DROP DATABASE IF EXISTS {name}")


def _one_at_a_time(warehouse: Client, database: str) -> tuple[MigrationReport, list[tuple[object, ...]]]:
    """What the migrations make of a new ``database``, applied in turn; the database is dropped after."""
    report = migrate(warehouse, database, retention_days=30, from_snapshot=False)
    schema = database_schema(warehouse, database) + _fingerprint(warehouse, database)
    warehouse.command(f"DROP DATABASE {database} SYNC")
    return report, schema


def _fingerprint(warehouse: Client, database: str) -> list[tuple[object, ...]]:
    return rows(warehouse, "SELECT comment FROM system.tables WHERE database = {db:String} AND name = "
                           "'schema_migrations'", db=database)  # fmt: skip


def test_the_shipped_snapshot_is_what_the_migrations_generate(warehouse: Client, database_name: str) -> None:
    shipped = (SCHEMAS_DIR / SNAPSHOT).read_text()
    assert generated_snapshot(warehouse, database_name) == shipped, f"the migrations changed: run `{REGENERATE}`"


def test_a_new_database_made_from_the_snapshot_is_the_one_the_migrations_make(
    warehouse: Client, database_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_at_a_time, expected = _one_at_a_time(warehouse, database_name)
    sent = DdlSent(warehouse, monkeypatch)
    report = migrate(warehouse, database_name, retention_days=30)
    assert sent.alters() == [] and len(sent.statements) < 50  # one CREATE per table, no column added after
    assert report.applied == one_at_a_time.applied and report.views == one_at_a_time.views
    assert not report.retention_changed
    assert (
        len(expected) > 100
        and database_schema(warehouse, database_name) + _fingerprint(warehouse, database_name) == expected
    )
    assert pending_migrations(warehouse, database_name) == []
    again = migrate(warehouse, database_name, retention_days=30)
    assert again.up_to_date and again.already_applied == report.applied


def test_another_retention_is_the_snapshots_too(warehouse: Client, database_name: str) -> None:
    migrate(warehouse, database_name, retention_days=9)
    engines = rows(warehouse, "SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND "
                              "engine = 'MergeTree' AND name != 'schema_migrations'", db=database_name)  # fmt: skip
    assert len(engines) == 6 and all("toIntervalDay(9)" in str(engine) for _, engine in engines)
    assert not migrate(warehouse, database_name, retention_days=9).retention_changed


def test_a_migration_added_after_the_snapshot_is_applied_after_it(
    warehouse: Client, schemas: Path, database_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (schemas / "migrations" / "0099_extra.sql").write_text(
        "ALTER TABLE ${database}.scores ADD COLUMN IF NOT EXISTS extra String DEFAULT '' AFTER label;\n"
    )
    one_at_a_time, expected = _one_at_a_time(warehouse, database_name)
    sent = DdlSent(warehouse, monkeypatch)
    report = migrate(warehouse, database_name, retention_days=30)
    assert len(sent.alters()) == 1 and "extra" in sent.alters()[0]
    assert report.applied == one_at_a_time.applied and report.applied[-1] == "0099_extra"
    assert database_schema(warehouse, database_name) + _fingerprint(warehouse, database_name) == expected


def test_an_edited_migration_is_applied_from_its_file_and_the_snapshot_not_used(
    warehouse: Client, schemas: Path, database_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = schemas / "migrations" / "0009_steps.sql"
    edit = "ALTER TABLE ${database}.usage_metrics ADD COLUMN IF NOT EXISTS edited String;\n"
    steps.write_text(steps.read_text() + edit)
    sql._template.cache_clear()
    one_at_a_time, expected = _one_at_a_time(warehouse, database_name)
    sent = DdlSent(warehouse, monkeypatch)
    report = migrate(warehouse, database_name, retention_days=30)
    assert len(sent.alters()) > 5  # every migration in turn
    assert report.applied == one_at_a_time.applied
    assert database_schema(warehouse, database_name) + _fingerprint(warehouse, database_name) == expected
    columns = rows(warehouse, "SELECT name FROM system.columns WHERE database = {db:String} AND table = "
                              "'usage_metrics'", db=database_name)  # fmt: skip
    assert ("edited",) in columns


def test_a_database_that_already_has_tables_is_migrated_one_file_at_a_time(
    warehouse: Client, database_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stopped after the first migration's DDL, before its row: the snapshot's ``IF NOT EXISTS`` would
    keep that run's tables without the columns later migrations add, so every migration is applied."""
    _, expected = _one_at_a_time(warehouse, database_name)
    for file in ("0000_bookkeeping", "0001_tables"):
        for statement in sql.statements(sql.render(f"migrations/{file}.sql", database_name, retention_days=30)):
            warehouse.command(statement)
    sent = DdlSent(warehouse, monkeypatch)
    migrate(warehouse, database_name, retention_days=30)
    assert len(sent.alters()) > 5
    assert database_schema(warehouse, database_name) + _fingerprint(warehouse, database_name) == expected
