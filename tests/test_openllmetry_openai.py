"""OpenLLMetry's instrumentation of the real OpenAI SDK: what it emits for tokens, finish reasons, errors and
time to first token, through Kafka and the daemon into spans, trace_spans, errors and model_health_1h."""

from __future__ import annotations

from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from tests.conftest import rows
from tests.instrumented_openai import assert_refusals_explained, delivered_in_both_encodings, steps_of
from tests.openllmetry_openai import FIRST_CHUNK_SECONDS, openllmetry_agent_run


def test_openllmetry_calls_land_as_calls_steps_ttft_and_one_explained_failure(
    settings: Settings, warehouse: Client
) -> None:
    settings, runs = delivered_in_both_encodings(settings, warehouse, openllmetry_agent_run)
    db = settings.database
    for run in runs:
        steps = steps_of(warehouse, db, run.trace_id)
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
    assert_refusals_explained(warehouse, db, runs)
    # its LLM spans are calls: six, two of them refused, a time to first token from the two streamed ones
    health = rows(warehouse, f"SELECT model, calls, errors, ttft_p50_ms FROM {db}.model_health_1h ORDER BY model")
    assert [(model, calls, errors, ttft is not None) for model, calls, errors, ttft in health] == [
        ("gpt-4o", 2, 2, False), ("gpt-4o-2024-08-06", 4, 0, True),
    ]  # fmt: skip
