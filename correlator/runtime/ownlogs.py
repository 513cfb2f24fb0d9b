"""correlator's own logs: structlog, one JSON object per line on stderr.

Libraries (aiokafka, clickhouse-connect) log through the standard library;
their warnings go through the same JSON renderer, so a log shipper never meets a plain
text line in the stream.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO, cast

import structlog
from structlog.typing import Processor

LIBRARY_LEVEL = logging.WARNING
# tracebacks as data, without frame locals: a local may hold a password or a message's payload
_TRACEBACKS = structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False))


class _CurrentStderr:
    """``sys.stderr`` as it is when a line is written, not when logging was set up: loggers are
    cached on first use, and an embedding application or a test harness may swap the stream."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _TopicsReportedByTheDaemon(logging.Filter):
    """aiokafka logs an error for every missing topic at every metadata refresh; the daemon says it once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().endswith("not found in cluster metadata")


def configure_logging(level: str = "info") -> None:
    shared: list[Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *shared,
            _TRACEBACKS,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _TRACEBACKS,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    handler.addFilter(_TopicsReportedByTheDaemon())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(max(LIBRARY_LEVEL, logging.getLevelName(level.upper())))
