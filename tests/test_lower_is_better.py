"""Lower-is-better NUMERIC scorers (a `direction` of `lower` in the scorers file: toxicity, hallucination_rate),
Kafka → daemon → ClickHouse: they pass at or below their threshold in eval_pass_rate and the daemon's
counters, drift when their mean rises (not when it falls), break their floor from above, and rank by how
bad they are in the review queue."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator.commands.review import review_queue
from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.processing.scorers import NUMERIC, Scorers
from tests.conftest import rows
from tests.harness import get, samples, serving_daemon, total, wait_until
from tests.test_score_drift import FALL_WINDOWS, PER_WINDOW, WINDOW, _deliver, _drift, _newest_window, _series


def test_a_lower_is_better_scorer_drifts_on_a_rise_breaks_its_floor_from_above_and_passes_below_its_threshold(
    settings: Settings, warehouse: Client
):
    db = settings.database
    rising = _series("hallucination_rate", "gpt-4o", 0.1, 0.45, seed=7)
    # a fall of a lower-is-better score is the model getting better: read higher-is-better, it is a drift
    improving = _series("hallucination_rate", "claude", 0.15, 0.02, seed=8)
    steady = _series("toxicity", "gpt-4o", 0.05, 0.05, seed=9)
    _deliver(settings, warehouse, [*rising, *improving, *steady])
    newest = _newest_window(rising)

    fall = newest - (FALL_WINDOWS - 1) * WINDOW
    alerts = _drift(warehouse, db, fall - timedelta(hours=6))
    assert {(a["name"], a["model"]) for a in alerts} == {("hallucination_rate", "gpt-4o")}
    last = {a["alert"]: a for a in alerts if a["window"].replace(tzinfo=UTC) == newest}
    assert {"drift", "below_floor", "pass_rate_drop"} <= set(last)
    drift = last["drift"]
    assert drift["mean"] == pytest.approx(0.45, abs=0.1) and drift["baseline"] == pytest.approx(0.1, abs=0.02)
    assert drift["shortfall"] == pytest.approx(drift["mean"] - drift["baseline"])  # how far it rose
    assert drift["shortfall"] > max(0.03, 3 * drift["standard_error"])
    assert last["below_floor"]["floor"] == 0.3 and last["below_floor"]["mean"] > 0.3

    since = newest - 3 * WINDOW
    passed = rows(warehouse, f"SELECT sum(evaluated), sum(passed), any(threshold) FROM {db}.eval_pass_rate("
                  f"since = {{s:DateTime64(6)}}) WHERE name = 'toxicity'", s=since.replace(tzinfo=None))  # fmt: skip
    recent = [s["value"] for s in steady[-4 * PER_WINDOW :]]
    assert passed == [(4 * PER_WINDOW, sum(v <= 0.1 for v in recent), 0.1)]
    assert 0 < passed[0][1] < 4 * PER_WINDOW, "some of each, so the direction shows"


def _score(trace_id: str, name: str, value: float) -> bytes:
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return orjson.dumps({"name": name, "trace_id": trace_id, "value": value, "source": "judge", "model": "gpt-4o",
                         "timestamp": at})  # fmt: skip


def _served(settings: Settings, warehouse: Client, values: list[bytes]) -> str:
    """Deliver the scores to a serving daemon; what its /metrics says once they are stored."""

    async def scenario() -> str:
        await produce(settings.kafka_bootstrap, settings.scores_topic, values)
        async with serving_daemon(settings, warehouse) as (daemon, url):

            async def stored() -> bool:
                return daemon.counters.rows >= len(values)

            await wait_until(stored, 60, "the scores to be stored")
            return (await get(f"{url}/metrics"))[1]

    return asyncio.run(scenario())


def test_the_review_queue_and_safety_failures_read_a_lower_is_better_score_the_right_way_up(
    settings: Settings, warehouse: Client
):
    db = settings.database
    values = [_score("toxic", "toxicity", 0.6), _score("clean", "toxicity", 0.02),
              _score("hallucinating", "hallucination_rate", 0.9), _score("ungrounded", "groundedness", 0.5),
              _score("honest", "hallucination_rate", 0.1)]  # fmt: skip

    _served(settings, warehouse, values)
    since = datetime.now(UTC) - timedelta(hours=1)
    queue = review_queue(warehouse, db, since, sample_rate=0.0)
    # worst first: the safety failure, then hallucination_rate 0.9 (as bad as 0.1 of a higher-is-better score)
    # before groundedness 0.5; 0.02 toxicity and 0.1 hallucination_rate pass and stay out
    assert [(item["trace_id"], item["reason"]) for item in queue] == [
        ("toxic", "safety"),
        ("hallucinating", "low_score"),
        ("ungrounded", "low_score"),
    ]
    failures = rows(warehouse, f"SELECT trace_id, name FROM {db}.safety_failures(since = {{s:DateTime64(6)}})",
                    s=since.replace(tzinfo=None))  # fmt: skip
    assert failures == [("toxic", "toxicity")]


def test_the_daemon_counts_a_lower_is_better_score_as_the_views_judge_it(settings: Settings, warehouse: Client):
    values = [_score("a", "toxicity", 0.05), _score("b", "toxicity", 0.4), _score("c", "hallucination_rate", 0.2)]

    scraped = samples(_served(settings, warehouse, values))
    toxicity: dict[str, Any] = {"name": "toxicity", "source": "judge", "model": "gpt-4o", "safety": "true"}
    assert total(scraped, "correlator_scores_total", outcome="pass", **toxicity) == 1  # 0.05 ≤ 0.10
    assert total(scraped, "correlator_scores_total", outcome="fail", **toxicity) == 1  # 0.4 > 0.10
    assert total(scraped, "correlator_scores_total", name="hallucination_rate", outcome="pass") == 1  # at 0.20
    scorers = Scorers.from_file()
    assert scorers.passes("toxicity", NUMERIC, 0.1, "") and not scorers.passes("groundedness", NUMERIC, 0.1, "")
