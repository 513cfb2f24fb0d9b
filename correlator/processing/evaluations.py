"""OpenTelemetry's ``gen_ai.evaluation.result`` events → ``scores`` rows, each with its record's exact provenance.

An evaluation arrives as an event on the judged span, or as a log record of that event
name inside it. Either way it is the scores stream's contract under OpenTelemetry's names
(:class:`~correlator.formats.scores.Score` reads ``gen_ai.evaluation.*``), so it is validated
and stored like a score from the scores topic, in :data:`~correlator.records.OTLP_SCORE_TABLE`'s
column order: its ``record_index`` is its record's index in the message, and its score id
names the message, the record and the event, so reading the message again gives the same
scores. An evaluation that is not a valid score (no name, a value of the wrong type) is a
dead letter of its own, with the event's attributes as its payload; the rest of the message
is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from correlator.formats.decode import validate
from correlator.formats.scores import Score
from correlator.processing.classify import Classifier
from correlator.processing.scores import score_row
from correlator.records import DeadLetter, Provenance

EVALUATION_EVENT = "gen_ai.evaluation.result"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def evaluation_score(
    attributes: Mapping[str, Any],
    judged: Mapping[str, str],
    time_ns: int,
    provenance: Provenance,
    place: tuple[int, int],
    classifier: Classifier,
) -> tuple[Any, ...] | DeadLetter:
    """One evaluation event's score row (or its dead letter).

    ``judged``: the trace, span, model, service and session of what it judges; ``place``: the
    record's index in the message and the event's index in the record.
    """
    index, event = place
    document: dict[str, Any] = {**judged, **attributes, "id": f"{_message_id(provenance)}:{index}:{event}"}
    if time_ns:
        document["timestamp"] = (_EPOCH + timedelta(microseconds=time_ns // 1000)).isoformat()
    raw = orjson.dumps(dict(attributes), default=str)
    score = validate(document, raw, Score, provenance)
    if isinstance(score, DeadLetter):
        return score
    return (*score_row(score, provenance, classifier), index)


def _message_id(provenance: Provenance) -> str:
    return f"{provenance.topic}:{provenance.partition}:{provenance.offset}"
