"""A lean path from bytes to row for the common log line: info level, no exception, nothing to classify.

Most of a log topic is such lines. Validating them through the pydantic model and building
the row through :func:`correlator.processing.rows.log_row` costs tens of microseconds a line, almost
all of it per-field machinery with nothing to decide. This path reads the decoded object
directly and builds the very row the general path would, or answers None for anything it
is not sure about (an exception field, an error level, an ``error_category``, a message
embedding a cause, two aliases of one field, a value that is not a string, a timestamp in
another shape or out of range, input that is not a JSON object): those lines take the
general path, which also makes the dead letters. The line is parsed once, by the batcher
(:func:`correlator.formats.decode.parse`): a line declined here is validated from the same
object. The keys each field is read from are the event contract's own aliases
(:class:`~correlator.formats.events.LogEvent`). ``tests/test_lean_path.py`` stores a
varied corpus both ways and compares the tables.

Lines of one stream mostly share their keys in the same order, so where each field sits
is worked out once per key order (a :class:`_Plan`) and the values are picked in C.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from correlator.formats.events import LogEvent, input_keys
from correlator.processing.classify import Classifier
from correlator.processing.rootcause import chain_from_message
from correlator.processing.rows import EARLIEST_EVENT, ERROR_LEVELS, NO_LABEL, attribute_value, event_time
from correlator.records import LOG_TABLE, Provenance

LeanRow = Callable[[dict[str, Any], Provenance, Classifier, datetime], tuple[Any, ...] | None]

# the string fields taken here, in the order the row holds them; LogEvent's other fields are the general path's
STRING_FIELDS = ("service", "level", "logger", "message", "trace_id", "span_id", "error_id", "model",
                  "parent_span_id", "step", "tool_name", "tool_status")  # fmt: skip
# LogEvent's fields by input key (its aliases); a key of None: only the general path reads that field
FIELD_OF_KEY: dict[str, str | None] = {
    key: field if field in STRING_FIELDS or field == "timestamp" else None
    for field, keys in input_keys(LogEvent).items()
    for key in keys
}
# the one timestamp shape taken here: what both pydantic and datetime.fromisoformat read alike
_ISO_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_MAX_PLANS = 1024

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


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where, in the values of a line with these keys in this order, each field and extra sits.

    The values are given with one "" appended: the place of a field the line lacks.
    """

    strings: Callable[[tuple[Any, ...]], tuple[Any, ...]]
    timestamp: int | None
    extra_keys: tuple[str, ...]
    extras: Callable[[tuple[Any, ...]], tuple[Any, ...]]


_PLANS: dict[tuple[str, ...], _Plan | None] = {}


def plain_log_row(
    document: dict[str, Any], provenance: Provenance, classifier: Classifier, latest: datetime
) -> tuple[Any, ...] | None:
    """The row :func:`correlator.processing.rows.log_row` would build for this parsed line, or None to take
    the general path.

    ``latest``: the latest acceptable event time, taken once for many lines; never later
    than the general path's own (it takes the clock per line), so a line accepted here
    is accepted there. Such a line has no chain and no label: nothing in it is a failure.
    """
    keys = tuple(document)
    plan = _PLANS.get(keys, _NO_PLAN_YET)
    if plan is _NO_PLAN_YET:
        plan = _plan(keys)
    if plan is None:
        return None
    values = (*document.values(), "")
    strings = plan.strings(values)
    try:
        "".join(strings)  # every field a string (a number or null needs the general path)
    except TypeError:
        return None
    service, level, logger, message, trace_id, span_id, error_id, model, parent_span_id, step, tool, status = strings
    level = level.lower()
    if level in ERROR_LEVELS or chain_from_message(message, classifier.embedded_cause):
        return None
    try:
        attributes = dict(zip(plan.extra_keys, map(attribute_value, plan.extras(values)), strict=True))
    except (TypeError, RecursionError):  # a value nested too deeply for JSON: the general path decides
        return None
    if plan.timestamp is None:
        ts, _ = event_time(None, provenance)
    else:
        parsed = _timestamp(values[plan.timestamp])
        if parsed is None or not EARLIEST_EVENT <= parsed <= latest:
            return None
        ts = parsed
    # in _ROW_COLUMNS' order (tests/test_lean_path.py stores both paths' rows and compares the tables)
    return (
        ts, service, level, logger, message, trace_id, span_id, error_id, model, (), (), (),
        "", "", "", "", "", _NO_EVIDENCE, "", "", attributes,
        parent_span_id, step.strip().lower(), tool, "", status.strip().lower(), None,
        provenance.topic, provenance.partition, provenance.offset,
    )  # fmt: skip


_NO_PLAN_YET = _Plan(tuple, None, (), tuple)


def _plan(keys: tuple[str, ...]) -> _Plan | None:
    """The plan for lines with these keys, remembered; None: such lines take the general path."""
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    places: dict[str, int] = {}
    extras: list[int] = []
    plan: _Plan | None = None
    for index, key in enumerate(keys):
        if key not in FIELD_OF_KEY:
            extras.append(index)
            continue
        field = FIELD_OF_KEY[key]
        if field is None or field in places:  # a field for the general path, or two aliases of one field
            break
        places[field] = index
    else:
        plan = _Plan(
            _picker([places.get(field, len(keys)) for field in STRING_FIELDS]),
            places.get("timestamp"),
            tuple(keys[index] for index in extras),
            _picker(extras),
        )
    _PLANS[keys] = plan
    return plan


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
