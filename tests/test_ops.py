"""The daemon's HTTP endpoints against the real broker and engine: liveness, readiness, metrics."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import orjson
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import POISON_MESSAGES, mixed_workload
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import get, samples, serving_daemon, total, wait_until


async def _status(url: str) -> int:
    return (await get(url))[0]


def test_readiness_is_false_while_clickhouse_is_unreachable_and_true_again_after(settings: Settings, warehouse: Client):
    async def scenario() -> None:
        async with serving_daemon(settings, warehouse) as (_, base):
            await wait_until(lambda: _is(base + "/readyz", 200), timeout=60, what="ready")
            status, body = await get(base + "/readyz")
            checks = orjson.loads(body)["checks"]
            assert {name: check["ok"] for name, check in checks.items()} == {
                "kafka": True, "clickhouse": True, "schema": True, "inserts": True, "partitions": True,
            }  # fmt: skip
            assert checks["partitions"]["detail"] == "6 assigned"  # logs, metrics, scores

            # the daemon's database really goes away, in the very engine the daemon uses
            warehouse.command(f"DETACH DATABASE {settings.database}")
            try:
                await wait_until(lambda: _is(base + "/readyz", 503), timeout=30, what="not ready")
                body = orjson.loads((await get(base + "/readyz"))[1])
                assert body["ready"] is False
                assert body["checks"]["clickhouse"]["ok"] is False
                assert body["checks"]["kafka"]["ok"] is True
                # alive all the same: a restart would not bring ClickHouse back
                assert await _status(base + "/healthz") == 200
            finally:
                warehouse.command(f"ATTACH DATABASE {settings.database}")
            await wait_until(lambda: _is(base + "/readyz", 200), timeout=30, what="ready again")
            status, body = await get(base + "/healthz")
            assert (status, orjson.loads(body)["alive"]) == (200, True)

    asyncio.run(scenario())


def test_liveness_fails_when_the_loop_makes_no_progress_past_the_stall_time_even_while_it_retries(
    settings: Settings, warehouse: Client
):
    stalling = replace(settings, liveness_stall_seconds=2.0)

    async def scenario() -> None:
        async with serving_daemon(stalling, warehouse) as (_, base):
            await wait_until(lambda: _is(base + "/readyz", 200), timeout=60, what="ready")
            warehouse.command(f"DETACH DATABASE {settings.database}")
            try:
                await produce(settings.kafka_bootstrap, settings.metrics_topic, mixed_workload(20, seed=5).metrics)
                await wait_until(lambda: _is(base + "/healthz", 503), timeout=30, what="not alive")
                body = orjson.loads((await get(base + "/healthz"))[1])
                assert body["alive"] is False and "retrying an insert" in body["detail"]
            finally:
                warehouse.command(f"ATTACH DATABASE {settings.database}")
            await wait_until(lambda: _is(base + "/healthz", 200), timeout=30, what="alive again")

    asyncio.run(scenario())


async def _is(url: str, status: int) -> bool:
    return await _status(url) == status


def test_metrics_after_a_known_workload(settings: Settings, warehouse: Client):
    workload = mixed_workload(600, failure_share=0.3, seed=11)
    # rows whose own detail text outranks their "unknown" label: reclassified as they are stored
    workload.metrics += [
        orjson.dumps({"timestamp": hours_ago(2).isoformat(), "success": False, "model": "gpt-4o",
                      "duration_seconds": 1.5, "error": "unknown", "error_id": f"{n:012x}",
                      "error_detail": "openai.RateLimitError: Error code: 429 - rate_limit_exceeded"})
        for n in range(3)
    ]  # fmt: skip
    log_poison = [POISON_MESSAGES["not_json"], POISON_MESSAGES["not_utf8"]]
    metric_poison = [POISON_MESSAGES["invalid_fields"]]
    failed_calls = sum(1 for value in workload.metrics if not orjson.loads(value)["success"])

    async def scenario() -> str:
        async with serving_daemon(settings, warehouse) as (daemon, base):
            ends = {
                logs: await produce(settings.kafka_bootstrap, logs, workload.logs + log_poison),
                metrics: await produce(settings.kafka_bootstrap, metrics, workload.metrics + metric_poison),
            }
            expected = len(workload.logs) + len(workload.metrics) + len(log_poison) + len(metric_poison)

            async def everything_stored_and_lag_reported() -> bool:
                counters = daemon.counters
                scraped = samples((await get(base + "/metrics"))[1])
                lag = {
                    (dict(labels)["topic"], int(dict(labels)["partition"])): value
                    for (name, labels), value in scraped.items()
                    if name == "correlator_consumer_lag"
                }
                # never more than what the partition holds, whenever it is scraped
                held = {(topic, partition): ends.get(topic, {}).get(partition, 0) for topic, partition in lag}
                assert all(0 <= value <= held[key] for key, value in lag.items())
                return counters.rows + counters.dead_letters == expected and len(lag) == 6  # the scores topic too

            await wait_until(everything_stored_and_lag_reported, timeout=90, what="the workload to be stored")
            status, text = await get(base + "/metrics")
            assert status == 200
            return text

    logs, metrics = settings.logs_topic, settings.metrics_topic
    scraped = samples(asyncio.run(scenario()))
    consumed = len(workload.logs) + len(log_poison), len(workload.metrics) + len(metric_poison)
    assert total(scraped, "correlator_messages_consumed_total", topic=logs) == consumed[0]
    assert total(scraped, "correlator_messages_consumed_total", topic=metrics) == consumed[1]
    assert total(scraped, "llm_calls_total") == len(workload.metrics)
    assert total(scraped, "llm_errors_total") == failed_calls > 0
    assert total(scraped, "correlator_dead_letters_total", topic=logs) == len(log_poison)
    assert total(scraped, "correlator_dead_letters_total", topic=metrics) == len(metric_poison)
    assert total(scraped, "correlator_rows_stored_total", table="usage_metrics") == len(workload.metrics)
    stored = sum(consumed)
    assert total(scraped, "correlator_batch_size_sum") == stored
    batches = total(scraped, "correlator_batch_size_count")
    assert 0 < batches <= stored
    assert total(scraped, "correlator_insert_duration_seconds_count") == batches
    assert total(scraped, "correlator_insert_duration_seconds_sum") > 0
    # every partition read to its end
    lag = {labels: value for (name, labels), value in scraped.items() if name == "correlator_consumer_lag"}
    assert len(lag) == 6 and set(lag.values()) == {0}

    # labels are the stored rows' final labels, call for call
    db = settings.database
    by_label = rows(
        warehouse,
        f"SELECT category, error_class, model, count(), countIf(NOT success),"
        f" countIf(NOT success AND error != error_class) FROM {db}.usage_metrics GROUP BY ALL",
    )
    reclassified = 0
    for category, error_class, model, calls, errors, relabelled in by_label:
        labels = {"category": category, "error_class": error_class, "model": model}
        assert total(scraped, "llm_calls_total", **labels) == calls
        assert total(scraped, "llm_errors_total", **labels) == errors
        assert total(scraped, "llm_reclassified_total", **labels) == relabelled
        reclassified += relabelled
    assert 0 < reclassified == total(scraped, "llm_reclassified_total")
    assert {labels for (name, labels) in scraped if name == "llm_errors_total"} <= {
        (("category", c), ("error_class", e), ("model", m)) for c, e, m, *_ in by_label
    }
