"""Content checks on calls that returned, Kafka → daemon → ClickHouse: each one firing and not firing."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiokafka import TopicPartition
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.processing.batching import METRICS
from correlator.processing.classify import Classifier
from correlator.processing.content import CheckOutcome, check_content
from correlator.runtime.backfill import Loader, StopFlag, backfill_kafka
from correlator.runtime.daemon import Daemon
from correlator.runtime.progress import JsonProgress
from correlator.sources.kafka import KafkaRangeReader
from correlator.warehouse.writer import Warehouse
from tests.conftest import rows
from tests.harness import get, run_daemon, samples, serving_daemon, stored_at_least, total, wait_until

ANSWER_SCHEMA = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}}
TOOLS = [{"name": "search", "parameters": {"type": "object", "required": ["query"]}}]
SEARCH = {"name": "search", "arguments": '{"query": "refund policy"}'}

# trace id → (the call's content fields, the label it ends with or None, the checks as scores: name → passed)
CASES: dict[str, tuple[dict[str, Any], tuple[str, str, str] | None, dict[str, bool]]] = {
    "plain": ({}, None, {}),
    "stopped": ({"finish_reason": "stop"}, None, {"truncation": True, "content_filter": True}),
    "cut-off": ({"finish_reason": "length"}, ("model_error", "truncation", "finish_reason.length"),
                {"truncation": False, "content_filter": True}),
    "filtered": ({"finish_reason": "content_filter"}, ("model_error", "content_filter", "finish_reason.content_filter"),
                 {"truncation": True, "content_filter": False}),
    "refused": ({"refusal": "I can't help with that."}, ("model_error", "refusal", "content.refusal"),
                {"refusal": False}),
    "not-refused": ({"refusal": None}, None, {"refusal": True}),
    "bad-json": ({"response_format": "json", "output": '{"answer": "unterminated'},
                 ("parsing_error", "invalid_json", "content.invalid_json"), {"invalid_json": False}),
    "good-json": ({"response_format": {"type": "json_object"}, "output": '{"answer": 1}'}, None,
                  {"invalid_json": True}),
    "wrong-shape": ({"response_format": ANSWER_SCHEMA, "output": '{"answer": 3}'},
                    ("parsing_error", "schema_mismatch", "content.schema_mismatch"),
                    {"invalid_json": True, "schema_mismatch": False}),
    "right-shape": ({"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": ANSWER_SCHEMA}},
                     "output": '{"answer": "yes"}'}, None, {"invalid_json": True, "schema_mismatch": True}),
    "args-not-json": ({"tools": TOOLS, "tool_calls": [{"name": "search", "arguments": "{query: refund"}]},
                      ("parsing_error", "tool_call_malformed", "content.tool_call_malformed"),
                      {"tool_call_malformed": False}),
    "args-missing": ({"tools": TOOLS, "tool_calls": [{"name": "search", "arguments": "{}"}]},
                     ("parsing_error", "tool_call_malformed", "content.tool_call_malformed"),
                     {"tool_call_malformed": False}),
    "tool-unknown": ({"tools": TOOLS, "tool_calls": [SEARCH, {"name": "delete_account", "arguments": "{}"}]},
                     ("parsing_error", "tool_call_malformed", "content.tool_call_malformed"),
                     {"tool_call_malformed": False}),
    "tool-ok": ({"tools": TOOLS, "tool_calls": [SEARCH]}, None, {"tool_call_malformed": True}),
    # a truncation that then broke the JSON is a truncation: the fix starts there
    "cut-off-json": ({"finish_reason": "length", "response_format": "json", "output": '{"answer": "the refund'},
                     ("model_error", "truncation", "finish_reason.length"),
                     {"truncation": False, "content_filter": True, "invalid_json": False}),
}  # fmt: skip


def _call(trace_id: str, fields: dict[str, Any], minutes_ago: float = 2) -> bytes:
    ts = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    return orjson.dumps({"timestamp": ts, "success": True, "model": "gpt-test", "duration_seconds": 0.4,
                         "trace_id": trace_id, "prompt_version": "p1", **fields})  # fmt: skip


def _deliver(settings: Settings, warehouse: Client, values: list[bytes]) -> None:
    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, settings.metrics_topic, values)
        await run_daemon(settings, warehouse, stored_at_least(len(values)))

    asyncio.run(scenario())


def test_each_content_check_fires_and_stays_quiet_and_its_failures_count_as_errors(
    settings: Settings, warehouse: Client
):
    db = settings.database
    _deliver(settings, warehouse, [_call(trace, fields) for trace, (fields, _, _) in CASES.items()])

    stored = {
        trace: (success, (category, error_class, rule) if rule else None)
        for trace, success, category, error_class, rule in rows(
            warehouse, f"SELECT trace_id, success, category, error_class, rule FROM {db}.usage_metrics"
        )
    }
    assert stored == {trace: (label is None, label) for trace, (_, label, _) in CASES.items()}

    failing = {trace: label for trace, (_, label, _) in CASES.items() if label is not None}
    errors = rows(warehouse, f"SELECT trace_id, category, error_class, rule FROM {db}.errors")
    assert {trace: tuple(label) for trace, *label in errors} == failing
    since = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None)
    content = rows(
        warehouse,
        f"SELECT trace_id, model, category, error_class, rule FROM {db}.content_failures(since = {{s:DateTime64(6)}})",
        s=since,
    )
    assert {trace: tuple(label) for trace, model, *label in content} == failing
    assert {model for _, model, *_ in content} == {"gpt-test"}
    [(calls, failed)] = rows(warehouse, f"SELECT sum(calls), sum(errors) FROM {db}.model_health_1h")
    assert (calls, failed) == (len(CASES), len(failing))
    rates = rows(warehouse, f"SELECT error_class, sum(errors) FROM {db}.error_rates_5m GROUP BY error_class")
    expected_rates: dict[str, int] = {}
    for _, error_class, _ in failing.values():
        expected_rates[error_class] = expected_rates.get(error_class, 0) + 1
    assert dict(rates) == expected_rates

    scores = rows(warehouse, f"SELECT trace_id, name, source, value, label FROM {db}.trace_scores")
    by_trace: dict[str, dict[str, bool]] = {trace: {} for trace in CASES}
    for trace, name, source, value, label in scores:
        assert source == "code" and label == ("pass" if value == 1.0 else "fail")
        by_trace[trace][name] = value == 1.0
    assert by_trace == {trace: checks for trace, (_, _, checks) in CASES.items()}


def test_content_checks_are_counted_once_when_a_call_is_read_twice(settings: Settings, warehouse: Client):
    db = settings.database
    values = [_call("cut-off", CASES["cut-off"][0]), _call("tool-ok", CASES["tool-ok"][0])]

    async def scenario() -> None:
        ends = await produce(settings.kafka_bootstrap, settings.metrics_topic, values)
        await run_daemon(settings, warehouse, stored_at_least(len(values)))
        # the same messages loaded again by a backfill from the start, one at a time: other batches, other tokens
        loader = Loader(Warehouse(warehouse, db), Classifier.from_file(), 1, JsonProgress("t", "u", io.StringIO()))
        ranges = {TopicPartition(settings.metrics_topic, partition): (0, end) for partition, end in ends.items()}
        reader = KafkaRangeReader(settings.kafka_bootstrap, 500)
        await backfill_kafka(loader, reader, {settings.metrics_topic: METRICS}, StopFlag(), explicit=ranges)

    asyncio.run(scenario())
    assert rows(warehouse, f"SELECT count() FROM {db}.usage_metrics") == [(4,)]  # stored twice, raw
    assert rows(warehouse, f"SELECT count() FROM {db}.check_scores") == [(6,)]  # two readings of three checks
    assert rows(warehouse, f"SELECT count() FROM {db}.scores") == [(0,)]  # none received
    assert rows(warehouse, f"SELECT count() FROM {db}.trace_scores") == [(3,)]
    assert rows(warehouse, f"SELECT count() FROM {db}.errors") == [(1,)]
    [(calls, failed)] = rows(warehouse, f"SELECT sum(calls), sum(errors) FROM {db}.model_health_1h")
    assert (calls, failed) == (2, 1)


def test_the_output_is_stored_as_redaction_and_hashing_say(settings: Settings, warehouse: Client):
    db = settings.database
    secret = '{"answer": "mail jane.doe@example.com"'
    _deliver(settings, warehouse, [_call("redacted", {"response_format": "json", "output": secret})])
    [(output, rule)] = rows(
        warehouse, f"SELECT attributes['output'], rule FROM {db}.usage_metrics WHERE trace_id = 'redacted'"
    )
    assert rule == "content.invalid_json"  # checked before redaction, on what the model returned
    assert "jane.doe@example.com" not in output and output.startswith('{"answer": "mail ')

    hashed = replace(settings, hash_prompts=True)
    _deliver(hashed, warehouse, [_call("hashed", {"response_format": "json", "output": '{"answer": "yes"}'})])
    [(output, success)] = rows(
        warehouse, f"SELECT attributes['output'], success FROM {db}.usage_metrics WHERE trace_id = 'hashed'"
    )
    assert output.startswith("sha256:") and success is True


def test_content_failures_count_in_the_prometheus_call_and_error_counters(settings: Settings, warehouse: Client):
    values = [_call(trace, CASES[trace][0]) for trace in ("cut-off", "tool-unknown", "tool-ok", "plain", "filtered")]
    # two calls whose checks say the same (both finish-reason checks passed): each counts
    values += [_call(f"stopped-{n}", CASES["stopped"][0]) for n in range(2)]

    async def scenario() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        await produce(settings.kafka_bootstrap, settings.metrics_topic, values)
        async with serving_daemon(settings, warehouse) as (daemon, url):
            await wait_until(lambda: _stored(daemon, len(values)), 60, "the calls to be stored")
            _, text = await get(f"{url}/metrics")
        return samples(text)

    scraped = asyncio.run(scenario())
    assert total(scraped, "llm_calls_total", model="gpt-test") == 7
    assert total(scraped, "llm_errors_total", model="gpt-test") == 3
    assert total(scraped, "llm_errors_total", error_class="truncation", category="model_error") == 1
    assert total(scraped, "llm_errors_total", error_class="tool_call_malformed", category="parsing_error") == 1
    assert total(scraped, "correlator_rows_stored_total", table="usage_metrics") == 7
    # the content failures on their own, with the rule that found them
    assert {labels: value for (name, labels), value in scraped.items()
            if name == "correlator_content_failures_total"} == {
        (("category", "model_error"), ("error_class", "truncation"), ("model", "gpt-test"),
         ("rule", "finish_reason.length")): 1,
        (("category", "parsing_error"), ("error_class", "tool_call_malformed"), ("model", "gpt-test"),
         ("rule", "content.tool_call_malformed")): 1,
        (("category", "model_error"), ("error_class", "content_filter"), ("model", "gpt-test"),
         ("rule", "finish_reason.content_filter")): 1,
    }  # fmt: skip
    # every check's code score, pass or fail; content_filter is a safety scorer (scorers file)
    code = {"name": "truncation", "source": "code", "model": "gpt-test", "safety": "false"}
    assert total(scraped, "correlator_scores_total", **code, outcome="fail") == 1
    assert total(scraped, "correlator_scores_total", **code, outcome="pass") == 3
    assert total(scraped, "correlator_scores_total", name="tool_call_malformed", outcome="fail") == 1
    assert total(scraped, "correlator_scores_total", name="tool_call_malformed", outcome="pass") == 1
    assert total(scraped, "correlator_scores_total", name="content_filter", safety="true", outcome="fail") == 1
    assert total(scraped, "correlator_scores_total", name="content_filter", safety="true", outcome="pass") == 3


async def _stored(daemon: Daemon, count: int) -> bool:
    return daemon.counters.rows >= count


def test_a_schema_mismatch_says_where_and_which_keyword_but_not_the_output():
    sources = {"type": "array", "items": {"type": "string"}}
    schema = {"type": "object", "required": ["answer", "sources"],
              "properties": {"answer": {"type": "string"}, "sources": sources}}  # fmt: skip
    wrong_item = {"response_format": schema, "output": '{"answer": "secret text", "sources": ["kb-1", 2]}'}
    missing = {"response_format": schema, "output": '{"answer": "secret text"}'}
    assert check_content(wrong_item, "", "")[-1] == CheckOutcome("schema_mismatch", False, "sources/1: fails type")
    assert check_content(missing, "", "")[-1] == CheckOutcome("schema_mismatch", False, "<root>: fails required")


def test_a_schema_that_is_unusable_or_names_a_remote_schema_is_not_checked_and_never_fetched():
    for schema in ({"type": 12}, {"$ref": "https://schemas.invalid/answer.json"}):
        outcomes = check_content({"response_format": schema, "output": '{"answer": 1}'}, "", "")
        assert outcomes == [CheckOutcome("invalid_json", True, "")]
