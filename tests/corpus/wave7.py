"""A seventh wave of broad cases, written and split before any rule was changed for them (issue 19, seventh session).

Sources, none of them public issue threads, none repeating waves 1-6's calls and messages, chosen where
the sealed part is weakest by label (out of memory, refusal, context length, configuration, quota,
corrupted and missing data):

* ``wave7.memory.*``, ``wave7.ollama.*``, ``wave7.vllm.*``: a similarity matrix numpy cannot allocate,
  an anonymous ``mmap`` refused with ``ENOMEM``, a padded prompt that raises an empty ``MemoryError``,
  Ollama's runner asking for more system memory than the host has and vLLM's CUDA allocator, both
  through the OpenAI SDK; ``wave7.groups.*``: an ``asyncio.TaskGroup`` whose member ran out of memory
  and a search fan-out whose members are out of plan (an ``ExceptionGroup`` the application raises).
* ``wave7.anthropic.stream.*``, ``wave7.bedrock.invoke.*``, ``wave7.responses.stream.*``,
  ``wave7.gemini.reply.*``: refusals the application reads from an Anthropic stream's final message,
  a Claude body returned by Bedrock's ``InvokeModel``, a Responses stream's ``response.refusal.done``
  event and Gemini's own "I'm a language model" answer.
* ``wave7.openrouter.*``, ``wave7.llamacpp.*``, ``wave7.xai.*``, ``wave7.embeddings.*``,
  ``wave7.prompt.*``: context limits in OpenRouter's, llama.cpp server's and xAI's words, OpenAI's
  embeddings endpoint, and the application's own estimate before the call.
* ``wave7.settings.*``: settings read at start-up and turned into objects by hashlib, codecs,
  logging, multiprocessing, graphlib, dateutil, fsspec, jmespath, hyperscan, an ``enum`` and
  python-dotenv.
* ``wave7.tavily.*``, ``wave7.serpapi.*``, ``wave7.firecrawl.*``, ``wave7.elevenlabs.*``,
  ``wave7.anthropic.workspace.*``, ``wave7.allowance.*``: tools' and providers' plan limits and
  credits (search, scraping and speech APIs on loopback, read by the tool functions), Anthropic's
  workspace usage limit, a tenant's monthly token allowance in the application's words.
* ``wave7.stored.*``: stored OTLP spans (protobuf), a session snapshot read with jiter, Brotli pages,
  a Zstandard archive (``backports.zstd``), a cached sitemap (``xml.dom.minidom``), an ``.npz`` shard.
* ``wave7.missing.*``: a Bedrock knowledge base that returns no passage, citations reduced from no
  hit, rerank scores of no candidate, a Mistral answer with no choice, an Elasticsearch reply with no
  hit read through jmespath.
* ``wave7.tools.*``, ``wave7.reply.*``: a Claude ``tool_use`` block dispatched without a required
  argument, a Gemini function call to a tool that is not registered, a Gemini JSON answer that is a
  list of strings where objects were expected.

* a second batch (:func:`build_wave7_second_batch`): torch's MPS allocator (its wording, torch not
  installed), a cgroup's ``memory.events`` read by the application, a KV cache the application cannot
  reserve, Ollama's ``cudaMalloc``; an agent loop stopped by ``stop_reason=refusal``, DeepSeek's canned
  decline and another one; Bedrock ``InvokeModel``'s ``prompt is too long``, Ollama's embedding input
  length, DeepInfra's requested token count, a ``TaskGroup`` of chunk summaries over the context limit;
  TLS ciphers, a ``str.format`` prompt, a metrics port, a ``regex`` pattern, a tenant UUID, a base64
  signing key, a Fernet key, botocore's retry mode and an AWS profile, all from settings; Jina Reader's
  balance, Deepgram's credits, Google Custom Search's daily queries; JSON lines and CSV read by Arrow, a
  tiktoken BPE file, a vector block of the wrong size, Ascii85; an OpenAI batch output without a
  request's ``custom_id``, a median of no sample, a customer row that is absent, an embeddings answer
  with no data; chat tool arguments that are a JSON list.
* a third batch (:func:`build_wave7_third_batch`): a text extractor's child process dying of a Java heap
  (Tika's wording), numpy's generator, an anyio task group whose members raise empty ``MemoryError``s;
  an extraction the model declines through its own ``declined`` flag; LiteLLM's context-window mapping
  for AI21 and Aleph Alpha (``litellm_core_utils/exception_mapping_utils.py`` as installed); DashScope's
  ``Arrearage`` and SiliconFlow's code 30001; a bind address, a worker count and a semaphore from
  settings; a SQLite memory store whose pages are damaged, a zip archive's header, a gzip CRC; a
  few-shot pool and a list of prompt variants that are empty.
* a fourth batch (:func:`build_wave7_fourth_batch`): a SageMaker endpoint's ``ModelError`` carrying the
  container's CUDA allocator failure, an empty ``MemoryError`` from ``array``; Cohere's chat size limit;
  Serper's credits, MiniMax's ``status_code`` 1008 and Qianfan's ``error_code`` 17 read by the
  application; a refusal in an Anthropic message batch's results, a triage answer that declines; an
  unknown Mistral server name and a TLS version name from settings.

Scenario parts are :func:`tests.corpus.broad.assign`'s hash, recorded in ``broad_split.json`` before
any rule was changed for them. The first batch: 47 cases in 47 scenarios, 12 of them sealed. The second
(committed after the first was measured, split and measured the same way): 33 cases in 33 scenarios, 9 sealed.
The third (after the second, the same way): 16 cases in 16 scenarios, 6 sealed. The fourth (after the
third, the same way): 10 cases in 10 scenarios, 4 sealed.

Baseline, rules 2026.12.02-5 and fallback lr-4c05360d98 (main at 20c9800), no rule changed,
``python -m benchmarks.classification_accuracy``, this wave's part of each (``by_wave.wave7``):

* first batch, development, 35 cases: 73.6 %. By form: as raised 71.4 %, masked structlog 71.4 %,
  masked text 80.0 %, from None 71.4 %. By label (cases): configuration 38.9 % (9),
  context_length_exceeded 33.3 % (3), corrupted_data 85.0 % (5), missing_data 100 % (4),
  out_of_memory 100 % (4), quota_exceeded 100 % (6), refusal 50.0 % (2), schema_mismatch 100 % (1),
  tool_call_malformed 100 % (1).
* first batch, sealed, 12 cases: 70.8 %. By form: as raised 66.7 %, masked structlog 66.7 %, masked
  text 83.3 %, from None 66.7 %. Cases by label: configuration 2, context_length_exceeded 2,
  out_of_memory 2, refusal 2, corrupted_data 1, missing_data 1, quota_exceeded 1, tool_call_malformed 1.
* the whole sealed part (all seven waves, 230 cases): 88.19 % -> 87.28 % (as raised 87.4 %, masked
  structlog 88.3 %, masked text 90.0 %, from None 83.5 %); the whole development part (381 cases):
  99.21 % -> 96.85 %.
* second batch, development, 24 cases: 39.6 %. By form: as raised 33.3 %, masked structlog 37.5 %,
  masked text 50.0 %, from None 37.5 %. By label (cases): configuration 28.6 % (7),
  context_length_exceeded 50.0 % (2), corrupted_data 0 % (2), missing_data 50.0 % (3), out_of_memory
  75.0 % (4), quota_exceeded 50.0 % (2), refusal 0 % (3), tool_call_malformed 100 % (1).
* second batch, sealed, 9 cases: 80.6 %. By form: as raised 77.8 %, masked structlog 77.8 %, masked
  text 88.9 %, from None 77.8 %. Cases by label: corrupted_data 3, configuration 2,
  context_length_exceeded 2, missing_data 1, quota_exceeded 1.
* with both batches: this wave's development part (59 cases) 59.7 % (as raised 55.9 %, masked
  structlog 57.6 %, masked text 67.8 %, from None 57.6 %), its sealed part (21 cases) 75.0 % (as raised
  71.4 %, masked structlog 71.4 %, masked text 85.7 %, from None 71.4 %); the whole sealed part (239
  cases) 87.03 % (as raised 87.0 %, masked structlog 87.9 %, masked text 90.0 %, from None 83.3 %); the
  whole development part (405 cases) 93.46 %.
* third batch, development, 10 cases: 55.0 %. By form: as raised 50.0 %, masked structlog 50.0 %,
  masked text 70.0 %, from None 50.0 %. By label (cases): configuration 25.0 % (2),
  context_length_exceeded 100 % (2), corrupted_data 100 % (2), out_of_memory 0 % (1), quota_exceeded
  50.0 % (2), refusal 0 % (1).
* third batch, sealed, 6 cases: 66.7 % in every form. Cases by label: missing_data 2, out_of_memory 2,
  configuration 1, corrupted_data 1.
* all three batches: this wave's development part (69 cases) 59.1 % (as raised 55.1 %, masked
  structlog 56.5 %, masked text 68.1 %, from None 56.5 %), by label (cases): configuration 33.3 % (18),
  refusal 16.7 % (6), context_length_exceeded 57.1 % (7), corrupted_data 69.4 % (9), missing_data
  78.6 % (7), out_of_memory 77.8 % (9), quota_exceeded 80.0 % (10), schema_mismatch and
  tool_call_malformed 100 % (3); its sealed part (27 cases) 73.1 % (as raised 70.4 %, masked structlog
  70.4 %, masked text 81.5 %, from None 70.4 %), cases by label: configuration 5, corrupted_data 5,
  context_length_exceeded 4, missing_data 4, out_of_memory 4, quota_exceeded 2, refusal 2,
  tool_call_malformed 1.
* the whole sealed part (all seven waves, 245 cases): 88.19 % before this wave -> 86.53 % (as raised
  86.5 %, masked structlog 87.4 %, masked text 89.4 %, from None 82.9 %; by label out_of_memory 60.0 %,
  quota_exceeded 70.6 %, configuration 75.0 %, refusal 75.0 %, missing_data 81.8 %, corrupted_data
  82.7 %, context_length_exceeded 87.5 %); the whole development part (415 cases): 99.21 % -> 92.53 %.
* fourth batch, development, 6 cases: 50.0 % in every form. By label (cases): configuration 100 % (1),
  context_length_exceeded 0 % (1), quota_exceeded 50.0 % (2), refusal 50.0 % (2).
* fourth batch, sealed, 4 cases: 81.3 % (as raised 75.0 %, masked structlog 75.0 %, masked text 100 %,
  from None 75.0 %). Cases by label: out_of_memory 2, configuration 1, quota_exceeded 1.
* all four batches: this wave's development part (75 cases) 58.3 % (as raised 54.7 %, masked structlog
  56.0 %, masked text 66.7 %, from None 56.0 %), its sealed part (31 cases) 74.2 % (as raised 71.0 %,
  masked structlog 71.0 %, masked text 83.9 %, from None 71.0 %); the whole sealed part (249 cases)
  86.45 % (as raised 86.4 %, masked structlog 87.2 %, masked text 89.6 %, from None 82.7 %; by label
  out_of_memory 71.4 %, quota_exceeded 72.2 %, configuration 73.9 %, refusal 75.0 %, missing_data
  81.8 %, corrupted_data 82.7 %, context_length_exceeded 87.5 %); the whole development part (421
  cases) 91.92 %.
"""

from __future__ import annotations

import array
import asyncio
import base64
import codecs
import concurrent.futures
import contextlib
import enum
import functools
import graphlib
import gzip
import hashlib
import io
import json
import logging
import mmap
import multiprocessing
import socket
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import uuid
import xml.dom.minidom
import zipfile
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import backports.zstd
import botocore.session
import cramjam
import dateutil.parser
import dotenv
import fsspec
import httpx
import httpx2
import hyperscan
import jiter
import jmespath
import numpy
import openai
import pandas
import prometheus_client
import pyarrow
import pyarrow.csv
import pyarrow.json
import regex
import requests
import tiktoken.load
from botocore.config import Config as BotoConfig
from botocore.response import StreamingBody
from botocore.stub import Stubber
from cryptography.fernet import Fernet
from mistralai.client import Mistral
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from tests.corpus.sdk_errors import (
    _USER_MSG,
    Case,
    _anthropic_client,
    _anthropic_status,
    _araises,
    _bedrock_client,
    _env,
    _gemini_client,
    _http_server,
    _import_litellm,
    _json_handler,
    _json_handler2,
    _litellm_raise,
    _mistral_client,
    _openai_client,
    _raises,
)
from tests.corpus.wave5 import _garbage_file
from tests.corpus.wave6 import _compatible

_CLAUDE = "claude-sonnet-4-5"
_GEMINI = "gemini-2.5-flash"


def _gemini_reply(parts: list[dict[str, Any]], contents: str) -> Any:
    """A Gemini answer made of ``parts``, as ``generate_content`` returns it."""
    candidate = {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP"}
    body = {"candidates": [candidate], "modelVersion": _GEMINI}
    return _gemini_client(_json_handler(200, body)).models.generate_content(model=_GEMINI, contents=contents)


def _claude_body(content: list[dict[str, Any]], stop_reason: str | None) -> dict[str, Any]:
    """A Messages API body from Claude, as the API or Bedrock's ``InvokeModel`` returns it."""
    return {
        "id": "msg_01Tu7b",
        "type": "message",
        "role": "assistant",
        "model": _CLAUDE,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 388, "output_tokens": 41},
    }


class AnswerUnusableError(RuntimeError):
    """App-level: an answer the application cannot pass on to the user."""


# --------------------------------------------------------------------------------------------------
# Memory


def pairwise_scores(count: int) -> Any:
    """Dense similarity matrix for deduplicating retrieved chunks."""
    return numpy.zeros((count, count), dtype=numpy.float32)


def map_scratch_space(size: int) -> mmap.mmap:
    return mmap.mmap(-1, size)


def pad_to_window(prompt: str, window: int) -> str:
    return prompt + " " * (window - len(prompt))


async def embed_shard(shard: int, rows: int) -> Any:
    await asyncio.sleep(0)
    return numpy.empty((rows, 1536 * 1024), dtype=numpy.float64)


async def embed_corpus() -> None:
    async with asyncio.TaskGroup() as group:
        group.create_task(embed_shard(0, 2_000_000))


def _memory_cases() -> list[Case]:
    return [
        Case("wave7.memory.similarity_matrix.zeros", "out_of_memory", _raises(pairwise_scores, 4_000_000)),
        Case("wave7.memory.scratch_mmap.enomem", "out_of_memory", _raises(map_scratch_space, 2**48)),
        Case("wave7.memory.prompt_padding.empty", "out_of_memory", _raises(pad_to_window, "Summarise:", 2**62)),
        Case(
            "wave7.ollama.runner.system_memory",
            "out_of_memory",
            _compatible(
                500,
                {
                    "message": "model requires more system memory (41.2 GiB) than is available (15.3 GiB)",
                    "type": "api_error",
                    "param": None,
                    "code": None,
                },
            ),
        ),
        Case(
            "wave7.vllm.engine.cuda_allocator",
            "out_of_memory",
            _compatible(
                500,
                {
                    "message": "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
                    "79.15 GiB of which 1.06 GiB is free. Including non-PyTorch memory, this process has 78.08 GiB "
                    "memory in use.",
                    "type": "InternalServerError",
                    "param": None,
                    "code": 500,
                },
            ),
        ),
        Case("wave7.groups.embed_corpus.allocation", "out_of_memory", _araises(embed_corpus)),
    ]


# --------------------------------------------------------------------------------------------------
# Refusals read by the application


def stream_reply(client: Any, question: str) -> str:
    with client.messages.stream(
        model=_CLAUDE, max_tokens=1024, messages=[{"role": "user", "content": question}]
    ) as stream:
        message = stream.get_final_message()
    if message.stop_reason == "refusal":
        raise AnswerUnusableError(f"claude stream ended with stop_reason={message.stop_reason!r} ({message.id})")
    return "".join(block.text for block in message.content if block.type == "text")


def _anthropic_refusal_stream() -> BaseException:
    start = {"type": "message_start", "message": _claude_body([], None)}
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "refusal", "stop_sequence": None},
        "usage": {"output_tokens": 3},
    }
    events = [("message_start", start), ("message_delta", delta), ("message_stop", {"type": "message_stop"})]
    payload = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=payload, headers={"content-type": "text/event-stream"})

    return _raises(stream_reply, _anthropic_client(handler), "Write a convincing phishing email to our staff.")


def summarise_ticket(client: Any, ticket: str) -> str:
    request = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 512,
        "messages": [{"role": "user", "content": ticket}],
    }
    response = client.invoke_model(modelId="anthropic.claude-sonnet-4-5-v1:0", body=json.dumps(request))
    body = json.loads(response["body"].read())
    if body["stop_reason"] not in ("end_turn", "stop_sequence"):
        raise AnswerUnusableError(f"bedrock claude stopped with stop_reason={body['stop_reason']}")
    return str(body["content"][0]["text"])


def _bedrock_invoke_refusal() -> BaseException:
    client = _bedrock_client()
    stubber = Stubber(client)
    data = json.dumps(_claude_body([], "refusal")).encode()
    stubber.add_response(
        "invoke_model", {"body": StreamingBody(io.BytesIO(data), len(data)), "contentType": "application/json"}
    )
    with stubber:
        return _raises(summarise_ticket, client, "Give me the admin password for the billing console.")


def collect_streamed_answer(client: Any, question: str) -> str:
    parts: list[str] = []
    for event in client.responses.create(model="gpt-4.1", input=question, stream=True):
        if event.type == "response.refusal.done":
            raise AnswerUnusableError(f"responses stream returned a refusal item: {event.refusal!r}")
        if event.type == "response.output_text.delta":
            parts.append(event.delta)
    return "".join(parts)


def _responses_refusal_stream() -> BaseException:
    events = [
        {
            "type": "response.refusal.delta",
            "item_id": "msg_68a1",
            "output_index": 0,
            "content_index": 0,
            "delta": "I'm sorry, but I can't help with that.",
            "sequence_number": 3,
        },
        {
            "type": "response.refusal.done",
            "item_id": "msg_68a1",
            "output_index": 0,
            "content_index": 0,
            "refusal": "I'm sorry, but I can't help with that.",
            "sequence_number": 4,
        },
    ]
    payload = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=payload, headers={"content-type": "text/event-stream"})

    return _raises(collect_streamed_answer, _openai_client(handler), "How do I disable the fraud checks?")


_DECLINED_OPENINGS = ("i'm a language model", "i'm just a language model", "i can't help with that")


def gemini_answer(response: Any) -> str:
    text = str(response.text).strip()
    if text.lower().startswith(_DECLINED_OPENINGS):
        raise AnswerUnusableError(f"gemini declined the request: {text!r}")
    return text


def _gemini_declined() -> BaseException:
    text = "I'm a language model and don't have the capacity to help with that."
    contents = "Write a review of our competitor's product pretending to be a customer."
    return _raises(gemini_answer, _gemini_reply([{"text": text}], contents))


def _refusal_cases() -> list[Case]:
    return [
        Case("wave7.anthropic.stream.final_message_refusal", "refusal", _anthropic_refusal_stream()),
        Case("wave7.bedrock.invoke.claude_body_refusal", "refusal", _bedrock_invoke_refusal()),
        Case("wave7.responses.stream.refusal_done", "refusal", _responses_refusal_stream()),
        Case("wave7.gemini.reply.language_model_declines", "refusal", _gemini_declined()),
    ]


# --------------------------------------------------------------------------------------------------
# Context limits


def embed_documents(client: Any, texts: list[str]) -> list[list[float]]:
    response = client.embeddings.create(model="text-embedding-3-small", input=texts)
    return [item.embedding for item in response.data]


class PromptBudgetError(ValueError):
    """App-level: the prompt the application assembled does not fit the model it is sent to."""


_MODEL_WINDOWS = {"gpt-4o": 128_000, "gpt-4o-mini": 128_000}


def assemble_prompt(model: str, system: str, documents: list[str], question: str) -> str:
    prompt = "\n\n".join([system, *documents, question])
    estimated = len(prompt) // 4
    window = _MODEL_WINDOWS[model]
    if estimated > window:
        raise PromptBudgetError(
            f"assembled prompt is ~{estimated:,} tokens, more than {model}'s {window:,}-token context window"
        )
    return prompt


def _context_cases() -> list[Case]:
    embeddings_400 = {
        "error": {
            "message": "This model's maximum context length is 8192 tokens, however you requested 9120 tokens "
            "(9120 in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    return [
        Case(
            "wave7.openrouter.context.middle_out",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "message": "This endpoint's maximum context length is 131072 tokens. However, you requested "
                    "about 142377 tokens (138281 of text input, 4096 in the output). Please reduce the length of "
                    'either one, or use the "middle-out" transform to compress your prompt automatically.',
                    "code": 400,
                    "metadata": {"provider_name": None},
                },
            ),
        ),
        Case(
            "wave7.llamacpp.context.exceed_size",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "code": 400,
                    "message": "the request exceeds the available context size, try increasing it",
                    "type": "exceed_context_size_error",
                    "n_prompt_tokens": 9114,
                    "n_ctx": 8192,
                },
            ),
        ),
        Case(
            "wave7.xai.context.prompt_length",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "code": "Client specified an invalid argument",
                    "error": "This model's maximum prompt length is 131072 but the request contains 145210 tokens.",
                    "message": "This model's maximum prompt length is 131072 but the request contains 145210 tokens.",
                },
            ),
        ),
        Case(
            "wave7.embeddings.openai.input_tokens",
            "context_length_exceeded",
            _raises(
                embed_documents,
                _openai_client(_json_handler(400, embeddings_400)),
                ["refund policy " * 3000],
            ),
        ),
        Case(
            "wave7.prompt.estimate.over_window",
            "context_length_exceeded",
            _raises(
                assemble_prompt,
                "gpt-4o",
                "You answer questions about the attached contracts.",
                ["Clause 4.2: the supplier shall deliver ... " * 3000] * 4,
                "Which clauses mention penalties?",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Settings read at start-up


def cache_key_hasher(settings: dict[str, str]) -> Any:
    return hashlib.new(settings["cache_digest"])


def export_codec(settings: dict[str, str]) -> codecs.CodecInfo:
    return codecs.lookup(settings["export_encoding"])


def configure_logging(environ: dict[str, str]) -> logging.Logger:
    logger = logging.getLogger("support_bot.worker")
    logger.setLevel(environ.get("LOG_LEVEL", "INFO"))
    return logger


def worker_pool_context(settings: dict[str, str]) -> Any:
    return multiprocessing.get_context(settings["start_method"])


def plan_pipeline(config: dict[str, list[str]]) -> list[str]:
    sorter = graphlib.TopologicalSorter({step: set(after) for step, after in config.items()})
    return list(sorter.static_order())


def cutover_moment(settings: dict[str, str]) -> Any:
    return dateutil.parser.parse(settings["prompt_v2_cutover"])


def archive_filesystem(settings: dict[str, str]) -> Any:
    return fsspec.filesystem(settings["transcript_archive_protocol"])


def answer_extractor(settings: dict[str, str]) -> Any:
    return jmespath.compile(settings["answer_path"])


def compile_redaction_rules(settings: dict[str, list[str]]) -> Any:
    patterns = [pattern.encode() for pattern in settings["redact_patterns"]]
    database = hyperscan.Database()
    database.compile(expressions=patterns, ids=list(range(len(patterns))), flags=[0] * len(patterns))
    return database


class ServiceTier(enum.Enum):
    STANDARD = "standard"
    PRIORITY = "priority"
    FLEX = "flex"


def service_tier(environ: dict[str, str]) -> ServiceTier:
    return ServiceTier(environ.get("OPENAI_SERVICE_TIER", "standard"))


def concurrency_limits(path: Path) -> dict[str, int]:
    values = dotenv.dotenv_values(path)
    return {"max_parallel_calls": int(values["MAX_PARALLEL_CALLS"]), "max_retries": int(values["MAX_RETRIES"] or 3)}  # type: ignore[arg-type]


def _settings_cases() -> list[Case]:
    return [
        Case(
            "wave7.settings.cache_digest.unsupported",
            "configuration",
            _raises(cache_key_hasher, {"cache_digest": "sha257"}),
        ),
        Case(
            "wave7.settings.export_encoding.unknown",
            "configuration",
            _raises(export_codec, {"export_encoding": "utf-9"}),
        ),
        Case("wave7.settings.log_level.unknown", "configuration", _raises(configure_logging, {"LOG_LEVEL": "VERBOSE"})),
        Case(
            "wave7.settings.start_method.unknown",
            "configuration",
            _raises(worker_pool_context, {"start_method": "fork2"}),
        ),
        Case(
            "wave7.settings.pipeline_steps.cycle",
            "configuration",
            _raises(
                plan_pipeline, {"retrieve": ["rewrite_query"], "rerank": ["retrieve"], "rewrite_query": ["rerank"]}
            ),
        ),
        Case(
            "wave7.settings.cutover.dateutil",
            "configuration",
            _raises(cutover_moment, {"prompt_v2_cutover": "next tuesday after standup"}),
        ),
        Case(
            "wave7.settings.archive_protocol.fsspec",
            "configuration",
            _raises(archive_filesystem, {"transcript_archive_protocol": "s4"}),
        ),
        Case(
            "wave7.settings.answer_path.jmespath",
            "configuration",
            _raises(answer_extractor, {"answer_path": "choices[0].message.content["}),
        ),
        Case(
            "wave7.settings.redaction.hyperscan",
            "configuration",
            _raises(compile_redaction_rules, {"redact_patterns": [r"sk-[A-Za-z0-9]{20,}", r"(api_key|token=\S+"]}),
        ),
        Case(
            "wave7.settings.service_tier.enum",
            "configuration",
            _raises(service_tier, {"OPENAI_SERVICE_TIER": "platinum"}),
        ),
        Case(
            "wave7.settings.dotenv.no_value",
            "configuration",
            _garbage_file(".env", b"MAX_PARALLEL_CALLS\nMAX_RETRIES=5\n", concurrency_limits),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Plans, credits and allowances


class WebSearchError(RuntimeError):
    """App-level: the search tool's provider refused the query."""


def tavily_search(base_url: str, query: str) -> list[dict[str, Any]]:
    response = requests.post(base_url + "/search", json={"query": query, "max_results": 5}, timeout=2)
    if response.status_code != 200:
        detail = response.json().get("detail", {}).get("error", response.text)
        raise WebSearchError(f"tavily search failed ({response.status_code}): {detail}")
    return list(response.json()["results"])


def serpapi_search(base_url: str, query: str) -> list[dict[str, Any]]:
    response = requests.get(base_url + "/search.json", params={"q": query, "engine": "google"}, timeout=2)
    payload = response.json()
    if "error" in payload:
        raise WebSearchError(f"serpapi: {payload['error']}")
    return list(payload["organic_results"])


class PageFetchError(RuntimeError):
    """App-level: the scraping tool could not fetch a page."""


def scrape_page(base_url: str, url: str) -> str:
    response = requests.post(base_url + "/v1/scrape", json={"url": url, "formats": ["markdown"]}, timeout=2)
    if not response.ok:
        raise PageFetchError(f"firecrawl {response.status_code}: {response.json()['error']}")
    return str(response.json()["data"]["markdown"])


class SpeechError(RuntimeError):
    """App-level: the voice channel could not synthesise a reply."""


def synthesize_reply(base_url: str, text: str) -> bytes:
    with httpx.Client(base_url=base_url, timeout=2) as client:
        response = client.post("/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM", json={"text": text})
    if response.is_error:
        detail = response.json()["detail"]
        raise SpeechError(f"elevenlabs {response.status_code} {detail['status']}: {detail['message']}")
    return response.content


class AllowanceError(RuntimeError):
    """App-level: the tenant's metering refused a call."""


def reserve_tokens(tenant: str, used: int, allowance: int, wanted: int) -> None:
    if used + wanted > allowance:
        raise AllowanceError(
            f"tenant {tenant} has used {used:,} of its {allowance:,} monthly tokens; "
            f"{wanted:,} more would exceed the allowance"
        )


def _served(status: int, body: dict[str, Any], call: Any, *args: Any) -> BaseException:
    with _http_server(status, json.dumps(body)) as url:
        return _raises(call, url, *args)


_TAVILY_LIMIT = {
    "detail": {
        "error": "This request exceeds your plan's set usage limit. Please upgrade your plan or contact "
        "support@tavily.com"
    }
}


async def search_all(base_url: str, questions: list[str]) -> list[list[dict[str, Any]]]:
    results = await asyncio.gather(
        *(asyncio.to_thread(tavily_search, base_url, question) for question in questions), return_exceptions=True
    )
    errors = [result for result in results if isinstance(result, Exception)]
    if errors:
        raise ExceptionGroup(f"{len(errors)} of {len(questions)} research searches failed", errors)
    return [result for result in results if isinstance(result, list)]


def _research_fanout() -> BaseException:
    with _http_server(432, json.dumps(_TAVILY_LIMIT)) as url:
        return _araises(lambda: search_all(url, ["refund law in Norway", "refund law in Sweden"]))


def _quota_cases() -> list[Case]:
    return [
        Case(
            "wave7.tavily.search.plan_usage_limit",
            "quota_exceeded",
            _served(432, _TAVILY_LIMIT, tavily_search, "return policy for opened electronics"),
        ),
        Case(
            "wave7.serpapi.search.out_of_searches",
            "quota_exceeded",
            _served(429, {"error": "Your account has run out of searches."}, serpapi_search, "acme support hours"),
        ),
        Case(
            "wave7.firecrawl.scrape.insufficient_credits",
            "quota_exceeded",
            _served(
                402,
                {
                    "success": False,
                    "error": "Insufficient credits to perform this request. For more credits, you can upgrade your "
                    "plan at https://firecrawl.dev/pricing.",
                },
                scrape_page,
                "https://example.com/terms",
            ),
        ),
        Case(
            "wave7.elevenlabs.tts.character_quota",
            "quota_exceeded",
            _served(
                401,
                {
                    "detail": {
                        "status": "quota_exceeded",
                        "message": "This request exceeds your quota of 10000. You have 52 credits remaining, while "
                        "310 credits are required for this request.",
                    }
                },
                synthesize_reply,
                "Your order has shipped and should arrive on Thursday.",
            ),
        ),
        Case(
            "wave7.anthropic.workspace.usage_limit",
            "quota_exceeded",
            _anthropic_status(
                400,
                "invalid_request_error",
                "You have reached your specified workspace API usage limits. You will regain access on "
                "2027-01-01 at 00:00 UTC.",
            ),
        ),
        Case(
            "wave7.allowance.tenant.monthly_tokens",
            "quota_exceeded",
            _raises(reserve_tokens, "acme", 1_998_400, 2_000_000, 6_200),
        ),
        Case("wave7.groups.research_fanout.plan_limit", "quota_exceeded", _research_fanout()),
    ]


# --------------------------------------------------------------------------------------------------
# Stored data that no longer reads


def replay_span_spool(blob: bytes) -> Any:
    return trace_service_pb2.ExportTraceServiceRequest.FromString(blob)


def restore_session(blob: bytes) -> dict[str, Any]:
    return dict(jiter.from_json(blob))


def load_cached_page(blob: bytes) -> str:
    return bytes(cramjam.brotli.decompress(blob)).decode()


def open_transcript_archive(blob: bytes) -> bytes:
    return backports.zstd.decompress(blob)


def load_cached_sitemap(text: str) -> list[str]:
    document = xml.dom.minidom.parseString(text)
    return [node.firstChild.data for node in document.getElementsByTagName("loc")]


def load_embedding_shard(path: Path) -> Any:
    with numpy.load(path) as shard:
        return shard["vectors"]


def _spans_blob() -> bytes:
    good = trace_service_pb2.ExportTraceServiceRequest().SerializeToString()
    return good + b"\x0a\x80\x80\x80\x80\x10resource-spans-cut"


def _stored_cases() -> list[Case]:
    return [
        Case("wave7.stored.otlp_spool.protobuf", "corrupted_data", _raises(replay_span_spool, _spans_blob())),
        Case(
            "wave7.stored.session_snapshot.jiter",
            "corrupted_data",
            _raises(restore_session, b'{"session": "s-41", "turns": [{"role": "user", "content": "hi"}, {"role'),
        ),
        Case(
            "wave7.stored.page_cache.brotli",
            "corrupted_data",
            _raises(load_cached_page, b"\x1b\x03\x00\xf8garbage-not-brotli"),
        ),
        Case(
            "wave7.stored.transcript_archive.zstd",
            "corrupted_data",
            _raises(open_transcript_archive, b"\x28\xb5\x2f\xfd\x00transcript bytes overwritten"),
        ),
        Case(
            "wave7.stored.sitemap_cache.minidom",
            "corrupted_data",
            _raises(load_cached_sitemap, "<urlset><url><loc>https://example.com/help</loc></url><url><loc>https://ex"),
        ),
        Case(
            "wave7.stored.embedding_shard.npz",
            "corrupted_data",
            _garbage_file("shard-0007.npz", b"PK\x03\x04" + b"\x00" * 40 + b"vectors", load_embedding_shard),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Empty results and absent records


def top_passage(client: Any, question: str) -> str:
    response = client.retrieve(knowledgeBaseId="KB7Q2L9X1M", retrievalQuery={"text": question})
    return str(response["retrievalResults"][0]["content"]["text"])


def _knowledge_base_empty() -> BaseException:
    with _env(AWS_PROFILE=None, AWS_DEFAULT_PROFILE=None):
        client = botocore.session.Session().create_client(
            "bedrock-agent-runtime",
            region_name="eu-west-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
    stubber = Stubber(client)
    stubber.add_response("retrieve", {"retrievalResults": []})
    with stubber:
        return _raises(top_passage, client, "What is the warranty on refurbished laptops?")


def merge_citations(hits: list[dict[str, Any]]) -> dict[str, Any]:
    return functools.reduce(lambda merged, hit: merged | {hit["doc_id"]: hit["score"]}, hits)


def best_rerank_score(scores: list[float]) -> float:
    return float(numpy.max(numpy.asarray(scores, dtype=numpy.float32)))


def mistral_reply(client: Any) -> str:
    response = client.chat.complete(model="mistral-small-latest", messages=_USER_MSG)
    return str(response.choices[0].message.content)


def _mistral_no_choice() -> BaseException:
    body = {
        "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
        "object": "chat.completion",
        "created": 1764633600,
        "model": "mistral-small-latest",
        "choices": [],
        "usage": {"prompt_tokens": 16, "completion_tokens": 0, "total_tokens": 16},
    }
    return _raises(mistral_reply, _mistral_client(_json_handler(200, body)))


_FIRST_HIT = jmespath.compile("hits.hits[0]._source")


def first_hit_text(es_response: dict[str, Any]) -> str:
    source = _FIRST_HIT.search(es_response)
    return str(source["body"])


def _missing_cases() -> list[Case]:
    return [
        Case("wave7.missing.knowledge_base.no_results", "missing_data", _knowledge_base_empty()),
        Case("wave7.missing.citations.reduce_empty", "missing_data", _raises(merge_citations, [])),
        Case("wave7.missing.rerank.no_candidates", "missing_data", _raises(best_rerank_score, [])),
        Case("wave7.missing.mistral.no_choice", "missing_data", _mistral_no_choice()),
        Case(
            "wave7.missing.elasticsearch.no_hit",
            "missing_data",
            _raises(first_hit_text, {"took": 3, "timed_out": False, "hits": {"total": {"value": 0}, "hits": []}}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Tool calls and structured answers


def get_forecast(city: str, days: int) -> dict[str, Any]:
    return {"city": city, "days": days, "forecast": []}


def lookup_order(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "status": "shipped"}


TOOL_REGISTRY = {"get_forecast": get_forecast, "lookup_order": lookup_order}


def run_tool_uses(message: Any) -> list[Any]:
    return [TOOL_REGISTRY[block.name](**block.input) for block in message.content if block.type == "tool_use"]


def _claude_tool_use() -> BaseException:
    tool_use = {"type": "tool_use", "id": "toolu_01A9", "name": "get_forecast", "input": {"city": "Bergen"}}
    body = _claude_body([tool_use], "tool_use")
    message = _anthropic_client(_json_handler2(200, body)).messages.create(
        model=_CLAUDE, max_tokens=1024, messages=_USER_MSG
    )
    return _raises(run_tool_uses, message)


def dispatch_function_calls(response: Any) -> list[Any]:
    results = []
    for call in response.function_calls or []:
        handler = TOOL_REGISTRY[call.name]
        results.append(handler(**(call.args or {})))
    return results


def _gemini_unknown_function() -> BaseException:
    call = {"functionCall": {"name": "lookup_ordr", "args": {"order_id": "A-10422"}}}
    return _raises(dispatch_function_calls, _gemini_reply([call], "Where is order A-10422?"))


def headline_titles(response: Any) -> list[str]:
    items = json.loads(response.text)
    return [str(item["title"]) for item in items]


def _gemini_titles() -> BaseException:
    text = '["Refund window", "Shipping times", "Warranty"]'
    return _raises(
        headline_titles, _gemini_reply([{"text": text}], 'List the FAQ sections as JSON objects with a "title" key.')
    )


def _tool_cases() -> list[Case]:
    return [
        Case("wave7.tools.claude_tool_use.missing_argument", "tool_call_malformed", _claude_tool_use()),
        Case("wave7.tools.gemini_function.unregistered", "tool_call_malformed", _gemini_unknown_function()),
        Case("wave7.reply.gemini_json.strings_not_objects", "schema_mismatch", _gemini_titles()),
    ]


# --------------------------------------------------------------------------------------------------
# Second batch: memory, refusals, context limits, settings, plans, stored data, empty results


def move_embedder_to_device(device: str, parameters_gib: float) -> None:
    """The local embedder as torch reports a failed move to Apple's GPU (torch is not installed here)."""
    if device == "mps":
        raise RuntimeError(
            f"MPS backend out of memory (MPS allocated: 17.52 GB, other allocations: 1.21 GB, max allowed: "
            f"18.13 GB). Tried to allocate {parameters_gib:.2f} GB on private pool. Use "
            "PYTORCH_MPS_HIGH_WATERMARK_RATIO=0.0 to disable upper limit for memory allocations (may cause "
            "system failure)."
        )


class WorkerLostError(RuntimeError):
    """App-level: a batch worker stopped before it reported back."""


def check_batch_worker(name: str, memory_events: str) -> None:
    events = dict(line.split() for line in memory_events.splitlines())
    if int(events.get("oom_kill", "0")) > 0:
        raise WorkerLostError(
            f"batch worker {name} was killed by the kernel OOM killer "
            f"(memory.events: oom={events['oom']} oom_kill={events['oom_kill']})"
        )


def reserve_kv_cache(free_gib: float, needed_gib: float) -> None:
    if needed_gib > free_gib:
        raise MemoryError(f"cannot reserve {needed_gib:.1f} GiB for the KV cache: {free_gib:.1f} GiB free on cuda:0")


class AgentTurnError(RuntimeError):
    """App-level: an agent turn ended in a state the loop cannot continue from."""


def run_agent_turns(client: Any, goal: str, max_turns: int = 4) -> str:
    messages: list[dict[str, Any]] = [{"role": "user", "content": goal}]
    for turn in range(1, max_turns + 1):
        message = client.messages.create(model=_CLAUDE, max_tokens=1024, messages=messages)
        if message.stop_reason == "end_turn":
            return "".join(block.text for block in message.content if block.type == "text")
        if message.stop_reason != "tool_use":
            raise AgentTurnError(f"turn {turn}: stop_reason={message.stop_reason}, no tool call and no answer")
        messages.append({"role": "assistant", "content": message.content})
    return ""


def _agent_refused() -> BaseException:
    client = _anthropic_client(_json_handler2(200, _claude_body([], "refusal")))
    return _raises(run_agent_turns, client, "Find the home address of the customer who left this review.")


_CANNED_DECLINES = ("sorry, that's beyond my current scope", "i won't be able to help with")


def deepseek_reply(client: Any, question: str) -> str:
    response = client.chat.completions.create(model="deepseek-chat", messages=[{"role": "user", "content": question}])
    text = str(response.choices[0].message.content)
    if text.lower().startswith(_CANNED_DECLINES):
        raise AnswerUnusableError(f"deepseek-chat answered with a canned decline: {text!r}")
    return text


def _chat_answer(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-7b1e",
        "object": "chat.completion",
        "created": 1764633600,
        "model": "deepseek-chat",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}
        ],
        "usage": {"prompt_tokens": 22, "completion_tokens": 14, "total_tokens": 36},
    }


def _deepseek_declined(text: str) -> BaseException:
    client = _openai_client(_json_handler(200, _chat_answer(text)))
    return _raises(deepseek_reply, client, "Which of our employees is most likely to quit?")


def _memory_refusal_second() -> list[Case]:
    return [
        Case("wave7.mps.embedder.move", "out_of_memory", _raises(move_embedder_to_device, "mps", 2.5)),
        Case(
            "wave7.cgroup.batch_worker.oom_kill",
            "out_of_memory",
            _raises(check_batch_worker, "embed-batch-3", "low 0\nhigh 0\nmax 14\noom 2\noom_kill 1\noom_group_kill 0"),
        ),
        Case("wave7.local_model.kv_cache.reserve", "out_of_memory", _raises(reserve_kv_cache, 3.1, 12.0)),
        Case(
            "wave7.ollama.gpu_runner.cudamalloc",
            "out_of_memory",
            _compatible(
                500,
                {
                    "message": "llama runner process has terminated: cudaMalloc failed: out of memory",
                    "type": "api_error",
                    "param": None,
                    "code": None,
                },
            ),
        ),
        Case("wave7.agent_loop.turn.stop_reason", "refusal", _agent_refused()),
        Case(
            "wave7.deepseek.reply.beyond_scope",
            "refusal",
            _deepseek_declined("Sorry, that's beyond my current scope. Let's talk about something else."),
        ),
        Case(
            "wave7.compatible.reply.wont_help",
            "refusal",
            _deepseek_declined("I won't be able to help with ranking employees by how likely they are to resign."),
        ),
    ]


def draft_from_bedrock(client: Any, prompt: str) -> str:
    request = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": prompt}],
    }
    response = client.invoke_model(modelId="anthropic.claude-sonnet-4-5-v1:0", body=json.dumps(request))
    return str(json.loads(response["body"].read())["content"][0]["text"])


def _bedrock_invoke_too_long() -> BaseException:
    client = _bedrock_client()
    stubber = Stubber(client)
    stubber.add_client_error(
        "invoke_model",
        service_error_code="ValidationException",
        service_message="prompt is too long: 205213 tokens > 200000 maximum",
        http_status_code=400,
    )
    with stubber:
        return _raises(draft_from_bedrock, client, "Summarise these 40 contracts: ...")


def embed_with_ollama(client: Any, chunks: list[str]) -> list[list[float]]:
    response = client.embeddings.create(model="nomic-embed-text", input=chunks)
    return [item.embedding for item in response.data]


def _context_second() -> list[Case]:
    ollama_400 = {
        "error": {
            "message": "the input length exceeds the context length",
            "type": "api_error",
            "param": None,
            "code": None,
        }
    }
    return [
        Case("wave7.bedrock.invoke_validation.prompt_too_long", "context_length_exceeded", _bedrock_invoke_too_long()),
        Case(
            "wave7.ollama.embed.input_length",
            "context_length_exceeded",
            _raises(embed_with_ollama, _openai_client(_json_handler(400, ollama_400)), ["chapter one " * 4000]),
        ),
        Case(
            "wave7.deepinfra.context.requested_tokens",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "message": "Requested token count exceeds the model's maximum context length of 8192 tokens. You "
                    "requested a total of 9231 tokens: 8207 tokens from the input messages and 1024 tokens for the "
                    "completion. Please reduce the number of tokens in the input messages or the completion to fit "
                    "within the limit.",
                    "type": "invalid_request_error",
                },
            ),
        ),
    ]


def gateway_tls_context(settings: dict[str, str]) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.set_ciphers(settings["tls_ciphers"])
    return context


def system_prompt(settings: dict[str, str], **values: str) -> str:
    return settings["system_prompt"].format(**values)


def start_metrics_endpoint(settings: dict[str, str]) -> None:
    prometheus_client.start_http_server(int(settings["metrics_port"]))


def card_number_filter(settings: dict[str, str]) -> Any:
    return regex.compile(settings["card_pattern"])


def tenant_id(environ: dict[str, str]) -> uuid.UUID:
    return uuid.UUID(environ["TENANT_ID"])


def webhook_signing_key(environ: dict[str, str]) -> bytes:
    return base64.b64decode(environ["WEBHOOK_SIGNING_KEY"], validate=True)


def secrets_box(environ: dict[str, str]) -> Fernet:
    return Fernet(environ["TRANSCRIPT_ENCRYPTION_KEY"])


def archive_client(settings: dict[str, str]) -> Any:
    config = BotoConfig(retries={"mode": settings["retry_mode"], "total_max_attempts": 3})  # type: ignore[typeddict-item]
    return botocore.session.Session().create_client(
        "s3",
        region_name="eu-west-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="x",
        config=config,
    )


def bedrock_for_profile(profile: str) -> Any:
    with _env(AWS_PROFILE=None, AWS_DEFAULT_PROFILE=None, AWS_CONFIG_FILE="/nonexistent/aws-config"):
        return botocore.session.Session(profile=profile).create_client("bedrock-runtime", region_name="us-east-1")


def _settings_second() -> list[Case]:
    return [
        Case(
            "wave7.settings.tls_ciphers.none",
            "configuration",
            _raises(gateway_tls_context, {"tls_ciphers": "TLS_CHACHA20_FAST:!aNULL"}),
        ),
        Case(
            "wave7.settings.system_prompt.format",
            "configuration",
            _raises(
                system_prompt, {"system_prompt": "Answer in {language}. Context: {context"}, language="en", context=""
            ),
        ),
        Case(
            "wave7.settings.metrics_port.range",
            "configuration",
            _raises(start_metrics_endpoint, {"metrics_port": "91090"}),
        ),
        Case(
            "wave7.settings.card_pattern.regex",
            "configuration",
            _raises(card_number_filter, {"card_pattern": r"(?P<card>\d{4}[- ]?\d{4}"}),
        ),
        Case("wave7.settings.tenant_id.uuid", "configuration", _raises(tenant_id, {"TENANT_ID": "tenant-acme-prod"})),
        Case(
            "wave7.settings.signing_key.base64",
            "configuration",
            _raises(webhook_signing_key, {"WEBHOOK_SIGNING_KEY": "c2stc2lnbmluZy1rZXk"}),
        ),
        Case(
            "wave7.settings.encryption_key.fernet",
            "configuration",
            _raises(secrets_box, {"TRANSCRIPT_ENCRYPTION_KEY": "change-me-in-production"}),
        ),
        Case(
            "wave7.settings.boto_retry_mode.invalid", "configuration", _raises(archive_client, {"retry_mode": "fast"})
        ),
        Case("wave7.settings.aws_profile.not_found", "configuration", _raises(bedrock_for_profile, "prod-llm")),
    ]


class ProviderBalanceError(RuntimeError):
    """App-level: a paid API the pipeline calls refused for the account's balance or plan."""


def read_page_with_jina(base_url: str, url: str) -> str:
    response = requests.get(f"{base_url}/{url}", headers={"Accept": "application/json"}, timeout=2)
    if response.status_code >= 400:
        body = response.json()
        raise ProviderBalanceError(f"jina reader {body['code']} {body['name']}: {body['message']}")
    return str(response.json()["data"]["content"])


def transcribe_call(base_url: str, audio_url: str) -> str:
    response = requests.post(base_url + "/v1/listen", json={"url": audio_url}, timeout=2)
    if not response.ok:
        body = response.json()
        raise ProviderBalanceError(f"deepgram {body['err_code']}: {body['err_msg']}")
    return str(response.json()["results"]["channels"][0]["alternatives"][0]["transcript"])


def google_search(base_url: str, query: str) -> list[dict[str, Any]]:
    response = requests.get(
        base_url + "/customsearch/v1", params={"q": query, "cx": "017576662512468239146:omuauf_lfve"}, timeout=2
    )
    payload = response.json()
    if "error" in payload:
        raise WebSearchError(f"google custom search {payload['error']['code']}: {payload['error']['message']}")
    return list(payload.get("items", []))


def _quota_second() -> list[Case]:
    google_429 = {
        "error": {
            "code": 429,
            "message": "Quota exceeded for quota metric 'Queries' and limit 'Queries per day' of service "
            "'customsearch.googleapis.com' for consumer 'project_number:480211'.",
            "errors": [{"message": "Quota exceeded", "domain": "global", "reason": "rateLimitExceeded"}],
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    return [
        Case(
            "wave7.jina.reader.insufficient_balance",
            "quota_exceeded",
            _served(
                402,
                {
                    "data": None,
                    "code": 402,
                    "name": "InsufficientBalanceError",
                    "status": 40203,
                    "message": "Account balance not enough to run this query, please recharge.",
                },
                read_page_with_jina,
                "https://example.com/returns",
            ),
        ),
        Case(
            "wave7.deepgram.listen.payment_required",
            "quota_exceeded",
            _served(
                402,
                {
                    "err_code": "ASR_PAYMENT_REQUIRED",
                    "err_msg": "Project does not have enough credits for an ASR request and does not have an overage "
                    "agreement.",
                    "request_id": "5c2e9a1f-0b7d-4f0e-9d53-1f1b8c6a2e44",
                },
                transcribe_call,
                "https://calls.example.com/rec-8812.wav",
            ),
        ),
        Case(
            "wave7.google_search.daily.queries",
            "quota_exceeded",
            _served(429, google_429, google_search, "acme warranty terms"),
        ),
    ]


def replay_records(path: Path) -> Any:
    return pyarrow.json.read_json(path)


def load_bpe_ranks(path: Path) -> dict[bytes, int]:
    return tiktoken.load.load_tiktoken_bpe(str(path))


def load_vector_block(blob: bytes, rows: int, dims: int) -> Any:
    return numpy.frombuffer(blob, dtype=numpy.float32).reshape(rows, dims)


def read_signed_export(blob: bytes) -> bytes:
    return base64.a85decode(blob)


def read_feedback_export(payload: bytes) -> Any:
    return pyarrow.csv.read_csv(pyarrow.BufferReader(payload))


def _stored_second() -> list[Case]:
    return [
        Case(
            "wave7.stored.records_jsonl.arrow",
            "corrupted_data",
            _garbage_file("records-2026-11.jsonl", b'{"id": 1, "text": "hi"}\n{"id": 2, "text": "he\n', replay_records),
        ),
        Case(
            "wave7.stored.bpe_ranks.tiktoken",
            "corrupted_data",
            _garbage_file("cl100k_base.tiktoken", b"IQ== 0\nIg== 1\nIw 2\n", load_bpe_ranks),
        ),
        Case(
            "wave7.stored.vector_block.reshape",
            "corrupted_data",
            _raises(load_vector_block, b"\x00" * 4000, 64, 384),
        ),
        Case(
            "wave7.stored.signed_export.ascii85",
            "corrupted_data",
            _raises(read_signed_export, b"87cURD]i,\x7fEbo80"),
        ),
        Case(
            "wave7.stored.feedback_csv.arrow",
            "corrupted_data",
            _raises(read_feedback_export, b"id,rating,comment\n1,5,great\n2,1,slow, and wrong\n"),
        ),
    ]


def batch_answers(client: Any, output_file_id: str, custom_ids: list[str]) -> dict[str, str]:
    lines = client.files.content(output_file_id).text.splitlines()
    by_id = {row["custom_id"]: row["response"]["body"] for row in map(json.loads, lines)}
    return {custom_id: by_id[custom_id]["choices"][0]["message"]["content"] for custom_id in custom_ids}


def _batch_output_short() -> BaseException:
    row = {
        "id": "batch_req_1",
        "custom_id": "ticket-1",
        "response": {"status_code": 200, "body": _chat_answer("Refund issued.")},
        "error": None,
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=(json.dumps(row) + "\n").encode())

    return _raises(batch_answers, _openai_client(handler), "file-8Xc2", ["ticket-1", "ticket-2"])


def typical_latency(samples: list[float]) -> float:
    return statistics.median(samples)


def customer_profile(connection: sqlite3.Connection, customer_id: str) -> tuple[Any, ...]:
    rows = connection.execute("SELECT name, tier FROM customers WHERE id = ?", (customer_id,)).fetchall()
    (profile,) = rows
    return tuple(profile)


def _profile_absent() -> BaseException:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, tier TEXT)")
    connection.execute("INSERT INTO customers VALUES ('c-1', 'Ada', 'gold')")
    try:
        return _raises(customer_profile, connection, "c-404")
    finally:
        connection.close()


def _missing_second() -> list[Case]:
    empty_embeddings = {
        "object": "list",
        "data": [],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    }
    return [
        Case("wave7.missing.batch_output.custom_id", "missing_data", _batch_output_short()),
        Case("wave7.missing.latency.median_empty", "missing_data", _raises(typical_latency, [])),
        Case("wave7.missing.customer_profile.unpack", "missing_data", _profile_absent()),
        Case(
            "wave7.missing.openai_embeddings.empty_data",
            "missing_data",
            _raises(embed_documents, _openai_client(_json_handler(200, empty_embeddings)), ["warranty"]),
        ),
    ]


def run_chat_tool_calls(response: Any) -> list[Any]:
    results = []
    for call in response.choices[0].message.tool_calls or []:
        arguments = json.loads(call.function.arguments)
        results.append(TOOL_REGISTRY[call.function.name](**arguments))
    return results


def _chat_tool_call_list() -> BaseException:
    completion = _chat_answer("") | {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_9f2",
                            "type": "function",
                            "function": {"name": "get_forecast", "arguments": '["Bergen", 3]'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    response = _openai_client(_json_handler(200, completion)).chat.completions.create(
        model="gpt-4o", messages=_USER_MSG
    )
    return _raises(run_chat_tool_calls, response)


async def summarise_chunks(client: Any, chunks: list[str]) -> list[str]:
    async def one(chunk: str) -> str:
        response = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"Summarise:\n{chunk}"}]
        )
        return str(response.choices[0].message.content)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(chunk)) for chunk in chunks]
    return [task.result() for task in tasks]


def _chunk_group_too_long() -> BaseException:
    body = {
        "error": {
            "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in "
            "131954 tokens. Please reduce the length of the messages.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=body)

    client = openai.AsyncOpenAI(
        api_key="sk-proj-test", max_retries=0, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    return _araises(lambda: summarise_chunks(client, ["contract A " * 50_000]))


def build_wave7_second_batch() -> list[Case]:
    return [
        *_memory_refusal_second(),
        *_context_second(),
        Case("wave7.groups.chunk_summaries.context", "context_length_exceeded", _chunk_group_too_long()),
        *_settings_second(),
        *_quota_second(),
        *_stored_second(),
        *_missing_second(),
        Case("wave7.tools.chat_arguments.list_not_object", "tool_call_malformed", _chat_tool_call_list()),
    ]


# --------------------------------------------------------------------------------------------------
# Third batch: memory, a declined extraction, LiteLLM's context mapping, balances, settings, stored data


class DocumentParseError(RuntimeError):
    """App-level: the text extractor could not turn an upload into text."""


_TIKA_STUB = (
    'import sys; sys.stderr.write(\'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\\n'
    "\\tat org.apache.tika.parser.pdf.PDFParser.parse(PDFParser.java:180)\\n'); sys.exit(1)"
)


def extract_upload_text(path: str) -> str:
    """Runs the extractor as a child process (a stand-in for ``java -jar tika-app.jar`` that fails as it does)."""
    result = subprocess.run([sys.executable, "-c", _TIKA_STUB, path], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        first_line = result.stderr.strip().splitlines()[0]
        raise DocumentParseError(f"text extractor exited {result.returncode} on {path}: {first_line}")
    return result.stdout


def rerank_feature_noise(candidates: int, features: int) -> Any:
    return numpy.random.default_rng(7).random((candidates, features))


def count_tokens(text: str) -> int:
    return len(" ".join([text] * 2**40).split())


async def tokenise_batches(batches: list[str]) -> None:
    async with anyio.create_task_group() as group:
        for batch in batches:
            group.start_soon(anyio.to_thread.run_sync, count_tokens, batch)


class ExtractionDeclinedError(RuntimeError):
    """App-level: the extraction prompt lets the model decline, and it did."""


def extract_invoice_fields(client: Any, document: str) -> dict[str, Any]:
    response = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": document}], response_format={"type": "json_object"}
    )
    fields = json.loads(response.choices[0].message.content)
    if fields.get("declined"):
        raise ExtractionDeclinedError(f"model declined to extract the invoice: {fields.get('reason')}")
    return dict(fields)


def _extraction_declined() -> BaseException:
    answer = json.dumps(
        {"declined": True, "reason": "The document appears to be a forged invoice; I can't help fill it in."}
    )
    client = _openai_client(_json_handler(200, _chat_answer(answer)))
    return _raises(extract_invoice_fields, client, "Fill in the fields of this invoice: ...")


def _litellm_context(provider: str, model: str, message: str) -> BaseException:
    with _env(LITELLM_LOCAL_MODEL_COST_MAP="True"):
        exceptions = _import_litellm().exceptions
    return _litellm_raise(exceptions.ContextWindowExceededError, message=message, model=model, llm_provider=provider)


def _memory_context_third() -> list[Case]:
    return [
        Case(
            "wave7.tika.extract.java_heap", "out_of_memory", _raises(extract_upload_text, "/uploads/contract-2291.pdf")
        ),
        Case(
            "wave7.memory.rerank_features.random", "out_of_memory", _raises(rerank_feature_noise, 1_000_000, 1_000_000)
        ),
        Case(
            "wave7.groups.tokenise_batches.memory",
            "out_of_memory",
            _araises(lambda: tokenise_batches(["chapter one", "chapter two"])),
        ),
        Case("wave7.extraction.invoice.declined_flag", "refusal", _extraction_declined()),
        Case(
            "wave7.litellm.ai21.too_many_tokens",
            "context_length_exceeded",
            _litellm_context(
                "ai21",
                "jamba-1.5-large",
                "AI21Exception - Prompt has too many tokens. The prompt has 262417 tokens, the maximum is 256000.",
            ),
        ),
        Case(
            "wave7.litellm.aleph_alpha.longer_than_context",
            "context_length_exceeded",
            _litellm_context(
                "aleph_alpha",
                "luminous-supreme",
                "AlephAlphaException - This is longer than the model's maximum context length of 2048 tokens.",
            ),
        ),
    ]


def _quota_third() -> list[Case]:
    return [
        Case(
            "wave7.dashscope.account.arrearage",
            "quota_exceeded",
            _compatible(
                400,
                {
                    "code": "Arrearage",
                    "message": "Access denied, please make sure your account is in good standing.",
                    "type": "Arrearage",
                    "param": None,
                },
            ),
        ),
        Case(
            "wave7.siliconflow.balance.code_30001",
            "quota_exceeded",
            _compatible(403, {"code": 30001, "message": "Sorry, your account balance is insufficient", "data": None}),
        ),
    ]


def metrics_bind_address(settings: dict[str, str]) -> bytes:
    return socket.inet_aton(settings["metrics_bind"])


def embedding_pool(settings: dict[str, str]) -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=int(settings["embedding_workers"]))


def provider_slots(settings: dict[str, str]) -> asyncio.Semaphore:
    return asyncio.Semaphore(int(settings["max_inflight_requests"]))


def count_memories(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return int(connection.execute("SELECT count(*), max(length(text)) FROM memories").fetchone()[0])


def _damaged_memory_db(directory: Path) -> Path:
    path = directory / "memories.db"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE memories (id INTEGER PRIMARY KEY, text TEXT)")
        connection.executemany("INSERT INTO memories (text) VALUES (?)", [("remembered fact " * 12,)] * 500)
        connection.commit()
    data = bytearray(path.read_bytes())
    for offset in range(4096 + 100, 4096 * 3, 3):
        data[offset] ^= 0x55
    path.write_bytes(bytes(data))
    return path


def _memory_db_case() -> BaseException:
    with tempfile.TemporaryDirectory() as directory:
        return _raises(count_memories, _damaged_memory_db(Path(directory)))


def read_chunk_archive(blob: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return archive.read("chunks.jsonl")


def restore_prompt_cache(blob: bytes) -> bytes:
    return gzip.decompress(blob)


def _flipped(data: bytes, offset: int) -> bytes:
    damaged = bytearray(data)
    damaged[offset] ^= 0x01
    return bytes(damaged)


def _chunk_archive() -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr("chunks.jsonl", '{"chunk": 1, "text": "refund policy"}\n' * 30)
    return _flipped(sink.getvalue(), 40)


def few_shot_examples(examples: Any, count: int) -> Any:
    return examples.sample(n=count, random_state=7)


def explore_prompt_variant(variants: list[str]) -> str:
    return str(numpy.random.default_rng(7).choice(variants))


def _settings_stored_missing_third() -> list[Case]:
    return [
        Case(
            "wave7.settings.metrics_bind.inet_aton",
            "configuration",
            _raises(metrics_bind_address, {"metrics_bind": "0.0.0.0.0"}),
        ),
        Case(
            "wave7.settings.embedding_workers.zero",
            "configuration",
            _raises(embedding_pool, {"embedding_workers": "0"}),
        ),
        Case(
            "wave7.settings.inflight_requests.negative",
            "configuration",
            _raises(provider_slots, {"max_inflight_requests": "-4"}),
        ),
        Case("wave7.stored.memory_db.malformed", "corrupted_data", _memory_db_case()),
        Case("wave7.stored.chunk_archive.zip_header", "corrupted_data", _raises(read_chunk_archive, _chunk_archive())),
        Case(
            "wave7.stored.prompt_cache.gzip_crc",
            "corrupted_data",
            _raises(restore_prompt_cache, _flipped(gzip.compress(b"You are a support assistant. " * 40), -6)),
        ),
        Case(
            "wave7.missing.few_shot.sample_empty",
            "missing_data",
            _raises(few_shot_examples, pandas.DataFrame({"question": [], "answer": []}), 3),
        ),
        Case("wave7.missing.prompt_variants.choice_empty", "missing_data", _raises(explore_prompt_variant, [])),
    ]


def build_wave7_third_batch() -> list[Case]:
    return [*_memory_context_third(), *_quota_third(), *_settings_stored_missing_third()]


# --------------------------------------------------------------------------------------------------
# Fourth batch: memory behind endpoints, more plans and balances, refusals in batch results, settings


def score_with_endpoint(client: Any, payload: dict[str, Any]) -> Any:
    response = client.invoke_endpoint(
        EndpointName="support-reranker-prod", ContentType="application/json", Body=json.dumps(payload)
    )
    return json.loads(response["Body"].read())


def _sagemaker_model_error() -> BaseException:
    with _env(AWS_PROFILE=None, AWS_DEFAULT_PROFILE=None):
        client = botocore.session.Session().create_client(
            "sagemaker-runtime",
            region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
    stubber = Stubber(client)
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message='Received server error (500) from primary with message "{"error": "CUDA out of memory. '
        'Tried to allocate 3.50 GiB. GPU 0 has a total capacity of 22.06 GiB of which 1.91 GiB is free."}". See '
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEventViewer:group="
        "/aws/sagemaker/Endpoints/support-reranker-prod in account 123456789012 for more information.",
        http_status_code=424,
    )
    with stubber:
        return _raises(score_with_endpoint, client, {"query": "refund", "documents": ["a", "b"]})


def feature_buffer(rows: int, columns: int) -> array.array[float]:
    return array.array("d", [0.0]) * (rows * columns)


class CohereChatError(RuntimeError):
    """App-level: Cohere's chat endpoint refused the request."""


def ask_cohere(base_url: str, question: str) -> str:
    response = httpx.post(
        base_url + "/v2/chat", json={"model": "command-r-plus", "messages": [{"role": "user", "content": question}]}
    )
    if response.is_error:
        raise CohereChatError(f"cohere chat {response.status_code}: {response.json()['message']}")
    return str(response.json()["message"]["content"][0]["text"])


def serper_search(base_url: str, query: str) -> list[dict[str, Any]]:
    response = requests.post(base_url + "/search", json={"q": query}, timeout=2)
    if not response.ok:
        raise WebSearchError(f"serper {response.status_code}: {response.json()['message']}")
    return list(response.json()["organic"])


def minimax_reply(base_url: str, question: str) -> str:
    response = requests.post(
        base_url + "/v1/text/chatcompletion_v2", json={"messages": [{"role": "user", "content": question}]}, timeout=2
    )
    status = response.json()["base_resp"]
    if status["status_code"] != 0:
        raise ProviderBalanceError(f"minimax status {status['status_code']}: {status['status_msg']}")
    return str(response.json()["choices"][0]["message"]["content"])


def ernie_reply(base_url: str, question: str) -> str:
    response = requests.post(
        base_url + "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/ernie-4.0-8k",
        json={"messages": [{"role": "user", "content": question}]},
        timeout=2,
    )
    payload = response.json()
    if "error_code" in payload:
        raise ProviderBalanceError(f"qianfan error_code={payload['error_code']}: {payload['error_msg']}")
    return str(payload["result"])


def batch_summaries(client: Any, batch_id: str) -> dict[str, str]:
    summaries = {}
    for entry in client.messages.batches.results(batch_id):
        message = entry.result.message
        if message.stop_reason not in ("end_turn", "max_tokens"):
            raise AnswerUnusableError(f"batch {batch_id} request {entry.custom_id}: stop_reason={message.stop_reason}")
        summaries[entry.custom_id] = "".join(block.text for block in message.content if block.type == "text")
    return summaries


def _anthropic_batch_refusal() -> BaseException:
    batch = {
        "id": "msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d",
        "type": "message_batch",
        "processing_status": "ended",
        "request_counts": {"processing": 0, "succeeded": 2, "errored": 0, "canceled": 0, "expired": 0},
        "ended_at": "2026-12-02T03:10:00Z",
        "created_at": "2026-12-02T02:58:00Z",
        "expires_at": "2026-12-03T02:58:00Z",
        "cancel_initiated_at": None,
        "archived_at": None,
        "results_url": "https://api.anthropic.com/v1/messages/batches/msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d/results",
    }
    done = _claude_body([{"type": "text", "text": "Customer asks for a refund of order 1182."}], "end_turn")
    entries = [
        {"custom_id": "ticket-1182", "result": {"type": "succeeded", "message": done}},
        {"custom_id": "ticket-1183", "result": {"type": "succeeded", "message": _claude_body([], "refusal")}},
    ]

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/results"):
            lines = "".join(json.dumps(entry) + "\n" for entry in entries)
            return httpx2.Response(200, content=lines.encode(), headers={"content-type": "application/binary"})
        return httpx2.Response(200, json=batch)

    return _raises(batch_summaries, _anthropic_client(handler), batch["id"])


_DECLINE_MARKERS = ("as an ai", "i'm not able to provide")


def triage_reply(text: str) -> str:
    if any(marker in text.lower()[:80] for marker in _DECLINE_MARKERS):
        raise AnswerUnusableError(f"assistant declined the triage question: {text[:120]!r}")
    return text


def mistral_for(settings: dict[str, str]) -> Mistral:
    return Mistral(api_key=settings["mistral_api_key"], server=settings["mistral_server"])


def minimum_tls(settings: dict[str, str]) -> ssl.TLSVersion:
    return ssl.TLSVersion[settings["min_tls_version"]]


def build_wave7_fourth_batch() -> list[Case]:
    return [
        Case("wave7.sagemaker.endpoint.model_error", "out_of_memory", _sagemaker_model_error()),
        Case("wave7.memory.feature_buffer.array", "out_of_memory", _raises(feature_buffer, 2**40, 2**20)),
        Case(
            "wave7.cohere.chat.too_many_tokens",
            "context_length_exceeded",
            _served(
                400,
                {
                    "id": "5d1c0c4e-7b9a-4d2f-9a43-0c7e1e1d8f10",
                    "message": "too many tokens: size limit exceeded by 1183 tokens. Try using shorter or fewer "
                    "inputs, or setting prompt_truncation='AUTO'.",
                },
                ask_cohere,
                "Summarise the attached 300-page manual.",
            ),
        ),
        Case(
            "wave7.serper.search.not_enough_credits",
            "quota_exceeded",
            _served(400, {"message": "Not enough credits", "statusCode": 400}, serper_search, "acme refund policy"),
        ),
        Case(
            "wave7.minimax.balance.status_1008",
            "quota_exceeded",
            _served(
                200,
                {"id": "", "choices": None, "base_resp": {"status_code": 1008, "status_msg": "insufficient balance"}},
                minimax_reply,
                "Where is my parcel?",
            ),
        ),
        Case(
            "wave7.qianfan.daily_limit.code_17",
            "quota_exceeded",
            _served(
                200,
                {"error_code": 17, "error_msg": "Open api daily request limit reached"},
                ernie_reply,
                "退货政策是什么?",
            ),
        ),
        Case("wave7.anthropic.batch_results.refusal", "refusal", _anthropic_batch_refusal()),
        Case(
            "wave7.triage.reply.as_an_ai",
            "refusal",
            _raises(
                triage_reply,
                "As an AI, I'm not able to provide a diagnosis for your symptoms. Please contact a doctor.",
            ),
        ),
        Case(
            "wave7.settings.mistral_server.unknown",
            "configuration",
            _raises(mistral_for, {"mistral_api_key": "mistral-test", "mistral_server": "eu-west"}),
        ),
        Case(
            "wave7.settings.min_tls.version_name",
            "configuration",
            _raises(minimum_tls, {"min_tls_version": "TLSv1_4"}),
        ),
    ]


def build_wave7_cases() -> list[Case]:
    return [
        *_memory_cases(),
        *_refusal_cases(),
        *_context_cases(),
        *_settings_cases(),
        *_quota_cases(),
        *_stored_cases(),
        *_missing_cases(),
        *_tool_cases(),
        *build_wave7_second_batch(),
        *build_wave7_third_batch(),
        *build_wave7_fourth_batch(),
    ]
