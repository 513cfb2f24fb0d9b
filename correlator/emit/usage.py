"""Usage-metrics rows: one per LLM call attempt, on the metrics topic, ready to join."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from correlator.emit.setup import Emitter, current_emitter
from correlator.emit.tracing import current_trace
from correlator.redaction import redact


def record_usage_metric(
    *,
    success: bool,
    model: str,
    duration_seconds: float,
    error: str | None = None,
    error_id: str | None = None,
    error_detail: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cost_usd: float = 0.0,
    finish_reason: str | None = None,
    provider: str | None = None,
    prompt_version: str | None = None,
    request_id: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    ttft_ms: float | None = None,
    emitter: Emitter | None = None,
    **extra: Any,
) -> bool:
    """Send one usage row; returns False when the transport's buffer was full (counted there)."""
    emitter = emitter or current_emitter()
    trace = current_trace()
    row: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(),
        "success": success,
        "model": model,
        "duration_seconds": round(duration_seconds, 6),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": cost_usd,
        "service": emitter.service,
        **extra,
    }
    optional = {
        "error": error, "error_id": error_id, "error_detail": redact(error_detail) if error_detail else None,
        "finish_reason": finish_reason, "provider": provider, "prompt_version": prompt_version,
        "request_id": request_id, "user_id": user_id, "session_id": session_id, "ttft_ms": ttft_ms,
        "trace_id": trace.trace_id if trace else None, "span_id": trace.span_id if trace else None,
    }  # fmt: skip
    row.update({key: value for key, value in optional.items() if value is not None})
    return emitter.send_usage(row)
