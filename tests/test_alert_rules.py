"""The PrometheusRule's alerts mean what they say: Prometheus' own ``promtool`` checks the rules and
runs the unit tests in ``tests/alerts/*.test.yaml`` (input series, and the alerts expected to fire
or stay silent at given times). promtool is built from the Go module proxy by
``tests/tools/fetch_promtool.sh``, which the README's test command runs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROMTOOL = ROOT / ".tools" / "bin" / "promtool"
RULE_RESOURCE = ROOT / "deploy" / "kubernetes" / "base" / "prometheusrule.yaml"
ALERT_TESTS = sorted((ROOT / "tests" / "alerts").glob("*.test.yaml"))
# the name the test files give in `rule_files`: the PrometheusRule's spec, as a plain rule file
RULE_FILE_NAME = "correlator.rules.yaml"


def _promtool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL.exists(), f"{PROMTOOL} is missing: run tests/tools/fetch_promtool.sh"
    return subprocess.run([PROMTOOL, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


def _rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULE_RESOURCE.read_text())["spec"]["groups"] for rule in group["rules"]]


def _alert_names() -> set[str]:
    return {rule["alert"] for rule in _rules() if "alert" in rule}


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PrometheusRule's groups as the rule file promtool reads, beside copies of the test files."""
    directory = tmp_path_factory.mktemp("alerts")
    spec = yaml.safe_load(RULE_RESOURCE.read_text())["spec"]
    (directory / RULE_FILE_NAME).write_text(yaml.safe_dump({"groups": spec["groups"]}, sort_keys=False))
    for test_file in ALERT_TESTS:
        (directory / test_file.name).write_text(test_file.read_text())
    return directory


def test_promtool_accepts_the_rules(rules_dir: Path):
    checked = _promtool("check", "rules", RULE_FILE_NAME, cwd=rules_dir)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in checked.stdout


@pytest.mark.parametrize("test_file", ALERT_TESTS, ids=lambda path: path.name)
def test_promtool_unit_tests_pass(rules_dir: Path, test_file: Path):
    assert yaml.safe_load(test_file.read_text())["rule_files"] == [RULE_FILE_NAME]
    result = _promtool("test", "rules", test_file.name, cwd=rules_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def _expectations() -> dict[str, dict[str, int]]:
    """Per alert: how many evaluations the test files expect it to fire at, and to stay silent at."""
    counts: dict[str, dict[str, int]] = {}
    for test_file in ALERT_TESTS:
        for test in yaml.safe_load(test_file.read_text())["tests"]:
            checks: list[dict[str, Any]] = test.get("alert_rule_test", [])
            for check in checks:
                outcome = "firing" if check.get("exp_alerts") else "silent"
                tally = counts.setdefault(check["alertname"], {"firing": 0, "silent": 0})
                tally[outcome] += 1
    return counts


def test_every_alert_is_tested_firing_and_silent():
    expectations = _expectations()
    for alert in sorted(_alert_names()):
        tally = expectations.get(alert, {"firing": 0, "silent": 0})
        assert tally["firing"] and tally["silent"], f"{alert}: no test where it fires and one where it does not"


def test_promtool_fails_a_test_whose_expectation_is_wrong(rules_dir: Path):
    """The harness can fail: an alert expected at a time it cannot fire makes promtool exit non-zero."""
    wrong = {
        "rule_files": [RULE_FILE_NAME],
        "tests": [{
            "interval": "30s",
            "input_series": [{"series": 'correlator_dead_letters_total{topic="app-logs"}', "values": "0x20"}],
            "alert_rule_test": [{"eval_time": "5m", "alertname": "CorrelatorDeadLetters",
                                 "exp_alerts": [{"exp_labels": {"severity": "warning", "topic": "app-logs"}}]}],
        }],
    }  # fmt: skip
    (rules_dir / "wrong.yaml").write_text(yaml.safe_dump(wrong))
    result = _promtool("test", "rules", "wrong.yaml", cwd=rules_dir)
    assert result.returncode != 0
    assert "CorrelatorDeadLetters" in result.stdout + result.stderr


def test_the_groundedness_alert_uses_the_scorers_files_floor():
    """The alert and score_drift's below_floor judge groundedness against the same number."""
    from correlator.processing.scorers import Scorers

    [rule] = [rule for rule in _rules() if rule.get("alert") == "LLMGroundednessBelowFloor"]
    floor = Scorers.from_file().scorers["groundedness"].floor
    assert f") < {floor}\n" in rule["expr"] and f"floor ({floor})" in rule["annotations"]["summary"]
