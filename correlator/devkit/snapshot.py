"""Regenerate ``schemas/snapshot.sql`` from the migrations: ``python -m correlator.devkit.snapshot``.

Every migration is applied in turn to a new database of a scratch embedded engine, and its
tables are written out as the snapshot (``correlator.warehouse.snapshot``). Run it after
adding or editing a migration; ``tests/test_schema_snapshot.py`` fails until then.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from clickhouse_connect.driver.client import Client

from correlator.schemas_dir import SCHEMAS_DIR
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import BOOKKEEPING_TABLE, migrate, migration_files
from correlator.warehouse.snapshot import GENERATED_RETENTION_DAYS, SNAPSHOT, snapshot_text


def generated_snapshot(client: Client, database: str) -> str:
    """What ``schemas/snapshot.sql`` should hold, from ``database`` (new) migrated one file at a time."""
    migrate(client, database, GENERATED_RETENTION_DAYS, from_snapshot=False)
    return snapshot_text(client, database, migration_files(), BOOKKEEPING_TABLE)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="correlator-snapshot-") as directory:
        text = generated_snapshot(connect(f"chdb://{Path(directory) / 'warehouse'}"), "snapshot_source")
    (SCHEMAS_DIR / SNAPSHOT).write_text(text)
    print(f"wrote {SCHEMAS_DIR / SNAPSHOT}")


if __name__ == "__main__":
    main()
