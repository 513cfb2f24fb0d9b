"""OTLP spans and log records → ``spans`` and ``log_events`` rows, failures explained from their root cause.

GenAI semantic-convention attributes name a span's call; OpenLLMetry's, OpenInference's and
Langfuse's names for the same things are read where the convention's are missing. A span
with an error status, an ``error.type`` or an exception event, and a log record carrying
an exception, are explained like any traceback (:mod:`correlator.processing.rows`). Without
an ``error_id`` attribute, a failure is keyed by its trace and span ids, so a failing span
and the exception record logged inside it are one entry of ``errors``. A message's
``gen_ai.evaluation.result`` events become scores beside its rows
(:mod:`correlator.processing.evaluations`); a tool span's outcome and an LLM span's time to
first token fill ``tool_status`` and ``ttft_ms``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

from correlator.formats.otlp import LogRecord, SpanRecord, decode_logs, decode_spans
from correlator.processing.classify import Classifier
from correlator.processing.evaluations import EVALUATION_EVENT, evaluation_score
from correlator.processing.rootcause import ChainLink, extend_with_embedded_causes
from correlator.processing.rows import (
    NOTHING_TO_EXPLAIN,
    Explanation,
    attribute_value,
    chain_of_text,
    event_time,
    label_log,
)
from correlator.records import OTLP_LOG_TABLE, SPAN_TABLE, DeadLetter, Provenance, Table

# Each column's attribute names, the GenAI convention's first.
ALIASES: dict[str, tuple[str, ...]] = {
    "operation": ("gen_ai.operation.name", "llm.request.type", "langfuse.observation.type",
                  "openinference.span.kind", "traceloop.span.kind"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "request_model": ("gen_ai.request.model", "llm.request.model", "langfuse.observation.model.name",
                      "llm.model_name"),
    "response_model": ("gen_ai.response.model", "llm.response.model", "llm.model_name"),
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.usage.prompt_tokens",
                     "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                      "llm.usage.completion_tokens", "llm.token_count.completion"),
    "finish_reasons": ("gen_ai.response.finish_reasons", "llm.response.finish_reason", "llm.finish_reason"),
    "tool_name": ("gen_ai.tool.name", "tool.name"),
    "tool_args": ("gen_ai.tool.call.arguments", "tool.parameters"),
    "session_id": ("gen_ai.conversation.id", "session.id", "langfuse.session.id",
                   "traceloop.association.properties.session_id"),
    "user_id": ("user.id", "enduser.id", "langfuse.user.id", "traceloop.association.properties.user_id"),
    "tool_result": ("gen_ai.tool.call.result", "output.value", "traceloop.entity.output"),
}  # fmt: skip
# Time to first token, in seconds: the GenAI conventions' span attribute (and their metric's name, which some
# instrumentations also set on the span); Langfuse's is the moment the completion started instead
TTFT_SECONDS = ("gen_ai.response.time_to_first_chunk", "gen_ai.server.time_to_first_token")
LANGFUSE_COMPLETION_START = "langfuse.observation.completion_start_time"
# OpenLLMetry records TTFT as a metric only; on a streamed call's span each chunk is an event at its arrival
STREAM_CHUNK_EVENTS = frozenset({"gen_ai.content.completion.chunk", "llm.content.completion.chunk"})
# a tool's result that returned nothing
EMPTY_RESULTS = frozenset({"", "null", "[]", "{}", '""', "none"})
# The contract's step kinds for each convention's operation or span kind (lower-cased)
STEPS = {
    "chat": "llm", "generate_content": "llm", "text_completion": "llm", "completion": "llm", "embeddings": "llm",
    "llm": "llm", "embedding": "llm", "generation": "llm",
    "execute_tool": "tool", "tool": "tool",
    "invoke_agent": "agent", "create_agent": "agent", "agent": "agent", "chain": "agent", "workflow": "agent",
    "retriever": "retrieval", "retrieval": "retrieval", "reranker": "retrieval",
    "prompt": "prompt", "parser": "parser", "guardrail": "parser",
}  # fmt: skip
LANGFUSE_USAGE = "langfuse.observation.usage_details"
# A call's cost in US dollars, where the instrumentation priced it (correlator prices no tokens itself):
# a number, or Langfuse's cost details (a JSON object of costs by usage type, with or without its total)
COST_USD = ("gen_ai.usage.cost", "gen_ai.usage.cost_usd", "llm.cost.total", "llm.usage.cost")
# OpenInference's parts of a cost, summed when it gives no total
COST_PARTS = ("llm.cost.prompt", "llm.cost.completion")
LANGFUSE_COST = "langfuse.observation.cost_details"
# most spans name no cost: one set test decides that (decoding and mapping is measured per span)
_COST_NAMES = frozenset({*COST_USD, *COST_PARTS, LANGFUSE_COST})
# OpenInference: the request's parameters as JSON; the model asked for is there even when no response named one
INVOCATION_PARAMETERS = "llm.invocation_parameters"
EXCEPTION_EVENTS = frozenset({"exception", "gen_ai.client.operation.exception"})
_EXCEPTION_KEYS = ("exception.type", "exception.message", "exception.stacktrace")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_UINT32 = 2**32 - 1
_INFINITY = float("inf")
# OTLP severity numbers: 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal
_SEVERITIES = ("trace", "debug", "info", "warning", "error", "fatal")
_ERROR_SEVERITY = 17


def _places(table: Table, *columns: str) -> dict[str, int]:
    return {column: table.position(column) for column in columns}


# where an evaluation finds what it judges, in its span's row or its log record's
_SPAN = _places(SPAN_TABLE, "trace_id", "span_id", "model", "service", "session_id")
_LOG = _places(OTLP_LOG_TABLE, "trace_id", "span_id", "model", "service")
# an OTLP log record names no step of its own (log_events' step columns; its span does)
_NO_STEP = ("", "", "", "", "", None)


class RecordRows(NamedTuple):
    """What one OTLP message becomes: its rows, the scores its evaluation events give, and the evaluations refused."""

    rows: list[tuple[Any, ...]]
    scores: list[tuple[Any, ...]]
    rejected: list[DeadLetter]


def span_rows(raw: bytes | None, provenance: Provenance, classifier: Classifier) -> RecordRows | DeadLetter:
    """One ``spans`` row per span of the message, in :data:`~correlator.records.SPAN_TABLE`'s column order."""
    spans = decode_spans(raw, provenance)
    if isinstance(spans, DeadLetter):
        return spans
    rows = [span_row(span, provenance, index, classifier) for index, span in enumerate(spans)]
    evaluations = [
        evaluation_score(event.attributes, _judged(row), event.time_ns, provenance, (index, position), classifier)
        for index, (span, row) in enumerate(zip(spans, rows, strict=True))
        for position, event in enumerate(span.events)
        if event.name == EVALUATION_EVENT
    ]
    return _with_scores(rows, evaluations)


def log_rows(raw: bytes | None, provenance: Provenance, classifier: Classifier) -> RecordRows | DeadLetter:
    """One ``log_events`` row per log record, in :data:`~correlator.records.OTLP_LOG_TABLE`'s column order."""
    records = decode_logs(raw, provenance)
    if isinstance(records, DeadLetter):
        return records
    rows = [log_row(record, provenance, index, classifier) for index, record in enumerate(records)]
    evaluations = [
        evaluation_score(record.attributes, _judged(row, _LOG), record.time_ns, provenance, (index, 0), classifier)
        for index, (record, row) in enumerate(zip(records, rows, strict=True))
        if record.event_name == EVALUATION_EVENT
    ]
    return _with_scores(rows, evaluations)


def _judged(row: tuple[Any, ...], columns: Mapping[str, int] | None = None) -> dict[str, str]:
    """The trace, span, model, service (and session) an evaluation judges: those of its span or record."""
    places = _SPAN if columns is None else columns
    return {key: row[place] for key, place in places.items() if row[place]}


def _with_scores(rows: list[tuple[Any, ...]], evaluations: list[tuple[Any, ...] | DeadLetter]) -> RecordRows:
    scores = [score for score in evaluations if not isinstance(score, DeadLetter)]
    return RecordRows(rows, scores, [score for score in evaluations if isinstance(score, DeadLetter)])


def span_row(span: SpanRecord, provenance: Provenance, index: int, classifier: Classifier) -> tuple[Any, ...]:
    attrs = span.attributes
    exception = next((event.attributes for event in span.events if event.name in EXCEPTION_EVENTS), attrs)
    error_type = _text(attrs, ("error.type",))
    finish_reasons = _strings(_first(attrs, ALIASES["finish_reasons"]))
    failed = span.status == "error" or bool(error_type) or any(key in exception for key in _EXCEPTION_KEYS)
    explanation = explain(exception, error_type, span.status_message, failed, finish_reasons, classifier)
    cause, label = explanation.root_cause, explanation.label
    ts, _ = event_time(_time(span.start_ns) if span.start_ns else None, provenance)
    input_tokens, output_tokens = _tokens(attrs)
    request_model = _text(attrs, ALIASES["request_model"]) or _invoked_model(attrs)
    response_model = _text(attrs, ALIASES["response_model"])
    operation = _text(attrs, ALIASES["operation"]).lower()
    step, tool_name = STEPS.get(operation, ""), _text(attrs, ALIASES["tool_name"])
    return (
        ts, span.trace_id, span.span_id, span.parent_span_id, span.name, span.kind,
        max(span.end_ns - span.start_ns, 0) / 1e6, span.status, span.status_message, span.service,
        operation, step, _text(attrs, ALIASES["provider"]), request_model,
        response_model, response_model or request_model, input_tokens, output_tokens, finish_reasons, error_type,
        tool_name, _text(attrs, ALIASES["tool_args"]), _text(attrs, ALIASES["session_id"]),
        _error_key(attrs, span.trace_id, span.span_id) if failed else "",
        *_chain_columns(explanation), cause.type, cause.message,
        label.category, label.error_class, label.rule, label.evidence, classifier.version if label.rule else "",
        str(exception.get("exception.stacktrace") or ""), _stored_attributes(attrs),
        _tool_status(attrs, failed) if tool_name or step == "tool" else "", _ttft_ms(span),
        _cost_usd(attrs), _text(attrs, ALIASES["user_id"]),
        provenance.topic, provenance.partition, provenance.offset, index,
    )  # fmt: skip


def log_row(record: LogRecord, provenance: Provenance, index: int, classifier: Classifier) -> tuple[Any, ...]:
    attrs = record.attributes
    message = record.body if isinstance(record.body, str) else "" if record.body is None else _json(record.body)
    failed = record.severity_number >= _ERROR_SEVERITY or any(key in attrs for key in _EXCEPTION_KEYS)
    explanation = explain(attrs, "", message, failed, [], classifier)
    cause, label = explanation.root_cause, explanation.label
    ts, _ = event_time(_time(record.time_ns) if record.time_ns else None, provenance)
    model = _text(attrs, ALIASES["response_model"]) or _text(attrs, ALIASES["request_model"])
    extras = {key: value for key, value in attrs.items() if key not in _EXCEPTION_KEYS}
    if record.event_name:
        extras["event.name"] = record.event_name
    return (
        ts, record.service, _level(record), record.logger, message or str(attrs.get("exception.message") or ""),
        record.trace_id, record.span_id, _error_key(attrs, record.trace_id, record.span_id) if failed else "",
        model, *_chain_columns(explanation), cause.type, cause.message,
        label.category, label.error_class, label.rule, label.evidence, classifier.version if label.rule else "",
        str(attrs.get("exception.stacktrace") or ""), _stored_attributes(extras), *_NO_STEP,
        provenance.topic, provenance.partition, provenance.offset, index,
    )  # fmt: skip


def explain(
    exception: Mapping[str, Any],
    error_type: str,
    status_message: str,
    failed: bool,
    finish_reasons: list[str],
    classifier: Classifier,
) -> Explanation:
    """A failure's chain from ``exception.*`` attributes (the stacktrace when given), classified by the rules."""
    if not failed:
        return NOTHING_TO_EXPLAIN
    stacktrace = str(exception.get("exception.stacktrace") or "")
    if stacktrace.strip():
        chain = chain_of_text(stacktrace, classifier)
    else:
        link_type = str(exception.get("exception.type") or error_type)
        link = ChainLink(link_type, str(exception.get("exception.message") or status_message))
        chain = extend_with_embedded_causes((link,), classifier.embedded_cause) if link.type or link.message else ()
    # ``_OTHER`` is the conventions' "no better name": no evidence for the fallback
    category = "" if error_type == "_OTHER" else error_type
    finish_reason = finish_reasons[0] if finish_reasons else ""
    return Explanation(chain, label_log(chain, category, True, classifier, finish_reason))


def _tool_status(attrs: Mapping[str, Any], failed: bool) -> str:
    """A tool span's outcome: error when it failed, empty when its result attribute says it returned nothing."""
    if failed:
        return "error"
    result = _first(attrs, ALIASES["tool_result"])
    present = any(name in attrs for name in ALIASES["tool_result"])
    return "empty" if present and (result is None or attribute_value(result).strip().lower() in EMPTY_RESULTS) else "ok"


def _ttft_ms(span: SpanRecord) -> float | None:
    """Time to first token in milliseconds, or None when the span gives none: an attribute, else Langfuse's
    completion start, else the first stream chunk's event."""
    attrs, start_ns = span.attributes, span.start_ns
    seconds = _first(attrs, TTFT_SECONDS)
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < _MAX_UINT32:
        return float(seconds) * 1000
    started = attrs.get(LANGFUSE_COMPLETION_START)
    if isinstance(started, str) and start_ns:
        try:
            moment = datetime.fromisoformat(started.strip('"'))
        except ValueError:
            return None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        elapsed = (moment - _time(start_ns)).total_seconds() * 1000
        return elapsed if elapsed >= 0 else None
    if not span.events:
        return None
    first_chunk = min((event.time_ns for event in span.events if event.name in STREAM_CHUNK_EVENTS), default=0)
    return (first_chunk - start_ns) / 1e6 if start_ns and first_chunk >= start_ns else None


def _cost_usd(attrs: Mapping[str, Any]) -> float | None:
    """The call's cost in dollars, or None when the span gives none (a cost of 0 would be a claim)."""
    if _COST_NAMES.isdisjoint(attrs):
        return None
    cost = _number(_first(attrs, COST_USD))
    if cost is not None:
        return cost
    parts = _sum_of([attrs.get(part) for part in COST_PARTS])
    if parts is not None:
        return parts
    details = _json_object(attrs.get(LANGFUSE_COST))
    return _number(details["total"]) if "total" in details else _sum_of(list(details.values()))


def _sum_of(values: list[Any]) -> float | None:
    """The sum of the values that are numbers, None when none is."""
    numbers = [number for number in map(_number, values) if number is not None]
    return sum(numbers) if numbers else None


def _number(value: Any) -> float | None:
    """A finite, non-negative number from an attribute (numbers sent as text included), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if 0 <= number < _INFINITY else None


def _chain_columns(explanation: Explanation) -> tuple[list[str], list[str], list[str]]:
    chain = explanation.chain
    return [link.type for link in chain], [link.message for link in chain], ["\n".join(link.frames) for link in chain]


def _error_key(attrs: Mapping[str, Any], trace_id: str, span_id: str) -> str:
    """The failure's ``error_id``: the application's own when it gave one, else its trace and span."""
    return str(attrs.get("error_id") or f"{trace_id}-{span_id}")


def _first(attrs: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "":
            return value
    return None


def _text(attrs: Mapping[str, Any], names: tuple[str, ...]) -> str:
    value = _first(attrs, names)
    return "" if value is None else attribute_value(value)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [attribute_value(item) for item in value] if isinstance(value, list) else [attribute_value(value)]


def _tokens(attrs: Mapping[str, Any]) -> tuple[int, int]:
    """Input and output tokens; Langfuse's usage details (a JSON object) when no attribute names them."""
    input_tokens, output_tokens = _first(attrs, ALIASES["input_tokens"]), _first(attrs, ALIASES["output_tokens"])
    if input_tokens is None or output_tokens is None:
        details = _json_object(attrs.get(LANGFUSE_USAGE))
        input_tokens = details.get("input") if input_tokens is None else input_tokens
        output_tokens = details.get("output") if output_tokens is None else output_tokens
    return _count(input_tokens), _count(output_tokens)


def _invoked_model(attrs: Mapping[str, Any]) -> str:
    """The model in OpenInference's invocation parameters: a refused call's span has no ``llm.model_name``."""
    model = _json_object(attrs.get(INVOCATION_PARAMETERS)).get("model")
    return model if isinstance(model, str) else ""


def _json_object(value: Any) -> dict[str, Any]:
    """An attribute holding a JSON object as text (instrumentations' usage, cost and parameters), else ``{}``."""
    if not isinstance(value, str):
        return {}
    try:
        found = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def _count(value: Any) -> int:
    try:
        return min(max(int(value), 0), _MAX_UINT32) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _time(unix_ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=unix_ns // 1000)


def _level(record: LogRecord) -> str:
    if record.severity_number > 0:
        return _SEVERITIES[min((record.severity_number - 1) // 4, len(_SEVERITIES) - 1)]
    return record.severity_text.lower() or "info"


def _stored_attributes(attrs: Mapping[str, Any]) -> dict[str, str]:
    return {key: attribute_value(value) for key, value in attrs.items()}


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()
