r"""Lean paths from a parsed message to its row for the common messages: nothing to validate field by field.

Most of a log topic is info lines with no exception and nothing to classify, and most of a
usage-metrics topic is calls that returned, with the same few keys. Validating them through
the pydantic model and building the row through :mod:`correlator.processing.rows` costs
tens of microseconds a message, almost all of it per-field machinery with nothing to decide.
These paths read the decoded object directly and build the very row the general path would,
or answer None for anything they are not sure about (for a log line: an exception field, an
error level, an ``error_category``, a message embedding a cause; for a usage row: a number
pydantic would coerce or reject, a failure with a detail text, a key a content check reads,
a failed check; for both: two aliases of one field, a value that is not a string, a
timestamp in another shape or out of range, input that is not a JSON object): those take the
general path, which also makes the dead letters. A log line declined for what it has to explain
(an error level, an exception, an embedded cause) but whose fields need no validation either is
:func:`explained_log_row`'s: its fields picked here, its chain, label and row built by
:func:`~correlator.processing.rows.log_row` as for a validated line (a failure line spent a third
of its decode time in validation). A message is parsed once, by the batcher
(:func:`correlator.formats.decode.parse`): one declined here is validated from the same
object. The keys each field is read from are the event contract's own aliases
(:mod:`correlator.formats.events`). ``tests/test_lean_path.py`` stores varied corpora both
ways and compares the tables.

Messages of one stream mostly share their keys in the same order, so where each field sits
is worked out once per key order (a :class:`_Plan`) and the values are picked in C.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from pydantic import BaseModel

from correlator.formats.events import LogEvent, UsageMetric, input_keys
from correlator.processing.classify import Classifier, Label
from correlator.processing.content import CHECKED_KEYS, first_failure
from correlator.processing.rootcause import chain_from_message
from correlator.processing.rows import (
    EARLIEST_EVENT,
    ERROR_LEVELS,
    NO_LABEL,
    LogFields,
    attribute_value,
    content_checks,
    event_time,
    label_metric,
    log_row,
    stored_checks,
)
from correlator.records import LOG_TABLE, METRIC_TABLE, Provenance

LeanRow = Callable[[dict[str, Any], Provenance, Classifier, datetime], tuple[Any, ...] | None]

# the string fields taken here, in the order the row holds them; LogEvent's other fields are the general path's
STRING_FIELDS = ("service", "level", "logger", "message", "trace_id", "span_id", "error_id", "model",
                  "parent_span_id", "step", "tool_name", "tool_status")  # fmt: skip
# the one timestamp shape taken here: what both pydantic and datetime.fromisoformat read alike
_ISO_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_MAX_PLANS = 1024
_ABSENT = object()  # the value of a non-string field the message lacks

# What a plain line's row holds where it has nothing to explain (no chain, no label): the empty tuple
# as each array, "" each, the evidence of no label and no duration. Empty lists would be three
# objects a row for the cycle collector to track: rows waiting to be stored set off its collections
# (28 over a 292,500-line backlog, 0.7-1.2 s; README, issue 18). A row of strings, tuples and an
# attributes dict of strings holds nothing it tracks.
EMPTY_ARRAYS = ("exception_types", "exception_values", "exception_frames")
EMPTY_STRINGS = ("root_cause_type", "root_cause_message", "category", "error_class", "rule", "rules_version",
                  "traceback", "tool_args")  # fmt: skip


# the row plain_log_row builds, column by column: LOG_TABLE's contract, checked here (an inline tuple
# costs 0.2-0.5 us a line less than picking the columns with itemgetter, measured interleaved)
_ROW_COLUMNS = ("ts", "service", "level", "logger", "message", "trace_id", "span_id", "error_id", "model",
                *EMPTY_ARRAYS, *EMPTY_STRINGS[:5], "evidence", *EMPTY_STRINGS[5:7], "attributes",
                "parent_span_id", "step", "tool_name", "tool_args", "tool_status", "duration_ms",
                "topic", "partition", "offset")  # fmt: skip
if LOG_TABLE.columns != _ROW_COLUMNS:
    raise TypeError(f"the lean path builds {_ROW_COLUMNS}, not LOG_TABLE's {LOG_TABLE.columns}")
_NO_EVIDENCE = NO_LABEL.evidence

# a usage row's string fields, in the order the row holds them, and the fields read otherwise
METRIC_STRINGS = ("model", "provider", "service", "error_id", "error_detail", "trace_id", "span_id", "request_id",
                  "prompt_version", "user_id", "session_id")  # fmt: skip
METRIC_OTHERS = ("timestamp", "success", "duration_seconds", "input_tokens", "output_tokens", "cost_usd", "ttft_ms",
                 "error", "finish_reason")  # fmt: skip
_METRIC_COLUMNS = ("ts", *METRIC_STRINGS[:3], "success", "duration_seconds", "error", *METRIC_STRINGS[3:8],
                   "input_tokens", "output_tokens", "cost_usd", "finish_reason", *METRIC_STRINGS[8:],
                   "category", "error_class", "rule", "evidence", "rules_version", "attributes", "ttft_ms",
                   "topic", "partition", "offset")  # fmt: skip
if METRIC_TABLE.columns != _METRIC_COLUMNS:
    raise TypeError(f"the lean path builds {_METRIC_COLUMNS}, not METRIC_TABLE's {METRIC_TABLE.columns}")
_TOKENS_MAX = 4_294_967_295  # UsageMetric's bound on a token count
_EXACT_FLOAT = 2**53  # an integer up to here is the same number as a float, whichever way it is converted


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where, in the values of a message with these keys in this order, each field and extra sits.

    The values are given with "" and :data:`_ABSENT` appended: the places of a string field and
    of another field the message lacks.
    """

    strings: Callable[[tuple[Any, ...]], tuple[Any, ...]]
    others: Callable[[tuple[Any, ...]], tuple[Any, ...]]
    extra_keys: tuple[str, ...]
    extras: Callable[[tuple[Any, ...]], tuple[Any, ...]]


class _Layout:
    """A model's fields as a lean path reads them: its strings, its other fields, and a plan per key order."""

    def __init__(self, model: type[BaseModel], strings: tuple[str, ...], others: tuple[str, ...]) -> None:
        self.strings, self.others = strings, others
        #: the model's fields by input key (its aliases); a key of None: only the general path reads that field
        self.field_of_key: dict[str, str | None] = {
            key: field if field in strings or field in others else None
            for field, keys in input_keys(model).items()
            for key in keys
        }
        self._plans: dict[tuple[str, ...], _Plan | None] = {}

    def plan(self, keys: tuple[str, ...]) -> _Plan | None:
        """The plan for messages with these keys, remembered; None: such messages take the general path."""
        plan = self._plans.get(keys, _NO_PLAN_YET)
        if plan is not _NO_PLAN_YET:
            return plan
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        places: dict[str, int] = {}
        extras: list[int] = []
        for index, key in enumerate(keys):
            if key not in self.field_of_key:
                extras.append(index)
                continue
            field = self.field_of_key[key]
            if field is None or field in places:  # a field for the general path, or two aliases of one field
                self._plans[keys] = None
                return None
            places[field] = index
        absent_string, absent = len(keys), len(keys) + 1
        plan = self._plans[keys] = _Plan(
            _picker([places.get(field, absent_string) for field in self.strings]),
            _picker([places.get(field, absent) for field in self.others]),
            tuple(keys[index] for index in extras),
            _picker(extras),
        )
        return plan


_NO_PLAN_YET = _Plan(tuple, tuple, (), tuple)
_LOG_LAYOUT = _Layout(LogEvent, STRING_FIELDS, ("timestamp",))
# a line to explain: the plain line's fields and its exception (the one a failure line adds)
_EXPLAINED_LAYOUT = _Layout(LogEvent, STRING_FIELDS, ("timestamp", "exception"))
FIELD_OF_KEY = _LOG_LAYOUT.field_of_key
_METRIC_LAYOUT = _Layout(UsageMetric, METRIC_STRINGS, METRIC_OTHERS)


def plain_log_row(
    document: dict[str, Any], provenance: Provenance, classifier: Classifier, latest: datetime
) -> tuple[Any, ...] | None:
    """The row :func:`correlator.processing.rows.log_row` would build for this parsed line, or None to take
    the general path.

    ``latest``: the latest acceptable event time, taken once for many lines; never later
    than the general path's own (it takes the clock per line), so a line accepted here
    is accepted there. Such a line has no chain and no label: nothing in it is a failure.
    """
    picked = _picked(_LOG_LAYOUT, document)
    if picked is None:
        return None
    strings, (timestamp,), attributes = picked
    service, level, logger, message, trace_id, span_id, error_id, model, parent_span_id, step, tool, status = strings
    level = level.lower()
    if level in ERROR_LEVELS or chain_from_message(message, classifier.embedded_cause):
        return None
    ts = _event_time(timestamp, provenance, latest)
    if ts is None:
        return None
    # in _ROW_COLUMNS' order (tests/test_lean_path.py stores both paths' rows and compares the tables)
    return (
        ts, service, level, logger, message, trace_id, span_id, error_id, model, (), (), (),
        "", "", "", "", "", _NO_EVIDENCE, "", "", attributes,
        parent_span_id, step.strip().lower(), tool, "", status.strip().lower(), None,
        provenance.topic, provenance.partition, provenance.offset,
    )  # fmt: skip


def lean_log_row(
    document: dict[str, Any], provenance: Provenance, classifier: Classifier, latest: datetime
) -> tuple[Any, ...] | None:
    """A log line's row without validation: a plain line's (:func:`plain_log_row`), else a line to explain
    (:func:`explained_log_row`); None to take the general path."""
    row = plain_log_row(document, provenance, classifier, latest)
    return row if row is not None else explained_log_row(document, provenance, classifier, latest)


def explained_log_row(
    document: dict[str, Any], provenance: Provenance, classifier: Classifier, latest: datetime
) -> tuple[Any, ...] | None:
    """The row :func:`correlator.processing.rows.log_row` builds for this parsed line (a failure line: an
    error level, its exception), from its fields picked without validation; None to take the general path.

    Taken: the lean path's string fields and timestamp (``latest`` as for :func:`plain_log_row`), an
    exception that is absent, null, text or structlog's list, and extras of any JSON value (validation
    keeps them as they are). The chain, the label and the row are :func:`~correlator.processing.rows.log_row`'s
    own, from the same fields; a row it cannot build (nested too deep) is the general path's to dead-letter.
    """
    planned = _planned(_EXPLAINED_LAYOUT, document)
    if planned is None:
        return None
    plan, values, strings = planned
    timestamp, exception = plan.others(values)
    if exception is _ABSENT:
        exception = None
    elif not (exception is None or type(exception) is str or type(exception) is list):
        return None
    # an absent time is the general path's to choose (the broker's, else now), and log_row chooses it
    ts = None if timestamp is _ABSENT else _event_time(timestamp, provenance, latest)
    if ts is None and timestamp is not _ABSENT:
        return None
    service, level, logger, message, trace_id, span_id, error_id, model, parent_span_id, step, tool, status = strings
    extras = dict(zip(plan.extra_keys, plan.extras(values), strict=True))
    event = LogFields(
        ts, service, level, logger, message, trace_id, span_id, error_id, model, exception,
        parent_span_id, step.strip().lower(), tool, status.strip().lower(), extras,
    )  # fmt: skip
    try:
        return log_row(event, provenance, classifier)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return None


def plain_metric_row(
    document: dict[str, Any], provenance: Provenance, classifier: Classifier, latest: datetime
) -> tuple[Any, ...] | None:
    """The row :func:`correlator.processing.rows.metric_row` would build for this parsed usage row, or None
    to take the general path (``latest`` as for :func:`plain_log_row`).

    Taken: a call that returned and passes its checks (it carries no key a content check
    reads but its finish reason), and a failed call without a detail text, whose label is
    its finish reason's and its short ``error`` label's alone.
    """
    picked = _picked(_METRIC_LAYOUT, document)
    if picked is None:
        return None
    strings, others, attributes = picked
    timestamp, success, duration, input_tokens, output_tokens, cost, ttft, error, finish_reason = others
    model, provider, service, error_id, error_detail, trace_id, span_id, request_id, prompt, user, session = strings
    if type(success) is not bool or (not success and error_detail) or not CHECKED_KEYS.isdisjoint(attributes):
        return None
    error, finish_reason = _text_or_null(error), _text_or_null(finish_reason)
    duration, cost, ttft = _measure(duration, 0.0), _measure(cost, 0.0), _measure(ttft, None)
    input_tokens, output_tokens = _token_count(input_tokens), _token_count(output_tokens)
    if error is None or finish_reason is None or None in (duration, cost, input_tokens, output_tokens):
        return None
    if ttft is _DECLINED:
        return None
    verdict = _verdict(classifier, success, finish_reason, error)
    ts = _event_time(timestamp, provenance, latest)
    if verdict is None or ts is None:
        return None
    label, checks = verdict
    if checks is not None:
        attributes["content_checks"] = checks
    # in _METRIC_COLUMNS' order (tests/test_lean_path.py stores both paths' rows and compares the tables)
    return (
        ts, model, provider, service, success, duration, error, error_id, error_detail, trace_id, span_id,
        request_id, input_tokens, output_tokens, cost, finish_reason, prompt, user, session,
        label.category, label.error_class, label.rule, label.evidence, classifier.version if label.rule else "",
        attributes, ttft, provenance.topic, provenance.partition, provenance.offset,
    )  # fmt: skip


_Picked = tuple[tuple[str, ...], tuple[Any, ...], dict[str, str]]


def _picked(layout: _Layout, document: dict[str, Any]) -> _Picked | None:
    """The message's string fields, its other fields (:data:`_ABSENT` where missing) and its extras as
    attributes; None when a string field holds anything else or an extra cannot be stored as one."""
    planned = _planned(layout, document)
    if planned is None:
        return None
    plan, values, strings = planned
    try:
        attributes = dict(zip(plan.extra_keys, map(attribute_value, plan.extras(values)), strict=True))
    except (TypeError, RecursionError):  # a value nested too deeply for JSON: the general path decides
        return None
    return strings, plan.others(values), attributes


def _planned(layout: _Layout, document: dict[str, Any]) -> tuple[_Plan, tuple[Any, ...], tuple[str, ...]] | None:
    """The plan for the message's keys, its values (with the plan's two appended) and its string fields;
    None for a message the plan declines or with a string field holding anything else."""
    plan = layout.plan(tuple(document))
    if plan is None:
        return None
    values = (*document.values(), "", _ABSENT)
    strings = plan.strings(values)
    try:
        "".join(strings)  # every field a string (a number or null needs the general path)
    except TypeError:
        return None
    return plan, values, strings


def _event_time(timestamp: Any, provenance: Provenance, latest: datetime) -> datetime | None:
    """The event's time as the general path takes it, or None when unsure (another shape, out of range)."""
    if timestamp is _ABSENT:
        return event_time(None, provenance)[0]
    parsed = _timestamp(timestamp)
    return parsed if parsed is not None and EARLIEST_EVENT <= parsed <= latest else None


def _picker(indices: list[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A function picking these places of a tuple, as a tuple (itemgetter alone gives one place bare)."""
    if len(indices) > 1:
        return itemgetter(*indices)
    if indices:
        [index] = indices
        return lambda values: (values[index],)
    return lambda values: ()


def _timestamp(text: Any) -> datetime | None:
    if type(text) is not str or _ISO_TIMESTAMP.fullmatch(text) is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_DECLINED = object()


def _text_or_null(value: Any) -> str | None:
    """A text field that takes null as "" (``error``, ``finish_reason``); None for anything pydantic would coerce."""
    if value is _ABSENT or value is None:
        return ""
    return value if type(value) is str else None


def _measure(value: Any, default: float | None) -> Any:
    """A non-negative measurement as the float pydantic makes of it, ``default`` when absent (and null for a
    nullable one); :data:`_DECLINED` for ``ttft_ms`` and None for the others when the general path must decide."""
    if value is _ABSENT or (value is None and default is None):
        return default
    kind = type(value)
    if (kind is float or (kind is int and value <= _EXACT_FLOAT)) and value >= 0:
        return float(value)
    return None if default is not None else _DECLINED


def _token_count(value: Any) -> int | None:
    if value is _ABSENT:
        return 0
    return value if type(value) is int and 0 <= value <= _TOKENS_MAX else None


_MAX_VERDICTS = 256
_VERDICTS: dict[tuple[Classifier, bool, str, str], tuple[Label, str | None] | None] = {}


def _verdict(classifier: Classifier, success: bool, finish_reason: str, error: str) -> tuple[Label, str | None] | None:
    """A usage row's label and its ``content_checks`` attribute, for a call with nothing else to read; None
    when a check fails (the general path gives it an error id of its own).

    Remembered per classifier, outcome, finish reason and ``error`` label: a stream carries a handful.
    """
    key = (classifier, success, finish_reason, "" if success else error)
    try:
        return _VERDICTS[key]
    except KeyError:
        pass
    verdict: tuple[Label, str | None] | None
    if success:
        checks = content_checks({}, finish_reason, classifier)
        stored = stored_checks(checks)
        verdict = None if first_failure(checks) else (NO_LABEL, None if stored is None else attribute_value(stored))
    else:
        verdict = (label_metric((), finish_reason, error, classifier), None)
    if len(_VERDICTS) >= _MAX_VERDICTS:
        _VERDICTS.clear()
    _VERDICTS[key] = verdict
    return verdict
