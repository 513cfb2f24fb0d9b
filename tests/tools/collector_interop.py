"""The real OpenTelemetry Collector between an instrumented application and correlator, run once by hand.

    python -m tests.tools.collector_interop [--encoding otlp_proto|otlp_json] [--collector PATH]

An application instrumented with OpenInference's OpenAI instrumentation (over a mock HTTP
transport) and the OpenTelemetry SDK's logging handler sends its spans and logs over
OTLP/HTTP, as the SDK's OTLP exporters do, to the Collector's ``otlp`` receiver; the
Collector's ``kafka`` exporter writes them to Apache Kafka (started here, as the tests do)
on its default topics; correlator's daemon reads them into the embedded engine. Prints, as
JSON, what the Collector wrote (messages per topic, encoding) and what landed in which
table. The Collector is built by ``tests/tools/build_collector.sh``; not part of CI.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from correlator.config import Settings
from correlator.devkit.broker import end_process
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
from tests.apache_kafka import ApacheKafka
from tests.harness import free_port, run_daemon, stored_at_least
from tests.instrumented_openai import instrumented_agent_run
from tests.otlp_producers import agent_run

TOOLS = Path(__file__).resolve().parent
TOPICS = ("otlp_spans", "otlp_logs")  # the kafka exporter's defaults, which correlator's defaults follow

COLLECTOR_CONFIG = """
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http_port}
exporters:
  kafka:
    brokers: ["{bootstrap}"]
    traces:
      encoding: {encoding}
    logs:
      encoding: {encoding}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [kafka]
    logs:
      receivers: [otlp]
      exporters: [kafka]
"""


@contextmanager
def collector(binary: Path, directory: Path, bootstrap: str, encoding: str) -> Iterator[str]:
    """The Collector running with the otlp receiver and the kafka exporter; yields its OTLP/HTTP address."""
    port = free_port()
    config = directory / "collector.yaml"
    config.write_text(COLLECTOR_CONFIG.format(http_port=port, bootstrap=bootstrap, encoding=encoding))
    log = (directory / "collector.log").open("wb")
    process = subprocess.Popen([str(binary), "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while b"Everything is ready" not in (directory / "collector.log").read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Collector did not start: {(directory / 'collector.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        end_process(process, signal.SIGTERM, 20)
        log.close()


async def topic_ends(bootstrap: str) -> dict[str, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, 0) for topic in TOPICS]
        ends = await consumer.end_offsets(partitions)
        return {partition.topic: ends[partition] for partition in partitions}
    finally:
        await consumer.stop()


def export(endpoint: str, path: str, request: bytes) -> None:
    """What the SDK's OTLP/HTTP exporters send: the request in protobuf, POSTed to /v1/traces or /v1/logs."""
    response = httpx.post(f"{endpoint}{path}", content=request, headers={"Content-Type": "application/x-protobuf"})
    response.raise_for_status()


def run(binary: Path, encoding: str, directory: Path) -> dict[str, Any]:
    instrumented, planner = instrumented_agent_run("geography"), agent_run("planner")
    (directory / "kafka").mkdir()
    with ApacheKafka(directory / "kafka") as kafka:
        with collector(binary, directory, kafka.bootstrap, encoding) as endpoint:
            export(endpoint, "/v1/traces", instrumented.spans.SerializeToString())
            export(endpoint, "/v1/traces", planner.spans.SerializeToString())
            export(endpoint, "/v1/logs", planner.logs.SerializeToString())
            deadline = time.monotonic() + 60
            while sum((ends := asyncio.run(topic_ends(kafka.bootstrap))).values()) < 3:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the Collector wrote only {ends}: {(directory / 'collector.log').read_text()}")
                time.sleep(0.5)
        settings = Settings(kafka_bootstrap=kafka.bootstrap, data_dir=directory / "correlator", http_port=0,
                            database="interop")  # fmt: skip
        client = connect(settings.clickhouse_url)
        migrate(client, settings.database, retention_days=30)
        records = instrumented.span_count + 3 + 1
        asyncio.run(run_daemon(settings, client, stored_at_least(records), timeout=120))

    def table(sql: str) -> list[dict[str, Any]]:
        result = client.query(sql.format(db=settings.database))
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]

    return {
        "encoding": encoding,
        "messages_per_topic": ends,
        "spans": table("SELECT service, topic, offset, record_index, name, step, model, input_tokens,"
                       " output_tokens, status, error_class FROM {db}.spans ORDER BY topic, offset, record_index"),
        "log_events": table("SELECT service, topic, offset, record_index, level, message, root_cause_type, error_class"
                            " FROM {db}.log_events"),
        "errors": table("SELECT trace_id, service, model, category, error_class, root_cause_type, log_lines"
                        " FROM {db}.errors ORDER BY service"),
        "dead_letters": table("SELECT topic, reason, detail FROM {db}.dead_letters"),
        "trace_spans_geography": table(
            f"SELECT depth, step, name, status, failed, first_failure, root_cause_type"
            f" FROM {{db}}.trace_spans(trace_id = '{instrumented.trace_id}')"
        ),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoding", choices=("otlp_proto", "otlp_json"), default="otlp_proto")
    parser.add_argument("--collector", type=Path, default=None, help="a built Collector; else build_collector.sh")
    args = parser.parse_args()
    binary = args.collector or Path(
        subprocess.run([str(TOOLS / "build_collector.sh")], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    # the daemon logs to stdout: there, only the report
    with tempfile.TemporaryDirectory(prefix="correlator-interop-") as directory, redirect_stdout(sys.stderr):
        report = run(binary, args.encoding, Path(directory))
    sys.stdout.buffer.write(orjson.dumps(report, default=str, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
