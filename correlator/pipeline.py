"""Decode → explain → batch, one topic-partition at a time.

A :class:`Batch` is an unbroken offset range of one topic-partition whose rows all fall on
one day, so its insert is one ClickHouse part: stored whole or not at all, and retried
under the same deduplication token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from pydantic import BaseModel

from correlator.classify import Classifier
from correlator.decode import DeadLetter, Provenance, decode
from correlator.events import LogEvent, UsageMetric
from correlator.redact import redact_bytes, row_redactor
from correlator.rows import LOG_COLUMNS, METRIC_COLUMNS, log_row, metric_row

RowBuilder = Callable[[Any, Provenance, Classifier], tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class StreamKind:
    """How one stream's messages are validated and turned into rows of which table."""

    table: str
    columns: tuple[str, ...]
    model: type[BaseModel]
    build_row: RowBuilder


LOGS = StreamKind("log_events", LOG_COLUMNS, LogEvent, log_row)
METRICS = StreamKind("usage_metrics", METRIC_COLUMNS, UsageMetric, metric_row)


def stream_kinds(logs_topic: str, metrics_topic: str) -> dict[str, StreamKind]:
    """Which kind of message each topic carries."""
    return {logs_topic: LOGS, metrics_topic: METRICS}


@dataclass(frozen=True, slots=True)
class Message:
    """A raw message and where it came from; the same for Kafka records and file lines."""

    value: bytes | None
    provenance: Provenance


@dataclass(slots=True)
class Batch:
    topic: str
    partition: int
    kind: StreamKind
    first_offset: int
    last_offset: int = -1
    day: date | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    opened_at: float = field(default_factory=time.monotonic)

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.dead_letters)

    @property
    def dedup_token(self) -> str:
        """Deterministic per offset range, so a retried insert is recognised as the same."""
        return f"{self.topic}:{self.partition}:{self.first_offset}-{self.last_offset}"


def _unprocessable(raw: bytes, provenance: Provenance) -> DeadLetter:
    return DeadLetter(provenance, "unprocessable", "a valid event that cannot be stored as a row", raw)


class PartitionBatcher:
    """Accumulates one topic-partition's messages into day-aligned batches.

    Rows and dead letters are redacted here, after classification has read the evidence
    and before anything is stored (``redact=False`` turns it off).
    """

    def __init__(
        self,
        kind: StreamKind,
        classifier: Classifier,
        max_records: int,
        redact: bool = True,
        hash_prompts: bool = False,
    ) -> None:
        self.kind = kind
        self.classifier = classifier
        self.max_records = max_records
        self._redact_dead_letters = redact
        self._redact_row = row_redactor(kind.columns, redact, hash_prompts)
        self.open: Batch | None = None

    def add(self, messages: Iterable[Message]) -> list[Batch]:
        """Decode and append; return the batches that closed because they were full or a day ended."""
        closed: list[Batch] = []
        for message in messages:
            prov = message.provenance
            decoded = decode(message.value, self.kind.model, prov)
            row = None if isinstance(decoded, DeadLetter) else self._row(decoded, prov)
            if row is None:
                dead = decoded if isinstance(decoded, DeadLetter) else _unprocessable(message.value or b"", prov)
                if self._redact_dead_letters:
                    dead = replace(dead, raw=redact_bytes(dead.raw))
                batch = self._open_batch(prov)
                batch.dead_letters.append(dead)
            else:
                day = row[0].date()
                if self.open is not None and self.open.day not in (None, day):
                    closed.append(self.open)
                    self.open = None
                batch = self._open_batch(prov)
                batch.rows.append(row)
                batch.day = day
            batch.last_offset = prov.offset
            if batch.size >= self.max_records:
                closed.append(batch)
                self.open = None
        return closed

    def _row(self, event: BaseModel, provenance: Provenance) -> tuple[Any, ...] | None:
        """The event's row, redacted; None when a valid event still cannot be made a row (say, nested too deep)."""
        try:
            row = self.kind.build_row(event, provenance, self.classifier)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return None
        return self._redact_row(row) if self._redact_row is not None else row

    def _open_batch(self, provenance: Provenance) -> Batch:
        if self.open is None:
            self.open = Batch(provenance.topic, provenance.partition, self.kind, provenance.offset)
        return self.open

    def is_older_than(self, seconds: float) -> bool:
        return self.open is not None and time.monotonic() - self.open.opened_at >= seconds

    def take(self) -> Batch | None:
        batch, self.open = self.open, None
        return batch
