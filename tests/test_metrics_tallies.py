"""The series the daemon tallies itself (runtime/ops/tallies.py) render as prometheus_client's own would.

End to end: the daemon stores a known stream from the real broker into the embedded engine,
and ``/metrics`` gives, series for series, the counts and TTFT histograms the stored rows
imply, computed here from the warehouse with no code of the daemon's. Beside it, the
collectors against prometheus_client's own ``Counter`` and ``Histogram`` fed the same values,
and scrapes from another thread while batches are folded in.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import orjson
import pytest
from clickhouse_connect.driver.client import Client
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    enable_created_metrics,
    generate_latest,
)
from prometheus_client.parser import text_string_to_metric_families

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import mixed_workload
from correlator.runtime.ops.metrics import TTFT_SECONDS_BUCKETS
from correlator.runtime.ops.tallies import TalliedCounter, TalliedHistogram
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import get, samples, serving_daemon, wait_until

Scraped = dict[tuple[str, tuple[tuple[str, str], ...]], float]
# at bucket bounds (le includes them), between them and past the last one (only +Inf)
EDGE_TTFT_MS = [50.0, 50.1, 500.0, 499.9, 5000.0, 30000.0, 45000.0, 0.0]


def _edge_calls() -> list[bytes]:
    """Calls whose times sit at and around the bucket bounds, failures relabelled as stored, a content failure."""
    at = hours_ago(1)
    edge = [
        {"success": True, "model": "edge-model", "duration_seconds": 50.0, "ttft_ms": ms, "finish_reason": "stop"}
        for ms in EDGE_TTFT_MS
    ]
    relabelled = [
        {"success": False, "model": "gpt-4o", "duration_seconds": 1.5, "error": "unknown", "error_id": f"{n:012x}",
         "error_detail": "openai.RateLimitError: Error code: 429 - rate_limit_exceeded"}
        for n in range(3)
    ]  # fmt: skip
    cut_off = [{"success": True, "model": "gpt-4o", "duration_seconds": 2.0, "finish_reason": "length"}]
    return [
        orjson.dumps({"timestamp": (at + timedelta(seconds=n)).isoformat(), **call})
        for n, call in enumerate(edge + relabelled + cut_off)
    ]


def _series(scraped: Scraped, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (sample, labels), value in scraped.items() if sample == name}


def test_metrics_render_the_counts_and_ttft_histograms_the_stored_rows_imply(settings: Settings, warehouse: Client):
    calls = mixed_workload(300, failure_share=0.3, seed=23).metrics + _edge_calls()

    async def scenario() -> str:
        async with serving_daemon(settings, warehouse) as (daemon, base):
            await produce(settings.kafka_bootstrap, settings.metrics_topic, calls)

            async def stored() -> bool:
                return daemon.counters.rows >= len(calls)

            await wait_until(stored, timeout=60, what="the calls to be stored")
            status, text = await get(base + "/metrics")
            assert status == 200
            return text

    text = asyncio.run(scenario())
    scraped = samples(text)
    db = settings.database
    stored = rows(
        warehouse,
        f"SELECT category, error_class, model, success, error, ttft_ms, attributes['content_failure'] != '', rule"
        f" FROM {db}.usage_metrics",
    )
    assert len(stored) == len(calls)

    expected_calls: dict[tuple[tuple[str, str], ...], float] = {}
    expected_errors: dict[tuple[tuple[str, str], ...], float] = {}
    expected_reclassified: dict[tuple[tuple[str, str], ...], float] = {}
    expected_content_failures: dict[tuple[tuple[str, str], ...], float] = {}
    for category, error_class, model, success, error, _, content_failure, rule in stored:
        labels = (("category", category), ("error_class", error_class), ("model", model))
        expected_calls[labels] = expected_calls.get(labels, 0) + 1
        if not success:
            expected_errors[labels] = expected_errors.get(labels, 0) + 1
            if error != error_class:
                expected_reclassified[labels] = expected_reclassified.get(labels, 0) + 1
            if content_failure:
                with_rule = (*labels, ("rule", rule))
                expected_content_failures[with_rule] = expected_content_failures.get(with_rule, 0) + 1
    assert _series(scraped, "llm_calls_total") == expected_calls
    assert _series(scraped, "llm_errors_total") == expected_errors
    assert _series(scraped, "llm_reclassified_total") == expected_reclassified
    assert _series(scraped, "correlator_content_failures_total") == expected_content_failures
    # the stream really had failures, some relabelled as stored, and a call that failed its content check
    assert expected_errors and expected_reclassified and expected_content_failures

    # the histogram per model: every bound counts the times at or below it
    ttft_by_model: dict[str, list[float]] = {}
    for _, _, model, _, _, ttft_ms, *_ in stored:
        if ttft_ms is not None:
            ttft_by_model.setdefault(model, []).append(ttft_ms / 1000)
    assert set(ttft_by_model) >= {"edge-model", "gpt-4o"}
    buckets = _series(scraped, "llm_time_to_first_token_seconds_bucket")
    for model, seconds in ttft_by_model.items():
        for bound in (*TTFT_SECONDS_BUCKETS, float("inf")):
            le = "+Inf" if bound == float("inf") else str(bound)
            key = (("le", le), ("model", model))
            assert buckets[key] == sum(1 for value in seconds if value <= bound), (model, le)
        assert scraped[("llm_time_to_first_token_seconds_count", (("model", model),))] == len(seconds)
        assert scraped[("llm_time_to_first_token_seconds_sum", (("model", model),))] == pytest.approx(sum(seconds))
    assert {dict(labels)["model"] for labels in buckets} == set(ttft_by_model)  # no model without a time
    edge = {dict(labels)["le"]: value for labels, value in buckets.items() if ("model", "edge-model") in labels}
    assert (edge["0.05"], edge["0.5"], edge["5.0"], edge["30.0"], edge["+Inf"]) == (2, 5, 6, 7, 8)

    # the content checks' code scores, as the engine copied them into content_checks
    checks = rows(
        warehouse,
        f"SELECT name, model, if(ok, 'pass', 'fail'), count() FROM {db}.content_checks"
        f" ARRAY JOIN names AS name, passed AS ok GROUP BY ALL",
    )
    assert checks
    scores = _series(scraped, "correlator_scores_total")
    assert sum(scores.values()) == sum(count for *_, count in checks)
    for name, model, outcome, count in checks:
        wanted = {("name", name), ("model", model), ("outcome", outcome), ("source", "code")}
        assert sum(value for labels, value in scores.items() if wanted <= set(labels)) == count

    # the families as prometheus_client's own classes declare them, each series with its _created sample
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert {name: families[name].type for name in ("llm_calls", "llm_errors", "llm_reclassified",
            "correlator_scores", "correlator_content_failures", "llm_time_to_first_token_seconds")} == {
        "llm_calls": "counter", "llm_errors": "counter", "llm_reclassified": "counter",
        "correlator_scores": "counter", "correlator_content_failures": "counter",
        "llm_time_to_first_token_seconds": "histogram",
    }  # fmt: skip
    assert set(_series(scraped, "llm_calls_created")) == set(expected_calls)
    assert {labels for labels in _series(scraped, "llm_time_to_first_token_seconds_created")} == {
        (("model", model),) for model in ttft_by_model
    }


LABELS = ("model",)
BATCHES: list[dict[tuple[str, ...], list[float]]] = [
    {("gpt-4o",): [0.05, 0.3, 7.5, 31.0, 0.0], ("claude",): [0.5]},
    {("claude",): [5.0, 0.05000001, 0.1], ("gemini",): [2.4999]},
    {},
    {("gpt-4o",): [1.0, 1.0, 10.0]},
]


def _without_created_values(exposition: bytes) -> list[bytes]:
    return [line.rsplit(b" ", 1)[0] if b"_created" in line else line for line in exposition.splitlines()]


def _render_both(created: bool) -> tuple[bytes, bytes]:
    """The same batches through the tallied collectors and through prometheus_client's own classes."""
    ours, theirs = CollectorRegistry(auto_describe=True), CollectorRegistry(auto_describe=True)
    if not created:
        disable_created_metrics()
    try:
        counter = TalliedCounter("demo_calls_total", "Calls", LABELS, registry=ours)
        histogram = TalliedHistogram("demo_ttft_seconds", "TTFT", LABELS, TTFT_SECONDS_BUCKETS, registry=ours)
        library_counter = Counter("demo_calls_total", "Calls", LABELS, registry=theirs)
        library_histogram = Histogram("demo_ttft_seconds", "TTFT", LABELS, buckets=TTFT_SECONDS_BUCKETS,
                                      registry=theirs)  # fmt: skip
        for batch in BATCHES:
            counter.add({labels: len(values) for labels, values in batch.items()} | {("unseen",): 0})
            histogram.observe(batch)
            for labels, values in batch.items():
                library_counter.labels(*labels).inc(len(values))
                for value in values:
                    library_histogram.labels(*labels).observe(value)
        return generate_latest(ours), generate_latest(theirs)
    finally:
        enable_created_metrics()


@pytest.mark.parametrize("created", [True, False])
def test_the_tallied_collectors_render_what_prometheus_clients_own_classes_render(created: bool):
    ours, theirs = _render_both(created)
    assert _without_created_values(ours) == _without_created_values(theirs)
    assert (b"_created{" in ours) is created
    assert b'demo_ttft_seconds_bucket{le="+Inf",model="gpt-4o"} 8.0' in ours
    assert b"unseen" not in ours  # a label set counted zero times is no series, as with inc never called


def test_a_scrape_on_another_thread_sees_whole_batches_only():
    registry = CollectorRegistry(auto_describe=True)
    counter = TalliedCounter("demo_calls_total", "Calls", LABELS, registry=registry)
    histogram = TalliedHistogram("demo_ttft_seconds", "TTFT", LABELS, TTFT_SECONDS_BUCKETS, registry=registry)
    batch, batches = 1_000, 1_000
    done = threading.Event()
    seen: list[tuple[float, float, float]] = []

    def scrape() -> None:
        while not done.is_set():
            seen.append(_calls_inf_and_count(generate_latest(registry).decode()))

    scraper = threading.Thread(target=scrape)
    scraper.start()
    try:
        for n in range(batches):
            counter.add({(f"model-{n % 7}",): batch})
            histogram.observe({(f"model-{n % 7}",): [0.001 * k for k in range(batch)]})
    finally:
        done.set()
        scraper.join()
    final = batch * batches
    assert _calls_inf_and_count(generate_latest(registry).decode()) == (final, final, final)
    assert any(0 < count < final for _, _, count in seen)  # the scrapes really ran while batches were folded in
    assert all(calls % batch == 0 and inf == count and count % batch == 0 for calls, inf, count in seen)


def _calls_inf_and_count(exposition: str) -> tuple[float, float, float]:
    """One scrape's totals over every model: calls counted, the +Inf buckets, observations."""
    scraped = samples(exposition)
    calls = sum(_series(scraped, "demo_calls_total").values())
    inf = sum(
        value for labels, value in _series(scraped, "demo_ttft_seconds_bucket").items() if ("le", "+Inf") in labels
    )
    return calls, inf, sum(_series(scraped, "demo_ttft_seconds_count").values())
