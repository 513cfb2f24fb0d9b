"""A burst of ten times the sustained rate: memory stays under its bound and the lag is worked off."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from correlator.config import Settings
from correlator.workload import mixed_workload
from tests.harness import DaemonProcess, committed_offsets, peak_rss_bytes, wait_until
from tests.test_faults import send

# with batches of BATCH_RECORDS the daemon's peak memory stays under this bound, whatever the rate
BATCH_RECORDS = 2_000
MEMORY_BOUND = 640 * 1024 * 1024
SUSTAINED_CALLS_PER_TICK, TICK_SECONDS, TICKS = 100, 0.5, 8


def test_a_tenfold_burst_keeps_memory_bounded_and_the_lag_is_worked_off(
    settings: Settings, subprocess_warehouse: str, tmp_path: Path
):
    daemon = DaemonProcess(replace(settings, batch_max_records=BATCH_RECORDS), subprocess_warehouse,
                           tmp_path / "daemon.log").start()  # fmt: skip
    daemon.wait_for_log("partitions assigned", occurrences=1)
    ends: dict[str, dict[int, int]] = {}

    async def phase(calls_per_tick: int, seed: int) -> None:
        for tick in range(TICKS):
            started = time.monotonic()
            await send(settings.kafka_bootstrap, settings, mixed_workload(calls_per_tick, seed=seed + tick), ends)
            await asyncio.sleep(max(0.0, TICK_SECONDS - (time.monotonic() - started)))

    async def caught_up() -> bool:
        daemon.check_alive()
        for topic, parts in ends.items():
            committed = await committed_offsets(settings.kafka_bootstrap, settings.group_id, topic, 2)
            if any(committed.get(p, 0) < end for p, end in parts.items()):
                return False
        return True

    assert daemon.process is not None
    asyncio.run(phase(SUSTAINED_CALLS_PER_TICK, seed=100))
    asyncio.run(wait_until(caught_up, timeout=120, what="the sustained rate to be stored"))
    sustained_peak = peak_rss_bytes(daemon.process.pid)
    asyncio.run(phase(10 * SUSTAINED_CALLS_PER_TICK, seed=200))
    asyncio.run(wait_until(caught_up, timeout=240, what="the burst's lag to be worked off"))
    burst_peak = peak_rss_bytes(daemon.process.pid)
    assert daemon.terminate() == 0
    assert burst_peak < MEMORY_BOUND, (sustained_peak, burst_peak)
