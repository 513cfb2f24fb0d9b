"""OTLP messages as the OpenTelemetry Collector's Kafka exporter writes them → plain span and log records.

The exporter writes one ``ExportTraceServiceRequest`` (or ``ExportLogsServiceRequest``) per
message, encoded ``otlp_proto`` (its default) or ``otlp_json``; which one is recognised per
message, since a topic may be fed by exporters configured either way. OTLP/JSON spells
trace and span ids in hex (not protobuf JSON's base64), so they are rewritten before parsing.
A message that is not OTLP, nests too deeply or is too large is a :class:`DeadLetter`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from google.protobuf.json_format import ParseDict, ParseError
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from correlator.records import DeadLetter, Provenance

#: what one message may weigh: the exporter's default ``max_message_bytes`` is 1,000,000
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
#: how deeply attribute values (arrays, key-value lists) may nest
MAX_VALUE_DEPTH = 16
_SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
_STATUS_CODES = ("unset", "ok", "error")
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})
RequestT = TypeVar("RequestT", bound=Message)
RecordT = TypeVar("RecordT")


class TooDeep(ValueError):
    """An attribute value nests deeper than :data:`MAX_VALUE_DEPTH`."""


@dataclass(frozen=True, slots=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """One span, its resource's ``service.name`` and its events; ids in lower-case hex."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    status_message: str
    service: str
    attributes: dict[str, Any]
    events: tuple[SpanEvent, ...]


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One OTLP log record with its resource's ``service.name``; ids in lower-case hex."""

    time_ns: int
    severity_number: int
    severity_text: str
    body: Any
    trace_id: str
    span_id: str
    service: str
    logger: str
    event_name: str
    attributes: dict[str, Any]


def decode_spans(raw: bytes | None, provenance: Provenance) -> list[SpanRecord] | DeadLetter:
    """Every span of one message, in the message's order (the order is each row's index)."""
    return _records(raw, provenance, ExportTraceServiceRequest, _spans_of, "spans")


def decode_logs(raw: bytes | None, provenance: Provenance) -> list[LogRecord] | DeadLetter:
    """Every log record of one message, in the message's order."""
    return _records(raw, provenance, ExportLogsServiceRequest, _logs_of, "log records")


def _records(
    raw: bytes | None,
    provenance: Provenance,
    kind: type[RequestT],
    records_of: Callable[[RequestT], list[RecordT]],
    what: str,
) -> list[RecordT] | DeadLetter:
    request = _request(raw, provenance, kind)
    if isinstance(request, DeadLetter):
        return request
    try:
        records = records_of(request)
    except TooDeep as exc:
        return DeadLetter(provenance, "too_deep", str(exc), raw or b"")
    return records or DeadLetter(provenance, "no_records", f"the OTLP message holds no {what}", raw or b"")


def _spans_of(request: ExportTraceServiceRequest) -> list[SpanRecord]:
    return [
        _span(span, service)
        for resource_spans in request.resource_spans
        for service in (_service(resource_spans.resource.attributes),)
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


def _logs_of(request: ExportLogsServiceRequest) -> list[LogRecord]:
    return [
        _log(record, service, scope_logs.scope.name)
        for resource_logs in request.resource_logs
        for service in (_service(resource_logs.resource.attributes),)
        for scope_logs in resource_logs.scope_logs
        for record in scope_logs.log_records
    ]


def _request(raw: bytes | None, provenance: Provenance, kind: type[RequestT]) -> RequestT | DeadLetter:
    """The message parsed as ``kind``, from JSON when it starts with ``{``, else from protobuf."""
    if not raw:
        return DeadLetter(provenance, "empty", "the message has no value", raw or b"")
    if len(raw) > MAX_MESSAGE_BYTES:
        return DeadLetter(provenance, "too_large", f"{len(raw)} bytes, more than {MAX_MESSAGE_BYTES}", raw)
    if raw.lstrip()[:1] == b"{":
        return _from_json(raw, provenance, kind)
    try:
        return kind.FromString(raw)
    except DecodeError as exc:
        return DeadLetter(provenance, "not_otlp", f"neither OTLP JSON nor OTLP protobuf: {exc}", raw)


def _from_json(raw: bytes, provenance: Provenance, kind: type[RequestT]) -> RequestT | DeadLetter:
    try:
        document = _ids_as_base64(orjson.loads(raw), 0)
        return ParseDict(document, kind(), ignore_unknown_fields=True)
    except orjson.JSONDecodeError as exc:
        return DeadLetter(provenance, "not_json", str(exc), raw)
    except (TooDeep, RecursionError):
        return DeadLetter(provenance, "too_deep", "the OTLP JSON message nests too deeply", raw)
    except (ParseError, binascii.Error, ValueError, TypeError) as exc:
        return DeadLetter(provenance, "invalid_fields", f"not an OTLP JSON {kind.__name__}: {exc}", raw)


def _ids_as_base64(value: Any, depth: int) -> Any:
    """OTLP/JSON's hex ids as protobuf JSON's base64, so one parser reads both encodings."""
    if depth > 4 * MAX_VALUE_DEPTH + 16:  # resource → scope → span → event → attribute values
        raise TooDeep("the OTLP JSON message nests too deeply")
    if isinstance(value, dict):
        return {
            key: base64.b64encode(bytes.fromhex(item)).decode()
            if key in _ID_KEYS and isinstance(item, str)
            else _ids_as_base64(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_ids_as_base64(item, depth + 1) for item in value]
    return value


def _span(span: Any, service: str) -> SpanRecord:
    status = span.status
    return SpanRecord(
        span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(), span.name,
        _SPAN_KINDS[span.kind] if 0 <= span.kind < len(_SPAN_KINDS) else str(span.kind),
        span.start_time_unix_nano, span.end_time_unix_nano,
        _STATUS_CODES[status.code] if 0 <= status.code < len(_STATUS_CODES) else str(status.code),
        status.message, service, attributes(span.attributes),
        tuple(SpanEvent(event.name, event.time_unix_nano, attributes(event.attributes)) for event in span.events),
    )  # fmt: skip


def _log(record: Any, service: str, logger: str) -> LogRecord:
    body = value_of(record.body, 0) if record.HasField("body") else None
    return LogRecord(
        record.time_unix_nano or record.observed_time_unix_nano, record.severity_number, record.severity_text,
        body, record.trace_id.hex(), record.span_id.hex(), service, logger, record.event_name,
        attributes(record.attributes),
    )  # fmt: skip


def _service(resource_attributes: Iterable[KeyValue]) -> str:
    for attribute in resource_attributes:
        if attribute.key == "service.name":
            return str(value_of(attribute.value, 0) or "")
    return ""


def attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    """OTLP key-value pairs as a dict of Python values."""
    return {pair.key: value_of(pair.value, 0) for pair in pairs}


def value_of(value: AnyValue, depth: int) -> Any:
    """An OTLP ``AnyValue`` as a Python value: bytes as hex, arrays as lists, key-value lists as dicts."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind is None:
        return None
    if kind in ("int_value", "bool_value", "double_value"):
        return getattr(value, kind)
    if depth >= MAX_VALUE_DEPTH:
        raise TooDeep(f"an attribute value nests deeper than {MAX_VALUE_DEPTH} levels")
    if kind == "array_value":
        return [value_of(item, depth + 1) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {pair.key: value_of(pair.value, depth + 1) for pair in value.kvlist_value.values}
    return value.bytes_value.hex()
