"""After the rules file changes, `correlator reclassify` re-derives stored labels, idempotently."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from clickhouse_connect.driver.client import Client

from correlator.commands.reclassify import reclassify
from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import masked_exception, mixed_workload, render_log
from correlator.processing.classify import RULES_PATH, Classifier
from tests.conftest import rows
from tests.corpus.broad import scenario_of
from tests.corpus.sdk_errors import Case
from tests.corpus.unseen import build_unseen_cases
from tests.corpus.wave3 import build_wave3_cases
from tests.harness import DaemonProcess, committed_offsets, run_daemon, stored_at_least, wait_until
from tests.test_source_evidence import _raised, _rules_without_sources, _ToolCall, step, warmth


def _rules_without_schema_mismatch() -> dict:
    """Older rules: no schema_mismatch rule, and no learned fallback to guess one from a ValidationError's words."""
    rules = orjson.loads(RULES_PATH.read_bytes())
    rules["version"] = "older"
    rules["rules"] = [r for r in rules["rules"] if r["class"] != "schema_mismatch"]
    del rules["learned_fallback"]
    return rules


def test_reclassify_applies_new_rules_to_stored_rows_once(settings: Settings, warehouse: Client):
    workload = mixed_workload(300, failure_share=0.5, seed=21)
    schema_errors = {e for e, label in workload.expected_class.items() if label == "schema_mismatch"}
    assert schema_errors

    async def ingest_with_old_rules() -> None:
        await produce(settings.kafka_bootstrap, settings.logs_topic, workload.logs)
        await produce(settings.kafka_bootstrap, settings.metrics_topic, workload.metrics)
        total = len(workload.logs) + len(workload.metrics)
        old = Classifier(_rules_without_schema_mismatch())
        await run_daemon(settings, warehouse, stored_at_least(total), classifier=old)

    asyncio.run(ingest_with_old_rules())
    db = settings.database
    before = dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors"))
    assert {before[e] for e in schema_errors} == {"unknown"}

    window = (datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1))
    dry = reclassify(warehouse, db, Classifier.from_file(), *window, dry_run=True)
    assert dry.changes == {("unknown/unknown", "parsing_error/schema_mismatch"): len(schema_errors)}
    assert dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors")) == before

    first = reclassify(warehouse, db, Classifier.from_file(), *window)
    assert first.changes == dry.changes
    after = dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors"))
    assert after == workload.expected_class
    assert rows(
        warehouse, f"SELECT DISTINCT rules_version FROM {db}.log_events WHERE error_class = 'schema_mismatch'"
    ) == [(Classifier.from_file().version,)]

    second = reclassify(warehouse, db, Classifier.from_file(), *window)
    assert (second.changed, second.examined) == (0, first.examined)


def test_reclassify_command_after_a_rules_change(settings: Settings, subprocess_warehouse: str, tmp_path: Path):
    old_rules = tmp_path / "old-rules.json"
    old_rules.write_bytes(orjson.dumps(_rules_without_schema_mismatch()))
    workload = mixed_workload(200, failure_share=0.5, seed=22)
    ends = asyncio.run(produce(settings.kafka_bootstrap, settings.logs_topic, workload.logs))
    daemon = DaemonProcess(settings, subprocess_warehouse, tmp_path / "daemon.log")
    daemon.env["CORRELATOR_RULES_FILE"] = str(old_rules)
    daemon.start()

    async def stored() -> bool:
        daemon.check_alive()
        committed = await committed_offsets(settings.kafka_bootstrap, settings.group_id, settings.logs_topic, 2)
        return committed == {p: ends.get(p, 0) for p in range(2)}

    asyncio.run(wait_until(stored, timeout=120, what="the daemon to store the logs"))
    assert daemon.terminate() == 0

    env = {**os.environ, "CORRELATOR_CLICKHOUSE_URL": subprocess_warehouse, "CORRELATOR_DATABASE": settings.database}
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    command = [sys.executable, "-m", "correlator", "reclassify", "--since", "7d", "--until", tomorrow]
    schema_errors = sum(1 for label in workload.expected_class.values() if label == "schema_mismatch")
    first = subprocess.run(command, env={**env, "COLUMNS": "200"}, capture_output=True, text=True, check=True)
    assert f"changed {schema_errors}" in first.stdout
    assert "unknown/unknown" in first.stdout and "parsing_error/schema_mismatch" in first.stdout
    second = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "changed 0" in second.stdout


def _rules_without_frames() -> dict:
    rules = orjson.loads(RULES_PATH.read_bytes())
    rules["version"] = "before-frames"
    rules["rules"] = [r for r in rules["rules"] if "frame_patterns" not in r]
    return rules


def _store_masked(settings: Settings, warehouse: Client, cases: list[Case], classifier: Classifier) -> dict[str, str]:
    """Each case's masked line stored by the daemon under ``classifier``; error_id -> the label expected."""
    now = datetime.now(UTC)
    lines = [
        render_log("llm call failed", "error", now, masked_exception(functools.partial(_reraise, case.exception)),
                   error_id=f"{index:012x}")
        for index, case in enumerate(cases)
    ]  # fmt: skip

    async def ingest() -> None:
        await produce(settings.kafka_bootstrap, settings.logs_topic, lines)
        await run_daemon(settings, warehouse, stored_at_least(len(lines)), classifier=classifier)

    asyncio.run(ingest())
    return {f"{index:012x}": case.expected for index, case in enumerate(cases)}


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=1), now + timedelta(days=1)


def test_reclassify_reads_the_frames_stored_with_rows_ingested_before_the_frame_rules(
    settings: Settings, warehouse: Client
):
    """Frame evidence is not only seen at ingest: the stored rows keep every link's frames for reclassify."""
    framed = {"agent.action", "blobs.download", "router.dispatch", "search.document", "replies.tags"}
    cases = [case for case in build_unseen_cases() if scenario_of(case.name) in framed]
    expected = _store_masked(settings, warehouse, cases, Classifier(_rules_without_frames()))
    db = settings.database
    before = dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors"))
    assert before.keys() == expected.keys()
    assert before != expected  # the frames were not read at ingest

    reclassify(warehouse, db, Classifier.from_file(), *_window())
    assert dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors")) == expected


def _reraise(exc: BaseException) -> None:
    raise exc


def _rules_before_wave3() -> dict:
    """Without the evidence rules 2026.12.01-5 added or widened for the third wave (tests/corpus/wave3.py)."""
    rules = orjson.loads(RULES_PATH.read_bytes())
    rules["version"] = "before-wave3"
    widened = {"message.none_record", "message.missing_data", "frame.tool_dispatch"}
    rules["rules"] = [r for r in rules["rules"] if r["id"] not in widened]
    return rules


def test_reclassify_gives_stored_history_the_third_waves_rules(settings: Settings, warehouse: Client):
    """None where a record was expected, reductions over nothing, a handler called with a model's call."""
    wanted = {"wave3.empty.passage_scores", "wave3.lookup.profile", "wave3.lookup.order", "wave3.tools.handler"}
    cases = [case for case in build_wave3_cases() if scenario_of(case.name) in wanted]
    expected = _store_masked(settings, warehouse, cases, Classifier(_rules_before_wave3()))
    db = settings.database
    before = dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors"))
    assert before.keys() == expected.keys()
    assert {error_id for error_id in expected if before[error_id] != expected[error_id]}

    reclassify(warehouse, db, Classifier.from_file(), *_window())
    assert dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors")) == expected


def test_reclassify_reads_source_lines_again_from_the_stored_traceback(settings: Settings, warehouse: Client):
    """Source lines are not columns of their own: a text traceback is stored, without its locals, and read again."""
    os.environ.pop("CORRELATOR_TEST_WARMTH", None)
    failures = {"tool_call_malformed": (step, _ToolCall('{"city": "Os')), "configuration": (warmth,)}
    now = datetime.now(UTC)
    lines, expected = [], {}
    for index, (label, (call, *args)) in enumerate(failures.items()):
        masked = masked_exception(functools.partial(_reraise, _raised(call, *args)))
        text = "".join(traceback.TracebackException.from_exception(masked, capture_locals=True).format())
        record = {"message": "llm call failed", "levelname": "ERROR", "exc_info": text, "error_id": f"{index:012x}"}
        lines.append(orjson.dumps({**record, "asctime": now.isoformat()}))
        expected[f"{index:012x}"] = label

    async def ingest() -> None:
        await produce(settings.kafka_bootstrap, settings.logs_topic, lines)
        old = Classifier(_rules_without_sources())
        await run_daemon(settings, warehouse, stored_at_least(len(lines)), classifier=old)

    asyncio.run(ingest())
    db = settings.database
    before = rows(warehouse, f"SELECT error_id, error_class, rule FROM {db}.errors ORDER BY error_id")
    assert before == [("000000000000", "invalid_json", "type.invalid_json"), ("000000000001", "unknown", "no-evidence")]
    assert not rows(warehouse, f"SELECT 1 FROM {db}.log_events WHERE positionCaseInsensitive(traceback, ' = <') > 0")

    report = reclassify(warehouse, db, Classifier.from_file(), *_window())
    assert dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors")) == expected
    assert {found for (found,) in rows(warehouse, f"SELECT rule FROM {db}.errors")} == {
        "source.tool_arguments", "source.environment"
    }  # fmt: skip
    assert reclassify(warehouse, db, Classifier.from_file(), *_window()).changed == 0 < report.changed
