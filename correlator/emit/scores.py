"""Scores from the application (a check it ran, a judge it called, a user's thumbs-up), on the scores topic.

Each score judges the current trace (and span) unless told which, and takes the same path
as every other score: the daemon stores it, and ``trace_scores`` joins it to the trace.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from correlator.emit.setup import Emitter, current_emitter
from correlator.emit.tracing import current_trace
from correlator.redaction import redact


def score(
    name: str,
    value: float | bool | str,
    *,
    trace_id: str | None = None,
    span_id: str | None = None,
    score_id: str | None = None,
    data_type: str | None = None,
    label: str | None = None,
    comment: str | None = None,
    source: str = "code",
    judge_model: str | None = None,
    scorer_version: str | None = None,
    prompt_version: str | None = None,
    model: str | None = None,
    emitter: Emitter | None = None,
    **extra: Any,
) -> bool:
    """Send one score; returns False when the transport's buffer was full (counted there).

    Raises ValueError for a score the daemon would refuse (no name, no trace, NaN or
    infinity), so the mistake shows where it is made. ``score_id``: sending the same id
    again replaces the earlier value.
    """
    emitter = emitter or current_emitter()
    trace = current_trace()
    trace_id = trace_id or (trace.trace_id if trace else None)
    if not name:
        raise ValueError("a score needs a name")
    if not trace_id:
        raise ValueError("a score needs a trace: pass trace_id, or send it inside emit.trace_run(...)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a score's value cannot be NaN or infinite")
    document: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(),
        "name": name,
        "value": value,
        "trace_id": trace_id,
        "source": source,
        "service": emitter.service,
        **extra,
    }
    optional = {
        "span_id": span_id or (trace.span_id if trace and trace.trace_id == trace_id else None),
        "id": score_id, "data_type": data_type, "label": label, "comment": redact(comment) if comment else None,
        "judge_model": judge_model, "scorer_version": scorer_version, "prompt_version": prompt_version,
        "model": model,
    }  # fmt: skip
    document.update({key: item for key, item in optional.items() if item is not None})
    return emitter.send_score(document)
