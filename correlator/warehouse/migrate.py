"""Apply the versioned schema in ``schemas/migrations`` once each, in order; idempotent.

A complete run records a fingerprint of what it built (every migration and view as rendered,
the retention, and the names of the database's objects) as the bookkeeping table's comment.
The next run on a single server compares it in one query and, when nothing differs, runs no
DDL at all: a daemon's start on an unchanged schema costs one round trip, not some thirty
statements. Any difference (a new or edited file, other settings, a dropped object) takes
the whole path, exactly as without the fingerprint.

A database with no tables yet is made from the snapshot (``correlator.warehouse.snapshot``:
each table as the migrations leave it, in one statement) for the migrations it covers, which
are recorded as applied with the checksums they would have; later ones are applied after it.

``views_later=True`` (the daemon's start) makes only the views rows are stored through (the
materialized ones) and leaves the others and the fingerprint to the report's ``finish``: no
row depends on them, so they need not hold up a start's first commit. Until ``finish`` runs
the fingerprint is not recorded, so a run stopped before it takes the whole path next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from correlator.config import Thresholds
from correlator.errors import ConfigurationError
from correlator.processing.content import CONTENT_CHECKS_VERSION
from correlator.processing.scorers import Scorers
from correlator.schemas_dir import SCHEMAS_DIR
from correlator.warehouse.cluster import cluster_ddl, distributed_table, local_name
from correlator.warehouse.snapshot import covered_versions, snapshot_statements
from correlator.warehouse.sql import render, statements

MIGRATIONS = "migrations"
VIEWS = "views"
BOOKKEEPING = "0000_bookkeeping"
BOOKKEEPING_TABLE = "schema_migrations"
RETENTION_TABLES = ("log_events", "usage_metrics", "dead_letter_log", "spans", "scores", "content_checks")
CLUSTER_TABLES = ("schema_migrations", "backfill_checkpoints")
_MATERIALIZED = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?MATERIALIZED\s+VIEW\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class MigrationReport:
    applied: list[str]
    already_applied: list[str]
    retention_changed: bool
    #: the views re-created; none when the fingerprint showed the schema as the last run left it
    views: list[str]
    up_to_date: bool = False
    #: with ``views_later``: makes the views no row is stored through, then records the fingerprint
    finish: Callable[[], None] | None = None


def migrate(
    client: Client,
    database: str,
    retention_days: int,
    thresholds: Thresholds | None = None,
    cluster: str | None = None,
    scorers: Scorers | None = None,
    from_snapshot: bool = True,
    views_later: bool = False,
) -> MigrationReport:
    """Bring ``database`` to the newest table version and retention, and re-create every view.

    Tables are versioned migrations, applied once each; views are derived from tables and
    settings (thresholds, and the scorers file: the shipped one unless ``scorers`` is given), so
    they are re-created, idempotently, on every run that finds a difference (the module's
    fingerprint; ``up_to_date`` when it found none). With a ``cluster``, every statement runs
    ON CLUSTER on Replicated tables behind Distributed ones, on every run. ``from_snapshot=False``
    applies every migration in turn to a new database too: what the snapshot is generated from.
    """
    if retention_days < 1:
        raise ConfigurationError("retention must be at least one day")
    thresholds = thresholds or Thresholds()
    scorers = scorers or Scorers.from_file(default_pass_threshold=thresholds.eval_pass_threshold)
    values = view_values(thresholds, scorers)
    views = [(path.stem, render(f"{VIEWS}/{path.name}", database, **values)) for path in _view_files()]
    planned = _planned_schema(database, retention_days, views)
    objects, fingerprint = _catalog(client, database) if cluster is None else ([], None)
    if fingerprint is not None and fingerprint == _fingerprint(planned, objects):
        return MigrationReport([], [path.stem for path in migration_files()], False, [], up_to_date=True)
    _apply(client, f"{MIGRATIONS}/{BOOKKEEPING}.sql", database, retention_days, cluster)
    done = applied_versions(client, database)
    skipped = [path.stem for path in migration_files() if path.stem in done]
    recorded: list[list[str]] = []  # (version, checksum) of each migration applied by this run
    try:
        if from_snapshot and cluster is None and not objects:
            recorded += _apply_snapshot(client, database, retention_days)
            done |= {version for version, _ in recorded}
        for path in migration_files():
            if path.stem not in done:
                sql = _apply(client, f"{MIGRATIONS}/{path.name}", database, retention_days, cluster)
                recorded.append([path.stem, _checksum(sql)])
    except BaseException:
        with contextlib.suppress(Exception):  # the migrations that did apply are still recorded, if the engine can
            _record_applied(client, database, recorded, cluster)
        raise
    _record_applied(client, database, recorded, cluster)
    applied = [version for version, _ in recorded]
    if cluster:
        for table in (*CLUSTER_TABLES, *RETENTION_TABLES):
            _run(client, distributed_table(database, table, cluster))
    retention_changed = _ensure_retention(client, database, retention_days, cluster)
    later = [sql for _, sql in views if views_later and not _stores_rows(sql)]
    for _, sql in views:
        if sql not in later:
            _run(client, _ddl(sql, database, cluster))

    def finish() -> None:
        for sql in later:
            _run(client, _ddl(sql, database, cluster))
        if cluster is None:
            names, _ = _catalog(client, database)
            # our own hex digest, and a database name render() has checked: nothing to quote
            client.command(
                f"ALTER TABLE {database}.{BOOKKEEPING_TABLE} MODIFY COMMENT '{_fingerprint(planned, names)}'"
            )

    if not views_later:
        finish()
    return MigrationReport(applied, skipped, retention_changed, [name for name, _ in views],
                           finish=finish if views_later else None)  # fmt: skip


def _stores_rows(view_sql: str) -> bool:
    """A view file that makes a materialized view: an insert writes through it, so it must exist before rows do."""
    return _MATERIALIZED.search(view_sql) is not None


def _record_applied(client: Client, database: str, recorded: list[list[str]], cluster: str | None) -> None:
    """The bookkeeping rows of a run's migrations, in one insert after them (one insert each cost a new
    database a dozen parts). Every migration is idempotent (``IF NOT EXISTS`` throughout), as it already had
    to be between its DDL and its row, so one that a crash leaves unrecorded is simply applied again."""
    if recorded:
        client.insert(
            f"{database}.{BOOKKEEPING_TABLE}",
            recorded,
            column_names=["version", "checksum"],
            # through a Distributed table: stored on its shard before the next read
            settings={"insert_distributed_sync": 1} if cluster else None,
        )


def view_values(thresholds: Thresholds, scorers: Scorers) -> dict[str, str]:
    """What the view files' placeholders stand for: the thresholds, the scorers file, and the content checks'
    scorer version (which the engine's view stamps on each check's score)."""
    version = f"'{CONTENT_CHECKS_VERSION}'"
    return {**thresholds.as_sql_values(), **scorers.as_sql_values(), "content_checks_version": version}


def applied_versions(client: Client, database: str) -> set[str]:
    return {row[0] for row in client.query(render("queries/applied_migrations.sql", database)).result_rows}


def pending_migrations(client: Client, database: str) -> list[str]:
    """Versions in ``schemas/migrations`` not applied to ``database`` yet; raises when ClickHouse does not answer."""
    done = applied_versions(client, database)
    return [path.stem for path in migration_files() if path.stem not in done]


def _apply_snapshot(client: Client, database: str, retention_days: int) -> list[list[str]]:
    """A new database's tables from the snapshot; the (version, checksum) of each migration it stands for."""
    covered = covered_versions(migration_files())
    if covered:
        _run(client, snapshot_statements(database, retention_days))
    return [
        [version, _checksum(render(f"{MIGRATIONS}/{version}.sql", database, retention_days=retention_days))]
        for version in covered
    ]


def _checksum(sql: str) -> str:
    """What ``schema_migrations`` records of a migration: the hash of its text as rendered for the database."""
    return hashlib.sha256(sql.encode()).hexdigest()


def migration_files() -> list[Path]:
    return sorted((SCHEMAS_DIR / MIGRATIONS).glob("*.sql"))


def _view_files() -> list[Path]:
    return sorted((SCHEMAS_DIR / VIEWS).glob("*.sql"))


def _planned_schema(database: str, retention_days: int, views: list[tuple[str, str]]) -> bytes:
    """Everything a complete run would build, as text: each migration and view rendered, and the retention."""
    parts = [f"retention {retention_days}"]
    parts += [f"{path.stem}\n{render(f'{MIGRATIONS}/{path.name}', database, retention_days=retention_days)}"
              for path in migration_files()]  # fmt: skip
    parts += [f"{name}\n{sql}" for name, sql in views]
    return "\n\0".join(parts).encode()


def _fingerprint(planned: bytes, objects: list[str]) -> str:
    """What was built and what is there: the objects' names count, so a dropped view is noticed."""
    return "schema sha256:" + hashlib.sha256(planned + b"\n\0" + "\n".join(objects).encode()).hexdigest()


def _catalog(client: Client, database: str) -> tuple[list[str], str | None]:
    """The database's tables and views, sorted, and the fingerprint the last complete run recorded, in one query."""
    rows = client.query(
        "SELECT name, comment FROM system.tables WHERE database = {db:String} ORDER BY name",
        parameters={"db": database},
    ).result_rows
    recorded = [str(comment) for name, comment in rows if name == BOOKKEEPING_TABLE]
    return [str(name) for name, _ in rows], recorded[0] if recorded else None


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
