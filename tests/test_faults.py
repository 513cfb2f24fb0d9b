"""Faults while messages flow: the warehouse away, the broker away, rebalances, a burst; nothing lost or doubled."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.workload import mixed_workload
from tests import scenarios
from tests.conftest import rows

# with batches of this many records the daemon's peak memory stays under MEMORY_BOUND, whatever the rate
BURST_BATCH_RECORDS = 2_000
MEMORY_BOUND = 640 * 1024 * 1024


def test_warehouse_outage_pauses_and_resumes_with_nothing_lost_and_memory_bounded(
    settings: Settings, warehouse: Client
):
    result = scenarios.warehouse_outage(settings, warehouse)
    assert (result.lost, result.duplicated, result.stored) == (0, 0, result.produced)
    assert result.details["rows_claimed_while_away"] == 0 and result.details["healthy_after"]
    # while the warehouse was away the daemon held one fetch and one batch per partition, not the stream
    assert result.details["traced_peak_while_away"] < result.details["bytes_arriving_while_away"] / 3


def test_broker_unreachable_then_back_resumes_from_committed_offsets(settings: Settings, warehouse: Client):
    result = scenarios.broker_unreachable(settings, warehouse)
    assert (result.lost, result.duplicated, result.stored) == (0, 0, result.produced)


def test_rebalances_with_batches_in_flight_lose_nothing_and_double_nothing_in_any_view(
    settings: Settings, warehouse: Client
):
    workload = mixed_workload(6_000, failure_share=0.3, seed=41)
    result = scenarios.rebalance(settings, warehouse, workload)
    assert (result.lost, result.duplicated, result.stored) == (0, 0, result.produced)
    assert all(result.details["rows_by_daemon"])  # both daemons really stored part of the stream
    db, metrics = settings.database, len(workload.metrics)
    assert rows(warehouse, f"SELECT sum(calls) FROM {db}.model_health_1h") == [(metrics,)]
    assert rows(warehouse, f"SELECT sum(errors) FROM {db}.error_rates_5m") == [(len(workload.expected_class),)]
    assert dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors")) == workload.expected_class


def test_a_tenfold_burst_keeps_memory_bounded_and_the_lag_is_worked_off(
    settings: Settings, subprocess_warehouse: str, tmp_path: Path
):
    result = scenarios.burst(
        replace(settings, batch_max_records=BURST_BATCH_RECORDS), subprocess_warehouse, tmp_path / "daemon.log"
    )
    assert (result.lost, result.duplicated, result.stored) == (0, 0, result.produced)
    assert result.peak_memory_bytes < MEMORY_BOUND, result
