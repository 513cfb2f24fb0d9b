"""A realistic mixed workload: what an LLM application writes to the two topics.

Failures are real exception chains (``raise ValueError("LLM chat interaction failed.")
from cause``) rendered by structlog's own ``dict_tracebacks`` and ``JSONRenderer``, and
their usage-metrics rows say only ``error: "unknown"``. Used by ``correlator demo``, the
tests and the benchmarks.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pydantic
import structlog

from correlator.emit.errors import LLMChatError, new_error_id
from correlator.sources.textlog import DEFAULT_FORMAT

WRAPPER_MESSAGE = "LLM chat interaction failed."
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "gemini-2.5-pro")
SERVICES = ("support-bot", "summarizer", "agent-runner")


def _sdk_error(name: str, module: str) -> type[Exception]:
    """A class named and placed like the SDK's (the SDKs are not runtime dependencies)."""
    return type(name, (Exception,), {"__module__": module})


RateLimitError = _sdk_error("RateLimitError", "openai")
AuthenticationError = _sdk_error("AuthenticationError", "anthropic")


class _Answer(pydantic.BaseModel):
    answer: str
    confidence: float


def _raise_rate_limit() -> None:
    raise RateLimitError(
        "Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o in organization "
        "org-demo on tokens per min (TPM): Limit 30000, Used 29950, Requested 1200.', "
        "'type': 'tokens', 'param': None, 'code': 'rate_limit_exceeded'}}"
    )


def _raise_timeout() -> None:
    raise TimeoutError("The read operation timed out")


def _raise_invalid_json() -> None:
    json.loads('{"answer": "The capital of France is')


def _raise_schema_mismatch() -> None:
    _Answer.model_validate({"answer": "Paris"})


def _raise_auth() -> None:
    raise AuthenticationError(
        "Error code: 401 - {'type': 'error', 'error': {'type': 'authentication_error', 'message': 'invalid x-api-key'}}"
    )


def _raise_masked_without_cause() -> None:
    raise ValueError(WRAPPER_MESSAGE)


# error_class expected after reclassification, and how to cause it
FAILURES: dict[str, tuple[str, Callable[[], None]]] = {
    "rate_limit": ("rate_limit", _raise_rate_limit),
    "timeout": ("timeout", _raise_timeout),
    "invalid_json": ("invalid_json", _raise_invalid_json),
    "schema_mismatch": ("schema_mismatch", _raise_schema_mismatch),
    "auth": ("auth", _raise_auth),
    "no_evidence": ("unknown", _raise_masked_without_cause),
}

_dict_tracebacks = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def masked_exception(cause: Callable[[], None], style: str = "seed", error_id: str = "") -> BaseException:
    """The exception an application's wrapper raises around the real cause.

    ``seed``: ``ValueError("LLM chat interaction failed.") from e`` (the cause survives only
    in the chain); ``llm_chat_error``: ``LLMChatError(e) from e``; ``from_none``:
    ``LLMChatError(e) from None`` (the cause survives only in the wrapper's text).
    """
    try:
        try:
            cause()
        except Exception as exc:
            if str(exc) == WRAPPER_MESSAGE:
                raise
            if style == "seed":
                raise ValueError(WRAPPER_MESSAGE) from exc
            if style == "llm_chat_error":
                raise LLMChatError(exc, error_id) from exc
            raise LLMChatError(exc, error_id) from None
    except ValueError as wrapped:
        return wrapped
    raise AssertionError("the cause did not raise")


WRAPPER_STYLES = ("seed", "llm_chat_error", "from_none")


def render_log(event: str, level: str, timestamp: datetime, exc: BaseException | None = None, **keys: object) -> bytes:
    """One log line exactly as structlog's dict_tracebacks + JSONRenderer write it."""
    event_dict: dict[str, Any] = {
        "event": event,
        "level": level,
        "timestamp": timestamp.isoformat(),
        **keys,
    }
    if exc is not None:
        event_dict["exc_info"] = exc
        return orjson.dumps(_dict_tracebacks(None, level, event_dict), default=str)
    return orjson.dumps(event_dict, default=str)


@dataclass
class Workload:
    logs: list[bytes] = field(default_factory=list)
    metrics: list[bytes] = field(default_factory=list)
    expected_class: dict[str, str] = field(default_factory=dict)
    calls: int = 0


def mixed_workload(
    calls: int, failure_share: float = 0.2, seed: int = 7, start: datetime | None = None, steps_per_call: int = 0
) -> Workload:
    """``calls`` LLM calls over one trace each, a ``failure_share`` of them masked failures.

    ``steps_per_call`` more info lines per call (retrieval, tool steps) make the log stream
    mostly info-level, as an application's is.
    """
    rng = random.Random(seed)
    begin = start or datetime.now(UTC) - timedelta(minutes=30)
    workload = Workload(calls=calls)
    for index in range(calls):
        at = begin + timedelta(seconds=index * 0.5)
        model, service = rng.choice(MODELS), rng.choice(SERVICES)
        trace_id = f"{rng.getrandbits(128):032x}"
        common: dict[str, Any] = {
            "trace_id": trace_id,
            "span_id": f"{rng.getrandbits(64):016x}",
            "service": service,
            "model": model,
        }
        workload.logs.append(render_log("llm call started", "info", at, logger="app.llm", **common))
        for step in range(steps_per_call):
            workload.logs.append(render_log("step finished", "info", at, logger="app.agent", step_index=step,
                                            documents=rng.randint(0, 12), **common))  # fmt: skip
        duration = round(rng.uniform(0.2, 4.0), 3)
        if rng.random() >= failure_share:
            workload.metrics.append(orjson.dumps({
                "timestamp": (at + timedelta(seconds=duration)).isoformat(), "success": True, "model": model,
                "duration_seconds": duration, "input_tokens": rng.randint(200, 4000),
                "output_tokens": rng.randint(20, 800), "cost_usd": round(rng.uniform(0.0005, 0.05), 6),
                "finish_reason": "stop", "trace_id": trace_id, "service": service, "provider": "demo",
                "ttft_ms": round(duration * 150, 1),  # streamed: the first token a seventh of the way in
            }))  # fmt: skip
            continue
        name, style = rng.choice(list(FAILURES)), rng.choice(WRAPPER_STYLES)
        error_id = new_error_id()
        exception = masked_exception(FAILURES[name][1], style, error_id)
        workload.expected_class[error_id] = FAILURES[name][0]
        failed_at = at + timedelta(seconds=duration)
        workload.logs.append(
            render_log("LLM chat interaction failed", "error", failed_at, exception, logger="app.llm",
                       error_id=error_id, **common)
        )  # fmt: skip
        workload.metrics.append(orjson.dumps({
            "timestamp": failed_at.isoformat(), "success": False, "model": model, "duration_seconds": duration,
            "error": "unknown", "error_id": error_id, "trace_id": trace_id, "service": service,
            "input_tokens": rng.randint(200, 4000), "output_tokens": 0, "cost_usd": 0.0, "provider": "demo",
        }))  # fmt: skip
    return workload


POISON_MESSAGES: dict[str, bytes] = {
    "not_json": b"this is not json {",
    "not_object": b"[1, 2, 3]",
    "not_utf8": b'{"event": "caf\xe9"}',
    "invalid_fields": b'{"success": "perhaps", "model": "gpt-4o"}',
}


def write_run_folder(
    folder: Path, calls: int, failure_share: float = 0.2, seed: int = 11, start: datetime | None = None
) -> Workload:
    """A run folder as an application leaves it: ``log.txt`` from stdlib logging, ``usage_metrics.jsonl``.

    The log is written by a real ``logging.FileHandler`` with the default text format, so
    failures appear as multi-line chained tracebacks; times are UTC.
    """
    rng = random.Random(seed)
    begin = start or datetime.now(UTC) - timedelta(days=3)
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(folder / "log.txt", mode="w", encoding="utf-8")
    formatter = logging.Formatter(DEFAULT_FORMAT)
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logger = logging.Logger("app.llm", logging.INFO)  # unregistered: nothing else sees its records
    logger.addHandler(handler)
    workload = Workload(calls=calls)
    clock = _SimulatedClock()
    logger.addFilter(clock)
    try:
        with (folder / "usage_metrics.jsonl").open("wb") as metrics:
            for index in range(calls):
                at = begin + timedelta(seconds=index * 2)
                model, trace_id = rng.choice(MODELS), f"{rng.getrandbits(128):032x}"
                clock.now = at
                logger.info("calling %s trace_id=%s", model, trace_id)
                row: dict[str, Any] = {"timestamp": (at + timedelta(seconds=1)).isoformat(), "model": model,
                                       "duration_seconds": 1.0, "trace_id": trace_id, "input_tokens": 500}  # fmt: skip
                if rng.random() < failure_share:
                    name, style = rng.choice(list(FAILURES)), rng.choice(WRAPPER_STYLES)
                    error_id = new_error_id()
                    workload.expected_class[error_id] = FAILURES[name][0]
                    clock.now = at + timedelta(seconds=1)
                    try:
                        raise masked_exception(FAILURES[name][1], style, error_id)
                    except ValueError:
                        logger.exception("LLM chat interaction failed error_id=%s trace_id=%s", error_id, trace_id)
                    row.update(success=False, error="unknown", error_id=error_id)
                else:
                    row.update(success=True, output_tokens=120, cost_usd=0.002, finish_reason="stop")
                metrics.write(orjson.dumps(row) + b"\n")
    finally:
        handler.close()
    return workload


class _SimulatedClock(logging.Filter):
    """Stamps records with the simulated time of the call they describe."""

    now: datetime = datetime(2026, 1, 1, tzinfo=UTC)

    def filter(self, record: logging.LogRecord) -> bool:
        record.created = self.now.timestamp()
        record.msecs = self.now.microsecond // 1000
        return True
