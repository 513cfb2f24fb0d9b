"""A second real instrumentation: OpenLLMetry's (traceloop's ``opentelemetry-instrumentation-openai``) for the
OpenAI SDK, over the same mock HTTP transport as OpenInference's (no network).

An agent span wraps three chat calls made with the real ``openai`` client: one answered, one
streamed (its first chunk arrives after a pause), and one refused with OpenAI's 429 body, which the
application masks as its own ``ValueError``. OpenLLMetry records streaming time to first token as a
metric only; on the span, each chunk is an event (``gen_ai.content.completion.chunk``) at the time
it arrived, which is what correlator reads.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import httpx
import openai
import orjson
from opentelemetry.instrumentation.openai import OpenAIInstrumentor

from tests.instrumented_openai import InstrumentedRun, openai_api, refused_and_masked, run_instrumented

# how long the streamed call waits for its first chunk
FIRST_CHUNK_SECONDS = 0.15


def _streamed(model: str) -> Iterator[bytes]:
    """A chat completion as server-sent events: a pause, two chunks, usage on the last, then [DONE]."""
    time.sleep(FIRST_CHUNK_SECONDS)
    base = {"id": "chatcmpl-stream", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": f"{model}-2024-08-06"}  # fmt: skip
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Par"}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "is."}, "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}},
    ]  # fmt: skip
    for chunk in chunks:
        yield b"data: " + orjson.dumps(chunk) + b"\n\n"
    yield b"data: [DONE]\n\n"


def _api(request: httpx.Request) -> httpx.Response:
    body = orjson.loads(request.content)
    if body.get("stream"):
        return httpx.Response(200, content=_streamed(body["model"]), headers={"content-type": "text/event-stream"})
    return openai_api(request)


def openllmetry_agent_run(service: str) -> InstrumentedRun:
    """One agent run through the SDK instrumented by OpenLLMetry, in a process of its own: after it had been
    instrumented and uninstrumented in the suite's process, OpenInference's spans made later there lost their
    parent (``test_instrumented_openai`` failed when run after it), so it never runs in that process."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_agent_run, service).result()


def _agent_run(service: str, model: str = "gpt-4o") -> InstrumentedRun:
    """One agent run through the SDK instrumented by OpenLLMetry: answered, streamed, then refused."""

    def calls(client: openai.OpenAI) -> None:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Capital of France?"}])
        stream = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Again?"}], stream=True,
            stream_options={"include_usage": True},
        )  # fmt: skip
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices) == "Paris."
        refused_and_masked(client, model)

    return run_instrumented(OpenAIInstrumentor(), service, _api, calls)
