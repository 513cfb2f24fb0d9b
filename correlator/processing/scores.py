"""``scores`` rows from the scores topic, in :data:`~correlator.records.SCORE_TABLE`'s column order.

The content checks' ``code`` scores are made by the engine from each stored usage-metrics row
(``schemas/migrations/0012_content_check_scores.sql``), not here: built in Python they cost most of
what the checks cost the daemon."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from correlator.formats.scores import Score
from correlator.processing.classify import Classifier
from correlator.processing.rows import EARLIEST_EVENT, attributes_of, event_time
from correlator.records import Provenance


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
