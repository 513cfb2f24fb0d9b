"""Trace scoping for agent runs: one trace_id per run, one span per step.

Both are context variables bound into structlog's contextvars, so every log line and
usage row inside carries them (log lines also the parent span and the step), and asyncio
tasks started inside inherit them (each task gets a copy of the context at creation, so
sibling steps nest correctly). correlator draws a trace's tree from those log lines.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import structlog


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str
    parent_span_id: str = ""
    step: str = ""


_current: ContextVar[TraceContext | None] = ContextVar("correlator_trace", default=None)


def current_trace() -> TraceContext | None:
    return _current.get()


@contextmanager
def trace_run(name: str = "run", trace_id: str | None = None, kind: str | None = None) -> Iterator[TraceContext]:
    """A whole agent run: a new trace (or the given ``trace_id``) and its root span (``kind``: as for :func:`span`)."""
    root = TraceContext(trace_id or secrets.token_hex(16), secrets.token_hex(8), "", kind or name)
    with _enter(root) as context:
        yield context


@contextmanager
def span(step: str, kind: str | None = None) -> Iterator[TraceContext]:
    """One step inside the current trace (a new trace if there is none).

    ``kind``: the contract's step kind (``retrieval``, ``prompt``, ``llm``, ``tool``, ``parser``,
    ``agent``), bound as the lines' ``step`` in place of the step's name.
    """
    parent = _current.get()
    step = kind or step
    if parent is None:
        with trace_run(step) as context:
            yield context
        return
    with _enter(TraceContext(parent.trace_id, secrets.token_hex(8), parent.span_id, step)) as context:
        yield context


@contextmanager
def _enter(context: TraceContext) -> Iterator[TraceContext]:
    token = _current.set(context)
    try:
        with structlog.contextvars.bound_contextvars(
            trace_id=context.trace_id, span_id=context.span_id, parent_span_id=context.parent_span_id, step=context.step
        ):
            yield context
    finally:
        _current.reset(token)


def opentelemetry_context(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: take trace_id/span_id from the current OpenTelemetry span, when there is one."""
    if "trace_id" in event_dict:
        return event_dict
    try:
        from opentelemetry import trace
    except ImportError:
        return event_dict
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = format(span_context.trace_id, "032x")
        event_dict["span_id"] = format(span_context.span_id, "016x")
    return event_dict
