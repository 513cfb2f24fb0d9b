"""What a Kafka record's headers say about its event: the W3C trace context (``traceparent``).

OpenTelemetry-instrumented producers (the Java agent, Go's otelsarama, confluent-kafka with
opentelemetry-instrumentation-confluent-kafka) put the trace context in a header rather than
in the body. The body's own trace id always wins; the header only fills a trace id the body
lacks, so a log line or metrics row sent that way still joins its trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# version-traceid-parentid-flags (W3C Trace Context, level 1); version ff is invalid, as is an all-zero id
_TRACEPARENT = re.compile(rb"\s*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(?:-.*)?\s*", re.DOTALL)
_NO_TRACE = "0" * 32
TRACE_ID_KEYS = ("trace_id", "traceId", "otelTraceID")  # the events' own spellings (formats.events)


def header_trace_id(headers: Iterable[tuple[str, bytes | None]]) -> str:
    """The trace id of a valid ``traceparent`` header, lower-case hex; "" when there is none."""
    for key, value in headers:
        if key.lower() == "traceparent" and value is not None:
            found = _TRACEPARENT.fullmatch(value)
            if found is None or found[1] == b"ff" or found[2].decode() == _NO_TRACE:
                return ""
            return found[2].decode()
    return ""


def fill_trace_id(document: dict[str, Any], trace_id: str) -> None:
    """Give ``document`` the header's trace id when none of its own trace id keys holds one."""
    if not any(document.get(key) for key in TRACE_ID_KEYS):
        document["trace_id"] = trace_id
