"""A Kafka transport an application can call from anywhere without ever waiting on Kafka.

``send`` puts the message in a bounded in-memory buffer and returns at once; a daemon
thread runs an aiokafka producer (batching, compression) that drains it. When Kafka is
slow or down the buffer fills and further messages are counted as overflow, never raised
and never blocking the caller. ``close`` (also run at exit) delivers what is buffered,
within a time limit.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import queue
import threading
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

_IDLE_POLL_SECONDS = 0.02


#: topic, value, key
_Queued = tuple[str, bytes, bytes | None]


@dataclass
class TransportStats:
    """What happened to the messages handed to ``send``."""

    accepted: int = 0
    delivered: int = 0
    overflowed: int = 0
    failed: int = 0
    abandoned: int = 0  # still undelivered when close() gave up


class KafkaTransport:
    def __init__(
        self,
        bootstrap: str,
        buffer_size: int = 10_000,
        compression: str = "zstd",
        linger_ms: int = 50,
        delivery_timeout_ms: int = 30_000,
    ) -> None:
        self.bootstrap = bootstrap
        self.stats = TransportStats()
        self._buffer: queue.Queue[_Queued | None] = queue.Queue(maxsize=buffer_size)  # None: stop
        self._producer_options = {
            "compression_type": compression,
            "linger_ms": linger_ms,
            "request_timeout_ms": delivery_timeout_ms,
            "acks": 1,
        }
        self._closed = threading.Event()
        self._give_up_at: float | None = None  # set by close: deliver until then
        self._thread = threading.Thread(target=self._run, name="correlator-emit", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> bool:
        """Buffer one message; False (and counted) when the buffer is full or closed.

        Messages with the same ``key`` land on the same partition, so they keep their order."""
        if self._closed.is_set():
            self.stats.overflowed += 1
            return False
        try:
            self._buffer.put_nowait((topic, value, key))
        except queue.Full:
            self.stats.overflowed += 1
            return False
        self.stats.accepted += 1
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is buffered (at most ``timeout`` seconds), then stop the thread."""
        if self._closed.is_set():
            return
        deadline = time.monotonic() + timeout
        self._give_up_at = deadline
        self._closed.set()
        while time.monotonic() < deadline:
            try:
                self._buffer.put(None, timeout=0.05)
                break
            except queue.Full:
                continue
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            self.stats.abandoned = self.stats.accepted - self.stats.delivered - self.stats.failed
        stats = self.stats
        if stats.overflowed or stats.failed or stats.abandoned:
            # the application's own stdlib logging: the Kafka path is what failed
            logging.getLogger("correlator.emit").warning(
                "correlator.emit could not deliver every message: %d overflowed the buffer, %d failed, "
                "%d abandoned at close (%d delivered)",
                stats.overflowed, stats.failed, stats.abandoned, stats.delivered,
            )  # fmt: skip
        atexit.unregister(self.close)

    def _run(self) -> None:
        asyncio.run(self._deliver())

    def _take_batch(self, most: int = 1_000) -> list[_Queued | None]:
        """Whatever is buffered, up to ``most`` messages; empty when nothing is."""
        batch: list[_Queued | None] = []
        while len(batch) < most and (not batch or batch[-1] is not None):
            try:
                batch.append(self._buffer.get_nowait())
            except queue.Empty:
                break
        return batch

    async def _deliver(self) -> None:
        """Drain the buffer into the producer; polls rather than blocking a worker thread,
        because at interpreter exit no new worker threads may be started."""
        producer: AIOKafkaProducer | None = None
        stopping = False
        while not stopping:
            batch = self._take_batch()
            if not batch:
                await asyncio.sleep(_IDLE_POLL_SECONDS)
                continue
            for item in batch:
                if item is None:
                    stopping = True
                    break
                topic, value, key = item
                while producer is None and not self._past_deadline():
                    producer = await self._start_producer()
                if producer is None:
                    self.stats.failed += 1
                    continue
                try:
                    future = await producer.send(topic, value, key=key)
                    future.add_done_callback(self._count_delivery)
                except Exception:  # the application must never see a transport error
                    self.stats.failed += 1
        if producer is not None:
            try:
                await producer.flush()
            finally:
                await producer.stop()

    def _past_deadline(self) -> bool:
        return self._give_up_at is not None and time.monotonic() >= self._give_up_at

    async def _start_producer(self) -> AIOKafkaProducer | None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **self._producer_options)
        try:
            await producer.start()
        except Exception:  # broker unreachable: wait and try again
            await producer.stop()
            await asyncio.sleep(0.5)
            return None
        return producer

    def _count_delivery(self, future: asyncio.Future[object]) -> None:
        if future.cancelled() or future.exception() is not None:
            self.stats.failed += 1
        else:
            self.stats.delivered += 1
