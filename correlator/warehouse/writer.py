"""Store batches: dead letters first, then rows, each insert under a deterministic token.

The order matters for resuming: rows are written last, so when the rows of a batch are
stored, everything else in its offset range is too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from clickhouse_connect.datatypes.base import ClickHouseType
from clickhouse_connect.driver.client import Client

from correlator.config import check_identifier
from correlator.records import DEAD_LETTER_TABLE, Batch, Table
from correlator.warehouse.migrate import pending_migrations
from correlator.warehouse.sql import render


class Warehouse:
    """Synchronous writes and look-ups; the daemon calls it from one worker thread."""

    def __init__(self, client: Client, database: str) -> None:
        self.client = client
        self.database = check_identifier(database)
        self._column_types: dict[tuple[str, tuple[str, ...]], Sequence[ClickHouseType]] = {}

    def store(self, batches: Sequence[Batch]) -> None:
        """Store batches together: one insert of dead letters, then one of rows per table and day.

        Each insert is one part, so a batch (one day of one partition's range) is stored whole
        or not at all; its token is the batches' own, so a retry of the same insert is
        recognised as the same. Inserts carry a fixed cost in the engine whatever their size
        (tens of milliseconds), so partitions flushed at the same moment share them.
        """
        dead = [b for b in batches if b.dead_letters]
        if dead:
            received_at = datetime.now(UTC)
            rows = [
                [
                    received_at,
                    d.provenance.topic,
                    d.provenance.partition,
                    d.provenance.offset,
                    d.reason,
                    d.detail,
                    d.raw,
                ]
                for b in dead
                for d in b.dead_letters
            ]
            self._insert(DEAD_LETTER_TABLE, rows, _token(dead) + ":dead")
        groups: dict[tuple[Table, date | None], list[Batch]] = {}
        for batch in batches:
            if batch.rows:
                groups.setdefault((batch.table, batch.day), []).append(batch)
        for (table, _), group in groups.items():
            for derived in {table for batch in group for table in batch.derived}:
                implied = [row for batch in group for row in batch.derived.get(derived, ())]
                if implied:  # before the rows, which are written last
                    self._insert(derived, implied, f"{_token(group)}:{derived.name}")
            self._insert(table, [row for batch in group for row in batch.rows], _token(group))

    def _insert(self, table: Table, rows: list, token: str) -> None:  # type: ignore[type-arg]
        name, columns = f"{self.database}.{table.name}", table.columns
        types = self._column_types.get((name, columns))
        if types is None:
            # asked once: unless told the types, clickhouse-connect describes the table before every insert
            types = self._column_types[(name, columns)] = self.client.create_insert_context(name, columns).column_types
        self.client.insert(
            name,
            rows,
            column_names=list(columns),
            column_types=types,
            # cluster mode inserts through a Distributed table: stored on the shard before the commit
            settings={"insert_deduplication_token": token, "insert_deduplicate": 1, "insert_distributed_sync": 1},
        )

    def checkpoints(self, sources: list[str]) -> dict[tuple[str, int, int], int]:
        """Backfill checkpoints: (source, partition, range start) → the next offset or line to load."""
        rows = self.client.query(
            render("queries/backfill_checkpoints.sql", self.database), parameters={"sources": sources}
        ).result_rows
        return {(source, partition, start): next_offset for source, partition, start, next_offset in rows}

    def save_checkpoints(self, checkpoints: list[tuple[str, int, int, int]]) -> None:
        """(source, partition, range start, next offset) rows, in one insert."""
        now = datetime.now(UTC)
        self.client.insert(
            f"{self.database}.backfill_checkpoints",
            [[*checkpoint, now] for checkpoint in checkpoints],
            column_names=["source", "partition", "range_start", "next_offset", "updated_at"],
        )

    def resume_offset(self, topic: str, partition: int, committed: int) -> int:
        """Where to resume a partition: after any unbroken run stored beyond the commit."""
        result = self.client.query(
            render("queries/stored_run.sql", self.database),
            parameters={"topic": topic, "partition": partition, "start": committed},
        ).result_rows
        last, stored = result[0] if result else (None, 0)
        if stored and last is not None and stored == last - committed + 1:
            return int(last) + 1
        return committed

    def pending_migrations(self) -> list[str]:
        """Migrations not applied yet: readiness; raises when ClickHouse does not answer."""
        return pending_migrations(self.client, self.database)


def _token(batches: Sequence[Batch]) -> str:
    """Deterministic for the same batches: one batch keeps its own token (backfill re-reads rely on it)."""
    return "+".join(sorted(batch.dedup_token for batch in batches))
