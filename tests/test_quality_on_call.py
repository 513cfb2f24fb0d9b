"""What the on-call engineer sees of quality, on scores and calls stored through the broker and the
daemon: the quality section of ``correlator incidents`` (human and JSON), of the HTML report rendered
in Chromium, and the Grafana dashboard's quality panels."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from clickhouse_connect.driver.client import Client

from correlator.commands.cli import main
from correlator.config import Settings
from correlator.devkit.demo import produce
from tests.harness import run_daemon, stored_at_least
from tests.test_incident_views import grafana_panel_rows, report_dom
from tests.test_score_drift import _series

QUALITY_KEYS = {"scores_evaluated", "pass_rate", "pass_rates", "drift_alerts", "content_failures",
                "content_failures_by_class", "safety_failures", "review_backlog"}  # fmt: skip


def _call(trace_id: str, **fields: Any) -> bytes:
    at = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
    return orjson.dumps({"timestamp": at, "success": True, "model": "gpt-test", "duration_seconds": 0.5,
                         "trace_id": trace_id, **fields})  # fmt: skip


@pytest.fixture(scope="module")
def quality_stored(module_settings: Settings, warehouse: Client) -> None:
    """Stored once for the module: the tests only read it."""
    settings = module_settings
    scores = [orjson.dumps(s) for s in _series("groundedness", "gpt-4o", 0.9, 0.6, seed=11)]
    at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    scores.append(orjson.dumps({"name": "safety", "trace_id": "t-unsafe", "value": False, "source": "judge",
                                "model": "gpt-4o", "label": "unsafe", "timestamp": at}))  # fmt: skip
    tools = [{"name": "search", "parameters": {"type": "object", "required": ["query"]}}]
    calls = [_call(f"t-cut-{i}", finish_reason="length") for i in range(3)]
    calls += [
        _call("t-tool", tools=tools, tool_calls=[{"name": "search", "arguments": "{}"}]),
        _call("t-ok", finish_reason="stop"),
    ]

    async def ingest() -> None:
        await produce(settings.kafka_bootstrap, settings.scores_topic, scores)
        await produce(settings.kafka_bootstrap, settings.metrics_topic, calls)
        await run_daemon(settings, warehouse, stored_at_least(len(scores) + len(calls)), timeout=120)

    asyncio.run(ingest())


def _incidents(settings: Settings, since: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["incidents", "--since", since, *args, "--clickhouse", settings.clickhouse_url,
                                       "--database", settings.database])  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def test_incidents_has_a_quality_section_in_json_and_at_80_columns(module_settings: Settings, quality_stored: None):
    # one window for both outputs: the judge's scores are 75 s apart, so "2h" read twice can differ by one
    since = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    section = orjson.loads(_incidents(module_settings, since, "--json"))["quality"]
    assert set(section) == QUALITY_KEYS
    alerts = {(a["name"], a["model"], a["alert"]) for a in section["drift_alerts"]}
    assert {("groundedness", "gpt-4o", "drift"), ("groundedness", "gpt-4o", "below_floor")} <= alerts
    assert {(r["error_class"], r["model"], r["failures"], tuple(r["rules"]))
            for r in section["content_failures_by_class"]} == {
        ("truncation", "gpt-test", 3, ("finish_reason.length",)),
        ("tool_call_malformed", "gpt-test", 1, ("content.tool_call_malformed",)),
    }  # fmt: skip
    assert section["content_failures"] == 4
    assert [(r["name"], r["trace_id"], r["label"]) for r in section["safety_failures"]] == [
        ("safety", "t-unsafe", "unsafe")
    ]
    rates = {(r["name"], r["model"]): r for r in section["pass_rates"]}
    # the content checks' code scores count beside the judges': three truncations out of four finish reasons
    assert (rates["truncation", "gpt-test"]["evaluated"], rates["truncation", "gpt-test"]["passed"]) == (4, 1)
    assert rates["groundedness", "gpt-4o"]["threshold"] == 0.8
    assert section["scores_evaluated"] == sum(r["evaluated"] for r in section["pass_rates"])
    backlog = section["review_backlog"]  # `correlator review list`'s queue, without its calibration sample
    assert backlog["by_reason"]["content_failure"] == 4 and backlog["by_reason"]["low_score"] > 0
    assert backlog["waiting"] == sum(backlog["by_reason"].values()) and "sampled" not in backlog["by_reason"]
    # worst first: the judge's failed safety score (a safety scorer's), then the content failures
    assert backlog["by_reason"]["safety"] == 1
    assert (backlog["worst"][0]["trace_id"], backlog["worst"][0]["reason"]) == ("t-unsafe", "safety")
    assert backlog["worst"][1]["reason"] == "content_failure"

    human = _incidents(module_settings, since)
    lines = human[human.index("quality:") :].splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert f"quality: {section['scores_evaluated']} scores evaluated" in human
    for title in ("pass rates by scorer and model", "score drift alerts", "content failures by class",
                  "safety failures", f"review backlog, {backlog['waiting']} traces"):  # fmt: skip
        assert f"quality: {title}" in human
    for value in ("below_floor", "t-unsafe", "finish_reason.length", "tool_call_malformed"):
        assert value in human


def test_the_report_renders_a_quality_section(module_settings: Settings, quality_stored: None, tmp_path: Path):
    dom = report_dom(module_settings, "24h", tmp_path)
    quality = dom[dom.index('id="quality"') :]
    chart = quality[quality.index('id="pass-rate-chart"') : quality.index('id="drift-alerts"')]
    assert 'class="main-svg"' in chart and 'class="trace scatter' in chart, "the pass-rate chart did not render"
    assert "groundedness / gpt-4o" in chart
    drift = quality[quality.index('id="drift-alerts"') : quality.index('id="pass-rates"')]
    assert "groundedness" in drift and "below_floor" in drift and ">drift<" in drift
    failures = quality[quality.index('id="content-failures"') : quality.index('id="safety-failures"')]
    assert "truncation" in failures and "finish_reason.length" in failures
    assert "t-unsafe" in quality[quality.index('id="safety-failures"') : quality.index('id="review-backlog"')]
    assert "content_failure" in quality[quality.index('id="review-backlog"') :]


def test_every_grafana_quality_panel_answers(module_settings: Settings, warehouse: Client, quality_stored: None):
    answered = grafana_panel_rows(warehouse, module_settings.database, quality=True)
    assert len(answered) == 4 and all(count > 0 for count in answered.values()), answered
