"""Development-only cases for the families of rules 2026.12.02-7 (issue 19, eighth session, helper classify8) and -8
(ninth session, helper classify9: content filter, more quota codes, node memory pressure, logging and process settings,
then wave 9's first batch's development misses as families: AWS settings stores, tokens and throttling, codec, dtype
and unit names, statistics on too few points, packed addresses, moderation codes, local servers' context wording).

Written by the rule writer, not by the corpus wave (:mod:`tests.corpus.wave8`): each case illustrates a family
broadened from the providers' and libraries' own wording for the labels weakest in the sealed part's aggregate
figures (quota, configuration, out of memory, missing and corrupted data), so every scenario is recorded in the
development part of ``broad_split.json`` by hand, never by :func:`tests.corpus.broad.assign`. None comes from a
sealed case or a public issue thread. Real raises where a library raises the wording (subprocess, numpy, pandas,
ssl, sqlite3, huggingface_hub, confluent_kafka), else application code or an OpenAI-compatible server's body.
"""

from __future__ import annotations

import codecs
import datetime
import io
import ipaddress
import json
import logging
import multiprocessing
import sqlite3
import ssl
import statistics
import subprocess
import sys
import zlib
from typing import Any

import confluent_kafka
import huggingface_hub
import numpy
import pandas
import prometheus_client
import pyarrow.fs
import requests
import structlog
from cryptography.hazmat.primitives import serialization
from google.genai import types as genai_types
from openai.types.beta.session_turn_error import SessionTurnError

from tests.corpus.sdk_errors import Case, _http_server, _raises
from tests.corpus.wave6 import _compatible
from tests.corpus.wave9 import _aws_error


class ExtractionError(RuntimeError):
    """App-level: a document extraction step that failed."""


class ToolQuotaError(RuntimeError):
    """App-level: a tool's provider refused a call for the account's plan."""


def run_extractor(path: str) -> None:
    """A text extractor in a child process; the kernel's OOM killer ends it with SIGKILL."""
    script = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    subprocess.run([sys.executable, "-c", script, path], check=True)


def encode_locally(batch: int) -> None:
    raise ExtractionError(
        f"XLA encoder failed: RESOURCE_EXHAUSTED: Failed to allocate request for {batch * 96} MiB on device ordinal 0"
    )


def await_dask_result(worker: str) -> None:
    raise ExtractionError(f"Worker {worker} (pid=4711) exceeded 95% memory budget. Restarting...")


def search_tool(url: str, query: str) -> Any:
    """A search tool whose provider answers 200 with an error in the body."""
    reply = requests.get(url + "/search", params={"q": query}, timeout=10).json()
    if "error" in reply:
        raise ToolQuotaError(f"search provider refused the call: {reply['error']}")
    return reply["results"]


def _search_refused(message: str) -> BaseException:
    with _http_server(200, json.dumps({"error": message})) as url:
        return _raises(search_tool, url, "flights to Oslo")


def top_passages(hits: list[dict[str, Any]], k: int) -> list[str]:
    passages = [hit["text"] for hit in hits[:k] if hit.get("text")]
    if not passages:
        raise ValueError(f"expected at least one passage for the answer, got none (k={k})")
    return passages


def merge_shards(shards: list[Any]) -> Any:
    return pandas.concat(shards)


def load_vector(blob: bytes, dimensions: int) -> Any:
    return numpy.frombuffer(blob, dtype=numpy.float32).reshape(dimensions)


def read_chunk(blob: bytes, expected_crc: int) -> bytes:
    if zlib.crc32(blob) != expected_crc:
        raise ValueError(f"checksum failed for chunk 3 ({len(blob)} bytes)")
    return blob


def tls_context(ca_bundle: str) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca_bundle)


def open_memory_db(mode: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:memory.db?mode={mode}", uri=True)


def download_tokenizer(repo: str) -> str:
    return huggingface_hub.hf_hub_download(repo, "tokenizer.json")


def event_producer(settings: dict[str, str]) -> Any:
    return confluent_kafka.Producer(settings)


def gemini_answer(response: genai_types.GenerateContentResponse) -> str:
    """The app's own check of a Gemini reply: the SDK returns no text for a blocked candidate, it does not raise."""
    candidate = (response.candidates or [genai_types.Candidate()])[0]
    if candidate.finish_reason is not None and candidate.finish_reason != genai_types.FinishReason.STOP:
        raise ExtractionError(f"Response was blocked due to {candidate.finish_reason.value}")
    return response.text or ""


def run_turn(error: dict[str, str]) -> str:
    """The app's own check of a session turn: the SDK hands back the failed turn's error object, it does not raise."""
    failure = SessionTurnError.model_validate(error)
    raise ExtractionError(f"session turn failed ({failure.code}): {failure.message}")


def _gemini_stopped(reason: genai_types.FinishReason) -> BaseException:
    reply = genai_types.GenerateContentResponse(candidates=[genai_types.Candidate(finish_reason=reason)])
    return _raises(gemini_answer, reply)


def await_extraction_pod(name: str) -> None:
    """A batch job's pod status, read back from the cluster: the kubelet's eviction wording."""
    raise ExtractionError(f"pod {name} evicted: The node was low on resource: memory.")


def embed_on_gpu(batch: int) -> None:
    raise ExtractionError(f"embedding batch of {batch} failed: CUDA runtime error cudaErrorMemoryAllocation")


def start_workers(start_method: str) -> Any:
    return multiprocessing.get_context(start_method)


def log_handler(fmt: str, style: str) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(fmt, style=style, validate=True))  # type: ignore[arg-type]
    return handler


def ascii_report(text: str, on_error: str) -> bytes:
    codecs.lookup("ascii")
    return text.encode("ascii", errors=on_error)


def export_table(csv_text: str, codec: str) -> Any:
    return pandas.read_csv(io.StringIO(csv_text), compression=codec)


def parquet_export(codec: str) -> bytes:
    buffer = io.BytesIO()
    pandas.DataFrame({"score": [0.9]}).to_parquet(buffer, compression=codec)  # type: ignore[arg-type]
    return buffer.getvalue()


def vector_dtype(name: str) -> Any:
    return numpy.dtype(name)


def latency_spread(samples: list[float]) -> float:
    return statistics.stdev(samples)


def best_score(scores: list[float]) -> float:
    return float(numpy.array(scores).item())


def peer_address(packed: bytes) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(packed)


def secret_version(ssm: Any, name: str) -> str:
    return str(ssm.get_parameter(Name=f"{name}:7", WithDecryption=True)["Parameter"]["Value"])


def caller_account(sts: Any) -> str:
    return str(sts.get_caller_identity()["Account"])


def tool_function(lambda_client: Any, name: str) -> Any:
    return lambda_client.get_function(FunctionName=name)


def document_sentiment(comprehend: Any, text: str) -> Any:
    return comprehend.detect_sentiment(Text=text, LanguageCode="en")


def guarded_reply(verdict: str) -> str:
    """A guard model's verdict on the reply (Llama Guard answers ``safe`` or ``unsafe`` and a category)."""
    if verdict.startswith("unsafe"):
        raise ExtractionError(f"reply flagged as unsafe by the guard model: {verdict.split()[-1]}")
    return verdict


def ollama_chat(reply: dict[str, Any]) -> str:
    if reply.get("done_reason") != "stop":
        raise ExtractionError(f"ollama chat ended early: done_reason={reply.get('done_reason')!r}")
    return str(reply["message"]["content"])


def app_logger(level: str) -> Any:
    return structlog.make_filtering_bound_logger(level)


def open_export_store(uri: str) -> Any:
    return pyarrow.fs.FileSystem.from_uri(uri)


def latency_metric(buckets: list[float]) -> Any:
    return prometheus_client.Histogram("reply_seconds", "reply latency", buckets=buckets, registry=None)


def event_at(stamp: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(stamp, tz=datetime.UTC)


def tenant_key(der: bytes) -> Any:
    return serialization.load_der_public_key(der)


def notify_channel(answer: dict[str, Any]) -> None:
    """Slack's Web API answers 200 with ``ok: false`` and a documented error code; the app raises it."""
    if not answer["ok"]:
        raise ExtractionError(f"slack chat.postMessage: {answer['error']}")


def cost_table(reply: list[dict[str, Any]]) -> Any:
    return pandas.DataFrame(reply)[["cost"]]


def build_wave8_family_cases() -> list[Case]:
    return [*_classify8_cases(), *_classify9_cases(), *_wave9_family_cases(), *_wave9_later_family_cases()]


def _wave9_later_family_cases() -> list[Case]:
    """Wave 9's second and third batches' development misses, by kind, from other calls of the same libraries."""
    return [
        Case("wave8.families.settings.structlog_level", "configuration", _raises(app_logger, "loud")),
        Case("wave8.families.settings.arrow_uri", "configuration", _raises(open_export_store, "s5://acme/exports/")),
        Case("wave8.families.settings.histogram_buckets", "configuration", _raises(latency_metric, [1.0, 0.5])),
        Case("wave8.families.corrupted.event_year", "corrupted_data", _raises(event_at, 1733140000000000)),
        Case("wave8.families.corrupted.der_key", "corrupted_data", _raises(tenant_key, b"\x30\x59\x30\x13")),
        Case(
            "wave8.families.slack.token_revoked",
            "auth",
            _raises(notify_channel, {"ok": False, "error": "token_revoked"}),
        ),
        Case(
            "wave8.families.slack.invalid_blocks",
            "bad_request",
            _raises(notify_channel, {"ok": False, "error": "invalid_blocks"}),
        ),
        Case("wave8.families.reply.cost_column", "schema_mismatch", _raises(cost_table, [{"item": "tea", "price": 3}])),
    ]


def _wave9_family_cases() -> list[Case]:
    """Wave 9's first batch's development misses, by kind: each family from other calls of the same libraries."""
    compatible = {"type": "invalid_request_error", "param": None, "code": None}
    return [
        Case("wave8.families.settings.csv_codec", "configuration", _raises(export_table, "a\n1\n", "snapy")),
        Case("wave8.families.settings.parquet_codec", "configuration", _raises(parquet_export, "snapy")),
        Case("wave8.families.settings.vector_dtype", "configuration", _raises(vector_dtype, "float33")),
        Case(
            "wave8.families.settings.parameter_version",
            "configuration",
            _aws_error("ssm", "get_parameter", "ParameterVersionNotFound", "", 400, secret_version, "/llm/key"),
        ),
        Case("wave8.families.missing.latency_spread", "missing_data", _raises(latency_spread, [0.42])),
        Case("wave8.families.missing.best_score", "missing_data", _raises(best_score, [])),
        Case("wave8.families.corrupted.peer_address", "corrupted_data", _raises(peer_address, b"\x00" * 5)),
        Case(
            "wave8.families.aws.invalid_token",
            "auth",
            _aws_error(
                "sts",
                "get_caller_identity",
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
                403,
                caller_account,
            ),
        ),
        Case(
            "wave8.families.aws.lambda_throttled",
            "rate_limit",
            _aws_error("lambda", "get_function", "TooManyRequestsException", "", 429, tool_function, "search"),
        ),
        Case(
            "wave8.families.aws.comprehend_size",
            "bad_request",
            _aws_error(
                "comprehend",
                "detect_sentiment",
                "TextSizeLimitExceededException",
                "Input text size exceeds limit.",
                400,
                document_sentiment,
                "x" * 64,
            ),
        ),
        Case(
            "wave8.families.content_filter.output_inspection",
            "content_filter",
            _compatible(400, {**compatible, "message": "Output data may contain inappropriate content."}),
        ),
        Case("wave8.families.content_filter.guard_verdict", "content_filter", _raises(guarded_reply, "unsafe\nS10")),
        Case(
            "wave8.families.provider.loaded_context",
            "context_length_exceeded",
            _compatible(400, {**compatible, "message": "The model is loaded with context length of only 2048 tokens."}),
        ),
        Case(
            "wave8.families.provider.done_reason",
            "truncation",
            _raises(ollama_chat, {"done_reason": "length", "message": {"content": "The answer is"}}),
        ),
        Case(
            "wave8.families.provider.search_shards",
            "server_error",
            _raises(_search_failed, "all shards failed"),
        ),
    ]


def _search_failed(reason: str) -> None:
    body = {"error": {"type": "search_phase_execution_exception", "reason": reason}, "status": 503}
    raise ExtractionError(f"knowledge base search failed: {json.dumps(body)}")


def _classify9_cases() -> list[Case]:
    compatible = {"type": "invalid_request_error", "param": None}
    return [
        Case(
            "wave8.families.content_filter.policy_code",
            "content_filter",
            _raises(run_turn, {"code": "cyber_policy", "message": "Request rejected."}),
        ),
        Case(
            "wave8.families.content_filter.alignment_code",
            "content_filter",
            _raises(run_turn, {"code": "misalignment_policy_violation", "message": "Request refused."}),
        ),
        Case(
            "wave8.families.content_filter.gemini_safety",
            "content_filter",
            _gemini_stopped(genai_types.FinishReason.SAFETY),
        ),
        Case(
            "wave8.families.content_filter.vertex_blocked",
            "content_filter",
            _compatible(400, {**compatible, "message": "The response was blocked.", "code": None}),
        ),
        Case(
            "wave8.families.content_filter.blocklist",
            "content_filter",
            _compatible(
                400,
                {
                    **compatible,
                    "message": "The model stopped generating because the content contains a term from a configured "
                    "blocklist.",
                    "code": None,
                },
            ),
        ),
        Case(
            "wave8.families.quota.credit_balance_code",
            "quota_exceeded",
            _raises(run_turn, {"code": "credit_balance_exhausted", "message": "Request failed."}),
        ),
        Case(
            "wave8.families.quota.usage_limit_code",
            "quota_exceeded",
            _raises(run_turn, {"code": "usage_limit_exceeded", "message": "Limit reached for org-7."}),
        ),
        Case(
            "wave8.families.quota.no_credits",
            "quota_exceeded",
            _search_refused("The organization has no API credits remaining."),
        ),
        Case("wave8.families.oom.node_pressure", "out_of_memory", _raises(await_extraction_pod, "extract-7f9c")),
        Case("wave8.families.oom.cuda_runtime", "out_of_memory", _raises(embed_on_gpu, 256)),
        Case("wave8.families.settings.start_method", "configuration", _raises(start_workers, "forkk")),
        Case("wave8.families.settings.log_style", "configuration", _raises(log_handler, "%(message)s", "!")),
        Case(
            "wave8.families.settings.log_format",
            "configuration",
            _raises(log_handler, "{asctime} {message}", "%"),
        ),
        Case("wave8.families.settings.error_handler", "configuration", _raises(ascii_report, "naïve", "ignorre")),
    ]


def _classify8_cases() -> list[Case]:
    compatible = {"type": "api_error", "param": None}
    return [
        Case("wave8.families.oom.extractor_sigkill", "out_of_memory", _raises(run_extractor, "/tmp/report.pdf")),
        Case("wave8.families.oom.xla_allocate", "out_of_memory", _raises(encode_locally, 32)),
        Case("wave8.families.oom.dask_budget", "out_of_memory", _raises(await_dask_result, "tcp://10.0.0.7:4321")),
        Case(
            "wave8.families.oom.server_vram",
            "out_of_memory",
            _compatible(500, {**compatible, "message": "insufficient VRAM to load model qwen2.5:72b", "code": None}),
        ),
        Case(
            "wave8.families.quota.credits_exhausted",
            "quota_exceeded",
            _compatible(429, {**compatible, "message": "You have exhausted your credits.", "code": None}),
        ),
        Case(
            "wave8.families.quota.zero_credits",
            "quota_exceeded",
            _compatible(403, {**compatible, "message": "0 credits remaining on this key", "code": "forbidden"}),
        ),
        Case(
            "wave8.families.quota.trial_expired",
            "quota_exceeded",
            _compatible(403, {**compatible, "message": "Your trial has expired.", "code": None}),
        ),
        Case(
            "wave8.families.quota.billing_period",
            "quota_exceeded",
            _search_refused("You have hit your search limit for this billing period."),
        ),
        Case("wave8.families.quota.lifetime", "quota_exceeded", _search_refused("Lifetime request limit reached")),
        Case(
            "wave8.families.quota.balance",
            "quota_exceeded",
            _compatible(400, {**compatible, "message": "Not enough balance to run this request.", "code": None}),
        ),
        Case(
            "wave8.families.missing.no_passage",
            "missing_data",
            _raises(top_passages, [{"text": ""}, {"id": "doc-3"}], 4),
        ),
        Case("wave8.families.missing.no_shards", "missing_data", _raises(merge_shards, [])),
        Case(
            "wave8.families.corrupted.vector_size",
            "corrupted_data",
            _raises(load_vector, b"\x00" * 12, 384),
        ),
        Case("wave8.families.corrupted.chunk_crc", "corrupted_data", _raises(read_chunk, b"partial", 0x1C291CA3)),
        Case("wave8.families.settings.ca_bundle", "configuration", _raises(tls_context, "not a certificate")),
        Case("wave8.families.settings.sqlite_mode", "configuration", _raises(open_memory_db, "rwx")),
        Case("wave8.families.settings.tokenizer_repo", "configuration", _raises(download_tokenizer, "acme/tok/v2")),
        Case(
            "wave8.families.settings.kafka_property",
            "configuration",
            _raises(event_producer, {"bootstrap.server": "kafka:9092"}),
        ),
    ]
