"""An eighth wave of broad cases, written and split before any rule was changed for them (issue 19, eighth session).

Sources, none of them public issue threads, none repeating waves 1-7's calls and messages:

* a first batch (:func:`build_wave8_first_batch`): plan, credit and monthly limits in Perplexity's, Baidu's
  (``error_code`` 19), Pinecone's, Voyage AI's, Brave Search's, Exa's and Unstructured's words, read by
  the application's own clients on loopback; settings turned into objects at start-up by librdkafka
  (``confluent_kafka``), ``packaging``, ``yarl``, Pygments, Rich, Click, ``promql_parser``,
  ``fractions``, ``idna``, ``markdown_it`` and ``attrs``; retrieval from Qdrant, Chroma, Pinecone, a
  ``sortedcontainers`` memory window and a ``jsonpath`` query that find nothing; stored blobs read by
  LZ4 frames, strict base64, DER (``pyasn1``, an empty message), UUID bytes and a UTF-32 transcript;
  memory in an empty ``MemoryError`` (a list of floats, a padded string), Ray's ``OutOfMemoryError``
  wording from a Ray Serve replica, a worker under ``RLIMIT_AS`` and a thread pool's group; and one
  case for each other label: Voyage's rate limit, Pinecone's key, a stalled socket, a refused
  ``http.client`` connection, DeepSeek's overload, Qdrant's 500 and unknown collection, Pinecone's
  dimension, Moonshot's token limit, Cohere's ``MAX_TOKENS``, Zhipu's code 1301, a declined answer,
  pydantic's ``json_invalid``, a dataclass's keyword, a Cohere tool call's arguments, SQLite's
  ``unable to open database file`` and a shutdown's ``CancelledError``, with the application's own
  masked wrappers (``from e`` and ``from None``).

Scenario parts are :func:`tests.corpus.broad.assign`'s hash, recorded in ``broad_split.json`` before
any rule was changed for them. The first batch: 51 cases in 49 scenarios, 19 of them sealed (19 cases).

Baseline, rules 2026.12.02-6 and fallback lr-342d5fd183 (main at 9d274bf), no rule changed,
``python -m benchmarks.classification_accuracy``, this wave's part of each (``by_wave.wave8``):

* first batch, development, 32 cases: 75.0 % in every form. By label (cases): configuration 16.7 % (6),
  context_length_exceeded 0 % (1), corrupted_data 50.0 % (2), not_found 0 % (1), missing_data 100 % (4),
  out_of_memory 100 % (2), quota_exceeded 100 % (5), the other ten labels 100 % (one or two cases each).
* first batch, sealed, 19 cases: 52.6 %. By form: as raised 52.6 %, masked structlog 47.4 %, masked text
  57.9 %, from None 52.6 %. Cases by label: configuration 5, corrupted_data 3, out_of_memory 3,
  quota_exceeded 2, one each of missing_data, content_filter, invalid_json, tool_call_malformed,
  file_not_found and cancelled.
* the whole sealed part (all eight waves, 268 cases): 91.06 % -> 88.34 % (as raised 88.4 %, masked
  structlog 88.4 %, masked text 90.7 %, from None 85.8 %); the whole development part (453 cases):
  100 % -> 98.23 %.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import dataclasses
import fractions
import functools
import http.client
import json
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import attrs
import click
import confluent_kafka
import idna
import jsonpath
import lz4.frame
import packaging.specifiers
import promql_parser
import pydantic
import requests
import rich.color
import sortedcontainers
import yarl
from markdown_it import MarkdownIt
from pyasn1.codec.der import decoder as der_decoder
from pygments.lexers import get_lexer_by_name

from tests.corpus.sdk_errors import Case, _araises, _closed_port, _http_server, _raises, _stalled_server
from tests.corpus.wave6 import _compatible


class ProviderError(RuntimeError):
    """App-level: a provider or tool answered with an error the client passes on in the provider's words."""


class RetrievalError(LookupError):
    """App-level: retrieval gave the application nothing to work with."""


def _served(status: int, body: Any, call: Any, *args: Any) -> BaseException:
    """``call(base_url, *args)`` against a real loopback server answering ``status`` and ``body``."""
    text = body if isinstance(body, str) else json.dumps(body)
    with _http_server(status, text) as url:
        return _raises(call, url, *args)


def _checked(response: requests.Response, provider: str) -> Any:
    """A tool client's check: a non-2xx answer is raised with the provider's own words."""
    if response.status_code >= 400:
        raise ProviderError(f"{provider} returned {response.status_code}: {response.text}")
    return response.json()


# --------------------------------------------------------------------------------------------------
# Quota: plans, credits and monthly limits in providers' and tools' words


def perplexity_answer(base_url: str, question: str) -> str:
    response = requests.post(
        base_url + "/chat/completions",
        json={"model": "sonar-pro", "messages": [{"role": "user", "content": question}]},
        headers={"Authorization": "Bearer pplx-test"},
        timeout=2,
    )
    return str(_checked(response, "perplexity")["choices"][0]["message"]["content"])


def ernie_total_limit(base_url: str, question: str) -> str:
    body = requests.post(
        base_url + "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/ernie-4.0-8k",
        json={"messages": [{"role": "user", "content": question}]},
        timeout=2,
    ).json()
    if "error_code" in body:
        raise ProviderError(f"qianfan error_code {body['error_code']}: {body['error_msg']}")
    return str(body["result"])


def pinecone_query(base_url: str, vector: list[float]) -> list[dict[str, Any]]:
    response = requests.post(base_url + "/query", json={"vector": vector, "topK": 5, "namespace": "support"}, timeout=2)
    return list(_checked(response, "pinecone")["matches"])


def voyage_embed(base_url: str, texts: list[str]) -> list[list[float]]:
    response = requests.post(base_url + "/v1/embeddings", json={"input": texts, "model": "voyage-3-large"}, timeout=2)
    return [item["embedding"] for item in _checked(response, "voyage")["data"]]


def brave_search(base_url: str, query: str) -> list[dict[str, Any]]:
    response = requests.get(base_url + "/res/v1/web/search", params={"q": query}, timeout=2)
    body = response.json()
    if response.status_code == 429:
        meta = body["error"]["meta"]
        if meta["quota_current"] >= meta["quota_limit"]:
            raise ProviderError(
                f"brave search: monthly quota of the {meta['plan']} plan used "
                f"({meta['quota_current']} of {meta['quota_limit']} queries)"
            )
        raise ProviderError(f"brave search: {body['error']['detail']}")
    return list(body["web"]["results"])


def exa_search(base_url: str, query: str) -> list[dict[str, Any]]:
    response = requests.post(base_url + "/search", json={"query": query, "numResults": 5}, timeout=2)
    return list(_checked(response, "exa")["results"])


def partition_document(base_url: str, name: str) -> list[dict[str, Any]]:
    response = requests.post(base_url + "/general/v0/general", files={"files": (name, b"%PDF-1.7 ...")}, timeout=2)
    return list(_checked(response, "unstructured"))


def _quota_cases() -> list[Case]:
    return [
        Case(
            "wave8.perplexity.credits.exhausted",
            "quota_exceeded",
            _served(
                401,
                {"error": {"message": "Insufficient credits. Add funds to your API balance to continue.", "code": 401}},
                perplexity_answer,
                "What changed in the EU AI Act this month?",
            ),
        ),
        Case(
            "wave8.qianfan.total_limit.code_19",
            "quota_exceeded",
            _served(
                200,
                {"error_code": 19, "error_msg": "Open api total request limit reached"},
                ernie_total_limit,
                "帮我总结这份合同。",
            ),
        ),
        Case(
            "wave8.pinecone.read_units.monthly",
            "quota_exceeded",
            _served(
                429,
                {
                    "error": {
                        "code": "RESOURCE_EXHAUSTED",
                        "message": "Request failed. You've reached your read unit limit for the current month "
                        "limit. To continue reading data, upgrade your plan.",
                    },
                    "status": 429,
                },
                pinecone_query,
                [0.12, -0.03, 0.44],
            ),
        ),
        Case(
            "wave8.voyage.free_tokens.used_up",
            "quota_exceeded",
            _served(
                403,
                {"detail": "You have used up your free tokens. Please add a payment method to continue."},
                voyage_embed,
                ["refund policy", "shipping times"],
            ),
        ),
        Case(
            "wave8.brave.search.monthly_quota",
            "quota_exceeded",
            _served(
                429,
                {
                    "type": "ErrorResponse",
                    "error": {
                        "code": "RATE_LIMITED",
                        "detail": "Request rate limit exceeded for plan.",
                        "meta": {
                            "plan": "Free",
                            "rate_limit": 1,
                            "rate_current": 0,
                            "quota_limit": 2000,
                            "quota_current": 2000,
                        },
                        "status": 429,
                    },
                },
                brave_search,
                "acme warranty terms",
            ),
        ),
        Case(
            "wave8.exa.search.credits_limit",
            "quota_exceeded",
            _served(
                402,
                {"error": "You have exceeded your credits limit. Upgrade your plan at dashboard.exa.ai/billing."},
                exa_search,
                "papers on retrieval evaluation",
            ),
        ),
        Case(
            "wave8.unstructured.pages.free_plan",
            "quota_exceeded",
            _served(
                402,
                {
                    "detail": "Your free page allowance for this billing period has been used. Upgrade to a paid plan "
                    "to keep processing documents."
                },
                partition_document,
                "contract-2291.pdf",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Configuration: settings turned into objects at start-up


def kafka_producer(settings: dict[str, str]) -> confluent_kafka.Producer:
    return confluent_kafka.Producer({"bootstrap.servers": settings["kafka_brokers"], "acks": settings["kafka_acks"]})


def sdk_compatibility(settings: dict[str, str]) -> packaging.specifiers.SpecifierSet:
    return packaging.specifiers.SpecifierSet(settings["supported_sdk_versions"])


def egress_proxy(environ: dict[str, str]) -> yarl.URL:
    return yarl.URL(environ["EGRESS_PROXY_URL"])


def transcript_lexer(settings: dict[str, str]) -> Any:
    return get_lexer_by_name(settings["transcript_language"])


def console_accent(theme: dict[str, str]) -> rich.color.Color:
    return rich.color.Color.parse(theme["accent"])


def parallel_requests(environ: dict[str, str]) -> int:
    return int(click.IntRange(1, 32).convert(environ["LLM_PARALLEL_REQUESTS"], None, None))


def alert_expression(rule: dict[str, str]) -> Any:
    return promql_parser.parse(rule["expr"])


def trace_sample_rate(settings: dict[str, str]) -> fractions.Fraction:
    return fractions.Fraction(settings["trace_sample_rate"])


def callback_host(settings: dict[str, str]) -> bytes:
    return idna.encode(settings["webhook_host"])


def answer_renderer(settings: dict[str, str]) -> MarkdownIt:
    return MarkdownIt(settings["markdown_preset"])


@attrs.define
class IngestSettings:
    mode: str = attrs.field(validator=attrs.validators.in_(["stream", "batch"]))
    topic: str = "llm-logs"


def _settings_cases() -> list[Case]:
    return [
        Case(
            "wave8.settings.kafka_acks.librdkafka",
            "configuration",
            _raises(kafka_producer, {"kafka_brokers": "127.0.0.1:9092", "kafka_acks": "several"}),
        ),
        Case(
            "wave8.settings.sdk_versions.specifier",
            "configuration",
            _raises(sdk_compatibility, {"supported_sdk_versions": ">=1.40,<2 beta"}),
        ),
        Case(
            "wave8.settings.egress_proxy.ipv6",
            "configuration",
            _raises(egress_proxy, {"EGRESS_PROXY_URL": "http://[fd00:ec2::23:3128"}),
        ),
        Case(
            "wave8.settings.transcript_lexer.alias",
            "configuration",
            _raises(transcript_lexer, {"transcript_language": "pyhton"}),
        ),
        Case("wave8.settings.console_theme.colour", "configuration", _raises(console_accent, {"accent": "bleu"})),
        Case(
            "wave8.settings.parallel_requests.range",
            "configuration",
            _raises(parallel_requests, {"LLM_PARALLEL_REQUESTS": "64"}),
        ),
        Case(
            "wave8.settings.alert_rule.promql",
            "configuration",
            _raises(alert_expression, {"expr": "rate(llm_errors_total[5m] > 3"}),
        ),
        Case(
            "wave8.settings.trace_sample_rate.fraction",
            "configuration",
            _raises(trace_sample_rate, {"trace_sample_rate": "1/ten"}),
        ),
        Case(
            "wave8.settings.webhook_host.idna",
            "configuration",
            _raises(callback_host, {"webhook_host": "hooks..acme.example"}),
        ),
        Case(
            "wave8.settings.markdown_preset.name",
            "configuration",
            _raises(answer_renderer, {"markdown_preset": "github"}),
        ),
        Case("wave8.settings.ingest_mode.attrs", "configuration", _raises(IngestSettings, "streaming")),
    ]


# --------------------------------------------------------------------------------------------------
# Missing data: retrieval that finds nothing


def qdrant_top_payload(base_url: str, vector: list[float]) -> dict[str, Any]:
    response = requests.post(
        base_url + "/collections/support_docs/points/search", json={"vector": vector, "limit": 3}, timeout=2
    )
    points = response.json()["result"]
    return dict(points[0]["payload"])


def chroma_best_document(base_url: str, text: str) -> str:
    response = requests.post(
        base_url + "/api/v1/collections/3f9c/query", json={"query_texts": [text], "n_results": 3}, timeout=2
    )
    return str(response.json()["documents"][0][0])


def pinecone_fetch_text(base_url: str, ids: list[str]) -> list[str]:
    response = requests.get(base_url + "/vectors/fetch", params={"ids": ids}, timeout=2)
    vectors = response.json()["vectors"]
    return [vectors[vector_id]["metadata"]["text"] for vector_id in ids]


def earliest_turn_since(turns: sortedcontainers.SortedKeyList, since: float) -> dict[str, Any]:
    """The first remembered turn at or after ``since`` (turns are kept sorted by timestamp)."""
    position = turns.bisect_key_left(since)
    return dict(turns[position])


def first_hit_source(es_reply: dict[str, Any]) -> dict[str, Any]:
    return dict(jsonpath.JSONPath("$.hits.hits[*]._source").parse(es_reply)[0])


def _missing_cases() -> list[Case]:
    memory = sortedcontainers.SortedKeyList(
        [{"ts": 1733100000.0, "text": "hi"}, {"ts": 1733100050.0, "text": "refund?"}], key=lambda turn: turn["ts"]
    )
    return [
        Case(
            "wave8.qdrant.search.no_points",
            "missing_data",
            _served(200, {"result": [], "status": "ok", "time": 0.0004}, qdrant_top_payload, [0.1, 0.2]),
        ),
        Case(
            "wave8.chroma.query.no_documents",
            "missing_data",
            _served(
                200,
                {"ids": [[]], "documents": [[]], "metadatas": [[]], "distances": [[]]},
                chroma_best_document,
                "how do I reset my password",
            ),
        ),
        Case(
            "wave8.pinecone.fetch.absent_id",
            "missing_data",
            _served(
                200,
                {"vectors": {}, "namespace": "support", "usage": {"readUnits": 1}},
                pinecone_fetch_text,
                ["doc-4411#chunk-3"],
            ),
        ),
        Case("wave8.memory_window.no_turn_since", "missing_data", _raises(earliest_turn_since, memory, 1733100900.0)),
        Case(
            "wave8.jsonpath.search.no_hit",
            "missing_data",
            _raises(first_hit_source, {"took": 3, "hits": {"total": {"value": 0}, "hits": []}}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Corrupted data: stored blobs that cannot be read


def load_prompt_cache(blob: bytes) -> dict[str, Any]:
    return dict(json.loads(lz4.frame.decompress(blob)))


def read_attachment(encoded: bytes) -> bytes:
    return binascii.a2b_base64(encoded, strict_mode=True)


def client_certificate(der: bytes) -> Any:
    return der_decoder.decode(der)[0]


def trace_id_of(record: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=record[:16] if len(record) >= 16 else record)


def read_call_transcript(blob: bytes) -> str:
    return blob.decode("utf-32")


def _corrupted_cases() -> list[Case]:
    cache = lz4.frame.compress(json.dumps({"prompt": "Summarise the contract", "tokens": 812}).encode() * 20)
    reads: list[tuple[str, Any, bytes]] = [
        ("prompt_cache_lz4.incomplete", load_prompt_cache, cache[:-11]),
        ("attachment_base64.padding", read_attachment, base64.b64encode(b"invoice-7781.pdf")[:-2] + b"=x="),
        ("client_certificate.der", client_certificate, b"\x30\x82\x05\x00\x02\x01"),
        ("trace_id.uuid_bytes", trace_id_of, b"\x8f\x1c\x22\x90"),
        ("call_transcript.utf32", read_call_transcript, "Hello, I need help".encode("utf-32")[:-3]),
    ]
    return [Case(f"wave8.stored.{name}", "corrupted_data", _raises(read, blob)) for name, read, blob in reads]


# --------------------------------------------------------------------------------------------------
# Out of memory


def preallocate_embedding_cache(rows: int, dims: int) -> list[float]:
    return [0.0] * (rows * dims)


def fixed_width_prompt(prompt: str, width: int) -> str:
    return prompt.ljust(width)


def ray_generate(base_url: str, prompt: str) -> str:
    response = requests.post(base_url + "/generate", json={"prompt": prompt}, timeout=2)
    if response.status_code != 200:
        raise ProviderError(f"ray serve deployment 'llm' failed: {response.text}")
    return str(response.json()["text"])


_RAY_OOM = (
    "ray.exceptions.OutOfMemoryError: Task was killed due to the node running low on memory.\n"
    "Memory on the node (IP: 10.0.3.17, ID: 5be0a1c2) where the task (actor ID: 9d3f, name=ServeReplica:llm) "
    "was running was 30.11GB / 31.30GB (0.962), which exceeds the memory usage threshold of 0.95. Ray killed "
    "this worker (ID: 77ab) because it was the most recently scheduled task."
)


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


def run_ocr_worker(pages: int) -> str:
    """The OCR step runs in a child with a bounded address space; its failure is read from its stderr."""
    script = f"pages = [bytearray(1024**3) for _ in range({pages})]"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, preexec_fn=_limit_address_space, check=False
    )
    if done.returncode:
        raise RuntimeError(f"ocr worker exited with status {done.returncode}: {done.stderr.strip().splitlines()[-1]}")
    return done.stdout


def _rerank_shard(shard: int) -> list[float]:
    return [0.0] * (2**61 + shard)


def rerank_all(shards: int) -> list[list[float]]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(_rerank_shard, shard) for shard in range(shards)]
    errors = [error for future in futures if (error := future.exception()) is not None]
    if errors:
        raise ExceptionGroup(f"reranking failed on {len(errors)} of {shards} shards", errors)
    return [future.result() for future in futures]


def _memory_cases() -> list[Case]:
    return [
        Case(
            "wave8.memory.embedding_cache.list",
            "out_of_memory",
            _raises(preallocate_embedding_cache, 2**40, 3072),
        ),
        Case("wave8.memory.fixed_width_prompt.ljust", "out_of_memory", _raises(fixed_width_prompt, "Q:", 2**62)),
        Case("wave8.ray.serve.node_memory", "out_of_memory", _served(500, _RAY_OOM, ray_generate, "Draft a reply")),
        Case("wave8.memory.ocr_worker.rlimit", "out_of_memory", _raises(run_ocr_worker, 4)),
        Case("wave8.groups.rerank_shards.memory", "out_of_memory", _raises(rerank_all, 2)),
    ]


# --------------------------------------------------------------------------------------------------
# One case for each other label


def qdrant_request(base_url: str, collection: str) -> Any:
    response = requests.post(
        base_url + f"/collections/{collection}/points/search", json={"vector": [0.1], "limit": 3}, timeout=2
    )
    if response.status_code >= 400:
        raise ProviderError(f"qdrant {response.status_code}: {response.json()['status']['error']}")
    return response.json()["result"]


def pinecone_upsert(base_url: str, vectors: list[dict[str, Any]]) -> int:
    response = requests.post(base_url + "/vectors/upsert", json={"vectors": vectors}, timeout=2)
    return int(_checked(response, "pinecone")["upsertedCount"])


def read_reranker_reply(base_url: str) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=0.2) as sock:
        sock.sendall(b"POST /rerank HTTP/1.1\r\nHost: reranker\r\nContent-Length: 2\r\n\r\n{}")
        return sock.recv(4096)


def health_check(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/v1/health")
        return connection.getresponse().status
    finally:
        connection.close()


def cohere_chat(base_url: str, message: str) -> str:
    body = requests.post(
        base_url + "/v2/chat",
        json={"model": "command-r-plus", "messages": [{"role": "user", "content": message}], "max_tokens": 200},
        timeout=2,
    ).json()
    if body["finish_reason"] != "COMPLETE":
        raise ProviderError(f"cohere chat {body['id']} ended with finish_reason={body['finish_reason']}")
    return str(body["message"]["content"][0]["text"])


def glm_reply(base_url: str, prompt: str) -> str:
    response = requests.post(
        base_url + "/api/paas/v4/chat/completions",
        json={"model": "glm-4-plus", "messages": [{"role": "user", "content": prompt}]},
        timeout=2,
    )
    body = response.json()
    if "error" in body:
        raise ProviderError(f"zhipu error {body['error']['code']}: {body['error']['message']}")
    return str(body["choices"][0]["message"]["content"])


_DECLINES = ("i won't be able to", "i'm not able to help", "i must decline")


def vetted_answer(text: str) -> str:
    if text.lower().startswith(_DECLINES):
        raise RuntimeError(f"assistant declined the task: {text!r}")
    return text


class TicketTriage(pydantic.BaseModel):
    queue: str
    urgency: int


def parse_triage(raw: str) -> TicketTriage:
    return TicketTriage.model_validate_json(raw)


@dataclasses.dataclass(frozen=True)
class ExtractedInvoice:
    number: str
    total: float


def invoice_from_reply(reply: str) -> ExtractedInvoice:
    return ExtractedInvoice(**json.loads(reply))


def create_ticket(subject: str, priority: str) -> dict[str, str]:
    return {"subject": subject, "priority": priority}


_COHERE_TOOLS = {"create_ticket": create_ticket}


def run_cohere_tool_calls(message: dict[str, Any]) -> list[Any]:
    results = []
    for call in message["tool_calls"]:
        arguments = json.loads(call["function"]["arguments"])
        results.append(_COHERE_TOOLS[call["function"]["name"]](**arguments))
    return results


def open_memory_store(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


async def answer_until_shutdown() -> str:
    async def generate() -> str:
        await asyncio.sleep(30)
        return "done"

    task = asyncio.create_task(generate())
    await asyncio.sleep(0)
    task.cancel("worker received SIGTERM, draining")
    return await task


def _masked_llm_call(call: Any, *args: Any) -> Any:
    """The application's wrapper: the cause is chained with ``from e``."""
    try:
        return call(*args)
    except Exception as e:
        raise ValueError("LLM chat interaction failed.") from e


def _other_cases() -> list[Case]:
    with tempfile.TemporaryDirectory() as directory:
        missing_store = _raises(open_memory_store, Path(directory) / "agent-memory.db")
    with _stalled_server() as url:
        stalled = _raises(read_reranker_reply, url)
    return [
        Case(
            "wave8.voyage.embeddings.tpm",
            "rate_limit",
            _served(
                429,
                {"detail": "You have exceeded the TPM rate limit of 3000000 tokens per minute. Please slow down."},
                voyage_embed,
                ["first chunk", "second chunk"],
            ),
        ),
        Case(
            "wave8.pinecone.query.api_key",
            "auth",
            _served(
                401,
                {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}, "status": 401},
                pinecone_query,
                [0.5],
            ),
        ),
        Case("wave8.reranker.socket.stalled", "timeout", stalled),
        Case("wave8.health.http_client.refused", "connection", _raises(health_check, _closed_port())),
        Case(
            "wave8.deepseek.server.overloaded_503",
            "overloaded",
            _compatible(
                503,
                {
                    "message": "Server Overloaded: The server is overloaded due to high traffic.",
                    "type": "service_unavailable_error",
                    "param": None,
                    "code": None,
                },
            ),
        ),
        Case(
            "wave8.qdrant.search.service_error",
            "server_error",
            _served(
                500,
                {"status": {"error": "Service internal error: task 212 panicked"}, "time": 0.01},
                qdrant_request,
                "support_docs",
            ),
        ),
        Case(
            "wave8.qdrant.search.unknown_collection",
            "not_found",
            _served(
                404,
                {"status": {"error": "Not found: Collection `support_docs_v2` doesn't exist!"}, "time": 0.0},
                qdrant_request,
                "support_docs_v2",
            ),
        ),
        Case(
            "wave8.pinecone.upsert.dimension",
            "bad_request",
            _served(
                400,
                {
                    "error": {
                        "code": "INVALID_ARGUMENT",
                        "message": "Vector dimension 768 does not match the dimension of the index 1536",
                    },
                    "status": 400,
                },
                pinecone_upsert,
                [{"id": "doc-1", "values": [0.0] * 768}],
            ),
        ),
        Case(
            "wave8.moonshot.request.token_limit",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "message": "Invalid request: Your request exceeded model token limit: 8192",
                    "type": "invalid_request_error",
                },
            ),
        ),
        Case(
            "wave8.cohere.chat.max_tokens",
            "truncation",
            _served(
                200,
                {
                    "id": "c14c80c3",
                    "finish_reason": "MAX_TOKENS",
                    "message": {"role": "assistant", "content": [{"type": "text", "text": "The contract's main"}]},
                },
                cohere_chat,
                "Summarise the contract in detail.",
            ),
        ),
        Case(
            "wave8.zhipu.sensitive.code_1301",
            "content_filter",
            _served(
                400,
                {
                    "error": {
                        "code": "1301",
                        "message": "系统检测到输入或生成内容可能包含不安全或敏感内容\uff0c"
                        "请您避免输入易产生敏感内容的提示语\uff0c感谢您的配合。",
                    }
                },
                glm_reply,
                "写一篇关于竞争对手的负面新闻",
            ),
        ),
        Case(
            "wave8.assistant.reply.must_decline",
            "refusal",
            _raises(vetted_answer, "I must decline to write fake reviews for your product."),
        ),
        Case(
            "wave8.triage.reply.json_invalid",
            "invalid_json",
            _raises(parse_triage, '{"queue": "billing", "urgency": 2, "reason": "the customer'),
        ),
        Case(
            "wave8.invoice.reply.unexpected_field",
            "schema_mismatch",
            _raises(invoice_from_reply, '{"number": "INV-7781", "total": 120.5, "currency": "EUR"}'),
        ),
        Case(
            "wave8.cohere.tool_call.arguments",
            "tool_call_malformed",
            _raises(
                run_cohere_tool_calls,
                {
                    "tool_calls": [
                        {
                            "id": "tc_1",
                            "type": "function",
                            "function": {"name": "create_ticket", "arguments": "{'subject': 'refund'"},
                        }
                    ]
                },
            ),
        ),
        Case("wave8.memory_store.sqlite.unable_to_open", "file_not_found", missing_store),
        Case("wave8.worker.shutdown.cancelled", "cancelled", _araises(answer_until_shutdown)),
        Case(
            "wave8.masked.pinecone_dimension.from_e",
            "bad_request",
            _served(
                400,
                {
                    "error": {
                        "code": "INVALID_ARGUMENT",
                        "message": "Metadata size is 48213 bytes, which exceeds the limit of 40960 bytes per vector",
                    },
                    "status": 400,
                },
                functools.partial(_masked_llm_call, pinecone_upsert),
                [{"id": "doc-2", "values": [0.1], "metadata": {"text": "..."}}],
            ),
        ),
    ]


def build_wave8_first_batch() -> list[Case]:
    return [
        *_quota_cases(),
        *_settings_cases(),
        *_missing_cases(),
        *_corrupted_cases(),
        *_memory_cases(),
        *_other_cases(),
    ]


def build_wave8_cases() -> list[Case]:
    return [*build_wave8_first_batch()]
