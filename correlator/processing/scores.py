"""``scores`` rows, in :data:`~correlator.records.SCORE_TABLE`'s column order: from the scores topic, and from
the content checks of every usage-metrics row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from correlator.formats.scores import BOOLEAN, Score
from correlator.processing.classify import Classifier
from correlator.processing.rows import EARLIEST_EVENT, attributes_of, event_time
from correlator.records import METRIC_TABLE, Provenance

# the scorer_version of the content checks' scores: raise it when a check changes what it finds
CONTENT_CHECKS_VERSION = "content-checks-1"


def score_row(score: Score, provenance: Provenance, classifier: Classifier) -> tuple[Any, ...]:
    """A score needs no explaining (the classifier is the row builders' common signature)."""
    ts, rejected = event_time(score.timestamp, provenance)
    return (
        ts, score.score_id, score.trace_id, score.span_id, score.name, score.source.strip().lower(),
        score.data_type, score.number, score.text, score.label, score.comment, score.judge_model,
        score.scorer_version, score.config_id, score.prompt_version, score.model, score.service,
        score.session_id, score.user_id, attributes_of(score.extras(), rejected_timestamp=rejected),
        sent_at(provenance), provenance.topic, provenance.partition, provenance.offset,
    )  # fmt: skip


def sent_at(provenance: Provenance) -> datetime:
    """When the message was sent (Kafka's timestamp): which of two sendings of a score id came last.

    A file line has none; its line number (the offset) orders it instead.
    """
    if provenance.timestamp_ms is None:
        return EARLIEST_EVENT
    return datetime.fromtimestamp(provenance.timestamp_ms / 1000, UTC)


_METRIC = {name: METRIC_TABLE.position(name) for name in (
    "ts", "trace_id", "span_id", "model", "prompt_version", "service", "session_id", "user_id", "attributes",
    "topic", "partition", "offset",
)}  # fmt: skip


def content_scores(row: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """A usage-metrics row's content checks as ``code`` scores (BOOLEAN, pass or fail), one per check.

    Each score's id is the message's provenance and the check, so reading the message again
    gives the same scores, and the views count them once.
    """
    checks = row[_METRIC["attributes"]].get("content_checks")
    if not checks:
        return []
    return [_check_score(row, check, passed, detail) for check, passed, detail in orjson.loads(checks)]


def _check_score(row: tuple[Any, ...], check: str, passed: bool, detail: str) -> tuple[Any, ...]:
    ts, topic, partition, offset = (row[_METRIC[name]] for name in ("ts", "topic", "partition", "offset"))
    trace_id, span_id, model, prompt_version, service, session_id, user_id = (
        row[_METRIC[name]]
        for name in ("trace_id", "span_id", "model", "prompt_version", "service", "session_id", "user_id")
    )
    return (
        ts, f"{topic}:{partition}:{offset}:{check}", trace_id, span_id, check, "code", BOOLEAN, float(passed), "",
        "pass" if passed else "fail", detail, "", CONTENT_CHECKS_VERSION, "", prompt_version, model, service,
        session_id, user_id, {}, ts, topic, partition, offset,
    )  # fmt: skip
