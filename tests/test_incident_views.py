"""Incident views on data seeded through the daemon: what must and must not be flagged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import render_log
from correlator.emit import new_error_id
from tests.chromium import rendered_report
from tests.conftest import rows
from tests.harness import run_daemon, stored_at_least

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
SPIKE_START = NOW - timedelta(hours=3)  # on a 5-minute boundary


class RateLimitError(Exception):
    pass


class APITimeoutError(Exception):
    pass


def _raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:
        return caught


def _call(at: datetime, model: str, failed: bool, cost: float = 0.0, service: str = "agent-runner", **extra) -> bytes:
    row = {"timestamp": at.isoformat(), "success": not failed, "model": model, "duration_seconds": 1.0,
           "cost_usd": cost, "service": service, **extra}  # fmt: skip
    if failed:
        row.update(error="unknown", error_id=extra.get("error_id") or new_error_id())
    return orjson.dumps(row)


def _windows(model: str, first: datetime, error_counts: list[int]) -> list[bytes]:
    """One 5-minute window per entry: 100 calls, that many of them failed."""
    values = []
    for index, errors in enumerate(error_counts):
        start = first + timedelta(minutes=5 * index)
        values += [_call(start + timedelta(seconds=2 * i), model, failed=i < errors) for i in range(100)]
    return values


@pytest.fixture(scope="module")
def seeded(module_settings: Settings, warehouse: Client) -> dict:
    """Stored once for the module: the tests that take it only read it."""
    settings = module_settings
    metrics = _windows("gpt-4o", SPIKE_START, [1] * 12 + [3, 3, 3, 6, 6, 6, 1])
    metrics += _windows("gpt-4o-mini", SPIKE_START, [1] * 24 + [8])
    metrics += _windows("gpt-4o-nano", SPIKE_START, [1] * 24 + [4])  # 4 % but only 4 errors: no alert
    cost_start = NOW - timedelta(hours=60)
    for hour in range(48):
        metrics += [
            _call(cost_start + timedelta(hours=hour, minutes=i), "claude-sonnet-4", False, 0.10) for i in range(10)
        ]
    for hour, calls in ((48, 25), (49, 40), (50, 15)):
        metrics += [
            _call(cost_start + timedelta(hours=hour, seconds=i), "claude-sonnet-4", False, 0.10) for i in range(calls)
        ]

    trace = "7" * 32
    failures = {
        "rl_1": (NOW - timedelta(minutes=50), RateLimitError(
            "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29950, "
            "Requested 1200. request_id=req_8f3a2b1c9d")),
        "rl_2": (NOW - timedelta(minutes=40), RateLimitError(
            "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29001, "
            "Requested 800. request_id=req_1b2c3d4e5f")),
        "timeout_old": (NOW - timedelta(days=2), APITimeoutError("Request timed out.")),
        "timeout_new": (NOW - timedelta(minutes=55), APITimeoutError("Request timed out.")),
    }  # fmt: skip
    ids = {name: new_error_id() for name in failures}
    logs = [
        render_log("LLM chat interaction failed", "error", at, _raised(exc), error_id=ids[name], trace_id=trace,
                   model="gpt-4o", service="agent-runner")
        for name, (at, exc) in failures.items()
    ]  # fmt: skip

    async def ingest() -> None:
        await produce(settings.kafka_bootstrap, settings.metrics_topic, metrics)
        await produce(settings.kafka_bootstrap, settings.logs_topic, logs)
        await run_daemon(settings, warehouse, stored_at_least(len(metrics) + len(logs)), timeout=120)

    asyncio.run(ingest())
    return {"ids": ids, "trace": trace, "cost_start": cost_start}


def test_error_spikes_flag_sustained_rates_and_jumps_only(module_settings: Settings, warehouse: Client, seeded: dict):
    since = (SPIKE_START - timedelta(days=1)).replace(tzinfo=None)
    alerts = rows(
        warehouse,
        f"SELECT window, model, alert FROM {module_settings.database}.error_spikes(since = {{since:DateTime64(6)}}) "
        f"ORDER BY model, window",
        since=since,
    )
    window = lambda index: (SPIKE_START + timedelta(minutes=5 * index)).replace(tzinfo=None)  # noqa: E731
    assert alerts == [
        (window(14), "gpt-4o", "warn"),
        (window(15), "gpt-4o", "warn"),
        (window(16), "gpt-4o", "warn"),
        (window(17), "gpt-4o", "page"),
        (window(24), "gpt-4o-mini", "jump"),
    ]


def test_cost_anomalies_flag_a_runaway_hour_against_the_trailing_week(
    module_settings: Settings, warehouse: Client, seeded: dict
):
    hour = lambda index: (seeded["cost_start"] + timedelta(hours=index)).replace(tzinfo=None)  # noqa: E731
    since = seeded["cost_start"].replace(tzinfo=None)
    assert rows(
        warehouse,
        f"SELECT hour, model, service, round(cost_usd, 2), alert "
        f"FROM {module_settings.database}.cost_anomalies(since = {{since:DateTime64(6)}}) ORDER BY hour",
        since=since,
    ) == [
        (hour(48), "claude-sonnet-4", "agent-runner", 2.5, "warn"),
        (hour(49), "claude-sonnet-4", "agent-runner", 4.0, "page"),
    ]


def test_error_groups_fingerprint_the_root_cause_not_the_ids(
    module_settings: Settings, warehouse: Client, seeded: dict
):
    ids = seeded["ids"]
    since = (NOW - timedelta(days=1)).replace(tzinfo=None)
    groups = rows(
        warehouse,
        f"SELECT root_cause_type, failures, is_new, arraySort(example_error_ids), message_template, example_message "
        f"FROM {module_settings.database}.error_groups(since = {{since:DateTime64(6)}}) ORDER BY root_cause_type",
        since=since,
    )
    assert [(g[0], g[1], g[2], g[3]) for g in groups] == [
        ("APITimeoutError", 1, 0, [ids["timeout_new"]]),
        ("RateLimitError", 2, 1, sorted([ids["rl_1"], ids["rl_2"]])),
    ]
    assert "<n>" in groups[1][4] and "<id>" in groups[1][4] and "29950" not in groups[1][4]
    # beside the fingerprint, a real message of the group: the numbers and ids an engineer would search for
    assert ("Used 29950" in groups[1][5] or "Used 29001" in groups[1][5]) and "<" not in groups[1][5]


def test_first_failures_point_at_where_the_trace_went_wrong(module_settings: Settings, warehouse: Client, seeded: dict):
    assert rows(
        warehouse,
        f"SELECT error_id, root_cause_type, failures_in_trace FROM {module_settings.database}.first_failures "
        f"WHERE trace_id = {{t:String}}",
        t=seeded["trace"],
    ) == [(seeded["ids"]["timeout_old"], "APITimeoutError", 4)]


def test_incidents_command_reports_groups_spikes_and_cost_anomalies(
    module_settings: Settings, warehouse: Client, seeded: dict
):
    from click.testing import CliRunner

    from correlator.commands.cli import main

    warehouse_options = ["--clickhouse", module_settings.clickhouse_url, "--database", module_settings.database]
    result = CliRunner().invoke(main, ["incidents", "--since", "4h", "--json", *warehouse_options])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert [(s["model"], s["alert"]) for s in report["spikes"]] == [
        ("gpt-4o-mini", "jump"), ("gpt-4o", "page"), ("gpt-4o", "warn"), ("gpt-4o", "warn"), ("gpt-4o", "warn")
    ]  # fmt: skip
    assert [c["alert"] for c in report["cost_anomalies"]] == []  # the runaway hours are 11-12 hours ago
    assert {g["root_cause_type"] for g in report["new_groups"]} == {"RateLimitError"}
    assert {g["root_cause_type"] for g in report["top_groups"]} == {"RateLimitError", "APITimeoutError"}


def report_dom(settings: Settings, since: str, tmp_path) -> str:
    """``correlator report --since`` as headless Chromium renders it: the DOM a person would see."""
    return rendered_report(settings, tmp_path, "--since", since)


def test_report_is_one_self_contained_file_that_renders_in_chromium(
    module_settings: Settings, warehouse: Client, seeded: dict, tmp_path
):
    dom = report_dom(module_settings, "3d", tmp_path)
    charts = ["error-rate-chart", "latency-chart", "cost-chart"]
    positions = [dom.index(f'id="{chart}"') for chart in charts] + [dom.index('id="latency-table"')]
    for chart, start, end in zip(charts, positions, positions[1:], strict=False):
        assert 'class="main-svg"' in dom[start:end], f"{chart} did not render"
        assert 'class="trace scatter' in dom[start:end] or 'class="trace bars' in dom[start:end], chart
    rendered_rates = dom[positions[0] : positions[1]]
    assert "gpt-4o" not in rendered_rates  # the error-rate chart is by class, not by model
    assert "unknown" in rendered_rates  # the seeded spikes are metrics rows with no log line: still unknown
    root_causes = dom[dom.index('id="root-causes"') :]
    assert seeded["ids"]["rl_1"] in root_causes and seeded["ids"]["rl_2"] in root_causes
    assert "RateLimitError" in root_causes


def test_a_report_with_a_single_hourly_point_draws_its_axis_over_the_window(
    settings: Settings, warehouse: Client, tmp_path
):
    import re

    ends = asyncio.run(produce(settings.kafka_bootstrap, settings.metrics_topic,
                               [_call(NOW - timedelta(minutes=30), "gpt-4o", failed=False, cost=0.2)]))  # fmt: skip
    asyncio.run(run_daemon(settings, warehouse, stored_at_least(sum(ends.values()))))
    dom = report_dom(settings, "24h", tmp_path)
    latency = dom[dom.index('id="latency-chart"') : dom.index('id="cost-chart"')]
    ticks = re.findall(r'class="xtick"><text[^>]*>([^<]+)', latency)
    # a day's window in hours, not one instant in milliseconds (06:59:59.999 to 07:00:00.001)
    assert len(ticks) >= 3 and not any(re.search(r"\d\.\d{3}", tick) for tick in ticks), ticks


def grafana_panel_rows(warehouse: Client, database: str, quality: bool) -> dict[str, int]:
    """Rows each panel's query answers (the quality panels, or the others), Grafana's ClickHouse macros
    replaced by what the plugin expands them to, for the last 3 days."""
    import re
    from pathlib import Path

    dashboard = orjson.loads((Path(__file__).parents[1] / "deploy/grafana/correlator-dashboard.json").read_bytes())
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource", "database"}
    answered = {}
    for panel in dashboard["panels"]:
        if panel["title"].startswith("Quality:") != quality:
            continue
        sql = panel["targets"][0]["rawSql"].replace("${database}", database)
        sql = re.sub(r"\$__timeFilter\((\w+)\)", r"\1 >= now() - INTERVAL 3 DAY", sql)
        sql = sql.replace("$__fromTime", "toDateTime64(now() - INTERVAL 3 DAY, 6)")
        sql = sql.replace("$__toTime", "toDateTime64(now() + INTERVAL 1 HOUR, 6)")
        answered[panel["title"]] = len(warehouse.query(sql).result_rows)
    return answered


def test_every_grafana_panel_query_runs_against_the_views(module_settings: Settings, warehouse: Client, seeded: dict):
    """The incident panels; tests/test_quality_on_call.py runs the quality ones on scores."""
    answered = grafana_panel_rows(warehouse, module_settings.database, quality=False)
    assert answered and all(count > 0 for count in answered.values()), answered
