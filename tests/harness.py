"""Drive the daemon from tests: in this process, or as a separate process that can be killed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from clickhouse_connect.driver.client import Client
from prometheus_client.parser import text_string_to_metric_families

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.processing.classify import Classifier
from correlator.runtime.daemon import Counters, Daemon
from correlator.sources.kafka import ensure_topics
from correlator.warehouse.writer import Warehouse


async def run_daemon(
    settings: Settings,
    client: Client,
    until: Callable[[Daemon], bool],
    timeout: float = 60.0,
    classifier: Classifier | None = None,
) -> Counters:
    """Run a daemon in this process until ``until(daemon)`` holds, then stop it cleanly."""
    daemon = Daemon(settings, Warehouse(client, settings.database), classifier or Classifier.from_file())
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    deadline = time.monotonic() + timeout
    while not until(daemon):
        if task.done():
            task.result()
            raise AssertionError("the daemon stopped on its own")
        if time.monotonic() > deadline:
            stop.set()
            await task
            raise AssertionError(f"timed out waiting for the daemon: {daemon.counters}")
        await asyncio.sleep(0.05)
    stop.set()
    await task
    return daemon.counters


@contextlib.asynccontextmanager
async def serving_daemon(settings: Settings, client: Client) -> AsyncIterator[tuple[Daemon, str]]:
    """A daemon in this process with its HTTP endpoints on a free port: yields it and their base URL."""
    from correlator.runtime.ops.http import serving

    daemon = Daemon(settings, Warehouse(client, settings.database), Classifier.from_file())
    stop = asyncio.Event()
    async with serving(daemon, "127.0.0.1", 0) as port:
        task = asyncio.create_task(daemon.run(stop))
        try:
            yield daemon, f"http://127.0.0.1:{port}"
        finally:
            stop.set()
            await task


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def samples(metrics_text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A ``/metrics`` page as {(sample name, sorted labels): value}, parsed by prometheus-client."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
    }


def total(scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, /, **labels: str) -> float:
    """The sum of one metric's samples whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (sample, have), value in scraped.items() if sample == name and wanted <= set(have))


def otlp_settings(settings: Settings) -> Settings:
    """The settings with the OTLP streams on, on topics of their own (one partition each)."""
    suffix = secrets.token_hex(4)
    otlp = replace(settings, otlp=True, otlp_spans_topic=f"otlp-spans-{suffix}", otlp_logs_topic=f"otlp-logs-{suffix}")
    asyncio.run(ensure_topics(otlp.kafka_bootstrap, [otlp.otlp_spans_topic, otlp.otlp_logs_topic], partitions=1))
    return otlp


def stored_at_least(count: int) -> Callable[[Daemon], bool]:
    return lambda daemon: daemon.counters.rows + daemon.counters.dead_letters >= count


def consume(settings: Settings, warehouse: Client, messages: dict[str, list[bytes]], stored: int) -> None:
    """Produce each topic's messages, then run a daemon until ``stored`` rows and dead letters are in."""

    async def scenario() -> None:
        for topic, values in messages.items():
            await produce(settings.kafka_bootstrap, topic, values)
        await run_daemon(settings, warehouse, stored_at_least(stored))

    asyncio.run(scenario())


async def committed_offsets(bootstrap: str, group_id: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        result = {}
        for partition in range(partitions):
            offset = await consumer.committed(TopicPartition(topic, partition))
            result[partition] = offset or 0
        return result
    finally:
        await consumer.stop()


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DaemonProcess:
    """``correlator run`` as a child process, configured through the environment like a pod."""

    def __init__(self, settings: Settings, clickhouse_url: str, log_path: Path) -> None:
        self.http_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.env = {
            **os.environ,
            "CORRELATOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "CORRELATOR_CLICKHOUSE_URL": clickhouse_url,
            "CORRELATOR_DATABASE": settings.database,
            "CORRELATOR_LOGS_TOPIC": settings.logs_topic,
            "CORRELATOR_METRICS_TOPIC": settings.metrics_topic,
            "CORRELATOR_OTLP": str(settings.otlp).lower(),
            "CORRELATOR_SCORES_TOPIC": settings.scores_topic,
            "CORRELATOR_GROUP_ID": settings.group_id,
            "CORRELATOR_BATCH_MAX_RECORDS": str(settings.batch_max_records),
            "CORRELATOR_BATCH_MAX_SECONDS": str(settings.batch_max_seconds),
            "CORRELATOR_KAFKA_SESSION_TIMEOUT_MS": str(settings.kafka_session_timeout_ms),
            "CORRELATOR_SHUTDOWN_GRACE_SECONDS": str(settings.shutdown_grace_seconds),
            "CORRELATOR_HTTP_HOST": "127.0.0.1",
            "CORRELATOR_HTTP_PORT": str(self.http_port),
        }
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        #: processes started so far; they share one log file
        self.starts = 0

    def start(self) -> DaemonProcess:
        self.starts += 1
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "correlator", "run"], env=self.env, stderr=log)
        return self

    def check_alive(self) -> None:
        assert self.process is not None and self.process.poll() is None, (
            f"the daemon exited with {self.process and self.process.returncode}: "
            + self.log_path.read_text(errors="replace")[-2000:]
        )

    def wait_for_log(self, text: str, occurrences: int, timeout: float = 60.0) -> None:
        """Block until the daemon's own log holds ``text`` at least ``occurrences`` times."""
        deadline = time.monotonic() + timeout
        while self.log_path.read_text(errors="replace").count(text) < occurrences:
            self.check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"the daemon did not log {text!r} in {timeout}s")
            time.sleep(0.05)

    def catches(self, signum: int) -> bool:
        """Whether the process has a handler of its own for ``signum`` now (Linux ``SigCgt``)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
        raise RuntimeError("no SigCgt in /proc: signal handlers are read on Linux only")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def wait_until_started(self, timeout: float = 60.0) -> None:
        """Block until the current process has joined its group ("daemon started"), its stop handling in place."""
        self.wait_for_log("daemon started", self.starts, timeout)

    def terminate(self, timeout: float = 30.0, once_started: bool = True) -> int:
        """SIGTERM, by default only once the daemon is up: a test that stops a daemon means a running one."""
        assert self.process is not None
        if once_started:
            self.wait_until_started()
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def query_warehouse(clickhouse_url: str, sql: str) -> list[list[Any]]:
    """Query a warehouse from a fresh process: an embedded one may be owned by another process."""
    script = (
        "import sys, orjson, clickhouse_connect\n"
        "client = clickhouse_connect.get_client(dsn=sys.argv[1])\n"
        "result = client.query(sys.argv[2]).result_rows\n"
        "sys.stdout.buffer.write(orjson.dumps([list(r) for r in result], default=str))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, clickhouse_url, sql], capture_output=True, check=True)
    return orjson.loads(done.stdout)


def produce_elsewhere(bootstrap: str, logs_topic: str, metrics_topic: str, calls: int, seed: int) -> dict[str, Any]:
    """Produce a mixed workload from another process, so its memory is not counted as the daemon's.

    Returns ``{"ends": {topic: {partition: next offset}}, "bytes": total payload bytes}``.
    """
    script = (
        "import asyncio, sys, orjson\n"
        "from correlator.devkit.demo import produce\n"
        "from correlator.devkit.workload import mixed_workload\n"
        "bootstrap, logs, metrics, calls, seed = sys.argv[1:3] + sys.argv[3:4] + [int(a) for a in sys.argv[4:6]]\n"
        "w = mixed_workload(calls, seed=seed)\n"
        "ends = {t: asyncio.run(produce(bootstrap, t, v)) for t, v in ((logs, w.logs), (metrics, w.metrics))}\n"
        "sys.stdout.buffer.write(orjson.dumps({'ends': ends, 'bytes': sum(map(len, w.logs + w.metrics))},"
        " option=orjson.OPT_NON_STR_KEYS))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, bootstrap, logs_topic, metrics_topic, str(calls), str(seed)],
        capture_output=True,
        check=True,
    )
    produced: dict[str, Any] = orjson.loads(done.stdout)
    produced["ends"] = {t: {int(p): end for p, end in parts.items()} for t, parts in produced["ends"].items()}
    return produced


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident memory so far (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc: peak memory is measured on Linux only")
