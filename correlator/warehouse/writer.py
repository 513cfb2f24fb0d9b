"""Store batches: dead letters first, then rows, each insert under a deterministic token.

The order matters for resuming: rows are written last, so when the rows of a batch are
stored, everything else in its offset range is too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from clickhouse_connect.datatypes.temporal import DateTime64
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.insert import InsertContext
from clickhouse_connect.driver.transform import NativeTransform

from correlator.config import check_identifier
from correlator.records import DEAD_LETTER_TABLE, Batch, DeadLetter, Provenance, Table, native_blocks
from correlator.warehouse.failures import is_permanent
from correlator.warehouse.migrate import pending_migrations
from correlator.warehouse.sql import render

#: makes the client (connects, migrates) and gives what it left of the schema to make later, or None
Opener = Callable[[], tuple[Client, Callable[[], None] | None]]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# the server's message kept with a refused row (it quotes the expression and the values)
REFUSAL_DETAIL_CHARS = 2_000


class Warehouse:
    """Synchronous writes and look-ups; the daemon calls it from one worker thread.

    Made with :meth:`opened_by`, the client is opened by the first call that needs it (or
    :meth:`open`): the daemon opens the engine and migrates on its worker thread while it
    joins the consumer group, so the broker's join and the engine's start overlap.
    """

    def __init__(self, client: Client | None, database: str, opener: Opener | None = None) -> None:
        self._client = client
        self._opener = opener
        #: what the opener left of the schema (the views no row is stored through), for :meth:`finish_schema`
        self._schema_left: Callable[[], None] | None = None
        self._opening = threading.Lock()
        self._failure: Exception | None = None
        self.database = check_identifier(database)
        self._insert_contexts: dict[tuple[str, tuple[str, ...]], InsertContext] = {}

    @classmethod
    def opened_by(cls, opener: Opener, database: str) -> Warehouse:
        """A warehouse whose client ``opener`` makes (connects, migrates) when it is first needed; the opener
        also gives what it left of the schema for :meth:`finish_schema`, or None."""
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
                    self._client, self._schema_left = self._opener()
                except Exception as exc:
                    self._failure = exc
                    raise
            return self._client

    @property
    def schema_finished(self) -> bool:
        """Open, and nothing of the schema left for :meth:`finish_schema`: readiness."""
        return self._client is not None and self._schema_left is None

    def finish_schema(self) -> None:
        """Make what the opener left of the schema, once: the daemon calls it after a start's first store."""
        self.open()
        left, self._schema_left = self._schema_left, None
        if left is not None:
            left()

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
            if batch.rows or batch.line_runs:
                groups.setdefault((batch.table, batch.day), []).append(batch)
        for (table, _), group in groups.items():
            for derived in {table for batch in group for table in batch.derived}:
                implied = [row for batch in group for row in batch.derived.get(derived, ())]
                if implied:  # before the rows, which are written last
                    self._insert(derived, implied, f"{_token(group)}:{derived.name}")
            self._insert(table, [row for batch in group for row in batch.rows], _token(group), native_blocks(group))

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
            refused = self._refused_rows(batch.table, batch.rows, batch.dedup_token)
            letters = [_refused_letter(batch.table, row, mask(message)) for row, message in refused]
            if letters:
                self._insert(DEAD_LETTER_TABLE, _dead_letter_rows(letters), batch.dedup_token + ":refused")
            refused_by_batch.append((batch, {id(row) for row, _ in refused}, letters))
        for batch, refused_rows, letters in refused_by_batch:
            batch.rows = [row for row in batch.rows if id(row) not in refused_rows]
            batch.dead_letters.extend(letters)
        return sum(len(letters) for _, _, letters in refused_by_batch)

    def _refused_rows(self, table: Table, rows: list[tuple[Any, ...]], token: str) -> list[tuple[tuple[Any, ...], str]]:
        """Insert ``rows``, halving what is permanently refused; the refused rows with the server's message."""
        if not rows:
            return []
        try:
            self._insert(table, rows, token)
            return []
        except Exception as exc:
            if not is_permanent(exc):
                raise
            if len(rows) == 1:
                return [(rows[0], str(exc))]
        half = len(rows) // 2
        first, second = rows[:half], rows[half:]
        return self._refused_rows(table, first, token + "/0") + self._refused_rows(table, second, token + "/1")

    def _store_dead_letters(self, batches: Sequence[Batch]) -> None:
        """The batches' dead letters in one insert, under a token of the batches (the same on every retry)."""
        dead = [b for b in batches if b.dead_letters]
        if dead:
            letters = [d for b in dead for d in b.dead_letters]
            self._insert(DEAD_LETTER_TABLE, _dead_letter_rows(letters), _token(dead) + ":dead")

    def _insert(self, table: Table, rows: list, token: str, blocks: Sequence[bytes] = ()) -> None:  # type: ignore[type-arg]
        """One insert under a deduplication token, through one insert context per table kept for the process.

        The context is described once (unless told the types, clickhouse-connect describes the
        table before every insert). A context refers to itself (a bound method), so one made per
        insert would keep that insert's rows alive until a full garbage collection: with the
        daemon's raised collection thresholds, peak memory grew with the stream.

        ``blocks``: rows already encoded as Native blocks (a scanner's plain lines), sent in the
        same insert as ``rows`` (encoded by clickhouse-connect): one Native stream, one part.
        """
        name = f"{self.database}.{table.name}"
        context = self._insert_contexts.get((name, table.columns))
        if context is None:
            context = self._insert_contexts[(name, table.columns)] = self.client.create_insert_context(
                name, table.columns, column_oriented=True
            )
        # cluster mode inserts through a Distributed table: stored on the shard before the commit
        settings = {"insert_deduplication_token": token, "insert_deduplicate": 1, "insert_distributed_sync": 1}
        context.settings = settings
        context.data = _columns(rows, context)
        try:
            if blocks:
                # the blocks send LowCardinality columns as String: the engine converts them
                settings = {**settings, "input_format_native_allow_types_conversion": 1}
                stream = _native_stream(blocks, context if rows else None)
                self.client.raw_insert(name, table.columns, stream, settings=settings, fmt="Native")
            else:
                self.client.data_insert(context)
        finally:
            context.data = None

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


def _refused_letter(table: Table, row: tuple[Any, ...], message: str) -> DeadLetter:
    """A row the warehouse refused, as a dead letter: the row's columns as JSON, the server's reason."""
    topic, partition, offset = (row[table.position(column)] for column in ("topic", "partition", "offset"))
    raw = orjson.dumps(dict(zip(table.columns, row, strict=True)), default=str)
    return DeadLetter(Provenance(topic, partition, offset), "refused", message[:REFUSAL_DETAIL_CHARS], raw)


def _columns(rows: Sequence[Sequence[Any]], context: InsertContext) -> list[Sequence[Any]]:
    """The rows as columns, each DateTime64 column of aware datetimes as the ticks the engine stores.

    clickhouse-connect converts a datetime to ticks in Python, value by value (``timestamp()``,
    ``floor``, its arithmetic): 1.2 µs a usage row of its 3.3 µs of encoding. The difference from
    the epoch is exact and done in C; a column holding anything else (a naive datetime, a
    string) is left to clickhouse-connect.
    """
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for index, kind in enumerate(context.column_types):
        if isinstance(kind, DateTime64) and not kind.nullable and columns:
            try:
                ticks = [(moment - _EPOCH) // _MICROSECOND for moment in columns[index]]
            except TypeError:
                continue
            # clickhouse-connect's own scaling, for a precision other than microseconds
            columns[index] = ticks if kind.prec == 1_000_000 else [tick * kind.prec // 1_000_000 for tick in ticks]
    return columns


def _native_stream(blocks: Sequence[bytes], rows: InsertContext | None) -> Generator[bytes, None, None]:
    """The blocks, then the context's rows as clickhouse-connect encodes them (without the ``INSERT … FORMAT
    Native`` line it puts before its first chunk): one Native stream."""
    yield from blocks
    if rows is not None:
        chunks = NativeTransform.build_insert(rows)
        first = next(chunks, b"")
        yield first[first.index(b"\n") + 1 :]
        yield from chunks


def _token(batches: Sequence[Batch]) -> str:
    """Deterministic for the same batches: one batch keeps its own token (backfill re-reads rely on it)."""
    return "+".join(sorted(batch.dedup_token for batch in batches))
