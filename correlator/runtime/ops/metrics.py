"""The daemon's Prometheus metrics, on a registry of its own.

A registry per daemon, not prometheus-client's global one, so several daemons in one
process (the tests) never share or collide on a series. Call labels come from the
stored rows' final labels, so alert rules on ``llm_errors_total`` see what the
warehouse sees.
"""

from __future__ import annotations

from collections import Counter as TallyCounter
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from correlator.records import METRIC_TABLE

__all__ = ["CONTENT_TYPE_LATEST", "DaemonMetrics"]

CALL_LABELS = ("category", "error_class", "model")
_MODEL, _SUCCESS, _ERROR = (METRIC_TABLE.position(c) for c in ("model", "success", "error"))
_CATEGORY, _ERROR_CLASS = (METRIC_TABLE.position(c) for c in ("category", "error_class"))
BATCH_SIZE_BUCKETS = (1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000)
INSERT_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class DaemonMetrics:
    """Every series the daemon exports; updated by the daemon, rendered by ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.calls = Counter("llm_calls_total", "LLM call attempts stored (usage-metrics rows), by final label",
                             CALL_LABELS, registry=r)  # fmt: skip
        self.errors = Counter("llm_errors_total", "Failed LLM call attempts stored, by final label",
                              CALL_LABELS, registry=r)  # fmt: skip
        self.reclassified = Counter(
            "llm_reclassified_total",
            "Failed calls whose final label differs from the error label their metrics row carried",
            CALL_LABELS, registry=r,
        )  # fmt: skip
        self.consumed = Counter("correlator_messages_consumed_total", "Kafka messages fetched", ["topic"],
                                registry=r)  # fmt: skip
        self.stored_rows = Counter("correlator_rows_stored_total", "Rows stored in ClickHouse", ["table"], registry=r)
        self.dead_letters = Counter("correlator_dead_letters_total", "Messages that could not be decoded, stored "
                                    "in dead_letter_log", ["topic"], registry=r)  # fmt: skip
        self.batch_size = Histogram("correlator_batch_size", "Messages per stored batch (rows and dead letters)",
                                    buckets=BATCH_SIZE_BUCKETS, registry=r)  # fmt: skip
        self.insert_seconds = Histogram("correlator_insert_duration_seconds", "Time to store one batch",
                                        buckets=INSERT_SECONDS_BUCKETS, registry=r)  # fmt: skip
        self.insert_failures = Counter("correlator_insert_failures_total", "Failed insert attempts that may heal "
                                       "(retried)", registry=r)  # fmt: skip
        self.insert_refusals = Counter("correlator_insert_refusals_total", "Inserts the warehouse refused for good "
                                       "(by error code): not retried, their refused rows dead-lettered",
                                       registry=r)  # fmt: skip
        self.commit_refusals = Counter("correlator_commit_refusals_total", "Commits refused after a store "
                                       "(partition reassigned meanwhile)", registry=r)  # fmt: skip
        self.topic_missing = Gauge("correlator_kafka_topic_missing", "1 while a subscribed topic does not exist "
                                   "(not created yet, or deleted), else 0", ["topic"], registry=r)  # fmt: skip
        self.topics_deleted = Counter("correlator_kafka_topics_deleted_total", "Subscribed topics deleted while "
                                      "consumed", ["topic"], registry=r)  # fmt: skip
        self.lag = Gauge("correlator_consumer_lag", "Messages between the consumer's position and the highwater mark",
                         ["topic", "partition"], registry=r)  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def count_calls(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Count stored usage-metrics rows: every call, the failed ones, the relabelled ones."""
        calls: TallyCounter[tuple[str, str, str]] = TallyCounter()
        errors: TallyCounter[tuple[str, str, str]] = TallyCounter()
        reclassified: TallyCounter[tuple[str, str, str]] = TallyCounter()
        for row in rows:
            labels = (row[_CATEGORY], row[_ERROR_CLASS], row[_MODEL])
            calls[labels] += 1
            if not row[_SUCCESS]:
                errors[labels] += 1
                reclassified[labels] += row[_ERROR] != row[_ERROR_CLASS]
        # one increment per label set and batch: a batch holds up to tens of thousands of rows
        for counter, tally in ((self.calls, calls), (self.errors, errors), (self.reclassified, reclassified)):
            for labels, count in tally.items():
                if count:
                    counter.labels(*labels).inc(count)

    def set_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        for (topic, partition), value in lag.items():
            self.lag.labels(topic, str(partition)).set(value)

    def forget_partitions(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Drop the lag series of partitions this replica no longer owns (another one reports them)."""
        for topic, partition in partitions:
            try:
                self.lag.remove(topic, str(partition))
            except KeyError:
                continue
