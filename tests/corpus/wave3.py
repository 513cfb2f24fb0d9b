"""A third wave of broad cases, written and split before any rule was changed for them (issue 19, third session).

Sources, none of them public issue threads and none read from the sealed part:

* ``wave3.litellm.*``: exception classes ``litellm/exceptions.py`` defines that earlier waves left out
  (budget, payment, guardrail and PII blocks, image fetches, unsupported parameters, JSON-schema
  validation of a reply, caller credentials, bad gateways), constructed as its mapping does.
* ``wave3.httpx.*``, ``wave3.requests.*``: the transport libraries' own exception classes
  (pool and write timeouts, proxy and protocol errors, URLs without a scheme), raised for real.
* ``wave3.catalogue.*``: provider error bodies from the documented catalogues not used before,
  through the SDKs over mock transports (OpenAI, Anthropic, Gemini, Mistral).
* ``wave3.parse.*``: the OpenAI SDK parsing a tool call's arguments itself (``pydantic_function_tool``).
* ``wave3.empty.*``, ``wave3.lookup.*``: built-ins raised by application code on empty choices,
  search hits, queues and records, and on ``None`` where a record was expected (``missing_data``).
* ``wave3.stored.*``: stored blobs read back (JSON, JSON lines, CSV, struct-packed vectors, lzma,
  base64, sqlite, checksums): ``corrupted_data``; and ``wave3.reply.*``: the same decoders on a
  model's reply: ``invalid_json`` or ``schema_mismatch``.
* ``wave3.tools.*``: tool calls from model output dispatched by hand-written agent code.
* ``wave3.config.*``: settings read at start-up.

Scenario parts are :func:`tests.corpus.broad.assign`'s hash, recorded in ``broad_split.json``.
Three scenarios written at first were dropped after the split as repeats of earlier waves' cases
(LiteLLM's budget error, Gemini's invalid API key and Mistral's 401: two sealed, one development).
"""

from __future__ import annotations

import base64
import collections
import csv
import hashlib
import heapq
import io
import json
import lzma
import os
import random
import sqlite3
import statistics
import struct
import tempfile
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema
import numpy
import openai
import orjson
import pydantic
import requests

from tests.corpus.sdk_errors import (
    _USER_MSG,
    Case,
    _anthropic_status,
    _chat_completion,
    _env,
    _gemini_status,
    _import_litellm,
    _json_handler,
    _litellm_raise,
    _mistral_status,
    _openai_client,
    _openai_err,
    _openai_status,
    _raises,
)

# --------------------------------------------------------------------------------------------------
# LiteLLM's own exception classes


def _litellm_cases() -> list[Case]:
    with _env(LITELLM_LOCAL_MODEL_COST_MAP="True"):
        exceptions = _import_litellm().exceptions
    model, provider = "gpt-4o-mini", "openai"
    return [
        Case(
            "wave3.litellm.payment.openrouter",
            "quota_exceeded",
            _litellm_raise(
                exceptions.PaymentRequiredError,
                message="OpenrouterException - This request requires more credits, or fewer max_tokens.",
                model="openrouter/anthropic/claude-sonnet-4",
                llm_provider="openrouter",
            ),
        ),
        Case(
            "wave3.litellm.guardrail.lakera",
            "content_filter",
            _litellm_raise(
                exceptions.GuardrailRaisedException,
                guardrail_name="lakera-prompt-injection",
                message="Violated prompt_injection policy",
            ),
        ),
        Case(
            "wave3.litellm.guardrail.pii",
            "content_filter",
            _litellm_raise(exceptions.BlockedPiiEntityError, entity_type="CREDIT_CARD", guardrail_name="presidio"),
        ),
        Case(
            "wave3.litellm.image_fetch.url",
            "bad_request",
            _litellm_raise(
                exceptions.ImageFetchError,
                message="Unable to fetch image from URL: https://cdn.example.com/scan.png. Status code: 403",
                model=model,
                llm_provider=provider,
            ),
        ),
        Case(
            "wave3.litellm.unsupported_params.temperature",
            "bad_request",
            _litellm_raise(
                exceptions.UnsupportedParamsError,
                message="openai does not support parameters: ['temperature'], for model=o3-mini. To drop these, "
                "set `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n",
                model="o3-mini",
                llm_provider=provider,
            ),
        ),
        Case(
            "wave3.litellm.json_schema.reply",
            "schema_mismatch",
            _litellm_raise(
                exceptions.JSONSchemaValidationError,
                model=model,
                llm_provider=provider,
                raw_response='{"title": "Q3 summary"}',
                schema='{"type": "object", "required": ["title", "bullets"]}',
            ),
        ),
        Case(
            "wave3.litellm.caller_credential.auth",
            "auth",
            _litellm_raise(
                exceptions.CallerCredentialAuthenticationError,
                message="GithubCopilotException - stored OAuth token was rejected; reconnect your account",
                llm_provider="github_copilot",
                model="github_copilot/gpt-4o",
            ),
        ),
        Case(
            "wave3.litellm.caller_credential.rate",
            "rate_limit",
            _litellm_raise(
                exceptions.CallerCredentialRateLimitError,
                message="GithubCopilotException - token exchange rate limited, retry after 60s",
                llm_provider="github_copilot",
                model="github_copilot/gpt-4o",
            ),
        ),
        Case(
            "wave3.litellm.bad_gateway.azure",
            "server_error",
            _litellm_raise(
                exceptions.BadGatewayError,
                message="AzureException - upstream connect error or disconnect/reset before headers",
                llm_provider="azure",
                model="azure/gpt-4o",
            ),
        ),
        Case(
            "wave3.litellm.endpoint_not_supported.embeddings",
            "bad_request",
            _litellm_raise(
                exceptions.EndpointNotSupportedByModelError,
                message="Model claude-sonnet-4 does not support the /v1/embeddings endpoint",
                model="claude-sonnet-4",
                llm_provider="anthropic",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# httpx and requests on their own


def _httpx_with(handler: Callable[[httpx.Request], httpx.Response], url: str = "https://api.internal/v1/rank") -> Any:
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        return client.post(url, json={"query": "refund policy"})


def _httpx_raising(exc_type: type[httpx.TransportError], message: str) -> BaseException:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    return _raises(_httpx_with, handler)


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise AssertionError("never sent")


def _transport_cases() -> list[Case]:
    return [
        Case("wave3.httpx.pool_timeout.reranker", "timeout", _httpx_raising(httpx.PoolTimeout, "")),
        Case(
            "wave3.httpx.write_timeout.upload",
            "timeout",
            _httpx_raising(httpx.WriteTimeout, "The write operation timed out"),
        ),
        Case(
            "wave3.httpx.proxy.corporate",
            "connection",
            _httpx_raising(httpx.ProxyError, "407 Proxy Authentication Required"),
        ),
        Case(
            "wave3.httpx.protocol.peer_closed",
            "connection",
            _httpx_raising(
                httpx.RemoteProtocolError,
                "peer closed connection without sending complete message body (incomplete chunked read)",
            ),
        ),
        Case(
            "wave3.httpx.write_error.broken_pipe",
            "connection",
            _httpx_raising(httpx.WriteError, "[Errno 32] Broken pipe"),
        ),
        Case(
            "wave3.httpx.no_scheme.base_url",
            "configuration",
            _raises(_httpx_with, _unreachable, "api.internal/v1/rank"),
        ),
        Case(
            "wave3.requests.no_scheme.endpoint",
            "configuration",
            _raises(requests.post, "llm-gateway.internal:8080/v1/chat", json={}, timeout=1),
        ),
        Case(
            "wave3.requests.invalid_url.host",
            "configuration",
            _raises(requests.get, "http://", timeout=1),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Providers' documented catalogues, through the SDKs


def _catalogue_cases() -> list[Case]:
    return [
        Case(
            "wave3.catalogue.openai.unsupported_parameter",
            "bad_request",
            _openai_status(
                400,
                _openai_err(
                    "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' "
                    "instead.",
                    "invalid_request_error",
                    "unsupported_parameter",
                    "max_tokens",
                ),
            ),
        ),
        Case(
            "wave3.catalogue.openai.tokens_per_minute",
            "rate_limit",
            _openai_status(
                429,
                _openai_err(
                    "Request too large for gpt-4o in organization org-x1 on tokens per min (TPM): Limit 30000, "
                    "Requested 45012. The input or output tokens must be reduced in order to run successfully.",
                    "tokens",
                    "rate_limit_exceeded",
                ),
            ),
        ),
        Case(
            "wave3.catalogue.openai.project_not_allowed",
            "auth",
            _openai_status(
                403,
                _openai_err(
                    "Project `proj_abc` does not have access to model `gpt-4.1`",
                    "invalid_request_error",
                    "model_not_found",
                ),
            ),
        ),
        Case(
            "wave3.catalogue.anthropic.roles_alternate",
            "bad_request",
            _anthropic_status(
                400,
                "invalid_request_error",
                'messages: roles must alternate between "user" and "assistant", but found multiple "user" roles '
                "in a row",
            ),
        ),
        Case(
            "wave3.catalogue.anthropic.invalid_schema",
            "bad_request",
            _anthropic_status(400, "invalid_request_error", "tools.0.custom.input_schema: JSON schema is invalid"),
        ),
        Case(
            "wave3.catalogue.anthropic.api_error_500",
            "server_error",
            _anthropic_status(500, "api_error", "An unexpected error has occurred internal to Anthropic's systems."),
        ),
        Case(
            "wave3.catalogue.gemini.deadline",
            "timeout",
            _gemini_status(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
        ),
        Case(
            "wave3.catalogue.gemini.unavailable",
            "overloaded",
            _gemini_status(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        ),
        Case(
            "wave3.catalogue.mistral.invalid_model",
            "not_found",
            _mistral_status(
                400,
                {
                    "object": "error",
                    "message": "Invalid model: mistral-huge-latest",
                    "type": "invalid_model",
                    "code": "1500",
                },
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# The OpenAI SDK parsing a tool call's arguments


class FlightSearch(pydantic.BaseModel):
    origin: str
    destination: str
    passengers: int


def _parsed_tool_call(arguments: str) -> BaseException:
    tool_calls = [{"id": "call_9Fq", "type": "function", "function": {"name": "FlightSearch", "arguments": arguments}}]
    completion = _chat_completion(None, "tool_calls", tool_calls=tool_calls)
    client = _openai_client(_json_handler(200, completion))
    return _raises(
        client.chat.completions.parse,
        model="gpt-4o",
        messages=_USER_MSG,
        tools=[openai.pydantic_function_tool(FlightSearch)],
    )


def _parse_cases() -> list[Case]:
    return [
        Case(
            "wave3.parse.tool_arguments.truncated", "tool_call_malformed", _parsed_tool_call('{"origin": "OSL", "dest')
        ),
        Case(
            "wave3.parse.tool_arguments.wrong_type",
            "tool_call_malformed",
            _parsed_tool_call('{"origin": "OSL", "destination": "LIS", "passengers": "two"}'),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Absent data: empty results, queues and records


def first_choice_message(response: dict[str, Any]) -> str:
    return response["choices"][0]["message"]["content"]


def first_search_hit(hits: list[dict[str, Any]]) -> dict[str, Any]:
    return next(iter(hits))


def document_by_id(documents: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    return next(doc for doc in documents if doc["id"] == wanted)


def sample_few_shot_example(examples: list[str]) -> str:
    return random.Random(7).choice(examples)


def next_pending_job(queue: collections.deque[str]) -> str:
    return queue.popleft()


def cheapest_candidate(heap: list[tuple[float, str]]) -> tuple[float, str]:
    return heapq.heappop(heap)


def best_scoring_passage(scores: list[float]) -> float:
    return max(scores)


def mean_relevance(scores: list[float]) -> float:
    return statistics.mean(scores)


def rerank_top_index(scores: numpy.ndarray) -> int:
    return int(numpy.argmax(scores))


def customer_email(profile: dict[str, Any] | None) -> str:
    return profile["email"]  # type: ignore[index]


def invoice_total(connection: sqlite3.Connection, invoice_id: str) -> float:
    row = connection.execute("select total from invoices where id = ?", (invoice_id,)).fetchone()
    return float(row[0])


def chunk_embedding(embeddings: dict[str, list[float]], chunk_id: str) -> list[float]:
    return embeddings[chunk_id]


def latest_order_status(order: Any) -> str:
    return order.status


def _invoices() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.execute("create table invoices (id text primary key, total real)")
    return connection


def _empty_cases() -> list[Case]:
    return [
        Case(
            "wave3.empty.choices.dict", "missing_data", _raises(first_choice_message, {"id": "cmpl-1", "choices": []})
        ),
        Case("wave3.empty.search_hits.next", "missing_data", _raises(first_search_hit, [])),
        Case(
            "wave3.empty.document_filter.generator", "missing_data", _raises(document_by_id, [{"id": "a"}], "kb-7731")
        ),
        Case("wave3.empty.few_shot.random_choice", "missing_data", _raises(sample_few_shot_example, [])),
        Case("wave3.empty.job_queue.deque", "missing_data", _raises(next_pending_job, collections.deque())),
        Case("wave3.empty.candidates.heap", "missing_data", _raises(cheapest_candidate, [])),
        Case("wave3.empty.passage_scores.max", "missing_data", _raises(best_scoring_passage, [])),
        Case("wave3.empty.relevance.mean", "missing_data", _raises(mean_relevance, [])),
        Case("wave3.empty.rerank.argmax", "missing_data", _raises(rerank_top_index, numpy.array([]))),
        Case("wave3.lookup.profile.none", "missing_data", _raises(customer_email, None)),
        Case("wave3.lookup.invoice.sqlite_none", "missing_data", _raises(invoice_total, _invoices(), "inv-2291")),
        Case(
            "wave3.lookup.embedding.key", "missing_data", _raises(chunk_embedding, {"chunk-0001": [0.1]}, "chunk-0042")
        ),
        Case("wave3.lookup.order.attribute_none", "missing_data", _raises(latest_order_status, None)),
    ]


# --------------------------------------------------------------------------------------------------
# Stored data read back, and the same decoders on a model's reply


def load_cached_answer(blob: bytes) -> Any:
    return json.loads(blob)


def read_checkpoint_records(blob: bytes) -> list[Any]:
    return [json.loads(line) for line in blob.decode().splitlines()]


def load_feature_store_row(blob: bytes) -> Any:
    return orjson.loads(blob)


def import_labels_csv(blob: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(blob.decode())))


def unpack_stored_vector(blob: bytes) -> tuple[float, ...]:
    return struct.unpack("<4f", blob)


def restore_xz_snapshot(blob: bytes) -> bytes:
    return lzma.decompress(blob)


def decode_stored_attachment(encoded: str) -> bytes:
    return base64.b64decode(encoded)


def open_local_index(path: str) -> list[Any]:
    return sqlite3.connect(path).execute("select * from sqlite_master").fetchall()


def verify_blob_checksum(blob: bytes, expected: str) -> bytes:
    actual = hashlib.sha256(blob).hexdigest()
    if actual != expected:
        raise ValueError(f"checksum mismatch for blob: expected sha256 {expected[:12]}…, got {actual[:12]}…")
    return blob


def embeddings_from_buffer(blob: bytes) -> numpy.ndarray:
    return numpy.frombuffer(blob, dtype=numpy.float32)


def parse_model_verdict(reply: str) -> Any:
    return json.loads(reply)


def structured_reply(reply: str) -> Any:
    return orjson.loads(reply)


class Verdict(pydantic.BaseModel):
    verdict: str
    score: float


def verdict_from_reply(reply: str) -> Verdict:
    return Verdict.model_validate_json(reply)


def reply_bullets(parsed: Any) -> list[str]:
    return parsed["bullets"]


def _unreadable_index() -> BaseException:
    """A local index file whose bytes are not SQLite's (a half-synced volume)."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "index.db")
        with open(path, "wb") as handle:
            handle.write(b"\x00\x01garbage that is not sqlite" * 40)
        return _raises(open_local_index, path)


def _stored_cases() -> list[Case]:
    return [
        Case(
            "wave3.stored.cache.json_truncated",
            "corrupted_data",
            _raises(load_cached_answer, b'{"answer": "Refunds are iss'),
        ),
        Case("wave3.stored.cache.json_binary", "corrupted_data", _raises(load_cached_answer, b"\xff\xfe\x00{\x00")),
        Case(
            "wave3.stored.checkpoint.jsonl_control",
            "corrupted_data",
            _raises(read_checkpoint_records, b'{"step": 1}\n{"step": 2, "note": "a\x01b"}\n'),
        ),
        Case(
            "wave3.stored.feature_row.orjson",
            "corrupted_data",
            _raises(load_feature_store_row, b'{"user": 17, "vec": [0.1, 0.'),
        ),
        Case(
            "wave3.stored.labels.csv_latin1",
            "corrupted_data",
            _raises(import_labels_csv, b"id,label\n1,caf\xe9 cr\xe8me\n"),
        ),
        Case("wave3.stored.vector.struct", "corrupted_data", _raises(unpack_stored_vector, b"\x00\x00\x80?\x00\x00")),
        Case(
            "wave3.stored.snapshot.lzma",
            "corrupted_data",
            _raises(restore_xz_snapshot, b"\xfd7zXZ\x00garbage-after-magic"),
        ),
        Case("wave3.stored.attachment.base64", "corrupted_data", _raises(decode_stored_attachment, "aGVsbG8gd29ybGQ")),
        Case("wave3.stored.index.sqlite", "corrupted_data", _unreadable_index()),
        Case(
            "wave3.stored.checksum.sha256",
            "corrupted_data",
            _raises(verify_blob_checksum, b"partial upload", "9f" * 32),
        ),
        Case(
            "wave3.stored.embeddings.frombuffer",
            "corrupted_data",
            _raises(embeddings_from_buffer, b"\x00\x01\x02\x03\x04\x05"),
        ),
        Case(
            "wave3.reply.verdict.json_prose",
            "invalid_json",
            _raises(parse_model_verdict, "Sure! Here is the verdict: PASS"),
        ),
        Case(
            "wave3.reply.verdict.orjson_fenced",
            "invalid_json",
            _raises(structured_reply, '```json\n{"verdict": "pass"}\n```'),
        ),
        Case(
            "wave3.reply.verdict.pydantic_missing",
            "schema_mismatch",
            _raises(verdict_from_reply, '{"verdict": "pass"}'),
        ),
        Case("wave3.reply.bullets.string_indices", "schema_mismatch", _raises(reply_bullets, "- first\n- second")),
    ]


# --------------------------------------------------------------------------------------------------
# Tool calls from model output


def book_table(restaurant: str, party_size: int, time: str) -> str:
    return f"booked {restaurant} for {party_size} at {time}"


def convert_currency(amount: float, currency: str) -> float:
    return amount * {"EUR": 1.08}[currency]


HANDLERS: dict[str, Callable[..., Any]] = {"book_table": book_table, "convert_currency": convert_currency}


def invoke_handler(function_call: dict[str, Any]) -> Any:
    arguments = json.loads(function_call["arguments"])
    return HANDLERS[function_call["name"]](**arguments)


def handle_tool_use_block(block: dict[str, Any]) -> Any:
    return book_table(block["input"]["restaurant"], block["input"]["party_size"], block["input"]["time"])


class BookingInput(pydantic.BaseModel):
    restaurant: str
    party_size: int
    time: str


def run_booking_tool(arguments: str) -> str:
    parsed = BookingInput.model_validate_json(arguments)
    return book_table(parsed.restaurant, parsed.party_size, parsed.time)


_CURRENCY_SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": "number"}, "currency": {"enum": ["EUR", "USD"]}},
    "required": ["amount", "currency"],
}


def execute_currency_tool(arguments: dict[str, Any]) -> float:
    jsonschema.validate(arguments, _CURRENCY_SCHEMA)
    return convert_currency(**arguments)


class UnknownToolError(LookupError):
    pass


def resolve_tool(name: str) -> Callable[..., Any]:
    try:
        return HANDLERS[name]
    except KeyError:
        raise UnknownToolError(f"model asked for tool {name!r}, which is not registered") from None


def party_size_argument(arguments: dict[str, Any]) -> int:
    return int(arguments["party_size"])


def _tool_cases() -> list[Case]:
    return [
        Case(
            "wave3.tools.handler.arguments_json",
            "tool_call_malformed",
            _raises(invoke_handler, {"name": "book_table", "arguments": '{"restaurant": "Maaemo", "party_size": 4,'}),
        ),
        Case(
            "wave3.tools.handler.unknown_name",
            "tool_call_malformed",
            _raises(invoke_handler, {"name": "reserve_table", "arguments": "{}"}),
        ),
        Case(
            "wave3.tools.handler.unexpected_keyword",
            "tool_call_malformed",
            _raises(
                invoke_handler,
                {"name": "convert_currency", "arguments": '{"amount": 5, "currency": "EUR", "to": "NOK"}'},
            ),
        ),
        Case(
            "wave3.tools.handler.missing_argument",
            "tool_call_malformed",
            _raises(invoke_handler, {"name": "book_table", "arguments": '{"restaurant": "Maaemo", "party_size": 4}'}),
        ),
        Case(
            "wave3.tools.tool_use.missing_input_key",
            "tool_call_malformed",
            _raises(
                handle_tool_use_block, {"type": "tool_use", "name": "book_table", "input": {"restaurant": "Maaemo"}}
            ),
        ),
        Case(
            "wave3.tools.validated.pydantic",
            "tool_call_malformed",
            _raises(run_booking_tool, '{"restaurant": "Maaemo", "party_size": "four", "time": "19:00"}'),
        ),
        Case(
            "wave3.tools.validated.jsonschema",
            "tool_call_malformed",
            _raises(execute_currency_tool, {"amount": "five", "currency": "EUR"}),
        ),
        Case("wave3.tools.registry.unknown_tool_error", "tool_call_malformed", _raises(resolve_tool, "web_search")),
        Case(
            "wave3.tools.arguments.int_literal",
            "tool_call_malformed",
            _raises(party_size_argument, {"party_size": "four"}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Settings read at start-up


def retry_budget_from_env() -> int:
    return int(os.environ["RETRY_BUDGET"])


def sampling_temperature_from_env() -> float:
    return float(os.environ.get("SAMPLING_TEMPERATURE", "0.2"))


def load_json_settings(text: str) -> dict[str, Any]:
    return json.loads(text)


class GatewaySettings(pydantic.BaseModel):
    base_url: pydantic.AnyHttpUrl
    timeout_seconds: float


def gateway_settings(values: dict[str, Any]) -> GatewaySettings:
    return GatewaySettings.model_validate(values)


def _with_env(call: Callable[[], Any], **values: str | None) -> BaseException:
    with _env(**values):
        return _raises(call)


def _config_cases() -> list[Case]:
    return [
        Case(
            "wave3.config.env.int_conversion", "configuration", _with_env(retry_budget_from_env, RETRY_BUDGET="three")
        ),
        Case("wave3.config.env.missing_key", "configuration", _with_env(retry_budget_from_env, RETRY_BUDGET=None)),
        Case(
            "wave3.config.env.float_conversion",
            "configuration",
            _with_env(sampling_temperature_from_env, SAMPLING_TEMPERATURE="warm"),
        ),
        Case("wave3.config.file.json_settings", "configuration", _raises(load_json_settings, '{"model": "gpt-4o",\n}')),
        Case(
            "wave3.config.model.pydantic_url",
            "configuration",
            _raises(gateway_settings, {"base_url": "gateway.internal", "timeout_seconds": 30}),
        ),
    ]


def build_wave3_cases() -> list[Case]:
    return [
        *_litellm_cases(),
        *_transport_cases(),
        *_catalogue_cases(),
        *_parse_cases(),
        *_empty_cases(),
        *_stored_cases(),
        *_tool_cases(),
        *_config_cases(),
    ]
