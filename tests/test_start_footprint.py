"""What a running daemon loads: not pandas, pyarrow or numpy, which correlator never uses.

clickhouse-connect would import pandas and numpy on the first insert and chdb pyarrow on
connecting; kept out, the daemon starts about 0.35 CPU-s sooner and holds about 85 MB less
for its whole life (issue 18's start and memory targets).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from correlator.config import Settings
from correlator.records import LOG_TABLE, METRIC_TABLE
from tests.harness import DaemonProcess, committed_offsets, produce_elsewhere, query_warehouse, wait_until

DATAFRAME_LIBRARIES = ("pandas", "pyarrow", "numpy")


def _mapped_libraries(pid: int) -> set[str]:
    """The dataframe libraries whose files (their compiled modules) the process has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {library for library in DATAFRAME_LIBRARIES if f"/site-packages/{library}/" in maps}


def test_a_daemon_that_stored_and_committed_rows_has_loaded_no_dataframe_library(
    settings: Settings, subprocess_warehouse: str, tmp_path: Path
) -> None:
    daemon = DaemonProcess(settings, subprocess_warehouse, tmp_path / "daemon.log").start()
    try:
        daemon.wait_for_log("partitions assigned", occurrences=1)
        ends = produce_elsewhere(settings.kafka_bootstrap, settings.logs_topic, settings.metrics_topic, 30, 18)["ends"]

        async def all_committed() -> bool:
            daemon.check_alive()
            for topic, by_partition in ends.items():
                committed = await committed_offsets(settings.kafka_bootstrap, settings.group_id, topic, 2)
                if any(committed[partition] < end for partition, end in by_partition.items()):
                    return False
            return True

        asyncio.run(wait_until(all_committed, timeout=60, what="every message committed"))
        assert daemon.process is not None
        assert _mapped_libraries(daemon.process.pid) == set()
    finally:
        assert daemon.terminate() == 0
    counts = ", ".join(f"(SELECT count() FROM {settings.database}.{table.name})" for table in (LOG_TABLE, METRIC_TABLE))
    [[logs, metrics]] = query_warehouse(subprocess_warehouse, f"SELECT {counts}")
    assert (logs, metrics) == (sum(ends[settings.logs_topic].values()), sum(ends[settings.metrics_topic].values()))
