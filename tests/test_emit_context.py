"""Trace scoping and delivery guarantees of correlator.emit."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap

import orjson
import pytest
import structlog
from aiokafka import AIOKafkaConsumer

from correlator import emit
from correlator.devkit.broker import LocalBroker
from correlator.emit.tracing import opentelemetry_context
from correlator.sources.kafka import ensure_topics


def test_one_trace_per_run_one_span_per_step_nested_across_asyncio_tasks():
    async def step(name: str) -> tuple[emit.tracing.TraceContext, dict]:
        with emit.span(name) as context:
            await asyncio.sleep(0)
            with emit.span(f"{name}.tool") as inner:
                await asyncio.sleep(0)
                assert inner.parent_span_id == context.span_id
                bound = structlog.contextvars.get_contextvars()
            return context, bound

    async def run() -> None:
        with emit.trace_run("agent") as root:
            (a, bound_a), (b, bound_b) = await asyncio.gather(step("a"), step("b"))
        assert a.trace_id == b.trace_id == root.trace_id
        assert a.parent_span_id == b.parent_span_id == root.span_id
        assert a.span_id != b.span_id
        assert bound_a["trace_id"] == root.trace_id and bound_a["step"] == "a.tool"
        assert bound_b["step"] == "b.tool"
        assert emit.current_trace() is None

    asyncio.run(run())
    assert "trace_id" not in structlog.contextvars.get_contextvars()


def test_the_current_opentelemetry_span_supplies_the_trace_context():
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("llm-call") as otel_span:
        event = opentelemetry_context(None, "info", {"event": "x"})
    context = otel_span.get_span_context()
    assert event["trace_id"] == format(context.trace_id, "032x")
    assert event["span_id"] == format(context.span_id, "016x")
    assert opentelemetry_context(None, "info", {"event": "x"}) == {"event": "x"}  # no span, nothing added


def test_what_is_buffered_is_delivered_at_exit_without_an_explicit_close(kafka_bootstrap: str):
    topic = "emit-atexit"
    asyncio.run(ensure_topics(kafka_bootstrap, [topic]))
    app = textwrap.dedent(f"""
        import structlog
        from correlator import emit
        emit.configure({kafka_bootstrap!r}, service="batch-job", logs_topic={topic!r})
        log = structlog.get_logger()
        for index in range(50):
            log.info("row processed", index=index)
        # no close(): the interpreter exits and atexit flushes
    """)
    subprocess.run([sys.executable, "-c", app], check=True, timeout=60)

    async def read_all() -> list[dict]:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=10_000)
            return [orjson.loads(r.value) for records in batch.values() for r in records]
        finally:
            await consumer.stop()

    lines = asyncio.run(read_all())
    assert sorted(line["index"] for line in lines) == list(range(50))
    assert {line["service"] for line in lines} == {"batch-job"}
    assert all(line["level"] == "info" and line["timestamp"].endswith("Z") for line in lines)


def test_overflow_is_reported_on_close(caplog: pytest.LogCaptureFixture):
    broker = LocalBroker().start()
    bootstrap = broker.bootstrap
    broker.stop()
    emitter = emit.configure(bootstrap, service="app", buffer_size=10)
    try:
        log = structlog.get_logger()
        for index in range(100):
            log.info("x", index=index)
        with caplog.at_level(logging.WARNING, logger="correlator.emit"):
            emitter.close(timeout=1)
    finally:
        structlog.reset_defaults()
    assert emitter.transport.stats.overflowed > 0
    assert f"{emitter.transport.stats.overflowed} overflowed the buffer" in caplog.text
