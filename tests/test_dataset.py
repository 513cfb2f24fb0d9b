"""Regression datasets from stored failures and review verdicts: deterministic bytes, stable ids, valid items."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from clickhouse_connect.driver.client import Client
from jsonschema import Draft202012Validator

from correlator.config import Settings
from correlator.processing.classify import RULES_PATH
from correlator.schemas_dir import SCHEMAS_DIR
from tests.conftest import rows
from tests.test_review import _at, _call, cli, deliver

README = Path(__file__).resolve().parents[1] / "README.md"
MESSAGES = [{"role": "system", "content": "Answer from the refund policy."}, {"role": "user", "content": "Refund?"}]


def _line(trace_id: str, span_id: str, event: str, **fields: Any) -> bytes:
    return orjson.dumps({"timestamp": _at(5), "level": "info", "event": event, "service": "support-bot",
                         "trace_id": trace_id, "span_id": span_id, **fields})  # fmt: skip


@pytest.fixture
def failures(settings: Settings, warehouse: Client) -> None:
    """A content failure with its prompt, settings and retrieval, a truncation, a raised failure, a quiet call."""
    calls = [
        _call("t-json", response_format="json", output='{"answer": "unterminated', messages=MESSAGES,
              temperature=0.2, max_tokens=300, prompt_version="p3"),
        _call("t-trunc", finish_reason="length", response_format="json", output='{"answer": "the refu'),
        _call("t-raised", success=False, error="unknown", error_id="e0a1b2c3d4e5",
              error_detail="RateLimitError: Error code: 429 - Rate limit reached for gpt-test on tokens per min"),
        _call("t-quiet", output="Refunds take 30 days.", messages=MESSAGES),
    ]  # fmt: skip
    lines = [
        _line("t-json", "t-json-ret", "retrieved", step="retrieval", document_ids=["policy-2019", "faq-7"]),
        _line("t-json", "t-json-tool", "tool done", step="tool", tool_name="lookup_order", tool_args={"order": 42}),
    ]
    deliver(settings, warehouse, calls, [], lines)
    assert rows(warehouse, f"SELECT count() FROM {settings.database}.log_events") == [(2,)]


def export(settings: Settings, path: Path, *args: str) -> tuple[dict[str, Any], list[bytes]]:
    """The manifest and the item lines, validated against their JSON Schemas."""
    code, output = cli(settings, "dataset", "export", "support-bot", "-o", str(path), *args)
    assert code == 0, output
    manifest, *items = path.read_bytes().splitlines(keepends=True)
    _validator("manifest").validate(orjson.loads(manifest))
    for item in items:
        _validator("regression_item").validate(orjson.loads(item))
    return orjson.loads(manifest)["manifest"], items


def _validator(name: str) -> Draft202012Validator:
    schema = orjson.loads((SCHEMAS_DIR / "datasets" / f"{name}.schema.json").read_bytes())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _label(settings: Settings, warehouse: Client, trace_id: str, *args: str) -> None:
    code, output = cli(settings, "review", "label", trace_id, *args)
    assert code == 0, output
    deliver(settings, warehouse, [], [], verdicts=1)


def test_exports_are_byte_identical_and_one_more_review_adds_only_its_item_and_a_new_version(
    settings: Settings, warehouse: Client, failures: None, tmp_path: Path
):
    _label(settings, warehouse, "t-json", "--verdict", "fail", "--mode", "unterminated_json_answer",
           "--note", "stops inside the string")  # fmt: skip
    first, first_items = export(settings, tmp_path / "a.jsonl", "--reviewed")
    again, _ = export(settings, tmp_path / "b.jsonl", "--reviewed")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert first == again and len(first_items) == 1
    assert first["selection"] == {"since": "7d", "reviewed": True, "group": "", "class": ""}
    assert first["rules_version"] == orjson.loads(RULES_PATH.read_bytes())["version"]
    [item] = [orjson.loads(line) for line in first_items]
    assert item["trace_id"] == "t-json" and item["span_id"] == "t-json-llm"
    assert item["input"] == {"messages": MESSAGES}
    assert (item["model"], item["prompt_version"], item["settings"]) == (
        "gpt-test",
        "p3",
        {"max_tokens": 300, "temperature": 0.2},
    )
    assert item["context"] == {
        "document_ids": ["policy-2019", "faq-7"],
        "tool_steps": [{"span_id": "t-json-tool", "tool_name": "lookup_order", "tool_args": {"order": 42}}],
    }
    assert (item["output"], item["response_format"]) == ('{"answer": "unterminated', "json")
    assert item["failure"]["error_class"] == "invalid_json" and item["failure"]["rule"] == "content.invalid_json"
    assert item["label"] == "unterminated_json_answer"
    assert item["review"] == {"verdict": "fail", "mode": "unterminated_json_answer", "note": "stops inside the string"}

    # a reviewer fails a call no check flagged: the next export holds one more item, the first unchanged
    _label(settings, warehouse, "t-quiet", "--verdict", "fail", "--mode", "stale_policy_retrieval", "--span",
           "t-quiet-llm", "--note", "quotes the 2019 policy")  # fmt: skip
    grown, grown_items = export(settings, tmp_path / "c.jsonl", "--reviewed")
    assert set(first_items) < set(grown_items) and len(grown_items) == 2
    assert {key: value for key, value in grown.items() if key != "version"} == {
        key: value for key, value in first.items() if key != "version"
    }
    assert grown["version"] != first["version"]
    [new] = [orjson.loads(line) for line in set(grown_items) - set(first_items)]
    assert (new["trace_id"], new["failure"], new["label"], new["output"]) == (
        "t-quiet", None, "stale_policy_retrieval", "Refunds take 30 days."
    )  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{20}", new["id"]) and new["id"] != item["id"]


def test_a_selection_by_class_or_failure_group_and_a_passed_review(
    settings: Settings, warehouse: Client, failures: None, tmp_path: Path
):
    _, everything = export(settings, tmp_path / "all.jsonl")
    assert sorted(orjson.loads(line)["trace_id"] for line in everything) == ["t-json", "t-raised", "t-trunc"]
    for selection in ("truncation", "model_error/truncation"):
        _, items = export(settings, tmp_path / "class.jsonl", "--class", selection)
        assert [orjson.loads(line)["label"] for line in items] == ["model_error/truncation"]
    db = settings.database
    [(fingerprint,)] = rows(warehouse, f"SELECT fingerprint FROM {db}.errors WHERE trace_id = 't-raised'")
    manifest, items = export(settings, tmp_path / "group.jsonl", "--group", fingerprint)
    assert [orjson.loads(line)["failure"]["error_class"] for line in items] == ["rate_limit"]
    assert manifest["selection"]["group"] == fingerprint
    # a reviewer who passes a flagged call overrules the check: it is no regression case
    _label(settings, warehouse, "t-trunc", "--verdict", "pass")
    _, items = export(settings, tmp_path / "after.jsonl")
    assert sorted(orjson.loads(line)["trace_id"] for line in items) == ["t-json", "t-raised"]
    # the same cases keep their ids whatever the selection
    ids = {orjson.loads(line)["trace_id"]: orjson.loads(line)["id"] for line in everything}
    assert {orjson.loads(line)["trace_id"]: orjson.loads(line)["id"] for line in items} == {
        trace: ids[trace] for trace in ("t-json", "t-raised")
    }


def readme_example() -> str:
    """The README's CI example: the python block after its marker."""
    text = README.read_text()
    after = text.split("<!-- regression-example: tests/test_dataset.py runs this block -->", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


FIXED_APP = """
def replay(input, model, settings, tools):
    return {"output": '{"answer": "Refunds take 14 days."}', "finish_reason": "stop", "tool_calls": []}
"""
REGRESSED_APP = """
def replay(input, model, settings, tools):
    return {"output": '{"answer": "Refunds ta', "finish_reason": "length", "tool_calls": []}
"""


def test_the_readme_ci_example_passes_a_fixed_app_and_fails_the_build_on_a_regression(
    settings: Settings, warehouse: Client, failures: None, tmp_path: Path
):
    _, items = export(settings, tmp_path / "support-bot.jsonl")
    assert len(items) == 3
    (tmp_path / "test_regressions.py").write_text(readme_example())
    outcomes = {}
    for name, app in (("fixed", FIXED_APP), ("regressed", REGRESSED_APP)):
        (tmp_path / "app.py").write_text(app)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_regressions.py"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={**os.environ, "REGRESSION_DATASET": str(tmp_path / "support-bot.jsonl"), "PYTHONPATH": str(tmp_path)},
        )  # fmt: skip
        outcomes[name] = (result.returncode, result.stdout)
    assert outcomes["fixed"][0] == 0 and "3 passed" in outcomes["fixed"][1], outcomes
    assert outcomes["regressed"][0] == 1 and "3 failed" in outcomes["regressed"][1], outcomes
