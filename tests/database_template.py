"""A migrated database for each test, copied from one migrated once per session.

Migrating from scratch costs about 46 DDL statements, the column-adding ALTERs the dearest:
about a second of the embedded engine's time per test, most of the fast subset's CPU. A copy
re-runs the template's own ``CREATE`` statements (the tables as the migrations left them, then
the views in dependency order) and the ``schema_migrations`` rows a migration would record, then lets
``migrate`` finish it (it applies nothing, re-creates the views and records the schema's fingerprint).
``tests/test_database_template.py`` checks that a copy and a fresh migration are the same.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from clickhouse_connect.driver.client import Client

from correlator.warehouse.migrate import MIGRATIONS, migrate
from correlator.warehouse.sql import render

RETENTION_DAYS = 30


class DatabaseTemplate:
    """One migrated database whose objects are re-created, under another name, by :meth:`copy`."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.name = f"t_template_{secrets.token_hex(4)}"
        migrate(client, self.name, retention_days=RETENTION_DAYS)
        created = client.query(
            "SELECT name, create_table_query FROM system.tables WHERE database = {db:String}",
            parameters={"db": self.name},
        ).result_rows
        self.statements = _in_dependency_order(self.name, dict(created))
        self.versions = [version for (version,) in client.query(f"SELECT version FROM {self.name}.schema_migrations")
                         .result_rows]  # fmt: skip

    def copy(self, database: str) -> None:
        """Create ``database`` as the template is: its tables, views and applied migrations."""
        self.client.command(f"CREATE DATABASE {database}")
        for statement in self.statements:
            self.client.command(statement.replace(f"{self.name}.", f"{database}."))
        # each checksum is of the migration as rendered for this database, as ``migrate`` records it
        applied = [[version, _checksum(version, database)] for version in self.versions]
        self.client.insert(f"{database}.schema_migrations", applied, column_names=["version", "checksum"])
        # migrate itself finishes the copy: nothing left to apply, it re-creates the views and records
        # the schema's fingerprint for this database's name
        migrate(self.client, database, retention_days=RETENTION_DAYS)


def _checksum(version: str, database: str) -> str:
    sql = render(f"{MIGRATIONS}/{version}.sql", database, retention_days=RETENTION_DAYS)
    return hashlib.sha256(sql.encode()).hexdigest()


def _in_dependency_order(database: str, created: dict[str, str]) -> list[str]:
    """The ``CREATE`` statements with every object after those it reads (a view reads tables and views)."""
    reads = {
        name: set(re.findall(rf"\b{database}\.(\w+)", statement)) & created.keys() - {name}
        for name, statement in created.items()
    }
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name not in ordered:
            for dependency in sorted(reads[name]):
                visit(dependency)
            ordered.append(name)

    for name in sorted(created):
        visit(name)
    return [created[name] for name in ordered]
