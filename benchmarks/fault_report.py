"""The fault scenarios, run against Apache Kafka and a real warehouse, reported as JSON.

    python -m benchmarks.fault_report [--scenario NAME ...]

Per scenario: messages produced, stored, duplicated, lost, dead-lettered, and the
daemon's peak memory (peak RSS of the daemon process; for the scenarios that run the
daemon in-process, the peak RSS of that process: daemon, embedded warehouse and producer).
Each scenario runs in a process of its own, with its own broker (Apache Kafka from
``.kafka/lib``: run ``tests/kafka/fetch_kafka.sh`` first) and warehouse directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import orjson
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.workload import POISON_MESSAGES, Workload, mixed_workload
from correlator.runtime.ownlogs import configure_logging
from correlator.sources.kafka import ensure_topics
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
from tests import scenarios
from tests.apache_kafka import ApacheKafka

Scenario = Callable[[Settings, Path, ApacheKafka], scenarios.Outcome]


def _in_process(run: Callable[[Settings, Client], scenarios.Outcome]) -> Scenario:
    def scenario(settings: Settings, directory: Path, _: ApacheKafka) -> scenarios.Outcome:
        client = connect(f"chdb://{directory / 'warehouse'}")
        migrate(client, settings.database, settings.retention_days)
        return run(settings, client)

    return scenario


def _with_poison(workload: Workload) -> Workload:
    """The workload with undecodable messages among the good ones: they must end as dead letters."""
    for index, name in enumerate(("not_json", "not_object", "not_utf8")):
        workload.logs.insert(1_000 * (index + 1), POISON_MESSAGES[name])
    workload.metrics.insert(500, POISON_MESSAGES["invalid_fields"])
    return workload


SCENARIOS: dict[str, Scenario] = {
    "sigkill_random_points": lambda settings, directory, _: scenarios.sigkill(
        settings, f"chdb://{directory / 'daemon-warehouse'}", directory / "daemon.log",
        _with_poison(mixed_workload(10_000, failure_share=0.3, seed=5)), kills=3,
    ),
    "warehouse_unavailable": _in_process(scenarios.warehouse_outage),
    "broker_unreachable": _in_process(scenarios.broker_unreachable),
    "rebalance_in_flight": _in_process(
        lambda settings, client: scenarios.rebalance(settings, client, _with_poison(mixed_workload(4_000, seed=41)))
    ),
    "burst_10x": lambda settings, directory, _: scenarios.burst(
        settings, f"chdb://{directory / 'daemon-warehouse'}", directory / "daemon.log"
    ),
    "broker_restart": lambda settings, directory, broker: _in_process(
        lambda settings, client: scenarios.broker_restart(settings, client, broker)
    )(settings, directory, broker),
    "transactions_sigkill": lambda settings, directory, _: scenarios.transactions_with_sigkill(
        settings, f"chdb://{directory / 'daemon-warehouse'}", directory / "daemon.log"
    ),
}  # fmt: skip


def run_one(name: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="fault-report-") as tmp:
        directory = Path(tmp)
        (directory / "kafka").mkdir()
        broker = ApacheKafka(directory / "kafka").start()
        settings = Settings(
            kafka_bootstrap=broker.bootstrap, database="faults", data_dir=directory,
            logs_topic="app-logs", metrics_topic="usage-metrics", group_id=f"faults-{name}",
            batch_max_records=2_000, batch_max_seconds=0.1, shutdown_grace_seconds=5, kafka_session_timeout_ms=6_000,
        )  # fmt: skip
        asyncio.run(ensure_topics(broker.bootstrap, [settings.logs_topic, settings.metrics_topic], partitions=2))
        started = time.monotonic()
        try:
            outcome = SCENARIOS[name](settings, directory, broker)
        finally:
            broker.stop()
        return {**asdict(outcome), "seconds": round(time.monotonic() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--here", action="store_true", help="Run one scenario in this process (used internally).")
    args = parser.parse_args()
    names = args.scenario or list(SCENARIOS)
    if args.here:
        configure_logging("warning")  # the daemon's own log lines go to stderr, the JSON alone to stdout
        sys.stdout.buffer.write(orjson.dumps(run_one(names[0])))
        return
    report: dict[str, object] = {}
    for name in names:
        done = subprocess.run([sys.executable, "-m", "benchmarks.fault_report", "--here", "--scenario", name],
                              capture_output=True, check=False)  # fmt: skip
        if done.returncode == 0:
            report[name] = orjson.loads(done.stdout)
        else:
            report[name] = {"failed": done.stderr.decode(errors="replace")[-2000:]}
    report["machine"] = f"{platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}"
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
