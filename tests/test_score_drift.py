"""score_drift and the scorers file, Kafka → daemon → ClickHouse: drift, floors and pass-rate drops fire
on a real fall and stay quiet on a steady scorer's sampling noise; per-scorer thresholds and floors
come from the versioned data file, in the views and in the daemon's counters."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import fmean
from typing import Any

import jsonschema
import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Settings, Thresholds
from correlator.devkit.demo import produce
from correlator.processing.scorers import SCORERS_PATH, SCORERS_SCHEMA_PATH, Scorers, ScorersError
from correlator.warehouse.migrate import migrate
from tests.conftest import rows
from tests.harness import get, run_daemon, samples, serving_daemon, stored_at_least, total, wait_until

WINDOW = timedelta(minutes=15)
PER_WINDOW = 12  # scores a 15-minute window: 24 in the 30-minute rolling window, above the 20 needed
WINDOWS = 100  # 25 hours: a full trailing day behind every window of the last hour
FALL_WINDOWS = 2  # the last 30 minutes


def _last_window() -> datetime:
    """The start of the newest complete 15-minute window."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now - timedelta(minutes=now.minute % 15) - WINDOW


def _series(
    name: str, model: str, before: float, after: float, *, seed: int, boolean: bool = False, windows: int = WINDOWS
) -> list[dict[str, Any]]:
    """A scorer's scores, ``PER_WINDOW`` a window: binomial noise around ``before``, then ``after`` in the last
    :data:`FALL_WINDOWS` windows. NUMERIC values are tenths (a judge's 10 yes/no questions)."""
    rng = random.Random(seed)
    last = _last_window()
    scores = []
    for index in range(windows):
        start = last - (windows - 1 - index) * WINDOW
        p = after if index >= windows - FALL_WINDOWS else before
        for k in range(PER_WINDOW):
            value: float | bool = rng.random() < p if boolean else sum(rng.random() < p for _ in range(10)) / 10
            scores.append({
                "name": name, "trace_id": f"{name}-{model}-{index}-{k}", "value": value, "source": "judge",
                "model": model, "prompt_version": "v1",
                "timestamp": (start + k * WINDOW / PER_WINDOW + timedelta(seconds=1)).isoformat(),
            })  # fmt: skip
    return scores


def _newest_window(scores: list[dict[str, Any]]) -> datetime:
    """The last window of a series as it was made: a clock that crossed a window since reads the same data."""
    newest = datetime.fromisoformat(max(score["timestamp"] for score in scores))
    return newest.replace(minute=newest.minute - newest.minute % 15, second=0, microsecond=0)


def _deliver(settings: Settings, warehouse: Client, scores: list[dict[str, Any]]) -> None:
    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, settings.scores_topic, [orjson.dumps(s) for s in scores])
        await run_daemon(settings, warehouse, stored_at_least(len(scores)), timeout=120)

    asyncio.run(scenario())


def _drift(warehouse: Client, db: str, since: datetime) -> list[dict[str, Any]]:
    result = warehouse.query(
        f"SELECT * FROM {db}.score_drift(since = {{s:DateTime64(6)}})", parameters={"s": since.replace(tzinfo=None)}
    )
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def _naive_drops(scores: list[dict[str, Any]], min_drop: float) -> int:
    """Windows whose 30-minute mean is under the day before it by more than ``min_drop``: what a bare
    threshold, with no regard for the window's standard error, would alert on."""
    by_window: dict[int, list[float]] = {}
    for index, score in enumerate(scores):
        by_window.setdefault(index // PER_WINDOW, []).append(float(score["value"]))
    drops = 0
    for w in range(10, len(by_window)):  # a baseline of 8 windows and more, up to the day before
        rolling = by_window[w - 1] + by_window[w]
        baseline = [v for b in range(max(0, w - 97), w - 1) for v in by_window[b]]
        drops += fmean(baseline) - fmean(rolling) > min_drop
    return drops


def test_drift_floor_and_pass_rate_drop_fire_on_a_real_fall_and_not_on_a_steady_noisy_scorer(
    settings: Settings, warehouse: Client
):
    falling = _series("groundedness", "gpt-4o", 0.9, 0.6, seed=1)
    wrong = _series("answer_correct", "gpt-4o", 0.9, 0.4, seed=2, boolean=True)
    steady = [
        _series("groundedness", "claude", 0.9, 0.9, seed=3),
        _series("relevance", "claude", 0.85, 0.85, seed=4),
        _series("answer_correct", "claude", 0.9, 0.9, seed=5, boolean=True),
    ]
    _deliver(settings, warehouse, [*falling, *wrong, *(s for series in steady for s in series)])
    newest = _newest_window(falling)

    # the steady scorers' noise crosses the bare 0.03 drop again and again: only the test on the
    # window's standard error keeps them quiet
    assert sum(_naive_drops(series, Thresholds().drift_min_drop) for series in steady) >= 10
    fall = newest - (FALL_WINDOWS - 1) * WINDOW
    alerts = _drift(warehouse, settings.database, fall - timedelta(hours=6))
    assert {(a["name"], a["model"]) for a in alerts} == {("groundedness", "gpt-4o"), ("answer_correct", "gpt-4o")}
    assert all(a["window"].replace(tzinfo=UTC) >= fall for a in alerts), "alerts only once the fall began"

    last = {(a["name"], a["alert"]): a for a in alerts if a["window"].replace(tzinfo=UTC) == newest}
    assert {"drift", "below_floor", "pass_rate_drop"} <= {alert for name, alert in last if name == "groundedness"}
    assert ("answer_correct", "pass_rate_drop") in last
    assert ("answer_correct", "drift") not in last, "a BOOLEAN scorer's drop is its pass rate's"
    drift = last["groundedness", "drift"]
    assert drift["evaluated"] == drift["scored"] == 2 * PER_WINDOW
    assert drift["mean"] == pytest.approx(0.6, abs=0.1) and drift["baseline"] == pytest.approx(0.9, abs=0.02)
    assert drift["shortfall"] > max(0.03, 3 * drift["standard_error"])
    assert last["groundedness", "below_floor"]["floor"] == 0.8
    assert drift["scorers_version"] == "scorers-2"


def test_the_scorers_file_sets_thresholds_and_floors_in_the_views(
    settings: Settings, warehouse: Client, tmp_path: Path
):
    db = settings.database
    scores = _series("relevance", "claude", 0.85, 0.85, seed=6, windows=4)
    _deliver(settings, warehouse, scores)
    since = _newest_window(scores) - 3 * WINDOW

    def pass_rates() -> list[tuple[Any, ...]]:
        return rows(warehouse, f"SELECT sum(evaluated), sum(passed), any(threshold) FROM {db}.eval_pass_rate("
                    f"since = {{s:DateTime64(6)}}) WHERE name = 'relevance'", s=since.replace(tzinfo=None))  # fmt: skip

    values = [s["value"] for s in scores]
    # the shipped file: relevance passes at 0.70, and has no floor
    assert pass_rates() == [(48, sum(v >= 0.7 for v in values), 0.7)]
    assert _drift(warehouse, db, since) == []

    custom = tmp_path / "scorers.json"
    custom.write_text(
        orjson.dumps({"version": "team-2", "scorers": {"relevance": {"pass_threshold": 0.9, "floor": 0.9}}}).decode()
    )
    migrate(warehouse, db, retention_days=30, scorers=Scorers.from_file(custom))
    assert pass_rates() == [(48, sum(v >= 0.9 for v in values), 0.9)]
    floors = _drift(warehouse, db, since)
    assert {(a["name"], a["alert"], a["floor"], a["scorers_version"]) for a in floors} == {
        ("relevance", "below_floor", 0.9, "team-2")
    }
    # the file's threshold wins over --eval-pass-threshold, which is for the scorers it does not name
    migrate(warehouse, db, retention_days=30, thresholds=Thresholds(eval_pass_threshold=0.5), scorers=None)
    assert pass_rates()[0][2] == 0.7


def test_the_daemon_counts_scores_with_the_scorers_file_over_http(settings: Settings, warehouse: Client,
                                                                 tmp_path: Path):  # fmt: skip
    custom = tmp_path / "scorers.json"
    custom.write_text(
        orjson.dumps(
            {"version": "t", "scorers": {"relevance": {"pass_threshold": 0.5}, "pii_leak": {"safety": True}}}
        ).decode()
    )
    settings = replace(settings, scorers_file=custom)
    at = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    scores = [
        {"name": "relevance", "trace_id": "t1", "value": 0.6, "source": "judge", "model": "gpt-4o", "timestamp": at},
        {"name": "relevance", "trace_id": "t2", "value": 0.4, "source": "judge", "model": "gpt-4o", "timestamp": at},
        {"name": "groundedness", "trace_id": "t1", "value": 0.75, "source": "judge", "model": "gpt-4o",
         "timestamp": at},
        {"name": "pii_leak", "trace_id": "t2", "value": False, "source": "code", "model": "gpt-4o", "timestamp": at},
        {"name": "tone", "trace_id": "t3", "value": "formal", "source": "human", "timestamp": at},
    ]  # fmt: skip

    async def scenario() -> str:
        await produce(settings.kafka_bootstrap, settings.scores_topic, [orjson.dumps(s) for s in scores])
        async with serving_daemon(settings, warehouse) as (daemon, url):

            async def stored() -> bool:
                return daemon.counters.rows >= len(scores)

            await wait_until(stored, 60, "the scores to be stored")
            return (await get(f"{url}/metrics"))[1]

    scraped = samples(asyncio.run(scenario()))
    judged = {"source": "judge", "model": "gpt-4o", "safety": "false"}
    assert total(scraped, "correlator_scores_total", name="relevance", outcome="pass", **judged) == 1  # 0.6 ≥ 0.5
    assert total(scraped, "correlator_scores_total", name="relevance", outcome="fail", **judged) == 1
    # groundedness is not named for a threshold in this file: the default 0.80
    assert total(scraped, "correlator_scores_total", name="groundedness", outcome="fail", **judged) == 1
    assert total(scraped, "correlator_scores_total", name="pii_leak", outcome="fail", safety="true") == 1
    assert total(scraped, "correlator_scores_total", name="tone", outcome="none", source="human", model="") == 1
    assert total(scraped, "correlator_score_values_count", name="relevance") == 2
    assert total(scraped, "correlator_score_values_sum", name="relevance") == pytest.approx(1.0)
    assert total(scraped, "correlator_score_values_count", name="pii_leak") == 0, "only NUMERIC values"


def test_the_shipped_scorers_file_is_valid_against_its_schema():
    schema = orjson.loads(SCORERS_SCHEMA_PATH.read_bytes())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(orjson.loads(SCORERS_PATH.read_bytes()))
    scorers = Scorers.from_file()
    assert scorers.scorers["groundedness"].floor == 0.8
    assert scorers.pass_threshold("relevance") == 0.7 and scorers.pass_threshold("unnamed") == 0.8


@pytest.mark.parametrize(
    ("document", "refused"),
    [
        ({"scorers": {}}, 'at the top level: "version" is a required property'),
        ({"version": "1", "scorers": {"groundedness": {"flor": 0.8}}}, "at scorers/groundedness: Additional"),
        ({"version": "1", "scorers": {"groundedness": {"floor": "0.8"}}}, "at scorers/groundedness/floor"),
        ({"version": "1", "scorers": {"it's": {"floor": 0.8}}}, "does not match"),
        ({"version": "1", "scorers": {"relevance": {}}}, "at scorers/relevance"),
        ({"version": "1", "scorers": {"toxicity": {"direction": "down"}}}, "at scorers/toxicity/direction"),
        # the default threshold is a higher-is-better bar: a lower-is-better scorer names its own
        ({"version": "1", "scorers": {"toxicity": {"direction": "lower"}}}, '"pass_threshold" is a required'),
    ],
)
def test_a_scorers_file_off_its_schema_is_refused_at_load_saying_where(document: Any, refused: str):
    with pytest.raises(ScorersError, match=refused.replace("(", r"\(")):
        Scorers.from_document(document)


def test_migrate_takes_the_scorers_file_from_its_flag_and_refuses_a_bad_one(
    settings: Settings, warehouse: Client, tmp_path: Path
):
    from click.testing import CliRunner

    from correlator.commands.cli import main

    def migrate_with(document: dict[str, Any]) -> tuple[int, str]:
        path = tmp_path / "scorers.json"
        path.write_text(orjson.dumps(document).decode())
        result = CliRunner().invoke(main, ["migrate", "--scorers", str(path), "--clickhouse", settings.clickhouse_url,
                                           "--database", settings.database])  # fmt: skip
        return result.exit_code, result.output

    assert migrate_with({"version": "cli-1", "scorers": {"groundedness": {"floor": 0.95}}})[0] == 0
    view = rows(warehouse, "SELECT create_table_query FROM system.tables WHERE database = {db:String} "
                "AND name = 'score_drift'", db=settings.database)[0][0]  # fmt: skip
    assert "'cli-1'" in view and "0.95" in view
    code, output = migrate_with({"version": "cli-2", "scorers": {"groundedness": {"flor": 0.95}}})
    assert code == 1 and "scorers file, at scorers/groundedness" in output and "flor" in output
