"""Store batches: dead letters first, then rows, each insert under a deterministic token.

The order matters for resuming: rows are written last, so when the rows of a batch are
stored, everything else in its offset range is too.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

import orjson
from clickhouse_connect.datatypes.base import ClickHouseType
from clickhouse_connect.driver.client import Client

from correlator.config import check_identifier
from correlator.processing.lean import engine_columns, engine_extra_filter
from correlator.records import DEAD_LETTER_TABLE, Batch, DeadLetter, Provenance, RawLine, Table
from correlator.warehouse.failures import is_permanent
from correlator.warehouse.migrate import pending_migrations
from correlator.warehouse.sql import render

# the server's message kept with a refused row (it quotes the expression and the values)
REFUSAL_DETAIL_CHARS = 2_000
_LINES_SETTINGS = {"input_format_json_read_objects_as_strings": 1, "date_time_input_format": "best_effort"}
# one batch's lines: its topic, its partition and the lines
PartitionLines = tuple[str, int, list[RawLine]]


class Warehouse:
    """Synchronous writes and look-ups; the daemon calls it from one worker thread.

    Made with :meth:`opened_by`, the client is opened by the first call that needs it (or
    :meth:`open`): the daemon opens the engine and migrates on its worker thread while it
    joins the consumer group, so the broker's join and the engine's start overlap.
    """

    def __init__(self, client: Client | None, database: str, opener: Callable[[], Client] | None = None) -> None:
        self._client = client
        self._opener = opener
        self._opening = threading.Lock()
        self._failure: Exception | None = None
        self.database = check_identifier(database)
        self._column_types: dict[tuple[str, tuple[str, ...]], Sequence[ClickHouseType]] = {}

    @classmethod
    def opened_by(cls, opener: Callable[[], Client], database: str) -> Warehouse:
        """A warehouse whose client ``opener`` makes (connects, migrates) when it is first needed."""
        return cls(None, database, opener)

    @property
    def client(self) -> Client:
        return self._client or self.open()

    def open(self) -> Client:
        """The client, opened now if it is not yet; the opener runs once, and its error is every caller's."""
        with self._opening:
            if self._client is None:
                if self._failure is not None:
                    raise self._failure
                assert self._opener is not None, "a Warehouse needs a client or an opener"
                try:
                    self._client = self._opener()
                except Exception as exc:
                    self._failure = exc
                    raise
            return self._client

    def store(self, batches: Sequence[Batch]) -> None:
        """Store batches together: one insert of dead letters, then one of rows per table and day.

        Each insert is one part, so a batch (one day of one partition's range) is stored whole
        or not at all; its token is the batches' own, so a retry of the same insert is
        recognised as the same. Inserts carry a fixed cost in the engine whatever their size
        (tens of milliseconds), so partitions flushed at the same moment share them.
        """
        self._store_dead_letters(batches)
        groups: dict[tuple[Table, date | None], list[Batch]] = {}
        for batch in batches:
            if batch.rows or batch.lines:
                groups.setdefault((batch.table, batch.day), []).append(batch)
        for (table, _), group in groups.items():
            for derived in {table for batch in group for table in batch.derived}:
                implied = [row for batch in group for row in batch.derived.get(derived, ())]
                if implied:  # before the rows, which are written last
                    self._insert(derived, implied, f"{_token(group)}:{derived.name}")
            rows = [row for batch in group for row in batch.rows]
            lines = [(batch.topic, batch.partition, batch.lines) for batch in group if batch.lines]
            self._insert_with_lines(table, rows, lines, _token(group))

    def store_apart(self, batches: Sequence[Batch], mask: Callable[[str], str] = str) -> int:
        """Store batches the warehouse refused together: each alone, split until the refused rows are found.

        A refused row becomes a dead letter (reason ``refused``, the server's message, the
        row as JSON: its message's bytes are not kept after decoding); the rest is stored.
        ``mask`` takes secrets out of the server's message before it is kept.
        Each piece's token follows from its place in the batch, so a retry after a
        transient error repeats the same inserts and the engine drops those already done.
        The batches change only once all is stored. Returns how many rows were refused.
        """
        self._store_dead_letters(batches)
        refused_by_batch = []
        for batch in batches:
            refused = self._refused_items(batch, [*batch.rows, *batch.lines], batch.dedup_token)
            letters = [_refused_letter(batch, item, mask(message)) for item, message in refused]
            if letters:
                self._insert(DEAD_LETTER_TABLE, _dead_letter_rows(letters), batch.dedup_token + ":refused")
            refused_by_batch.append((batch, {id(item) for item, _ in refused}, letters))
        for batch, refused_items, letters in refused_by_batch:
            batch.rows = [row for row in batch.rows if id(row) not in refused_items]
            batch.lines = [line for line in batch.lines if id(line) not in refused_items]
            batch.dead_letters.extend(letters)
        return sum(len(letters) for _, _, letters in refused_by_batch)

    def _refused_items(
        self, batch: Batch, items: list[tuple[Any, ...]], token: str
    ) -> list[tuple[tuple[Any, ...], str]]:
        """Insert a batch's rows and lines, halving what is permanently refused; the refused ones with the
        server's message."""
        if not items:
            return []
        try:
            lines = [item for item in items if type(item) is RawLine]
            rows = [item for item in items if type(item) is not RawLine]
            self._insert_with_lines(batch.table, rows, [(batch.topic, batch.partition, lines)] if lines else [], token)
            return []
        except Exception as exc:
            if not is_permanent(exc):
                raise
            if len(items) == 1:
                return [(items[0], str(exc))]
        half = len(items) // 2
        first, second = items[:half], items[half:]
        return self._refused_items(batch, first, token + "/0") + self._refused_items(batch, second, token + "/1")

    def _store_dead_letters(self, batches: Sequence[Batch]) -> None:
        """The batches' dead letters in one insert, under a token of the batches (the same on every retry)."""
        dead = [b for b in batches if b.dead_letters]
        if dead:
            letters = [d for b in dead for d in b.dead_letters]
            self._insert(DEAD_LETTER_TABLE, _dead_letter_rows(letters), _token(dead) + ":dead")

    def _insert(self, table: Table, rows: list, token: str) -> None:  # type: ignore[type-arg]
        self.client.insert(
            f"{self.database}.{table.name}",
            rows,
            column_names=list(table.columns),
            column_types=self._types(table),
            settings=_insert_settings(token),
        )

    def _types(self, table: Table) -> Sequence[ClickHouseType]:
        """The table's column types, asked once: unless told them, clickhouse-connect describes the table
        before every insert."""
        name, columns = f"{self.database}.{table.name}", table.columns
        types = self._column_types.get((name, columns))
        if types is None:
            types = self._column_types[(name, columns)] = self.client.create_insert_context(name, columns).column_types
        return types

    def _insert_with_lines(
        self, table: Table, rows: list[tuple[Any, ...]], lines: list[PartitionLines], token: str
    ) -> None:
        """Lines for the engine to parse and rows in one insert (one part, one token); rows alone as Native.

        The engine reads both from files beside it (the embedded engine only): the lines as
        they came, each with its provenance, and the rows as JSON arrays.
        """
        if not lines:
            if rows:
                self._insert(table, rows, token)
            return
        with _input_file() as (lines_file, lines_path), _input_file() as (rows_file, rows_path):
            for topic, partition, partition_lines in lines:
                where = b"%s,%d," % (orjson.dumps(topic), partition)
                lines_file.write(
                    b"".join(b"[%s,%s%d]\n" % (line.value, where, line.offset) for line in partition_lines)
                )
            rows_file.write(b"".join(orjson.dumps(row) + b"\n" for row in rows))
            lines_file.close()
            rows_file.close()
            self.client.command(self._lines_insert(table, lines_path, rows_path, token))

    def _lines_insert(self, table: Table, lines_path: str, rows_path: str, token: str) -> str:
        built = engine_columns()
        structure = ", ".join(
            f"{column} {kind.name}" for column, kind in zip(table.columns, self._types(table), strict=True)
        )
        return render(
            "queries/insert_with_lines.sql",
            self.database,
            table=table.name,
            columns=", ".join(table.columns),
            extra=engine_extra_filter(),
            select=", ".join(built[column] for column in table.columns),
            lines=_sql_string(lines_path),
            rows=_sql_string(rows_path),
            structure=_sql_string(structure),
            settings=", ".join(
                f"{name} = {_sql_string(value) if isinstance(value, str) else value}"
                for name, value in {**_LINES_SETTINGS, **_insert_settings(token)}.items()
            ),
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

    def stored_beyond(self, topic: str, partition: int, committed: int) -> tuple[int, int]:
        """The last offset stored at or after the commit and how many distinct offsets are (0, 0: none).

        A crash between an insert and its commit leaves such rows; the daemon resumes after
        them when they run on unbroken, counting the gaps transactions leave as unbroken.
        """
        result = self.client.query(
            render("queries/stored_run.sql", self.database),
            parameters={"topic": topic, "partition": partition, "start": committed},
        ).result_rows
        last, stored = result[0] if result else (None, 0)
        return (int(last), int(stored)) if stored and last is not None else (0, 0)

    def runaway_sessions(self, window: timedelta) -> int:
        """How many sessions (or users) ``session_costs`` calls runaway over the last ``window``."""
        since = datetime.now(UTC) - window
        result = self.client.query(
            render("queries/runaway_sessions.sql", self.database), parameters={"since": since.replace(tzinfo=None)}
        ).result_rows
        return int(result[0][0]) if result else 0

    def pending_migrations(self) -> list[str]:
        """Migrations not applied yet: readiness; raises when ClickHouse does not answer."""
        return pending_migrations(self.client, self.database)


def _dead_letter_rows(letters: Sequence[DeadLetter]) -> list[list[Any]]:
    received_at = datetime.now(UTC)
    return [
        [received_at, d.provenance.topic, d.provenance.partition, d.provenance.offset, d.reason, d.detail, d.raw]
        for d in letters
    ]


def _refused_letter(batch: Batch, item: tuple[Any, ...], message: str) -> DeadLetter:
    """A row or line the warehouse refused, as a dead letter: the line as it came, or the row's columns as JSON,
    and the server's reason."""
    detail = message[:REFUSAL_DETAIL_CHARS]
    if type(item) is RawLine:
        return DeadLetter(Provenance(batch.topic, batch.partition, item.offset), "refused", detail, item.value)
    table = batch.table
    topic, partition, offset = (item[table.position(column)] for column in ("topic", "partition", "offset"))
    raw = orjson.dumps(dict(zip(table.columns, item, strict=True)), default=str)
    return DeadLetter(Provenance(topic, partition, offset), "refused", detail, raw)


def _insert_settings(token: str) -> dict[str, Any]:
    # cluster mode inserts through a Distributed table: stored on the shard before the commit
    return {"insert_deduplication_token": token, "insert_deduplicate": 1, "insert_distributed_sync": 1}


@contextmanager
def _input_file() -> Iterator[tuple[IO[bytes], str]]:
    """A file for the engine to read an insert's input from, removed afterwards."""
    handle = tempfile.NamedTemporaryFile(prefix="correlator-", suffix=".jsonl", delete=False)  # noqa: SIM115
    try:
        yield handle, handle.name
    finally:
        handle.close()
        os.unlink(handle.name)


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _token(batches: Sequence[Batch]) -> str:
    """Deterministic for the same batches: one batch keeps its own token (backfill re-reads rely on it)."""
    return "+".join(sorted(batch.dedup_token for batch in batches))
