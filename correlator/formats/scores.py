"""The scores topic's contract: one quality signal (a check, a judge's or a reviewer's verdict) per message.

The same score arrives under three spellings: correlator's own (``trace_id``, ``data_type``),
the Langfuse SDK's (``traceId``, ``observationId``, ``dataType``, ``configId``, a BOOLEAN
sent as 1 or 0) and OpenTelemetry's ``gen_ai.evaluation.result`` event (``gen_ai.evaluation.*``
attributes, flat or under ``attributes``). All become one :class:`Score`.

A score that cannot be judged is refused with a reason of its own (no name, no trace id, a
value that does not match its data type, NaN or infinity) rather than a generic one, so the
dead letters say what the producer must fix.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from pydantic import AliasChoices, Field, model_validator
from pydantic_core import PydanticCustomError

from correlator.formats.events import _alias, _Event

NUMERIC, BOOLEAN, CATEGORICAL = "NUMERIC", "BOOLEAN", "CATEGORICAL"
SCORE_SOURCES = ("code", "judge", "human")
# OpenTelemetry's attribute → the field it fills
_OTEL_KEYS = {
    "gen_ai.evaluation.name": "name",
    "gen_ai.evaluation.score.value": "value",
    "gen_ai.evaluation.score.label": "label",
    "gen_ai.evaluation.explanation": "comment",
}
_BOOLEAN_WORDS = {"true": True, "false": False}


def _refuse(reason: str, detail: str) -> PydanticCustomError:
    return PydanticCustomError(reason, detail)


class Score(_Event):
    """One score; ``number`` is the value stored (BOOLEAN as 1/0), ``text`` a CATEGORICAL value."""

    #: the validation errors that are dead-letter reasons of their own (see :func:`~correlator.formats.decode.validate`)
    dead_letter_reasons: ClassVar[frozenset[str]] = frozenset(
        {"no_name", "no_trace_id", "no_value", "value_type_mismatch", "not_finite"}
    )

    name: str = ""
    score_id: str = Field(default="", validation_alias=AliasChoices("id", "score_id", "scoreId"))
    span_id: str = _alias("span_id", "observationId", "observation_id", "spanId")
    raw_value: Any = Field(default=None, validation_alias=AliasChoices("value", "score"))
    data_type: str = _alias("data_type", "dataType")
    label: str = ""
    comment: str = _alias("comment", "explanation")
    source: str = ""
    judge_model: str = ""
    scorer_version: str = ""
    config_id: str = _alias("config_id", "configId")
    prompt_version: str = ""
    user_id: str = _alias("user_id", "userId")
    session_id: str = _alias("session_id", "sessionId")
    number: float = 0.0
    text: str = ""

    @model_validator(mode="before")
    @classmethod
    def _otel_attributes(cls, document: Any) -> Any:
        """OpenTelemetry's attribute names, flat or under ``attributes``, as the fields they mean."""
        if not isinstance(document, dict):
            return document
        nested = document.get("attributes")
        found = {**(nested if isinstance(nested, dict) else {}), **document}
        renamed = {field: found[key] for key, field in _OTEL_KEYS.items() if key in found}
        if not renamed:
            return document
        rest = {key: value for key, value in document.items() if key not in _OTEL_KEYS}
        return {**rest, **{field: value for field, value in renamed.items() if field not in rest}}

    @model_validator(mode="after")
    def _judged(self) -> Score:
        if not self.name.strip():
            raise _refuse("no_name", "a score needs a name")
        if not self.trace_id.strip():
            raise _refuse("no_trace_id", "a score needs the trace_id of what it judges")
        self.data_type, self.number, self.text = typed_value(self.raw_value, self.data_type, self.label)
        return self


def typed_value(raw: Any, data_type: str, label: str) -> tuple[str, float, str]:
    """(data type, number, text) of a score's value, its data type given or inferred from the value."""
    kind = data_type.strip().upper()
    if raw is None:
        if label and kind in ("", CATEGORICAL):
            return CATEGORICAL, 0.0, label
        raise _refuse("no_value", "a score needs a value (or, for a categorical one, a label)")
    if not kind:
        kind = BOOLEAN if isinstance(raw, bool) else CATEGORICAL if isinstance(raw, str) else NUMERIC
    if kind == BOOLEAN:
        flag = _boolean(raw)
        if flag is None:
            raise _refuse("value_type_mismatch", "a BOOLEAN score's value is true/false or 1/0")
        return BOOLEAN, float(flag), ""
    if kind == NUMERIC:
        number = _number(raw)
        if number is None:
            raise _refuse("value_type_mismatch", "a NUMERIC score's value is a number")
        if not math.isfinite(number):
            raise _refuse("not_finite", "a score's value is NaN or infinite")
        return NUMERIC, number, ""
    if kind == CATEGORICAL:
        if not isinstance(raw, str):
            raise _refuse("value_type_mismatch", "a CATEGORICAL score's value is a string")
        return CATEGORICAL, 0.0, raw
    raise _refuse("value_type_mismatch", "data_type is NUMERIC, BOOLEAN or CATEGORICAL")


def _boolean(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if type(raw) in (int, float) and raw in (0, 1):
        return bool(raw)
    return _BOOLEAN_WORDS.get(raw.strip().lower()) if isinstance(raw, str) else None


def _number(raw: Any) -> float | None:
    if isinstance(raw, (bool, dict, list)):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None
