"""OpenTelemetry over Kafka: the SDK's spans and logs, in both encodings, through the broker into tables and views."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
from clickhouse_connect.driver.client import Client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.formats.otlp import MAX_MESSAGE_BYTES, decode_spans
from correlator.processing.classify import Classifier
from correlator.processing.otlp_rows import RecordRows, span_rows
from correlator.records import SPAN_TABLE, DeadLetter, Provenance
from tests.conftest import rows
from tests.harness import run_daemon, stored_at_least
from tests.otlp_producers import agent_run, as_otlp_json, deliver_spans, looping_agent_run, otlp_settings

HERE = Provenance("otlp-test", 0, 7)


def test_sdk_spans_and_logs_in_both_encodings_become_spans_log_events_and_errors(
    settings: Settings, warehouse: Client
) -> None:
    settings = otlp_settings(settings)
    proto_run, json_run = agent_run("planner"), agent_run("router", model="gpt-4o-mini")

    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, settings.otlp_spans_topic,
                      [proto_run.spans.SerializeToString(), as_otlp_json(json_run.spans)])  # fmt: skip
        await produce(settings.kafka_bootstrap, settings.otlp_logs_topic,
                      [proto_run.logs.SerializeToString(), as_otlp_json(json_run.logs)])  # fmt: skip
        await run_daemon(settings, warehouse, stored_at_least(3 + 3 + 1 + 1))

    asyncio.run(scenario())
    db = settings.database
    # one message, many rows: each keeps its offset and its index in the message
    provenance = rows(warehouse, f"SELECT offset, record_index, service FROM {db}.spans ORDER BY offset, record_index")
    assert provenance == [(0, 0, "planner"), (0, 1, "planner"), (0, 2, "planner"),
                          (1, 0, "router"), (1, 1, "router"), (1, 2, "router")]  # fmt: skip
    for run, model in ((proto_run, "gpt-4o"), (json_run, "gpt-4o-mini")):
        calls = rows(
            warehouse,
            f"SELECT span_id, parent_span_id != '', kind, status, operation, provider, request_model, model,"
            f" input_tokens, output_tokens, finish_reasons, error_id, root_cause_type, error_class"
            f" FROM {db}.spans WHERE trace_id = {{t:String}} AND operation = 'chat' ORDER BY ts",
            t=run.trace_id,
        )
        assert calls == [
            (calls[0][0], True, "client", "unset", "chat", "openai", model, f"{model}-2024-08-06", 120, 30, ["stop"],
             "", "", ""),
            (run.failed_span_id, True, "client", "error", "chat", "openai", model, model, 0, 0, [],
             f"{run.trace_id}-{run.failed_span_id}", "TimeoutError", "timeout"),
        ]  # fmt: skip
    # the exception records go to log_events with their exception as the root cause
    logged = rows(
        warehouse,
        f"SELECT service, level, message, span_id, root_cause_type, error_class, record_index"
        f" FROM {db}.log_events ORDER BY offset",
    )
    assert logged == [
        ("planner", "error", "chat call failed", proto_run.failed_span_id, "TimeoutError", "timeout", 0),
        ("router", "error", "chat call failed", json_run.failed_span_id, "TimeoutError", "timeout", 0),
    ]
    # without an error_id, the span and the record logged inside it are one failure, joined by trace and span
    failures = rows(
        warehouse,
        f"SELECT trace_id, service, category, error_class, root_cause_type, root_cause_message, log_lines"
        f" FROM {db}.errors ORDER BY service",
    )
    assert failures == [
        (proto_run.trace_id, "planner", "api_error", "timeout", "TimeoutError", "The read operation timed out", 2),
        (json_run.trace_id, "router", "api_error", "timeout", "TimeoutError", "The read operation timed out", 2),
    ]


def test_undecodable_otlp_messages_are_dead_letters_and_the_rest_is_stored(
    settings: Settings, warehouse: Client
) -> None:
    settings = otlp_settings(settings)
    run = agent_run("planner")
    deep: dict[str, object] = {"stringValue": "bottom"}
    for _ in range(40):
        deep = {"kvlistValue": {"values": [{"key": "k", "value": deep}]}}
    too_deep = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": run.trace_id, "spanId": run.failed_span_id, "name": "x",
         "attributes": [{"key": "a", "value": deep}]}
    ]}]}]}  # fmt: skip
    bad_id = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "not-hex", "spanId": "00", "name": "x"}]}]}]}
    poison = [b"\xff\xff\xff\xff", b"{not json", orjson.dumps(too_deep), orjson.dumps(bad_id), b"{}"]

    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, settings.otlp_spans_topic, [*poison, run.spans.SerializeToString()])
        await run_daemon(settings, warehouse, stored_at_least(len(poison) + 3))

    asyncio.run(scenario())
    db = settings.database
    dead = rows(warehouse, f"SELECT offset, reason FROM {db}.dead_letters WHERE topic = {{t:String}} ORDER BY offset",
                t=settings.otlp_spans_topic)  # fmt: skip
    assert dead == [(0, "not_otlp"), (1, "not_json"), (2, "too_deep"), (3, "invalid_fields"), (4, "no_records")]
    raw = rows(warehouse, f"SELECT lower(hex(raw)) FROM {db}.dead_letters WHERE topic = {{t:String}} ORDER BY offset",
               t=settings.otlp_spans_topic)  # fmt: skip
    assert raw == [(message.hex(),) for message in poison]
    assert rows(warehouse, f"SELECT offset, count() FROM {db}.spans GROUP BY offset") == [(5, 3)]


def test_a_message_larger_than_the_limit_is_a_dead_letter() -> None:
    dead = decode_spans(b"\n" * (MAX_MESSAGE_BYTES + 1), HERE)
    assert isinstance(dead, DeadLetter)
    assert (dead.reason, dead.provenance) == ("too_large", HERE)


def _span_with(attributes: dict[str, object]) -> bytes:
    def value(item: object) -> AnyValue:
        if isinstance(item, int):
            return AnyValue(int_value=item)
        if isinstance(item, float):
            return AnyValue(double_value=item)
        return AnyValue(string_value=str(item))

    span = Span(trace_id=bytes(range(16)), span_id=bytes(range(8)), name="llm", kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=1, end_time_unix_nano=2_000_001,
                attributes=[KeyValue(key=key, value=value(item)) for key, item in attributes.items()])  # fmt: skip
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])
    return request.SerializeToString()


def test_openllmetry_openinference_and_langfuse_names_fill_the_same_columns() -> None:
    classifier = Classifier.from_file()
    shapes = {
        "openllmetry": {"llm.request.type": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
                        "llm.usage.prompt_tokens": 11, "llm.usage.completion_tokens": 5,
                        "traceloop.association.properties.session_id": "s-0",
                        "traceloop.association.properties.user_id": "u-0", "gen_ai.usage.cost": 0.25},
        "openinference": {"openinference.span.kind": "LLM", "llm.provider": "anthropic",
                          "llm.model_name": "claude-sonnet-4", "llm.token_count.prompt": 11,
                          "llm.token_count.completion": 5, "session.id": "s-1", "user.id": "u-1",
                          "llm.cost.prompt": 0.125, "llm.cost.completion": 0.5},
        "langfuse": {"langfuse.observation.type": "generation", "langfuse.observation.model.name": "mistral-large",
                     "langfuse.observation.usage_details": '{"input": 11, "output": 5}',
                     "langfuse.session.id": "s-2", "langfuse.user.id": "u-2",
                     "langfuse.observation.cost_details": '{"input": 0.5, "output": 1.5}'},
        "unpriced": {"gen_ai.operation.name": "chat", "gen_ai.usage.cost": "n/a",
                     "langfuse.observation.cost_details": '{"total": null}'},
    }  # fmt: skip
    columns = (
        "operation",
        "step",
        "provider",
        "model",
        "input_tokens",
        "output_tokens",
        "session_id",
        "duration_ms",
        "user_id",
        "cost_usd",
    )
    mapped = {}
    for shape, attributes in shapes.items():
        (row,) = _rows(span_rows(_span_with(attributes), HERE, classifier))
        values = dict(zip(SPAN_TABLE.columns, row, strict=True))
        mapped[shape] = tuple(values[column] for column in columns)
    assert mapped == {
        "openllmetry": ("chat", "llm", "openai", "gpt-4o", 11, 5, "s-0", 2.0, "u-0", 0.25),
        "openinference": ("llm", "llm", "anthropic", "claude-sonnet-4", 11, 5, "s-1", 2.0, "u-1", 0.625),
        "langfuse": ("generation", "llm", "", "mistral-large", 11, 5, "s-2", 2.0, "u-2", 2.0),
        "unpriced": ("chat", "llm", "", "", 0, 0, "", 2.0, "", None),  # a cost that is no number is no cost
    }


def test_trace_spans_draws_the_tree_and_agent_loops_finds_the_repeated_tool_call(
    settings: Settings, warehouse: Client
) -> None:
    settings = otlp_settings(settings)
    run, other = looping_agent_run("support"), agent_run("planner")
    # the looping run exported twice (a retried export): each of its spans is still one step and one call
    messages = [run.spans.SerializeToString(), other.spans.SerializeToString(), run.spans.SerializeToString()]
    deliver_spans(settings, warehouse, messages, 7 + 3 + 7)
    db = settings.database
    tree = rows(
        warehouse,
        f"SELECT depth, step, name, status, tool_name, failed, first_failure, root_cause_type"
        f" FROM {db}.trace_spans(trace_id = {{t:String}})",
        t=run.trace_id,
    )
    assert tree == [
        (0, "agent", "invoke_agent support", "unset", "", 0, 0, ""),
        (1, "tool", "execute_tool lookup_order", "unset", "lookup_order", 0, 0, ""),
        (1, "tool", "execute_tool lookup_order", "unset", "lookup_order", 0, 0, ""),
        (1, "tool", "execute_tool lookup_order", "unset", "lookup_order", 0, 0, ""),
        (1, "tool", "execute_tool lookup_order", "unset", "lookup_order", 0, 0, ""),
        (1, "llm", "chat gpt-4o", "error", "", 1, 0, "ConnectionError"),
        (2, "", "POST /v1/chat/completions", "error", "", 1, 1, "ConnectionError"),
    ]
    innermost = rows(warehouse, f"SELECT span_id FROM {db}.trace_spans(trace_id = {{t:String}}) WHERE first_failure",
                     t=run.trace_id)  # fmt: skip
    assert innermost == [(run.innermost_failure,)]
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    loops = rows(warehouse, f"SELECT trace_id, tool_name, tool_args, calls, session_id"
                            f" FROM {db}.agent_loops(since = {{since:String}})", since=since)  # fmt: skip
    assert loops == [(run.trace_id, "lookup_order", '{"order": 42}', 3, "conversation-7")]


def test_trace_timeline_shows_every_record_of_one_otlp_message(settings: Settings, warehouse: Client) -> None:
    settings = otlp_settings(settings)
    run = agent_run("planner")
    logs = run.logs
    logs.resource_logs[0].scope_logs[0].log_records.append(logs.resource_logs[0].scope_logs[0].log_records[0])

    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, settings.otlp_spans_topic, [run.spans.SerializeToString()])
        await produce(settings.kafka_bootstrap, settings.otlp_logs_topic, [logs.SerializeToString()])
        await run_daemon(settings, warehouse, stored_at_least(3 + 2))

    asyncio.run(scenario())
    timeline = rows(
        warehouse,
        f"SELECT kind, status, message FROM {settings.database}.trace_timeline(trace_id = {{t:String}})"
        f" ORDER BY kind, message, status",
        t=run.trace_id,
    )
    assert timeline == [
        ("log", "error", "chat call failed"),
        ("log", "error", "chat call failed"),
        ("span", "error", "chat gpt-4o"),
        ("span", "unset", "chat gpt-4o"),
        ("span", "unset", "invoke_agent planner"),
    ]


def _rows(result: RecordRows | DeadLetter) -> list[tuple[object, ...]]:
    assert isinstance(result, RecordRows)
    return result.rows
