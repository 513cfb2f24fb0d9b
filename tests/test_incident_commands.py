"""lookup, trace and incidents against data stored by the daemon; exact answers, bound parameters."""

from __future__ import annotations

import asyncio
from collections import Counter

import orjson
import pytest
from click.testing import CliRunner
from clickhouse_connect.driver.client import Client

from correlator.commands.cli import main
from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import Workload, mixed_workload
from tests.conftest import rows
from tests.harness import run_daemon, stored_at_least


@pytest.fixture(scope="module")
def stored(module_settings: Settings, warehouse: Client) -> Workload:
    """Stored once for the module: the tests only read it."""
    settings = module_settings
    workload = mixed_workload(200, failure_share=0.4, seed=31)

    async def ingest() -> None:
        await produce(settings.kafka_bootstrap, settings.logs_topic, workload.logs)
        await produce(settings.kafka_bootstrap, settings.metrics_topic, workload.metrics)
        await run_daemon(settings, warehouse, stored_at_least(len(workload.logs) + len(workload.metrics)))

    asyncio.run(ingest())
    return workload


def _run(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--clickhouse", settings.clickhouse_url, "--database", settings.database])
    return result.exit_code, result.output


def test_lookup_shows_the_row_the_lines_the_chain_and_the_rule(
    module_settings: Settings, warehouse: Client, stored: Workload
):
    error_id = next(e for e, label in stored.expected_class.items() if label == "rate_limit")
    code, output = _run(module_settings, "lookup", error_id, "--json")
    assert code == 0, output
    found = orjson.loads(output)
    assert (found["error_id"], found["error_class"], found["original_error"], found["reclassified"]) == (
        error_id, "rate_limit", "unknown", 1
    )  # fmt: skip
    assert found["rule"].startswith("code.rate_limit")
    assert [m["error"] for m in found["metrics"]] == ["unknown"]
    [line] = found["logs"]
    assert line["chain"][0]["root_cause"] and not any(link["root_cause"] for link in line["chain"][1:])
    assert line["chain"][0]["type"] == found["root_cause_type"]
    code, human = _run(module_settings, "lookup", error_id)
    assert code == 0 and "root cause → " in human and "api_error/rate_limit" in human


def test_trace_is_the_whole_timeline_in_order(module_settings: Settings, warehouse: Client, stored: Workload):
    db = module_settings.database
    [(trace_id, error_id)] = rows(warehouse, f"SELECT trace_id, error_id FROM {db}.errors ORDER BY error_id LIMIT 1")
    code, output = _run(module_settings, "trace", trace_id, "--json")
    assert code == 0, output
    timeline = orjson.loads(output)
    assert [row["kind"] for row in timeline] == ["log", "log", "usage"] or [row["kind"] for row in timeline] == [
        "log", "usage", "log"
    ]  # fmt: skip
    assert [row["ts"] for row in timeline] == sorted(row["ts"] for row in timeline)
    assert {row["error_id"] for row in timeline if row["kind"] == "usage"} == {error_id}


def test_incidents_counts_failures_by_class_and_the_unknown_share(
    module_settings: Settings, warehouse: Client, stored: Workload
):
    code, output = _run(module_settings, "incidents", "--since", "24h", "--json")
    assert code == 0, output
    report = orjson.loads(output)
    expected = Counter(stored.expected_class.values())
    assert report["calls"] == len(stored.metrics)
    assert report["failures"] == len(stored.expected_class)
    assert report["still_unknown"] == expected["unknown"]
    by_class = Counter()
    for row in report["by_class_and_model"]:
        by_class[row["error_class"]] += row["failures"]
    assert by_class == expected
    assert {row["error_class"] for row in report["newest_example_per_class"]} == set(expected)
    code, output = _run(module_settings, "incidents", "--since", "1m", "--json")
    assert orjson.loads(output)["failures"] == 0  # the workload's calls are 30 minutes old


@pytest.mark.parametrize("crafted", ["' OR 1=1 --", "x') UNION ALL SELECT * FROM system.users --", "\\' OR ''='"])
def test_values_crafted_as_sql_change_nothing_and_return_nothing(
    module_settings: Settings, warehouse: Client, stored: Workload, crafted: str
):
    before = rows(warehouse, f"SELECT count() FROM {module_settings.database}.errors")
    assert _run(module_settings, "lookup", crafted)[0] == 1
    assert _run(module_settings, "trace", crafted)[0] == 1
    assert rows(warehouse, f"SELECT count() FROM {module_settings.database}.errors") == before
