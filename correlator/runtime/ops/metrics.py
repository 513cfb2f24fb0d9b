"""The daemon's Prometheus metrics, on a registry of its own.

A registry per daemon, not prometheus-client's global one, so several daemons in one
process (the tests) never share or collide on a series. Call labels come from the
stored rows' final labels, so alert rules on ``llm_errors_total`` see what the
warehouse sees.
"""

from __future__ import annotations

from collections import Counter as TallyCounter
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from correlator.processing.scorers import NUMERIC, Scorers
from correlator.records import METRIC_TABLE, SCORE_TABLE, SPAN_TABLE, Table
from correlator.runtime.ops.tallies import TalliedCounter, TalliedHistogram

__all__ = ["CONTENT_TYPE_LATEST", "DaemonMetrics"]

CALL_LABELS = ("category", "error_class", "model")
SCORE_LABELS = ("name", "source", "model", "outcome", "safety")
SCORE_VALUE_LABELS = ("name", "source", "model")
CONTENT_FAILURE_LABELS = ("category", "error_class", "model", "rule")
_MODEL, _SUCCESS, _ERROR = (METRIC_TABLE.position(c) for c in ("model", "success", "error"))
_CATEGORY, _ERROR_CLASS, _RULE = (METRIC_TABLE.position(c) for c in ("category", "error_class", "rule"))
_call_labels = itemgetter(_CATEGORY, _ERROR_CLASS, _MODEL)
_ATTRIBUTES = METRIC_TABLE.position("attributes")
_SCORE = {name: SCORE_TABLE.position(name) for name in ("name", "source", "model", "data_type", "value", "label")}
# where a stored row gives its model and its time to first token (ms), per table
_TTFT_PLACES = {
    table.name: (table.position("model"), table.position("ttft_ms")) for table in (METRIC_TABLE, SPAN_TABLE)
}
# the alerts' thresholds (p50 above 0.5 s, p99 above 5 s) are bucket boundaries, so their quantiles are exact there
TTFT_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_SIZE_BUCKETS = (1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000)
INSERT_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class DaemonMetrics:
    """Every series the daemon exports; updated by the daemon, rendered by ``/metrics``."""

    def __init__(self, scorers: Scorers | None = None) -> None:
        self.scorers = scorers or Scorers.from_file()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # counted per stored row, so kept in plain tallies (tallies.py), not in prometheus_client's children
        self.calls = TalliedCounter("llm_calls_total", "LLM call attempts stored (usage-metrics rows), by final "
                                    "label", CALL_LABELS, registry=r)  # fmt: skip
        self.errors = TalliedCounter("llm_errors_total", "Failed LLM call attempts stored, by final label",
                                     CALL_LABELS, registry=r)  # fmt: skip
        self.reclassified = TalliedCounter(
            "llm_reclassified_total",
            "Failed calls whose final label differs from the error label their metrics row carried",
            CALL_LABELS, registry=r,
        )  # fmt: skip
        self.scores = TalliedCounter(
            "correlator_scores_total",
            "Scores stored, by name, source, model (as the score carried it), outcome (pass, fail, or none: "
            "not a pass/fail score) and safety (a safety scorer, per the scorers file)",
            SCORE_LABELS, registry=r,
        )  # fmt: skip
        self.score_values = Summary(
            "correlator_score_values", "NUMERIC score values stored (sum and count: a mean over any range)",
            SCORE_VALUE_LABELS, registry=r,
        )  # fmt: skip
        self.content_failures = TalliedCounter(
            "correlator_content_failures_total",
            "Calls that returned without an error but failed a content check, by final label and the rule",
            CONTENT_FAILURE_LABELS, registry=r,
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
        self.ttft = TalliedHistogram("llm_time_to_first_token_seconds", "Time to first token of streaming calls "
                                     "(usage rows' ttft_ms, LLM spans' time to first chunk), by model", ["model"],
                                     buckets=TTFT_SECONDS_BUCKETS, registry=r)  # fmt: skip
        self.runaway_sessions = Gauge("llm_runaway_sessions", "Sessions (or users) whose cost in the last hour is "
                                      "above 3x their trailing 7-day average (session_costs), at the latest check",
                                      registry=r)  # fmt: skip
        self.topic_missing = Gauge("correlator_kafka_topic_missing", "1 while a subscribed topic does not exist "
                                   "(not created yet, or deleted), else 0", ["topic"], registry=r)  # fmt: skip
        self.topics_deleted = Counter("correlator_kafka_topics_deleted_total", "Subscribed topics deleted while "
                                      "consumed", ["topic"], registry=r)  # fmt: skip
        self.lag = Gauge("correlator_consumer_lag", "Messages between the consumer's position and the highwater mark",
                         ["topic", "partition"], registry=r)  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def count_calls(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Count stored usage-metrics rows: every call, the failed ones, the relabelled ones.

        Tallied by ``Counter``'s C loop over the rows' label tuples, then added once per label set and batch."""
        failed = [row for row in rows if not row[_SUCCESS]]
        self.calls.add(TallyCounter(map(_call_labels, rows)))
        self.errors.add(TallyCounter(map(_call_labels, failed)))
        self.reclassified.add(TallyCounter(_call_labels(row) for row in failed if row[_ERROR] != row[_ERROR_CLASS]))
        self.content_failures.add(
            TallyCounter((*_call_labels(row), row[_RULE]) for row in failed if row[_ATTRIBUTES].get("content_failure"))
        )

    def count_content_checks(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Count the code scores stored usage-metrics rows imply: the engine makes them from each row's checks
        (views/0015_content_checks.sql), one BOOLEAN score per check, so they are counted from the rows here.

        Rows are tallied by their checks' text first and each distinct text parsed once: most calls of a batch
        carry the same few (a finish reason that passed both its checks)."""
        by_text: TallyCounter[tuple[str, str]] = TallyCounter(
            (checks, row[_MODEL]) for row in rows if (checks := row[_ATTRIBUTES].get("content_checks"))
        )
        tally: TallyCounter[tuple[str, str, str, str, str]] = TallyCounter()
        for (checks, model), calls in by_text.items():
            for check, passed, _ in orjson.loads(checks):
                outcome = "pass" if passed else "fail"
                tally[(check, "code", model, outcome, _flag(self.scorers.is_safety(check)))] += calls
        self.scores.add(tally)

    def count_scores(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Count stored scores, each judged pass or fail as the views judge it (the scorers file's thresholds)."""
        tally: TallyCounter[tuple[str, str, str, str, str]] = TallyCounter()
        values: dict[tuple[str, str, str], list[float]] = {}
        scorers = self.scorers
        for row in rows:
            name, source, model, data_type, value = (
                row[_SCORE[c]] for c in ("name", "source", "model", "data_type", "value")
            )
            verdict = scorers.passes(name, data_type, value, row[_SCORE["label"]])
            outcome = "none" if verdict is None else "pass" if verdict else "fail"
            tally[(name, source, model, outcome, _flag(scorers.is_safety(name)))] += 1
            if data_type == NUMERIC:
                values.setdefault((name, source, model), []).append(value)
        self.scores.add(tally)
        for labels, observed in values.items():
            child = self.score_values.labels(*labels)
            for value in observed:
                child.observe(value)

    def observe_ttft(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> None:
        """Time to first token of the stored rows that give one (usage rows and spans)."""
        places = _TTFT_PLACES.get(table.name)
        if places is None:
            return
        model, ttft = places
        seconds: dict[str, list[float]] = {}
        for row in rows:
            if (ms := row[ttft]) is not None:
                seconds.setdefault(row[model], []).append(ms / 1000)
        self.ttft.observe({(name,): values for name, values in seconds.items()})

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


def _flag(value: bool) -> str:
    return "true" if value else "false"
