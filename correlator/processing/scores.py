"""``scores`` rows, in :data:`~correlator.records.SCORE_TABLE`'s column order: from the scores topic, and from
the content checks of every usage-metrics row."""

from __future__ import annotations

from datetime import UTC, datetime
from operator import itemgetter
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


# what each content-check score takes from its call's row, in one pass over the row
_CALL_FIELDS = itemgetter(*(METRIC_TABLE.position(name) for name in (
    "ts", "trace_id", "span_id", "model", "prompt_version", "service", "session_id", "user_id",
    "topic", "partition", "offset",
)))  # fmt: skip
_ATTRIBUTES = METRIC_TABLE.position("attributes")


def content_scores(row: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """A usage-metrics row's content checks as ``code`` scores (BOOLEAN, pass or fail), one per check.

    Each score's id is the message's provenance and the check, so reading the message again
    gives the same scores, and the views count them once.
    """
    checks = row[_ATTRIBUTES].get("content_checks")
    if not checks:
        return []
    ts, trace_id, span_id, model, prompt_version, service, session_id, user_id, topic, partition, offset = _CALL_FIELDS(
        row
    )
    provenance = f"{topic}:{partition}:{offset}:"
    return [
        (ts, provenance + check, trace_id, span_id, check, "code", BOOLEAN, float(passed), "",
         "pass" if passed else "fail", detail, "", CONTENT_CHECKS_VERSION, "", prompt_version, model, service,
         session_id, user_id, {}, ts, topic, partition, offset)
        for check, passed, detail in orjson.loads(checks)
    ]  # fmt: skip
