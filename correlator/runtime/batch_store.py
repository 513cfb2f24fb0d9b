"""Batching and storing, one component for the daemon and backfill: messages in, durable positions out.

Both callers hand a partition's messages to the same :class:`PartitionBatches` and take
batches out to store in the same way: one combined insert, and when the warehouse refuses
it for good (by its error code), the batches stored apart so the refused rows become dead
letters and the rest is kept. What a store made durable comes back as each partition's
next position: the daemon commits it to Kafka, backfill checkpoints it. Retrying what may
heal is the caller's choice (the daemon retries with backoff, a backfill stops and resumes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

from correlator.processing.batching import PartitionBatches
from correlator.processing.classify import Classifier
from correlator.records import Batch
from correlator.warehouse.failures import is_permanent
from correlator.warehouse.writer import Warehouse

log = structlog.get_logger("correlator.store")

Key = TypeVar("Key")


@dataclass(frozen=True, slots=True)
class Stored(Generic[Key]):
    """What one store made durable: the batches (refused rows moved to their dead letters) and how long it took."""

    batches: list[tuple[Key, Batch]]
    #: rows the warehouse refused for good, now dead letters
    refused: int
    seconds: float

    def positions(self) -> dict[Key, int]:
        """Each stored partition's first offset (or line) after its batches: safe to commit or checkpoint now."""
        positions: dict[Key, int] = {}
        for key, batch in self.batches:
            positions[key] = max(positions.get(key, 0), batch.last_offset + 1)
        return positions


class StoreAttempt(Generic[Key]):
    """One store of taken batches, tried until it succeeds; each :meth:`run` is one try.

    A permanent refusal of the combined insert switches to storing the batches apart, for
    this try and every later one (a retry repeats the same pieces under the same tokens);
    the batches' line runs are decoded into rows first (``as_rows``), so the refused rows can
    be found one by one.
    """

    def __init__(
        self,
        warehouse: Warehouse | None,
        ready: list[tuple[Key, Batch]],
        mask: Callable[[str], str],
        on_refusal: Callable[[], None],
        as_rows: Callable[[Batch], None],
    ) -> None:
        self._warehouse = warehouse
        self._ready = ready
        self._mask = mask
        self._on_refusal = on_refusal
        self._as_rows = as_rows
        self._apart = False

    def run(self) -> Stored[Key]:
        """Store the batches; raises what may heal (call again to retry), never what the rows caused."""
        started = time.monotonic()
        batches = [batch for _, batch in self._ready]
        refused = 0
        if self._warehouse is not None:
            if not self._apart:
                try:
                    self._warehouse.store(batches)
                except Exception as exc:
                    if not is_permanent(exc):
                        raise
                    self._apart = True
                    self._on_refusal()
                    log.warning(
                        "insert refused by the warehouse; storing the batches apart to find the refused rows",
                        error=self._mask(f"{type(exc).__name__}: {exc}")[:500],
                        batches=len(batches),
                    )
            if self._apart:
                for batch in batches:
                    self._as_rows(batch)
                refused = self._warehouse.store_apart(batches, self._mask)
                log.warning("rows refused by the warehouse were dead-lettered, the rest stored", refused=refused)
        return Stored(self._ready, refused, time.monotonic() - started)


class BatchStore(Generic[Key]):
    """Every partition's batches (``batches``) and how taken batches are stored.

    ``warehouse=None`` decodes and counts but stores nothing (a backfill's dry run).
    ``on_refusal`` is told each time the warehouse refuses a combined insert for good.
    """

    def __init__(
        self,
        warehouse: Warehouse | None,
        classifier: Classifier,
        batch_max_records: int,
        redact: bool = True,
        hash_prompts: bool = False,
        mask: Callable[[str], str] = str,
        on_refusal: Callable[[], None] = lambda: None,
    ) -> None:
        self.warehouse = warehouse
        self.batches: PartitionBatches[Key] = PartitionBatches(classifier, batch_max_records, redact, hash_prompts)
        self._mask = mask
        self._on_refusal = on_refusal

    def attempt(self, ready: list[tuple[Key, Batch]]) -> StoreAttempt[Key]:
        """A store of batches taken from :attr:`batches`, to run (and retry) on the caller's worker thread."""
        return StoreAttempt(self.warehouse, ready, self._mask, self._on_refusal, self.batches.decode_line_runs)
