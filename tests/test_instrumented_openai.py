"""OpenInference's instrumentation of the real OpenAI SDK, its spans through Kafka and the daemon into the views."""

from __future__ import annotations

from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from tests.conftest import rows
from tests.instrumented_openai import RATE_LIMITED, instrumented_agent_run
from tests.otlp_producers import as_otlp_json, deliver_spans, otlp_settings


def test_instrumented_openai_calls_become_steps_calls_and_one_explained_failure(
    settings: Settings, warehouse: Client
) -> None:
    settings = otlp_settings(settings)
    proto_run, json_run = instrumented_agent_run("geography"), instrumented_agent_run("geography-json")

    # as the Collector's kafka exporter writes them: one export request per message, in either encoding
    messages = [proto_run.spans.SerializeToString(), as_otlp_json(json_run.spans)]
    deliver_spans(settings, warehouse, messages, proto_run.span_count + json_run.span_count)
    db = settings.database
    for run in (proto_run, json_run):
        steps = rows(
            warehouse,
            f"SELECT depth, step, name, status, model, failed, first_failure, root_cause_type"
            f" FROM {db}.trace_spans(trace_id = {{t:String}})",
            t=run.trace_id,
        )
        # the application's agent span, and the instrumentation's two LLM spans beneath it
        assert steps == [
            (0, "agent", "invoke_agent geography", "error", "", 1, 0, "openai.RateLimitError"),
            (1, "llm", "ChatCompletion", "ok", "gpt-4o-2024-08-06", 0, 0, ""),
            (1, "llm", "ChatCompletion", "error", "gpt-4o", 1, 1, "openai.RateLimitError"),  # the model asked for
        ], steps  # fmt: skip
        calls = rows(
            warehouse,
            f"SELECT provider, input_tokens, output_tokens, finish_reasons, error_class FROM {db}.spans"
            f" WHERE trace_id = {{t:String}} AND step = 'llm' ORDER BY ts",
            t=run.trace_id,
        )
        assert calls == [("openai", 14, 3, ["stop"], ""), ("openai", 0, 0, [], "rate_limit")]
    # the refused call and the agent span that masked it as a ValueError: both explained by the 429's root cause
    failures = rows(
        warehouse,
        f"SELECT trace_id, error_id, category, error_class, root_cause_type, root_cause_message FROM {db}.errors"
        f" ORDER BY trace_id, error_id",
    )
    assert {(f[0], f[2], f[3], f[4]) for f in failures} == {
        (run.trace_id, "api_error", "rate_limit", "openai.RateLimitError") for run in (proto_run, json_run)
    }
    assert {f"{run.trace_id}-{run.refused_span_id}" for run in (proto_run, json_run)} <= {f[1] for f in failures}
    assert all(RATE_LIMITED[:40] in f[5] for f in failures), failures
