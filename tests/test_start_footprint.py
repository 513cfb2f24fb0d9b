"""The daemon's start: what it loads, and that opening the warehouse alongside the join keeps every guarantee.

clickhouse-connect would import pandas and numpy on the first insert and chdb pyarrow on
connecting; kept out, the daemon starts about 0.35 CPU-s sooner and holds about 85 MB less
for its whole life (issue 18's start and memory targets). The warehouse is opened and
migrated on a thread of its own from the command's first moment, while the group is joined:
nothing fetched may be stored or committed before the schema is in place. That thread's own
modules are light: the event models (pydantic) are the main thread's to import meanwhile.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import orjson

from correlator.config import Settings
from correlator.records import DEAD_LETTER_TABLE, LOG_TABLE, METRIC_TABLE
from tests.harness import DaemonProcess, committed_offsets, produce_elsewhere, query_warehouse, wait_until

DATAFRAME_LIBRARIES = ("pandas", "pyarrow", "numpy")
Ends = dict[str, dict[int, int]]


def _mapped_libraries(pid: int) -> set[str]:
    """The dataframe libraries whose files (their compiled modules) the process has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {library for library in DATAFRAME_LIBRARIES if f"/site-packages/{library}/" in maps}


async def _committed(settings: Settings, ends: Ends) -> Ends:
    """The group's committed offset of every partition produced to (0 when none)."""
    committed = {}
    for topic, by_partition in ends.items():
        offsets = await committed_offsets(settings.kafka_bootstrap, settings.group_id, topic, 2)
        committed[topic] = {partition: offsets[partition] for partition in by_partition}
    return committed


def _stored(url: str, database: str) -> tuple[int, int, int]:
    """Rows of logs, usage metrics and dead letters in the warehouse, read from another process."""
    counts = ", ".join(
        f"(SELECT count() FROM {database}.{t.name})" for t in (LOG_TABLE, METRIC_TABLE, DEAD_LETTER_TABLE)
    )
    [[logs, metrics, dead]] = query_warehouse(url, f"SELECT {counts}")
    return logs, metrics, dead


def _wait_until_committed(daemon: DaemonProcess, settings: Settings, ends: Ends) -> None:
    async def all_committed() -> bool:
        daemon.check_alive()
        return await _committed(settings, ends) == ends

    asyncio.run(wait_until(all_committed, timeout=60, what="every message committed"))


def _produce(settings: Settings, seed: int) -> Ends:
    ends: Ends = produce_elsewhere(settings.kafka_bootstrap, settings.logs_topic, settings.metrics_topic, 30, seed)[
        "ends"
    ]
    return ends


def test_a_daemon_that_stored_and_committed_rows_has_loaded_no_dataframe_library(
    settings: Settings, subprocess_warehouse: str, tmp_path: Path
) -> None:
    daemon = DaemonProcess(settings, subprocess_warehouse, tmp_path / "daemon.log").start()
    try:
        daemon.wait_for_log("partitions assigned", occurrences=1)
        ends = _produce(settings, 18)
        _wait_until_committed(daemon, settings, ends)
        assert daemon.process is not None
        assert _mapped_libraries(daemon.process.pid) == set()
    finally:
        assert daemon.terminate() == 0
    logs, metrics, _ = _stored(subprocess_warehouse, settings.database)
    assert (logs, metrics) == (sum(ends[settings.logs_topic].values()), sum(ends[settings.metrics_topic].values()))
    # the views no row is stored through, left for after the first store, were made then
    [[errors, sessions]] = query_warehouse(
        subprocess_warehouse,
        f"SELECT countIf(name = 'errors'), countIf(name = 'session_costs') FROM system.tables "
        f"WHERE database = '{settings.database}' AND engine = 'View'",
    )
    assert (errors, sessions) == (1, 1)


def test_a_migration_failing_at_start_stores_and_commits_nothing_and_the_next_start_loses_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    ends = _produce(settings, 19)
    # an object in the way of a later migration: the first ones create the tables, then one fails
    warehouse = f"chdb://{tmp_path / 'warehouse'}"
    query_warehouse(warehouse, f"CREATE DATABASE {settings.database}")
    query_warehouse(warehouse, f"CREATE TABLE {settings.database}.spans (x UInt8) ENGINE = Memory")
    daemon = DaemonProcess(settings, warehouse, tmp_path / "daemon.log").start()
    assert daemon.process is not None
    assert daemon.process.wait(timeout=120) == 1
    lines = [orjson.loads(line) for line in daemon.log_path.read_bytes().splitlines()]
    assert "daemon failed" in [line["event"] for line in lines if line.get("level") == "error"]
    assert asyncio.run(_committed(settings, ends)) == {
        t: dict.fromkeys(by_partition, 0) for t, by_partition in ends.items()
    }
    assert _stored(warehouse, settings.database) == (0, 0, 0)

    query_warehouse(warehouse, f"DROP DATABASE {settings.database}")  # the way cleared: migrated anew
    again = DaemonProcess(settings, warehouse, tmp_path / "again.log").start()
    try:
        _wait_until_committed(again, settings, ends)
    finally:
        assert again.terminate() == 0
    logs, metrics, _ = _stored(warehouse, settings.database)
    assert (logs, metrics) == (sum(ends[settings.logs_topic].values()), sum(ends[settings.metrics_topic].values()))


def test_opening_and_migrating_the_warehouse_imports_no_event_models() -> None:
    """The warehouse thread starts the engine at once instead of importing, beside the main thread, the
    models the main thread imports anyway (0.10-0.25 s of interpreter work when migrate needed them)."""
    script = (
        "import sys\n"
        "import correlator.commands.cli, correlator.warehouse.connection, correlator.warehouse.migrate\n"
        "print(sorted(name for name in ('pydantic', 'correlator.formats.events') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
