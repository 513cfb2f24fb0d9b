"""Faults while messages flow: the warehouse away, the broker away, rebalances, a burst; nothing lost or doubled."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.workload import mixed_workload
from tests import scenarios
from tests.apache_kafka import ApacheKafka
from tests.conftest import rows

pytestmark = [pytest.mark.kafka, pytest.mark.fault]  # reliability: on Apache Kafka itself

# with batches of this many records the daemon's peak memory stays under MEMORY_BOUND, whatever the rate
BURST_BATCH_RECORDS = 2_000
MEMORY_BOUND = 640 * 1024 * 1024


def test_warehouse_outage_pauses_and_resumes_with_nothing_lost_and_memory_bounded(
    settings: Settings, warehouse: Client
):
    result = scenarios.warehouse_outage(settings, warehouse)
    assert (result.lost, result.duplicated, result.stored) == (0, 0, result.produced)
    assert result.details["rows_claimed_while_away"] == 0 and result.details["healthy_after"]
    # While an insert is retried nothing more is fetched; aiokafka holds one prefetched fetch per partition, taken
    # during the first wave (0.6-2.6 MB held over eleven runs, depending on when it ran). What the process holds
    # must then not grow with the second wave: over those runs it grew by -50 to +19 KB while 5.2 MB arrived.
    # The bound, 2 % of the wave, leaves a fivefold margin and would be crossed many times over by a daemon
    # that kept fetching. The peak above what is held (0.3-0.6 MB) is the retried insert's own serialisation.
    details = result.details
    assert details["held_after_second_wave"] - details["held_after_first_wave"] < details["bytes_second_wave"] * 0.02


def test_broker_unreachable_then_back_resumes_from_committed_offsets(settings: Settings, warehouse: Client):
    result = scenarios.broker_unreachable(settings, warehouse)
    assert (result.lost, result.duplicated, result.stored) == (0, 0, result.produced)


def test_a_broker_restart_mid_stream_loses_nothing_doubles_nothing_and_readiness_follows_it(
    settings: Settings, warehouse: Client, apache_kafka: ApacheKafka
):
    result = scenarios.broker_restart(settings, warehouse, apache_kafka)
    assert (result.lost, result.duplicated, result.stored) == (0, 0, result.produced)
    assert result.produced > result.details["rows_before_the_stop"]  # the restart fell mid-stream
    # over HTTP, as a Kubernetes probe sees it: ready, then 503 with Kafka's check failing, then ready again
    details = result.details
    assert (details["readyz_before"], details["readyz_while_down"], details["readyz_after"]) == (
        (200, True), (503, False), (200, True)
    )  # fmt: skip


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
