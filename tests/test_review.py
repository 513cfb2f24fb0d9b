"""The review queue, Kafka → daemon → ClickHouse → `review list`, and a verdict back through the scores topic."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from clickhouse_connect.driver.client import Client

from correlator.commands.cli import main
from correlator.commands.review import check_failure_mode
from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.errors import InputError
from correlator.runtime.daemon import Daemon
from tests.apache_kafka import SASL_PASSWORD, SASL_USER, ApacheKafka
from tests.conftest import rows
from tests.harness import run_daemon

ORDINARY = [f"t-ordinary-{n:02d}" for n in range(40)]


def _at(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def _call(trace_id: str, minutes_ago: float = 5, **fields: Any) -> bytes:
    return orjson.dumps({"timestamp": _at(minutes_ago), "success": True, "model": "gpt-test", "trace_id": trace_id,
                         "span_id": f"{trace_id}-llm", "duration_seconds": 0.3, **fields})  # fmt: skip


def _score(trace_id: str, name: str, value: Any, source: str = "judge") -> bytes:
    return orjson.dumps({"timestamp": _at(4), "name": name, "value": value, "trace_id": trace_id, "source": source})


def _stored(warehouse: Client, db: str) -> tuple[int, int, int]:
    """Calls, log lines, and scores not written by the content checks."""
    sql = (f"SELECT (SELECT count() FROM {db}.usage_metrics), (SELECT count() FROM {db}.log_events), "
           f"(SELECT count() FROM {db}.scores WHERE source != 'code')")  # fmt: skip
    calls, lines, scores = rows(warehouse, sql)[0]
    return calls, lines, scores


def deliver(
    settings: Settings,
    warehouse: Client,
    calls: list[bytes],
    scores: list[bytes],
    lines: Sequence[bytes] = (),
    verdicts: int = 0,
) -> None:
    """Produce, then run the daemon until all of it is stored, with ``verdicts`` sent by `review label` before."""
    lines = list(lines)

    async def scenario() -> None:
        before = _stored(warehouse, settings.database)
        await produce(settings.kafka_bootstrap, settings.metrics_topic, calls)
        await produce(settings.kafka_bootstrap, settings.logs_topic, lines)
        await produce(settings.kafka_bootstrap, settings.scores_topic, scores)
        wanted = (before[0] + len(calls), before[1] + len(lines), before[2] + len(scores) + verdicts)

        def done(daemon: Daemon) -> bool:
            return all(have >= want for have, want in zip(_stored(warehouse, settings.database), wanted, strict=True))

        await run_daemon(settings, warehouse, done)

    asyncio.run(scenario())


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    warehouse = ["--clickhouse", settings.clickhouse_url, "--database", settings.database]
    kafka = ["--kafka", settings.kafka_bootstrap, "--scores-topic", settings.scores_topic]
    options = kafka if args[:2] == ("review", "label") else warehouse
    result = CliRunner().invoke(main, [*args, *options])
    return result.exit_code, result.output


def queue(settings: Settings, *args: str) -> list[dict[str, Any]]:
    code, output = cli(settings, "review", "list", "--json", *args)
    assert code == 0, output
    found: list[dict[str, Any]] = orjson.loads(output)
    return found


@pytest.fixture
def waiting(settings: Settings, warehouse: Client) -> None:
    """A safety failure, a content failure, a low judge score, a passing one, and ordinary traces."""
    calls = [
        _call("t-filtered", finish_reason="content_filter"),
        _call("t-truncated", finish_reason="length", minutes_ago=6),
        _call("t-bad-json", response_format="json", output='{"answer": "unterminated', minutes_ago=3),
        _call("t-ungrounded"),
        _call("t-grounded"),
        *(_call(trace_id) for trace_id in ORDINARY),
    ]
    scores = [_score("t-ungrounded", "groundedness", 0.35), _score("t-grounded", "groundedness", 0.97),
              _score("t-ordinary-00", "helpful", True)]  # fmt: skip
    deliver(settings, warehouse, calls, scores)


def test_the_queue_is_worst_first_with_each_reason(settings: Settings, waiting: None):
    found = queue(settings, "--sample-rate", "0")
    assert [(row["trace_id"], row["reason"]) for row in found] == [
        ("t-filtered", "safety"),
        ("t-bad-json", "content_failure"),  # the newer of the two content failures first
        ("t-truncated", "content_failure"),
        ("t-ungrounded", "low_score"),
    ]
    assert found[0]["reasons"] == ["safety", "content_failure"]
    assert found[0]["detail"] == "model_error/content_filter (finish_reason.content_filter)"
    assert found[1]["span_id"] == "t-bad-json-llm" and found[1]["model"] == "gpt-test"
    assert found[3]["detail"] == "groundedness = 0.35 (judge)" and found[3]["worst_score"] == 0.35
    # a reason picks every trace that has it, worst reason first still
    by_reason = {"safety": ["t-filtered"], "content_failure": ["t-filtered", "t-bad-json", "t-truncated"],
                 "low_score": ["t-ungrounded"]}  # fmt: skip
    for reason, traces in by_reason.items():
        found = queue(settings, "--sample-rate", "0", "--reason", reason)
        assert [row["trace_id"] for row in found] == traces and all(reason in row["reasons"] for row in found)


def test_the_calibration_sample_is_the_same_traces_every_time_at_its_rate(settings: Settings, waiting: None):
    sampled = [row["trace_id"] for row in queue(settings, "--sample-rate", "0.3", "--reason", "sampled")]
    assert sampled == [row["trace_id"] for row in queue(settings, "--sample-rate", "0.3", "--reason", "sampled")]
    assert 0 < len(sampled) < len(ORDINARY) and set(sampled) <= set(ORDINARY) | {"t-grounded"}
    # a higher rate keeps the traces a lower one chose: the hash decides, not a draw
    wider = {row["trace_id"] for row in queue(settings, "--sample-rate", "0.6", "--reason", "sampled")}
    assert set(sampled) < wider
    everything = queue(settings, "--sample-rate", "1")
    assert len(everything) == 4 + len(ORDINARY) + 1  # every trace once, failures not offered as samples again
    assert [row["reason"] for row in everything[4:]] == ["sampled"] * (len(ORDINARY) + 1)
    assert not queue(settings, "--sample-rate", "0", "--reason", "sampled")


def test_a_verdict_reaches_trace_scores_through_the_topic_and_the_trace_leaves_the_queue(
    settings: Settings, warehouse: Client, waiting: None
):
    code, output = cli(settings, "review", "label", "t-bad-json", "--verdict", "fail", "--mode",
                       "unterminated_json_answer", "--span", "t-bad-json-llm", "--note",
                       "cut at the quote")  # fmt: skip
    assert code == 0, output
    assert "sent fail 'unterminated_json_answer' for trace t-bad-json" in output
    # nothing is stored until the daemon reads the topic: the command never opened the warehouse
    db = settings.database
    assert rows(warehouse, f"SELECT count() FROM {db}.scores WHERE source = 'human'") == [(0,)]
    deliver(settings, warehouse, [], [], verdicts=1)
    assert rows(
        warehouse,
        f"SELECT span_id, name, data_type, value, label, comment, model, trace_seen FROM {db}.trace_scores "
        "WHERE source = 'human'",
    ) == [("t-bad-json-llm", "review", "BOOLEAN", 0.0, "unterminated_json_answer", "cut at the quote", "gpt-test", 1)]
    assert "t-bad-json" not in {row["trace_id"] for row in queue(settings, "--sample-rate", "1")}

    # a second verdict on the same case replaces the first (same score id), and a pass leaves the queue too
    code, output = cli(settings, "review", "label", "t-bad-json", "--verdict", "pass", "--span", "t-bad-json-llm")
    code2, output2 = cli(settings, "review", "label", "t-ungrounded", "--verdict", "pass")
    assert (code, code2) == (0, 0), output + output2
    deliver(settings, warehouse, [], [], verdicts=2)
    human = f"SELECT trace_id, value, label FROM {db}.trace_scores WHERE source = 'human' ORDER BY trace_id"
    assert rows(warehouse, human) == [("t-bad-json", 1.0, "pass"), ("t-ungrounded", 1.0, "pass")]
    assert [row["trace_id"] for row in queue(settings, "--sample-rate", "0")] == ["t-filtered", "t-truncated"]


def test_the_human_table_reads_at_80_columns(settings: Settings, waiting: None):
    code, output = cli(settings, "review", "list", "--sample-rate", "0")
    assert code == 0, output
    assert max(len(line) for line in output.splitlines()) <= 80
    assert "t-filtered" in output and "content_failure" in output and "groundedness = 0.35" in output


@pytest.mark.parametrize("mode", ["incorrect_answer", "wrong_output", "bad", "Stale-Policy", "stale policy", "x_" * 40])
def test_a_vague_or_malformed_failure_mode_is_refused_before_anything_is_sent(settings: Settings, mode: str):
    with pytest.raises(InputError):
        check_failure_mode(mode)
    code, output = cli(settings, "review", "label", "t-1", "--verdict", "fail", "--mode", mode)
    assert code == 1 and "failure mode" in output


def test_a_specific_failure_mode_is_accepted():
    for mode in ("stale_policy_retrieval", "wrong_tool_arguments", "ignored_system_prompt", "answer_in_wrong_language"):
        assert check_failure_mode(mode) == mode


def test_a_pass_with_a_failure_mode_is_refused(settings: Settings):
    code, output = cli(settings, "review", "label", "t-1", "--verdict", "pass", "--mode", "stale_policy_retrieval")
    assert code == 1 and "a pass has no failure mode" in output


def test_an_unreachable_broker_is_a_clear_error(settings: Settings):
    result = CliRunner().invoke(main, ["review", "label", "t-1", "--verdict", "fail", "--kafka", "127.0.0.1:9"])
    assert result.exit_code == 1 and "the verdict was not delivered" in result.output


@pytest.mark.kafka
def test_a_verdict_is_produced_with_the_daemons_sasl_settings_and_no_password_is_shown(
    settings: Settings, warehouse: Client, apache_kafka: ApacheKafka
):
    """SCRAM-SHA-512 against Apache Kafka's SASL listener, the password from the environment as in production."""
    environment = {"CORRELATOR_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "CORRELATOR_KAFKA_SASL_MECHANISM":
                   "SCRAM-SHA-512", "CORRELATOR_KAFKA_SASL_USERNAME": SASL_USER,
                   "CORRELATOR_KAFKA_SASL_PASSWORD": SASL_PASSWORD}  # fmt: skip
    arguments = ["review", "label", "t-sasl", "--verdict", "fail", "--mode", "stale_policy_retrieval",
                 "--kafka", apache_kafka.sasl_bootstrap, "--scores-topic", settings.scores_topic]  # fmt: skip
    result = CliRunner().invoke(main, arguments, env=environment)
    assert result.exit_code == 0, result.output
    assert SASL_PASSWORD not in result.output
    deliver(settings, warehouse, [], [], verdicts=1)
    human = f"SELECT trace_id, label FROM {settings.database}.trace_scores WHERE source = 'human'"
    assert rows(warehouse, human) == [("t-sasl", "stale_policy_retrieval")]

    refused = CliRunner().invoke(main, arguments, env={**environment, "CORRELATOR_KAFKA_SASL_PASSWORD": "wrong-Pa55"})
    assert refused.exit_code == 1 and "the verdict was not delivered" in refused.output
    assert "wrong-Pa55" not in refused.output and SASL_PASSWORD not in refused.output


def test_a_failed_judge_score_of_a_safety_scorer_is_a_safety_reason_at_its_scorers_threshold(
    settings: Settings, warehouse: Client
):
    """scorers.json: `safety` passes at 0.90 and is a safety scorer, `relevance` passes at 0.70."""
    traces = ("t-unsafe", "t-safe-enough", "t-relevant-enough", "t-irrelevant")
    scores = [_score("t-unsafe", "safety", 0.85), _score("t-safe-enough", "safety", 0.95),
              _score("t-relevant-enough", "relevance", 0.75), _score("t-irrelevant", "relevance", 0.6)]  # fmt: skip
    deliver(settings, warehouse, [_call(trace_id) for trace_id in traces], scores)
    found = queue(settings, "--sample-rate", "0")
    assert [(row["trace_id"], row["reason"], row["detail"]) for row in found] == [
        ("t-unsafe", "safety", "safety = 0.85 (judge)"),
        ("t-irrelevant", "low_score", "relevance = 0.6 (judge)"),
    ]
    assert [row["trace_id"] for row in queue(settings, "--sample-rate", "0", "--reason", "safety")] == ["t-unsafe"]
    since = datetime.now(UTC) - timedelta(hours=1)
    failures = rows(warehouse, f"SELECT trace_id, name, source FROM {settings.database}.safety_failures(since = "
                               "{since:DateTime64(6)})", since=since)  # fmt: skip
    assert failures == [("t-unsafe", "safety", "judge")]
