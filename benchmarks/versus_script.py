"""``correlator run`` beside the script a user would write instead, on one backlog, as JSON.

    python -m benchmarks.versus_script [--messages 300000] [--session-timeout-ms 10000] [--broker tansu|apache]

Issue 18's workload, put on the broker (tansu, the bundled one; or Apache Kafka 4.1 from
``tests/kafka/fetch_kafka.sh``, ``group.initial.rebalance.delay.ms=0``) before anything reads it:
95 % plain info lines, 5 % failures, each its structlog traceback line and its
usage-metrics row; 4 + 4 partitions, lz4 record batches. Then, in this one run and on the
same cores:

- the ceiling: raw aiokafka consumption + orjson decoding of those messages (no storage), under
  the daemon's cycle-collector policy;
- ``benchmarks.plain_script`` as its own process: aiokafka + ``json`` + clickhouse-connect,
  10,000-row inserts into the embedded engine, commit after each insert;
- ``correlator run`` as its own process, on its own embedded warehouse.

For both processes: messages per second from their first commit to their last (what was
committed at the first commit not counted) and from process start, the CPU seconds of
each process (user + system, all threads: the engine's too) with the broker's, peak
RSS, and resident memory as the stream is committed (each tenth's most, each half's peak:
run with ``--messages`` three times larger to see it stay flat). For correlator, the
start-to-first-commit time split into its own work before the group join, the broker's
join (from aiokafka's "(Re-)joining group" to its "Setting newly assigned partitions"
line) and its work after the assignment.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.brokers import add_broker_option, local_broker
from benchmarks.pipeline_throughput import (
    PARTITIONS,
    CommittedOffsets,
    CpuMeter,
    Topics,
    _cpu_seconds,
    _interleaved,
    _produce_batched,
    collecting_as_the_daemon,
)
from benchmarks.report import write_report
from correlator.config import Settings
from correlator.devkit.workload import mixed_workload
from correlator.records import DEAD_LETTER_TABLE, LOG_TABLE, METRIC_TABLE
from correlator.sources.kafka import ensure_topics
from tests.harness import DaemonProcess, peak_rss_bytes, query_warehouse

# per failed call: "llm call started", 37 step lines, the traceback line and the usage row: 2 of 40 are the failure
STEPS_PER_CALL = 37
MESSAGES_PER_CALL = STEPS_PER_CALL + 3
POLL_SECONDS = 0.02
# aiokafka's own lines that mark the group join: the daemon below logs them at info
JOIN_STARTS = "(Re-)joining group"
JOIN_ENDS = "Setting newly assigned partitions"
_DAEMON_WITH_JOIN_LINES = (
    "import logging, sys\n"
    "logging.getLogger('aiokafka.consumer.group_coordinator').setLevel(logging.INFO)\n"
    "from correlator.commands.cli import main\n"
    "sys.argv = ['correlator', 'run']\n"
    "main()\n"
)


@dataclass
class Commits:
    """When a group's committed offsets first moved, and when they covered the whole backlog,
    with the committing process's CPU seconds at both moments."""

    first_at: float
    first_covered: int
    first_cpu: float
    last_at: float
    last_cpu: float
    #: (time, the process's CPU seconds) at every poll: its CPU at any moment of its log, to 20 ms
    cpu_samples: list[tuple[float, float]]
    #: (messages committed, the process's resident MB) at every poll: how memory follows the stream
    rss_samples: list[tuple[int, float]]

    def cpu_at(self, moment: float) -> float:
        before = [cpu for at, cpu in self.cpu_samples if at <= moment]
        return before[-1] if before else 0.0


async def _watch_commits(
    bootstrap: str,
    group: str,
    ends: dict[TopicPartition, int],
    process: subprocess.Popen[bytes],
    log: Path,
    timeout: float = 1800,
    first_only: bool = False,
) -> Commits:
    """Poll ``group``'s committed offsets every 20 ms until they cover ``ends`` (or first move, with
    ``first_only``); ``process`` commits them."""
    first: tuple[float, int, float] | None = None
    samples: list[tuple[float, float]] = []
    memory: list[tuple[int, float]] = []
    deadline = time.time() + timeout
    async with CommittedOffsets(bootstrap, group, list(ends)) as offsets:
        while time.time() < deadline:
            samples.append((time.time(), _cpu_seconds(process.pid)))
            committed = await offsets.read()
            at = time.time()
            covered = sum(committed.values())
            memory.append((covered, _resident_mb(process.pid)))
            if first is None and covered:
                first = (at, covered, _cpu_seconds(process.pid))
            if first is not None and (first_only or all(committed[tp] >= end for tp, end in ends.items())):
                return Commits(*first, at, _cpu_seconds(process.pid), samples, memory)
            if process.poll() is not None:
                raise RuntimeError(f"{process.args} exited with {process.returncode}: {log.read_text()[-2000:]}")
            await asyncio.sleep(POLL_SECONDS)
    raise TimeoutError(f"{group} did not commit the backlog within {timeout}s")


def _rates(started: float, commits: Commits, total: int) -> dict[str, Any]:
    """Rates from the first commit to the last and from the start; per CPU second too, which a busy
    machine's other work does not change (one process's Python runs on one core at a time)."""
    between, cpu = commits.last_at - commits.first_at, commits.last_cpu - commits.first_cpu
    return {
        "start_to_first_commit_seconds": round(commits.first_at - started, 3),
        "messages_committed_at_first_commit": commits.first_covered,
        "first_to_last_commit_seconds": round(between, 3),
        "messages_per_second_first_to_last_commit": round((total - commits.first_covered) / max(between, 1e-9)),
        "messages_per_second_from_process_start": round(total / (commits.last_at - started)),
        "cpu_seconds_first_to_last_commit": round(cpu, 2),
        "messages_per_cpu_second_first_to_last_commit": round((total - commits.first_covered) / max(cpu, 1e-9)),
        "cpu_seconds_to_first_commit": round(commits.first_cpu, 2),
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=60)


async def _ceiling(bootstrap: str, ends: dict[TopicPartition, int], broker_pid: int) -> dict[str, Any]:
    """aiokafka + orjson alone over the backlog: how fast it can be read and parsed in Python."""
    total = sum(ends.values())
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 << 20,
        fetch_max_bytes=64 << 20,
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning()
        with collecting_as_the_daemon():
            cpu = CpuMeter({"broker": [broker_pid]}, own="benchmark (aiokafka + orjson)")
            read, started = 0, time.perf_counter()
            while read < total:
                for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
                    for record in records:
                        orjson.loads(record.value)
                    read += len(records)
            seconds = time.perf_counter() - started
            spent = cpu.report(seconds)
        return {"messages": read, "seconds": round(seconds, 3), "messages_per_second": round(read / seconds), **spent}
    finally:
        await consumer.stop()


async def _plain_script(
    bootstrap: str, topics: Topics, ends: dict[TopicPartition, int], broker_pid: int, work: Path
) -> dict[str, Any]:
    group, log = f"plain-{topics.group}", work / "plain.log"
    command = [
        sys.executable,
        "-m",
        "benchmarks.plain_script",
        bootstrap,
        group,
        topics.logs,
        topics.metrics,
        f"chdb://{work / 'plain-warehouse'}",
        str(sum(ends.values())),
    ]
    started = time.time()
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, stderr=stderr)
    cpu = CpuMeter({"plain script": [process.pid], "broker": [broker_pid]}, own="benchmark (offset poller)")
    try:
        commits = await _watch_commits(bootstrap, group, ends, process, log)
        result = {
            **_rates(started, commits, sum(ends.values())),
            "peak_rss_mb": _peak_mb(process.pid),
            **_memory_curve(commits, sum(ends.values())),
            **cpu.report(commits.last_at - started),
        }
    finally:
        _stop(process)
    return result


async def _correlator(
    bootstrap: str,
    topics: Topics,
    ends: dict[TopicPartition, int],
    broker_pid: int,
    work: Path,
    session_timeout_ms: int,
) -> dict[str, Any]:
    settings = Settings(
        kafka_bootstrap=bootstrap,
        logs_topic=topics.logs,
        metrics_topic=topics.metrics,
        group_id=topics.group,
        kafka_session_timeout_ms=session_timeout_ms,
    )
    warehouse = f"chdb://{work / 'correlator-warehouse'}"
    daemon = DaemonProcess(settings, warehouse, work / "correlator.log")
    started = time.time()
    with daemon.log_path.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-c", _DAEMON_WITH_JOIN_LINES], env=daemon.env, stderr=stderr)
    daemon.process = process
    daemon.starts = 1
    cpu = CpuMeter({"correlator run": [process.pid], "broker": [broker_pid]}, own="benchmark (offset poller)")
    try:
        commits = await _watch_commits(bootstrap, topics.group, ends, process, daemon.log_path)
        result = {
            **_rates(started, commits, sum(ends.values())),
            "peak_rss_mb": _peak_mb(process.pid),
            **_memory_curve(commits, sum(ends.values())),
            **cpu.report(commits.last_at - started),
        }
    finally:
        daemon.terminate(timeout=60)
    result["start_to_first_commit"] = _start_split(daemon.log_path, started, commits)
    counts = ", ".join(
        f"(SELECT count() FROM correlator.{t.name})" for t in (LOG_TABLE, METRIC_TABLE, DEAD_LETTER_TABLE)
    )
    [[logs, metrics, dead]] = query_warehouse(warehouse, f"SELECT {counts}")
    result["rows_stored"] = {"logs": logs, "metrics": metrics, "dead_letters": dead}
    return result


def _start_split(log: Path, started: float, commits: Commits) -> dict[str, float]:
    """From the daemon's log: its work before the join, the broker's join, its work after the assignment,
    by the clock and by the process's CPU (what a busy machine's other work does not inflate)."""
    marks: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        text = str(entry.get("event", ""))
        for mark, needle in (
            ("join_starts", JOIN_STARTS),
            ("join_ends", JOIN_ENDS),
            ("partitions_assigned", "partitions assigned"),
        ):
            if needle in text and mark not in marks:
                marks[mark] = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
    join_starts, join_ends, first = marks["join_starts"], marks["join_ends"], commits.first_at
    cpu = commits.cpu_at
    return {
        "own_work_before_join_seconds": round(join_starts - started, 3),
        "broker_join_seconds": round(join_ends - join_starts, 3),
        "own_work_after_assignment_seconds": round(first - join_ends, 3),
        "of_which_resume_before_fetching_seconds": round(marks["partitions_assigned"] - join_ends, 3),
        "cpu_seconds_before_join": round(cpu(join_starts), 2),
        "cpu_seconds_during_join": round(cpu(join_ends) - cpu(join_starts), 2),
        "cpu_seconds_after_assignment_to_first_commit": round(commits.first_cpu - cpu(join_ends), 2),
    }


def _peak_mb(pid: int) -> float:
    return round(peak_rss_bytes(pid) / (1 << 20), 1)


def _resident_mb(pid: int) -> float:
    """The process's resident memory now (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _memory_curve(commits: Commits, total: int) -> dict[str, Any]:
    """The most resident memory while each tenth of the backlog was being committed, and each half's peak:
    flat when the second half's peak is no higher than the first's."""
    tenths: dict[str, float] = {}
    for covered, mb in commits.rss_samples:
        tenth = f"{min(10 * covered // max(total, 1) + 1, 10) * 10}%"
        tenths[tenth] = max(tenths.get(tenth, 0.0), mb)
    halves = [[mb for covered, mb in commits.rss_samples if (2 * covered >= total) == second] for second in (0, 1)]
    return {
        "resident_mb_by_share_committed": tenths,
        "peak_resident_mb_first_half": max(halves[0], default=0.0),
        "peak_resident_mb_second_half": max(halves[1], default=0.0),
    }


async def _run(messages: int, session_timeout_ms: int, broker_kind: str, work: Path) -> dict[str, Any]:
    calls = messages // MESSAGES_PER_CALL
    workload = mixed_workload(
        calls, failure_share=1.0, seed=18, steps_per_call=STEPS_PER_CALL, start=datetime.now(UTC) - timedelta(hours=3)
    )
    with local_broker(broker_kind, work) as broker:
        assert broker.pid is not None
        topics = Topics.fresh()
        await ensure_topics(broker.bootstrap, [topics.logs, topics.metrics], partitions=PARTITIONS)
        sent = await _produce_batched(broker.bootstrap, _interleaved(workload, topics), compression="lz4")
        ends = sent.ends()
        total = sum(ends.values())
        results: dict[str, Any] = {
            "broker": broker_kind,
            "session_timeout_ms": session_timeout_ms,
            "messages": total,
            "workload": {
                "log_lines": len(workload.logs),
                "usage_rows": len(workload.metrics),
                "failures": len(workload.expected_class),
                "partitions": 2 * PARTITIONS,
                "compression": "lz4",
            },
        }
        results["ceiling_consume_and_decode"] = await _ceiling(broker.bootstrap, ends, broker.pid)
        results["plain_script"] = await _plain_script(broker.bootstrap, topics, ends, broker.pid, work)
        results["correlator_run"] = await _correlator(
            broker.bootstrap, topics, ends, broker.pid, work, session_timeout_ms
        )
    ceiling = results["ceiling_consume_and_decode"]["messages_per_second"]
    plain = results["plain_script"]["messages_per_second_first_to_last_commit"]
    ours = results["correlator_run"]["messages_per_second_first_to_last_commit"]
    ceiling_cpu = total / sum(results["ceiling_consume_and_decode"]["cpu_seconds"]["benchmark (aiokafka + orjson)"])
    plain_cpu = results["plain_script"]["messages_per_cpu_second_first_to_last_commit"]
    ours_cpu = results["correlator_run"]["messages_per_cpu_second_first_to_last_commit"]
    results["ratios"] = {
        "correlator_to_plain_script": round(ours / plain, 3),
        "correlator_to_ceiling": round(ours / ceiling, 3),
        "plain_script_to_ceiling": round(plain / ceiling, 3),
        "from_process_start_correlator_to_plain_script": round(
            results["correlator_run"]["messages_per_second_from_process_start"]
            / results["plain_script"]["messages_per_second_from_process_start"],
            3,
        ),
        # the same two ratios by CPU: what a machine shared with other work still shows
        "per_cpu_second_correlator_to_plain_script": round(ours_cpu / plain_cpu, 3),
        "per_cpu_second_correlator_to_ceiling": round(ours_cpu / ceiling_cpu, 3),
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--session-timeout-ms", type=int, default=10_000)
    add_broker_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="correlator-versus-") as directory:
        results = asyncio.run(_run(args.messages, args.session_timeout_ms, args.broker, Path(directory)))
    write_report("versus_script", results)


if __name__ == "__main__":
    main()
