"""One call to make an application's structlog logs and usage rows flow to Kafka."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

import orjson
import structlog

from correlator.emit.tracing import opentelemetry_context
from correlator.emit.transport import KafkaTransport


class _KafkaLogger:
    """structlog's final logger: hands each rendered line to the transport (and a stream, if asked)."""

    def __init__(self, transport: KafkaTransport, topic: str, echo: TextIO | None) -> None:
        self._transport, self._topic, self._echo = transport, topic, echo

    def msg(self, message: bytes) -> None:
        self._transport.send(self._topic, message)
        if self._echo is not None:
            self._echo.write(message.decode("utf-8", "replace") + "\n")

    log = debug = info = warn = warning = err = error = critical = fatal = exception = failure = msg


@dataclass
class Emitter:
    """The configured transport and topics; ``close`` delivers what is still buffered."""

    transport: KafkaTransport
    logs_topic: str
    metrics_topic: str
    service: str
    scores_topic: str = "llm-scores"

    def send_usage(self, row: dict[str, Any]) -> bool:
        return self.transport.send(self.metrics_topic, orjson.dumps(row, default=str))

    def send_score(self, score: dict[str, Any]) -> bool:
        """Keyed by its trace, as ``review label`` keys verdicts: a trace's scores share a partition,
        so a re-sent score's offset orders it after the first even within one millisecond."""
        return self.transport.send(self.scores_topic, orjson.dumps(score, default=str), key=score["trace_id"].encode())

    def close(self, timeout: float = 10.0) -> None:
        self.transport.close(timeout)


_emitter: Emitter | None = None


def configure(
    bootstrap: str,
    service: str,
    logs_topic: str = "app-logs",
    metrics_topic: str = "usage-metrics",
    buffer_size: int = 10_000,
    echo: TextIO | None = None,
    show_locals: bool = False,
    scores_topic: str = "llm-scores",
) -> Emitter:
    """Set up structlog (ISO timestamps, level, dict tracebacks, trace context, orjson) → Kafka.

    Frame locals stay out of tracebacks unless ``show_locals``: they carry prompts and keys.
    """
    global _emitter
    if _emitter is not None:
        _emitter.close()
    transport = KafkaTransport(bootstrap, buffer_size=buffer_size)
    _emitter = Emitter(transport, logs_topic, metrics_topic, service, scores_topic)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            opentelemetry_context,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=show_locals)
            ),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        logger_factory=lambda *_: _KafkaLogger(transport, logs_topic, echo),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    return _emitter


def current_emitter() -> Emitter:
    if _emitter is None:
        raise RuntimeError("call correlator.emit.configure(...) first")
    return _emitter
