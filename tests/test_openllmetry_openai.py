"""OpenLLMetry's instrumentation of the real OpenAI SDK: what it emits for tokens, finish reasons, errors and
time to first token, through Kafka and the daemon into spans, trace_spans, errors and model_health_1h."""

from __future__ import annotations

from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from tests.conftest import rows
from tests.instrumented_openai import RATE_LIMITED
from tests.openllmetry_openai import FIRST_CHUNK_SECONDS, openllmetry_agent_run
from tests.otlp_producers import as_otlp_json, deliver_spans, otlp_settings


def test_openllmetry_calls_land_as_calls_steps_ttft_and_one_explained_failure(
    settings: Settings, warehouse: Client
) -> None:
    settings = otlp_settings(settings)
    proto_run, json_run = openllmetry_agent_run("geography"), openllmetry_agent_run("geography-json")
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
        assert steps == [
            (0, "agent", "invoke_agent geography", "error", "", 1, 0, "openai.RateLimitError"),
            (1, "llm", "openai.chat", "unset", "gpt-4o-2024-08-06", 0, 0, ""),
            (1, "llm", "openai.chat", "ok", "gpt-4o-2024-08-06", 0, 0, ""),  # the streamed call
            (1, "llm", "openai.chat", "error", "gpt-4o", 1, 1, "openai.RateLimitError"),
        ], steps  # fmt: skip
        calls = rows(
            warehouse,
            f"SELECT operation, provider, input_tokens, output_tokens, finish_reasons, error_type, error_class, ttft_ms"
            f" FROM {db}.spans WHERE trace_id = {{t:String}} AND step = 'llm' ORDER BY ts",
            t=run.trace_id,
        )
        assert [call[:7] for call in calls] == [
            ("chat", "openai", 14, 3, ["stop"], "", ""),
            ("chat", "openai", 9, 2, ["stop"], "", ""),
            ("chat", "openai", 0, 0, [], "RateLimitError", "rate_limit"),
        ]
        # time to first token only on the streamed call: its first chunk's event, after the transport's pause
        unstreamed, streamed, refused = (call[7] for call in calls)
        assert (unstreamed, refused) == (None, None)
        assert FIRST_CHUNK_SECONDS * 1000 <= streamed < 5_000
    failures = rows(
        warehouse,
        f"SELECT trace_id, error_id, category, error_class, root_cause_type, root_cause_message FROM {db}.errors",
    )
    assert {(f[0], f[2], f[3], f[4]) for f in failures} == {
        (run.trace_id, "api_error", "rate_limit", "openai.RateLimitError") for run in (proto_run, json_run)
    }
    assert {f"{run.trace_id}-{run.refused_span_id}" for run in (proto_run, json_run)} <= {f[1] for f in failures}
    assert all(RATE_LIMITED[:40] in f[5] for f in failures), failures
    # its LLM spans are calls: six, two of them refused, a time to first token from the two streamed ones
    health = rows(warehouse, f"SELECT model, calls, errors, ttft_p50_ms FROM {db}.model_health_1h ORDER BY model")
    assert [(model, calls, errors, ttft is not None) for model, calls, errors, ttft in health] == [
        ("gpt-4o", 2, 2, False), ("gpt-4o-2024-08-06", 4, 0, True),
    ]  # fmt: skip
