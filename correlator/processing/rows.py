"""Validated events → warehouse rows, with the root cause found and the label chosen.

This is the one place where an event's exception chain is extracted and classified,
for the daemon and for ``correlator classify`` alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from correlator.formats.events import LogEvent, UsageMetric
from correlator.processing.classify import Classifier, Evidence, Label
from correlator.processing.content import CheckOutcome, check_content, first_failure
from correlator.processing.rootcause import (
    Chain,
    ChainLink,
    chain_from_dict_tracebacks,
    chain_from_message,
    chain_from_traceback_text,
    extend_with_embedded_causes,
    source_line,
)
from correlator.records import Provenance

ERROR_LEVELS = frozenset({"error", "critical", "exception", "fatal", "alert", "emergency"})
NO_LABEL = Label("", "", "", Evidence.NONE)
_NO_CAUSE = ChainLink("", "")
# what the tables can hold and partition by day; a clock more than a day ahead is wrong, not early
EARLIEST_EVENT = datetime(1970, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Explanation:
    """What correlator concluded about one failure-bearing event."""

    chain: Chain
    label: Label

    @property
    def root_cause(self) -> ChainLink:
        return root_cause(self.chain)


NOTHING_TO_EXPLAIN = Explanation((), NO_LABEL)


def root_cause(chain: Chain) -> ChainLink:
    """The chain's first link (root first), or an empty link for an empty chain."""
    return chain[0] if chain else _NO_CAUSE


@dataclass(slots=True)
class LogFields:
    """A log line's fields as validation would give them, picked by the lean path
    (:func:`correlator.processing.lean.explained_log_row`) from a line that needs no validation:
    :func:`log_row` builds its row, chain and label as for a validated :class:`LogEvent`, in one place."""

    timestamp: datetime | None
    service: str
    level: str
    logger: str
    message: str
    trace_id: str
    span_id: str
    error_id: str
    model: str
    exception: str | list[Any] | None
    parent_span_id: str
    step: str
    tool_name: str
    tool_status: str
    extra: dict[str, Any]
    error_category: str = ""
    context: dict[str, Any] | str | None = None
    tool_args: str = ""
    duration_ms: float | None = None

    def extras(self) -> dict[str, Any]:
        return self.extra


def explain_log(event: LogEvent | LogFields, classifier: Classifier) -> Explanation:
    """Extract the chain from whichever field carries it and classify its root cause."""
    return Explanation(*_chain_and_label(event, classifier))


def _chain_and_label(event: LogEvent | LogFields, classifier: Classifier) -> tuple[Chain, Label]:
    """:func:`explain_log`'s conclusion as a pair: a row needs no :class:`Explanation` (a frozen dataclass,
    whose ``__init__`` is Python's even compiled: about 0.8 µs a failure line)."""
    is_error = event.level.lower() in ERROR_LEVELS
    chain = chain_of(event, is_error, classifier)
    finish_reason = str(event.extras().get("finish_reason") or "")
    return chain, label_log(chain, event.error_category, is_error, classifier, finish_reason)


def explain_metric(
    metric: UsageMetric, classifier: Classifier, checks: Sequence[CheckOutcome] | None = None
) -> Explanation:
    """A failed call's label: evidence in its detail text, else its own short label.

    A call that returned is labelled by its first failed content check (``checks``, when
    already run), so a truncation on HTTP 200 is a truncation like one that raised.
    """
    if metric.success:
        if checks is None:
            checks = content_checks(metric.extras(), metric.finish_reason, classifier)
        failed = first_failure(checks)
        return NOTHING_TO_EXPLAIN if failed is None else Explanation((), content_label(failed, metric, classifier))
    chain = chain_of_text(metric.error_detail, classifier) if metric.error_detail else ()
    return Explanation(chain, label_metric(chain, metric.finish_reason, metric.error, classifier))


def label_log(
    chain: Chain, error_category: str, is_error: bool, classifier: Classifier, finish_reason: str = ""
) -> Label:
    """A log line's label from its chain (and a bound finish_reason); an error record's category is the fallback."""
    if chain:
        label = classifier.classify_chain(chain, finish_reason)
    elif error_category or is_error:
        label = classifier.unknown()
    else:
        return NO_LABEL
    if label.error_class == "unknown" and error_category:
        by_category = classifier.classify_metric_label(error_category)
        if by_category.error_class != "unknown":
            return by_category
    return label


def label_metric(chain: Chain, finish_reason: str, error: str, classifier: Classifier) -> Label:
    """A failed call's label: its detail text and finish reason, else its short ``error`` label."""
    label = classifier.classify_chain(chain, finish_reason)
    return classifier.classify_metric_label(error) if label.error_class == "unknown" else label


def log_row(event: LogEvent | LogFields, provenance: Provenance, classifier: Classifier) -> tuple[Any, ...]:
    """A ``log_events`` row, in :data:`~correlator.records.LOG_TABLE`'s column order (``tests/test_row_contract.py``
    checks each column's value; the lean path's rows are compared with these in ``tests/test_lean_path.py``).
    Its arrays are tuples, as the lean path's are: nothing in a row for the cycle collector to track."""
    chain, label = _chain_and_label(event, classifier)
    cause = root_cause(chain)
    ts, rejected = event_time(event.timestamp, provenance)
    return (
        ts, event.service, event.level.lower(), event.logger,
        event.message, event.trace_id, event.span_id, event.error_id, event.model,
        tuple([link.type for link in chain]), tuple([link.message for link in chain]),
        tuple(["\n".join(link.frames) for link in chain]),
        cause.type, cause.message, label.category, label.error_class, label.rule, label.evidence,
        classifier.version if label.rule else "", stored_traceback(event.exception),
        attributes_of(event.extras(), context=event.context, error_category=event.error_category or None,
                      rejected_timestamp=rejected),
        event.parent_span_id, event.step, event.tool_name, event.tool_args, event.tool_status, event.duration_ms,
        provenance.topic, provenance.partition, provenance.offset,
    )  # fmt: skip


def metric_row(metric: UsageMetric, provenance: Provenance, classifier: Classifier) -> tuple[Any, ...]:
    """A ``usage_metrics`` row; a call that returned but failed a content check is stored as the failure it is
    (not successful, an ``error_id`` of its own when it had none, the checks in ``content_checks``)."""
    checks = content_checks(metric.extras(), metric.finish_reason, classifier) if metric.success else []
    label = explain_metric(metric, classifier, checks).label
    ts, rejected = event_time(metric.timestamp, provenance)
    content_failure = label.rule if metric.success and label.rule else None
    error_id = metric.error_id or (content_error_id(provenance) if content_failure else "")
    return (
        ts, metric.model, metric.provider, metric.service,
        metric.success and not content_failure, metric.duration_seconds, metric.error, error_id,
        metric.error_detail, metric.trace_id, metric.span_id, metric.request_id,
        metric.input_tokens, metric.output_tokens, metric.cost_usd, metric.finish_reason,
        metric.prompt_version, metric.user_id, metric.session_id,
        label.category, label.error_class, label.rule, label.evidence, classifier.version if label.rule else "",
        attributes_of(metric.extras(), rejected_timestamp=rejected, content_failure=content_failure,
                      content_checks=stored_checks(checks)),
        metric.ttft_ms, provenance.topic, provenance.partition, provenance.offset,
    )  # fmt: skip


def content_checks(extras: Mapping[str, Any], finish_reason: str, classifier: Classifier) -> list[CheckOutcome]:
    """The checks that apply to a call that returned, its finish reason read as the classifier reads it."""
    finish = classifier.classify_finish_reason(finish_reason) if finish_reason else None
    return check_content(extras, finish_reason, finish.error_class if finish else "")


def stored_checks(checks: Sequence[CheckOutcome]) -> list[list[Any]] | None:
    """The checks as the ``content_checks`` attribute holds them (as JSON), None when none applied."""
    return [list(check) for check in checks] or None


def content_label(failed: CheckOutcome, metric: UsageMetric, classifier: Classifier) -> Label:
    """The failed check's label: a finish reason's rule as the classifier names it, else ``content.<check>``."""
    if failed.check in ("truncation", "content_filter"):
        by_finish = classifier.classify_finish_reason(metric.finish_reason)
        if by_finish is not None:
            return by_finish
    return classifier.label(failed.check, f"content.{failed.check}", Evidence.CONTENT_CHECK)


def content_error_id(provenance: Provenance) -> str:
    """The same for the same message however often it is read: a content failure's id when the call had none."""
    return f"content:{provenance.topic}:{provenance.partition}:{provenance.offset}"


def event_time(timestamp: datetime | None, provenance: Provenance) -> tuple[datetime, str | None]:
    """The event's own time, else the broker's, else now; and the event's own time if it was rejected.

    A time before 1970 or more than a day ahead cannot be the event's: ClickHouse would
    wrap it silently (and its TTL then drop the row), so the broker's time is used and
    the original is kept as the ``rejected_timestamp`` attribute.
    """
    latest = datetime.now(UTC) + CLOCK_SKEW
    if timestamp is not None and EARLIEST_EVENT <= timestamp <= latest:
        return timestamp, None
    rejected = timestamp.isoformat() if timestamp is not None else None
    if provenance.timestamp_ms is not None:
        received = datetime.fromtimestamp(provenance.timestamp_ms / 1000, UTC)
        if EARLIEST_EVENT <= received <= latest:
            return received, rejected
    return datetime.now(UTC), rejected


def attributes_of(extras: Mapping[str, Any], **known: Any) -> dict[str, str]:
    """Unknown keys (and the ``known`` ones that are set), as strings: JSON unless a string."""
    values = {**extras, **{key: value for key, value in known.items() if value is not None}}
    return {key: attribute_value(value) for key, value in values.items()}


def attribute_value(value: Any) -> str:
    """A value as the attributes map stores it: a string as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    # JSON's form of an int (orjson's range, which is any int decoded from JSON) is its digits
    return str(value) if type(value) is int else _json(value)


def chain_of(event: LogEvent | LogFields, is_error: bool, classifier: Classifier) -> Chain:
    """The event's exception chain, root first, from whichever field carries it."""
    exception = event.exception
    if isinstance(exception, list):
        chain = chain_from_dict_tracebacks(exception)
    elif isinstance(exception, str) and exception.strip():
        chain = chain_of_text(exception, classifier)
    else:
        chain = ()
    chain = extend_with_embedded_causes(chain, classifier.embedded_cause)
    if not chain:
        chain = chain_from_message(event.message, classifier.embedded_cause)
    if not chain and is_error and event.message:
        chain = (ChainLink("", event.message),)
    return chain


def stored_traceback(exception: str | list[Any] | None) -> str:
    """The traceback as stored: structlog's dicts as JSON, text as it came; both without frame locals."""
    if isinstance(exception, list):
        return _json([_without_locals(stack) for stack in exception])
    return _text_without_locals(exception) if exception else ""


_FRAME_HEADER = re.compile(r'^\s*File "[^"]*", line \d+')
_LOCAL_LINE = re.compile(r"^ {4}[A-Za-z_]\w* = ")


def _text_without_locals(text: str) -> str:
    """Traceback text without ``capture_locals``' ``name = value`` lines.

    A frame's first line is its source line, kept when it reads as code (``args = json.loads(raw)``,
    by :func:`~correlator.processing.rootcause.source_line`): rules read it again on ``reclassify``.
    """
    if " = " not in text:
        return text
    kept, in_frame, first = [], False, False
    for line in text.splitlines(keepends=True):
        if _FRAME_HEADER.match(line):
            in_frame, first = True, True
            kept.append(line)
            continue
        if not line.startswith("    "):
            in_frame = False
        elif in_frame and _LOCAL_LINE.match(line) and not (first and source_line(line)):
            first = False
            continue
        first = False
        kept.append(line)
    return "".join(kept)


def chain_of_text(text: str, classifier: Classifier) -> Chain:
    chain = chain_from_traceback_text(text) or (ChainLink("", text.strip()),)
    return extend_with_embedded_causes(chain, classifier.embedded_cause)


def _without_locals(stack: Any) -> Any:
    """Frame locals carry prompts and secrets: they are never stored."""
    if not isinstance(stack, dict):
        return stack
    frames = stack.get("frames")
    if isinstance(frames, list):
        stack = {**stack, "frames": [_drop_key(frame, "locals") for frame in frames]}
    members = stack.get("exceptions")
    if isinstance(members, list):
        stack = {
            **stack,
            "exceptions": [[_without_locals(s) for s in m] if isinstance(m, list) else m for m in members],
        }
    return stack


def _drop_key(value: Any, key: str) -> Any:
    if isinstance(value, dict) and key in value:
        return {k: v for k, v in value.items() if k != key}
    return value


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()
