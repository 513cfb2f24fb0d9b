"""The tests' databases are copies of a migrated template: a copy must be what a migration makes."""

from __future__ import annotations

import secrets

from clickhouse_connect.driver.client import Client

from correlator.warehouse.migrate import migrate, pending_migrations
from tests.conftest import database_schema
from tests.database_template import RETENTION_DAYS, DatabaseTemplate


def test_a_copied_database_is_the_same_as_a_freshly_migrated_one(
    warehouse: Client, database_template: DatabaseTemplate
):
    name = f"t_{secrets.token_hex(4)}"
    report = migrate(warehouse, name, retention_days=RETENTION_DAYS)
    migrated = database_schema(warehouse, name)
    warehouse.command(f"DROP DATABASE {name} SYNC")
    database_template.copy(name)
    try:
        assert len(migrated) > 100 and database_schema(warehouse, name) == migrated
        assert pending_migrations(warehouse, name) == []
        # migrating the copy again applies nothing, as on a migrated database
        again = migrate(warehouse, name, retention_days=RETENTION_DAYS)
        assert again.applied == [] and again.already_applied == report.applied and not again.retention_changed
    finally:
        warehouse.command(f"DROP DATABASE IF EXISTS {name}")
