"""Apply the versioned schema in ``schemas/migrations`` once each, in order; idempotent."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from correlator.config import Thresholds
from correlator.errors import ConfigurationError
from correlator.processing.scorers import Scorers
from correlator.schemas_dir import SCHEMAS_DIR
from correlator.warehouse.cluster import cluster_ddl, distributed_table, local_name
from correlator.warehouse.sql import render, statements

MIGRATIONS = "migrations"
VIEWS = "views"
BOOKKEEPING = "0000_bookkeeping"
RETENTION_TABLES = ("log_events", "usage_metrics", "dead_letter_log", "spans", "scores")
CLUSTER_TABLES = ("schema_migrations", "backfill_checkpoints")


@dataclass(frozen=True, slots=True)
class MigrationReport:
    applied: list[str]
    already_applied: list[str]
    retention_changed: bool
    views: list[str]


def migrate(
    client: Client,
    database: str,
    retention_days: int,
    thresholds: Thresholds | None = None,
    cluster: str | None = None,
    scorers: Scorers | None = None,
) -> MigrationReport:
    """Bring ``database`` to the newest table version and retention, and re-create every view.

    Tables are versioned migrations, applied once each; views are derived from tables and
    settings (thresholds, and the scorers file: the shipped one unless ``scorers`` is given), so
    they are re-created, idempotently, on every run. With a ``cluster``, every statement runs ON
    CLUSTER on Replicated tables behind Distributed ones.
    """
    if retention_days < 1:
        raise ConfigurationError("retention must be at least one day")
    _apply(client, f"{MIGRATIONS}/{BOOKKEEPING}.sql", database, retention_days, cluster)
    done = applied_versions(client, database)
    applied, skipped = [], []
    for path in _migration_files():
        version = path.stem
        if version in done:
            skipped.append(version)
            continue
        sql = _apply(client, f"{MIGRATIONS}/{path.name}", database, retention_days, cluster)
        client.insert(
            f"{database}.schema_migrations",
            [[version, hashlib.sha256(sql.encode()).hexdigest()]],
            column_names=["version", "checksum"],
            # through a Distributed table: stored on its shard before the next read
            settings={"insert_distributed_sync": 1} if cluster else None,
        )
        applied.append(version)
    if cluster:
        for table in (*CLUSTER_TABLES, *RETENTION_TABLES):
            _run(client, distributed_table(database, table, cluster))
    retention_changed = _ensure_retention(client, database, retention_days, cluster)
    thresholds = thresholds or Thresholds()
    scorers = scorers or Scorers.from_file(default_pass_threshold=thresholds.eval_pass_threshold)
    values = {**thresholds.as_sql_values(), **scorers.as_sql_values()}
    views = []
    for path in sorted((SCHEMAS_DIR / VIEWS).glob("*.sql")):
        sql = render(f"{VIEWS}/{path.name}", database, **values)
        _run(client, _ddl(sql, database, cluster))
        views.append(path.stem)
    return MigrationReport(applied, skipped, retention_changed, views)


def applied_versions(client: Client, database: str) -> set[str]:
    return {row[0] for row in client.query(render("queries/applied_migrations.sql", database)).result_rows}


def pending_migrations(client: Client, database: str) -> list[str]:
    """Versions in ``schemas/migrations`` not applied to ``database`` yet; raises when ClickHouse does not answer."""
    done = applied_versions(client, database)
    return [path.stem for path in _migration_files() if path.stem not in done]


def _migration_files() -> list[Path]:
    return sorted((SCHEMAS_DIR / MIGRATIONS).glob("*.sql"))


def _apply(client: Client, relative_path: str, database: str, retention_days: int, cluster: str | None) -> str:
    """Run one schema file; returns its single-server text, whose checksum is recorded in either mode."""
    sql = render(relative_path, database, retention_days=retention_days)
    _run(client, _ddl(sql, database, cluster))
    return sql


def _ddl(sql: str, database: str, cluster: str | None) -> list[str]:
    return cluster_ddl(sql, database, cluster) if cluster else statements(sql)


def _run(client: Client, ddl: list[str], settings: dict[str, int] | None = None) -> None:
    for statement in ddl:
        client.command(statement, settings=settings)


def _ensure_retention(client: Client, database: str, retention_days: int, cluster: str | None) -> bool:
    """Change the tables' TTL only when the setting differs from what they carry."""
    names = [local_name(table) if cluster else table for table in RETENTION_TABLES]
    engines = client.query(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}",
        parameters={"db": database, "names": names},
    ).result_rows
    wanted = f"toIntervalDay({retention_days})"
    if all(wanted in engine for (engine,) in engines):
        return False
    sql = render("retention.sql", database, retention_days=retention_days)
    _run(client, _ddl(sql, database, cluster), {"materialize_ttl_after_modify": 0})
    return True
