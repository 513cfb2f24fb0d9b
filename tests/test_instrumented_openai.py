"""OpenInference's instrumentation of the real OpenAI SDK, its spans through Kafka and the daemon into the views."""

from __future__ import annotations

from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from tests.conftest import rows
from tests.instrumented_openai import (
    assert_refusals_explained,
    delivered_in_both_encodings,
    instrumented_agent_run,
    steps_of,
)


def test_instrumented_openai_calls_become_steps_calls_and_one_explained_failure(
    settings: Settings, warehouse: Client
) -> None:
    settings, runs = delivered_in_both_encodings(settings, warehouse, instrumented_agent_run)
    db = settings.database
    for run in runs:
        steps = steps_of(warehouse, db, run.trace_id)
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
    assert_refusals_explained(warehouse, db, runs)
