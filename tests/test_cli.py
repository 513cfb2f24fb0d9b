"""The command line as users call it: a separate process, settings from flags and environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.harness import query_warehouse


def correlator(*args: str, env: dict[str, str] | None = None, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "correlator", *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_migrate_is_idempotent_and_builds_every_contract_object(tmp_path: Path):
    env = {"CORRELATOR_DATA_DIR": str(tmp_path), "CORRELATOR_DATABASE": "ops"}
    first, second = correlator("migrate", env=env), correlator("migrate", env=env)
    assert first.returncode == 0, first.stderr
    migrations = b"0000_bookkeeping, 0001_tables, 0002_fingerprints, 0003_backfill, 0004_scores, 0005_traces"
    later = b", 0006_evidence, 0009_steps, 0010_spans_index, 0011_calls_and_steps, 0012_content_check_scores"
    later += b", 0015_content_checks;"
    assert b"applied " + migrations + later in first.stdout
    assert b"views re-created: 0001_correlation, 0002_incidents" in first.stdout
    assert second.returncode == 0 and b"applied nothing new" in second.stdout
    objects = {name for [name] in query_warehouse(
        f"chdb://{tmp_path / 'clickhouse'}", "SELECT name FROM system.tables WHERE database = 'ops'"
    )}  # fmt: skip
    assert {
        "log_events", "usage_metrics", "dead_letters", "errors", "unknown_errors", "trace_timeline",
        "error_rates_5m", "model_health_1h", "reclassifications", "first_failures", "error_groups",
        "error_spikes", "cost_anomalies",
    } <= objects  # fmt: skip
    assert {"spans", "steps", "trace_spans", "agent_loops", "tool_call_health", "session_costs", "calls"} <= objects


def test_retention_is_a_setting(tmp_path: Path):
    env = {"CORRELATOR_DATA_DIR": str(tmp_path)}
    assert correlator("migrate", env=env).returncode == 0
    changed = correlator("migrate", "--retention-days", "7", env=env)
    assert b"retention changed: True" in changed.stdout
    [[engine]] = query_warehouse(
        f"chdb://{tmp_path / 'clickhouse'}",
        "SELECT engine_full FROM system.tables WHERE database = 'correlator' AND name = 'log_events'",
    )
    assert "toIntervalDay(7)" in engine


def test_classify_answers_one_line_per_input_line_in_order():
    lines = [
        {"message": "LLM chat interaction failed."},
        {"traceback": "Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n"
                      "httpx.ReadTimeout: timed out\n\nThe above exception was the direct cause of the following "
                      "exception:\n\nTraceback (most recent call last):\n  File \"a.py\", line 3, in <module>\n"
                      "ValueError: LLM chat interaction failed."},
        {"success": False, "error": "invalid_json", "model": "gpt-4o"},
        {"event": "x", "level": "error", "exception": [
            {"exc_type": "ValueError", "exc_value": "LLM chat interaction failed.", "is_cause": False, "frames": []},
            {"exc_type": "AuthenticationError", "exc_value": "Error code: 401", "is_cause": True, "frames": []},
        ]},
    ]  # fmt: skip
    done = correlator("classify", stdin=b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    assert done.returncode == 0, done.stderr
    answers = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [(a["category"], a["error_class"]) for a in answers] == [
        ("unknown", "unknown"),
        ("api_error", "timeout"),
        ("parsing_error", "invalid_json"),
        ("api_error", "auth"),
    ]
    assert answers[1]["root_cause_type"] == "httpx.ReadTimeout"
    assert all({"rule", "root_cause_message"} <= answer.keys() for answer in answers)


def test_classify_reports_a_bad_line_in_place_and_exits_non_zero():
    done = correlator("classify", stdin=b'not json\n{"message": "Rate limit reached for gpt-4o"}\n')
    answers = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1
    assert "error" in answers[0] and answers[1]["error_class"] == "rate_limit"


def test_a_server_dsn_goes_to_the_server_and_its_password_is_never_printed(tmp_path: Path):
    url = "http://ops:hunter2-secret@127.0.0.1:9/correlator"
    done = correlator("migrate", env={"CORRELATOR_CLICKHOUSE_URL": url, "CORRELATOR_DATA_DIR": str(tmp_path)})
    assert done.returncode != 0
    assert b"cannot open ClickHouse at http://ops:***@127.0.0.1:9/correlator" in done.stderr
    assert b"hunter2" not in done.stderr + done.stdout
    assert not (tmp_path / "clickhouse").exists()


def test_an_error_says_what_happened_and_what_to_do_with_the_documented_exit_code(tmp_path: Path):
    rules = tmp_path / "rules.json"
    rules.write_text("{not json", encoding="utf-8")
    broken_rules = correlator("classify", "--rules", str(rules), stdin=b'{"message": "x"}\n')
    assert broken_rules.returncode == 1
    assert b"invalid rules file" in broken_rules.stderr and b"what to do: " in broken_rules.stderr
    bad_setting = correlator("migrate", "--database", "no-dashes", env={"CORRELATOR_DATA_DIR": str(tmp_path)})
    assert bad_setting.returncode == 2
    assert b"not a valid ClickHouse database name" in bad_setting.stderr
    unmigrated = correlator("lookup", "e-1", env={"CORRELATOR_DATA_DIR": str(tmp_path)})
    assert unmigrated.returncode == 1
    assert b"the query failed" in unmigrated.stderr and b"what to do: run `correlator migrate`" in unmigrated.stderr


def test_an_embedded_warehouse_in_use_gets_a_clear_error(tmp_path: Path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom correlator.warehouse.connection import connect\n"
         "client = connect(sys.argv[1]); print('open', flush=True); time.sleep(60)",
         f"chdb://{tmp_path / 'clickhouse'}"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        done = correlator("migrate", env={"CORRELATOR_DATA_DIR": str(tmp_path)})
        assert done.returncode != 0
        assert b"it is in use by another process" in done.stderr
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_demo_runs_on_a_fresh_machine_and_explains_the_masked_failures(tmp_path: Path):
    done = correlator("demo", env={"CORRELATOR_DATA_DIR": str(tmp_path), "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout.decode()
    for label in ("rate_limit", "timeout", "invalid_json", "schema_mismatch", "auth"):
        assert label in out
    assert "not_utf8" in out and "invalid_fields" in out
    assert "Dead letters" in out
