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
_STRING_FIELDS = ("service", "level", "logger", "message", "trace_id", "span_id", "error_id", "model",
                  "parent_span_id", "step", "tool_name", "tool_status")  # fmt: skip
# LogEvent's fields by input key (its aliases); a key of None: only the general path reads that field
_FIELD_OF_KEY: dict[str, str | None] = {
    key: field if field in _STRING_FIELDS or field == "timestamp" else None
    for field, keys in input_keys(LogEvent).items()
    for key in keys
}
# the one timestamp shape taken here: what both pydantic and datetime.fromisoformat read alike
_ISO_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_MAX_PLANS = 1024

# What a plain line's row holds where it has nothing to explain (no chain, no label): a fresh empty
# array each, "" each, the evidence of no label and no duration.
_EMPTY_ARRAYS = ("exception_types", "exception_values", "exception_frames")
_EMPTY_STRINGS = ("root_cause_type", "root_cause_message", "category", "error_class", "rule", "rules_version",
                  "traceback", "tool_args")  # fmt: skip


# the row plain_log_row builds, column by column: LOG_TABLE's contract, checked here (an inline tuple
# costs 0.2-0.5 us a line less than picking the columns with itemgetter, measured interleaved)
_ROW_COLUMNS = ("ts", "service", "level", "logger", "message", "trace_id", "span_id", "error_id", "model",
                *_EMPTY_ARRAYS, *_EMPTY_STRINGS[:5], "evidence", *_EMPTY_STRINGS[5:7], "attributes",
                "parent_span_id", "step", "tool_name", "tool_args", "tool_status", "duration_ms",
                "topic", "partition", "offset")  # fmt: skip
if LOG_TABLE.columns != _ROW_COLUMNS:
    raise TypeError(f"the lean path builds {_ROW_COLUMNS}, not LOG_TABLE's {LOG_TABLE.columns}")
_NO_EVIDENCE = NO_LABEL.evidence

# an extra's JSON types whose raw spelling the engine keeps is the one attribute_value stores: text,
# an integer (its digits, -0 aside: ENGINE_UNREADABLE), true, false, null
_ENGINE_EXTRA_TYPES = frozenset({str, int, bool, type(None)})
# what else the engine reads otherwise than orjson and this path, for one Hyperscan pass over many
# lines (pattern, case sensitive): a key with space before its colon (it would go uncounted), -0
ENGINE_UNREADABLE = [(r'"\s+:', True), (r":\s*-0", True)]


def engine_may_read(raw: bytes) -> bool:
    """Whether the engine can read this line's bytes as orjson does, but for :data:`ENGINE_UNREADABLE`:
    ASCII (Unicode case), no escape, no nested object or array."""
    return raw.isascii() and b"\\" not in raw and b"[" not in raw and raw.count(b"{") == 1


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
    plain = _plain_line(document, provenance, classifier, latest)
    if plain is None:
        return None
    plan, values, strings, ts = plain
    service, level, logger, message, trace_id, span_id, error_id, model, parent_span_id, step, tool, status = strings
    try:
        attributes = dict(zip(plan.extra_keys, map(attribute_value, plan.extras(values)), strict=True))
    except (TypeError, RecursionError):  # a value nested too deeply for JSON: the general path decides
        return None
    # in _ROW_COLUMNS' order (tests/test_lean_path.py stores both paths' rows and compares the tables)
    return (
        ts, service, level.lower(), logger, message, trace_id, span_id, error_id, model, [], [], [],
        "", "", "", "", "", _NO_EVIDENCE, "", "", attributes,
        parent_span_id, step.strip().lower(), tool, "", status.strip().lower(), None,
        provenance.topic, provenance.partition, provenance.offset,
    )  # fmt: skip


def engine_line(
    document: dict[str, Any], raw: bytes, provenance: Provenance, classifier: Classifier, latest: datetime
) -> tuple[datetime, str] | None:
    """A plain line whose row the engine can build from ``raw`` (:func:`engine_columns`): its event time and
    the text redaction would look at (its message and attribute values); else None.

    The caller has checked the bytes with :func:`engine_may_read` and against
    :data:`ENGINE_UNREADABLE` first (ASCII, no escapes, no nesting, one spelling of each
    number). Beyond what :func:`plain_log_row` asks, the line must carry its own timestamp,
    hold no key twice (orjson keeps the last, the engine every one) and no fractional
    number among its extras (orjson rewrites ``1.50`` as ``1.5``).
    """
    plain = _plain_line(document, provenance, classifier, latest)
    if plain is None:
        return None
    plan, values, strings, ts = plain
    if plan.timestamp is None or raw.count(b'":') != len(document):
        return None
    extras = plan.extras(values)
    for value in extras:
        if type(value) not in _ENGINE_EXTRA_TYPES:
            return None
    return ts, "\n".join((strings[3], *map(attribute_value, extras)))


def _plain_line(
    document: dict[str, Any], provenance: Provenance, classifier: Classifier, latest: datetime
) -> tuple[_Plan, tuple[Any, ...], tuple[str, ...], datetime] | None:
    """A plain line's plan, values, string fields and event time; None for a line the general path must take."""
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
    if strings[1].lower() in ERROR_LEVELS or chain_from_message(strings[3], classifier.embedded_cause):
        return None
    if plan.timestamp is None:
        ts, _ = event_time(None, provenance)
    else:
        parsed = _timestamp(values[plan.timestamp])
        if parsed is None or not EARLIEST_EVENT <= parsed <= latest:
            return None
        ts = parsed
    return plan, values, strings, ts


_NO_PLAN_YET = _Plan(tuple, None, (), tuple)


def _plan(keys: tuple[str, ...]) -> _Plan | None:
    """The plan for lines with these keys, remembered; None: such lines take the general path."""
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    places: dict[str, int] = {}
    extras: list[int] = []
    plan: _Plan | None = None
    for index, key in enumerate(keys):
        if key not in _FIELD_OF_KEY:
            extras.append(index)
            continue
        field = _FIELD_OF_KEY[key]
        if field is None or field in places:  # a field for the general path, or two aliases of one field
            break
        places[field] = index
    else:
        plan = _Plan(
            _picker([places.get(field, len(keys)) for field in _STRING_FIELDS]),
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


def engine_columns() -> dict[str, str]:
    """LOG_TABLE's columns for a plain line, as the engine builds them from the line's text ``m``.

    The expressions read ``kv`` (the line's keys and raw values, JSONExtractKeysAndValuesRaw)
    and ``extra`` (its pairs whose key is no field's), and ``t``, ``p``, ``o``: its topic,
    partition and offset. They follow the same contract as :func:`plain_log_row`: the
    fields' aliases, the lowered fields, the extras as attributes, the empty columns.
    """
    aliases: dict[str, list[str]] = {}
    for key, field in _FIELD_OF_KEY.items():
        if field is not None:
            aliases.setdefault(field, []).append(key)
    text = {field: _unquoted(f"arrayFirst(x -> x.1 IN ({_sql_strings(keys)}), kv).2")
            for field, keys in aliases.items()}  # fmt: skip
    built = {
        "ts": f"parseDateTime64BestEffortOrZero({text['timestamp']}, 6, 'UTC')",
        **{field: text[field] for field in _STRING_FIELDS},
        "level": f"lower({text['level']})",
        "step": f"lower(trimBoth({text['step']}))",
        "tool_status": f"lower(trimBoth({text['tool_status']}))",
        "attributes": f"mapFromArrays(arrayMap(x -> x.1, extra), arrayMap(x -> {_unquoted('x.2', 'x.2')}, extra))",
        **dict.fromkeys(_EMPTY_ARRAYS, "[]"),
        **dict.fromkeys(_EMPTY_STRINGS, "''"),
        "evidence": _sql_strings([str(_NO_EVIDENCE.value)]),
        "duration_ms": "NULL",
        "topic": "t",
        "partition": "p",
        "offset": "o",
    }
    return {column: built[column] for column in LOG_TABLE.columns}


def engine_extra_filter() -> str:
    """The condition on a pair of ``kv`` (``x``) that makes it an extra: a key no field is read from."""
    return f"x.1 NOT IN ({_sql_strings(sorted(_FIELD_OF_KEY))})"


def _unquoted(raw: str, otherwise: str = "''") -> str:
    """A raw JSON value's text: a string without its quotes (it holds no escapes), anything else as spelled."""
    return f"if(startsWith({raw}, '\"'), substring({raw}, 2, length({raw}) - 2), {otherwise})"


def _sql_strings(values: list[str]) -> str:
    return ", ".join("'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'" for value in values)
