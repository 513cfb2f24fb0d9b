"""A fourth wave of broad cases, written and split before any rule was changed for them (issue 19, fourth session).

Sources, none of them public issue threads and none read from the sealed part:

* ``wave4.anthropic.*``: the error codes Anthropic's SDK maps to its own classes
  (``anthropic/_error_classes.py``: spend limits, organisations on hold, sandbox egress, 408, 412,
  431, 504, 529) through the SDK over a mock transport, and an SSE ``error`` event mid-stream.
* ``wave4.openai.*``: the OpenAI SDK on a real loopback socket (a stream that stalls or is reset
  mid-way, a TLS handshake with a plain-HTTP server, a ``.invalid`` host), a stream whose chunk is an
  error, a CDN's HTML error pages, and a client built with no API key.
* ``wave4.gemini.*``, ``wave4.mistral.*``, ``wave4.litellm.*``: Gemini's automatic function calling
  on a function the model invented, its ``CANCELLED``/``INTERNAL`` statuses, Mistral's edge HTML page,
  and LiteLLM classes no wave used (rejected requests, mid-stream fallback, unmapped models).
* ``wave4.httpx.*``, ``wave4.requests.*``, ``wave4.urllib3.*``, ``wave4.aiohttp.*``,
  ``wave4.websockets.*``, ``wave4.streams.*``, ``wave4.tenacity.*``: the transport libraries' own
  classes raised for real on loopback (resets, truncated bodies, refused proxies, TLS, DNS on a
  ``.invalid`` name, bad URLs and ports read from settings, WebSocket handshakes and close codes).
* ``wave4.settings.*``: settings read at start-up (TOML, YAML, INI, environment, pydantic-settings).
* ``wave4.tools.*``: model tool calls dispatched by application code.
* ``wave4.missing.*``, ``wave4.stored.*``: absent records and unreadable stored data.

Scenario parts are :func:`tests.corpus.broad.assign`'s hash, recorded in ``broad_split.json``
before any rule was changed for them: the first batch 80 cases in 63 scenarios, 23 scenarios
(30 cases) sealed.

Baseline, rules 2026.12.01-5 (main at 3323fd3), ``python -m benchmarks.classification_accuracy``,
this wave's part of each (``by_wave.wave4``), before any rule was changed for it:

* development, 50 cases: 68.5 %. By form: as raised 70.0 %, masked structlog 70.0 %, masked text
  70.0 %, from None 64.0 %. By label (cases): auth 75.0 % (4), bad_request 100 % (2),
  configuration 43.8 % (8), connection 67.5 % (10), corrupted_data 40.0 % (5), missing_data
  100 % (3), overloaded 100 % (2), quota_exceeded 0 % (2), rate_limit 100 % (1), server_error
  100 % (4), timeout 66.7 % (3), tool_call_malformed 83.3 % (6).
* sealed, 30 cases: 72.5 %. By form: as raised 76.7 %, masked structlog 76.7 %, masked text
  80.0 %, from None 56.7 %. By label (cases): cancelled 100 % (1), configuration 66.7 % (6),
  connection 85.7 % (7), content_filter 100 % (1), corrupted_data 50.0 % (2), missing_data 0 % (2),
  server_error 66.7 % (3), timeout 100 % (2), tool_call_malformed 79.2 % (6).
* the whole sealed part (all four waves, 116 cases): 91.57 % -> 86.64 %; the whole development
  part (191 cases): 90.05 %.

A second batch (:func:`build_wave4_second_batch`, 29 cases in 23 scenarios, 9 scenarios and 11
cases sealed) was written after the first was committed, and split and measured the same way
before any rule was changed for it (rules 2026.12.01-5): Bedrock's model-error, service-quota,
parameter-validation and missing-profile errors; ``urllib.request`` refused, 503 and 429; anyio
memory streams to a tool server that went away (``BrokenResourceError``, ``EndOfStream``, both
with no message); settings (time zones, logging handler classes, decimal prices, regexes, plugin
modules, enums); tool calls (a JSON string for arguments, a string where an int goes, an enum
value, a Responses API ``function_call`` cut short, a tool server's unknown tool); cache misses,
``fetchone()`` of nothing, popped sessions; stored WAV, XML, UUIDs, timestamps, hex digests and
zlib chunks.

* development, 18 cases: 45.8 %. By form: as raised 50.0 %, masked structlog 50.0 %, masked text
  50.0 %, from None 33.3 %. By label (cases): bad_request 0 % (1), configuration 15.0 % (5),
  connection 33.3 % (3), corrupted_data 62.5 % (4), missing_data 0 % (1), rate_limit 100 % (1),
  server_error 100 % (2), tool_call_malformed 100 % (1).
* sealed, 11 cases: 61.4 %. By form: as raised 72.7 %, masked structlog 72.7 %, masked text 72.7 %,
  from None 27.3 %. By label (cases): configuration 37.5 % (2), corrupted_data 87.5 % (2),
  missing_data 50.0 % (2), quota_exceeded 0 % (1), tool_call_malformed 81.2 % (4).
* with both batches: this wave's development part (68 cases) 61.0 %, its sealed part (41 cases)
  69.5 %; the whole sealed part (127 cases) 84.45 %, the whole development part (209 cases) 85.77 %.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import csv
import datetime
import decimal
import enum
import importlib
import io
import json
import logging.config
import marshal
import os
import re
import socket
import sqlite3
import tempfile
import threading
import tomllib
import urllib.request
import uuid
import wave
import zipfile
import zlib
import zoneinfo
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import aiohttp
import anyio
import botocore.session
import httpx
import httpx2
import jsonschema
import numpy
import openai
import pydantic
import pydantic_settings
import requests
import tenacity
import urllib3
import websockets
import yaml
from google.genai import types as genai_types

from tests.corpus.sdk_errors import (
    _BEDROCK_MESSAGES,
    _BEDROCK_MODEL,
    _GEMINI,
    _USER_MSG,
    Case,
    _abort,
    _answering_server,
    _anthropic_client,
    _anthropic_create,
    _araises,
    _Bedrock,
    _bedrock_client,
    _chat_completion,
    _closed_port,
    _env,
    _gemini_client,
    _gemini_status,
    _http_server,
    _import_litellm,
    _json_handler,
    _litellm_raise,
    _mistral_client,
    _openai_client,
    _raises,
    _read_request,
    _stalled_server,
    _tcp_server,
)
from tests.corpus.wave3 import _invoices, _with_env

_INVALID_HOST = "llm-gateway.invalid"  # RFC 6761: never resolves

# --------------------------------------------------------------------------------------------------
# Anthropic's error codes, through the SDK


def _anthropic_coded(status: int, error_type: str, message: str, error_code: str | None = None) -> BaseException:
    error: dict[str, Any] = {"type": error_type, "message": message}
    if error_code:
        error["details"] = {"error_code": error_code}
    body = {"type": "error", "error": error, "request_id": "req_018EeWyXxfu5"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body, headers={"request-id": "req_018EeWyXxfu5"})

    return _anthropic_create(handler)


def _anthropic_mid_stream(error_type: str, message: str) -> BaseException:
    """A stream that has already sent text when the ``error`` event arrives."""
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_01Wv",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-sonnet-4-6",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 812, "output_tokens": 1},
        },
    }
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "The quarter's "}}
    error = {"type": "error", "error": {"type": error_type, "message": message}}
    events = [("message_start", start), ("content_block_start", block), ("content_block_delta", delta)]
    payload = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in [*events, ("error", error)])

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=payload.encode(), headers={"content-type": "text/event-stream"})

    def stream_summary() -> str:
        with _anthropic_client(handler).messages.stream(
            model="claude-sonnet-4-6", max_tokens=1024, messages=_USER_MSG
        ) as stream:
            return "".join(stream.text_stream)

    return _raises(stream_summary)


def _anthropic_cases() -> list[Case]:
    return [
        Case(
            "wave4.anthropic.spend_limit.enforced",
            "quota_exceeded",
            _anthropic_coded(
                429,
                "rate_limit_error",
                "Your organization has reached its enforced monthly spend limit.",
                "enforced_spend_limit_reached",
            ),
        ),
        Case(
            "wave4.anthropic.spend_limit.linked_organization",
            "quota_exceeded",
            _anthropic_coded(
                402,
                "billing_error",
                "The linked organization has reached its spend limit for this billing period.",
                "linked_organization_spend_limit_reached",
            ),
        ),
        Case(
            "wave4.anthropic.organization_on_hold.400",
            "auth",
            _anthropic_coded(
                400,
                "invalid_request_error",
                "This organization has been placed on hold. Contact support to restore access.",
                "organization_on_hold",
            ),
        ),
        Case(
            "wave4.anthropic.sandbox_egress.403",
            "auth",
            _anthropic_coded(
                403,
                "permission_error",
                "Outbound network access from this sandbox is restricted by the workspace's policy.",
                "sandbox_egress_restricted",
            ),
        ),
        Case(
            "wave4.anthropic.gateway_timeout.504",
            "timeout",
            _anthropic_coded(504, "timeout_error", "Stream idle timeout - partial response received"),
        ),
        Case(
            "wave4.anthropic.request_timeout.408",
            "timeout",
            _anthropic_coded(408, "timeout_error", "Request timed out while reading the request body"),
        ),
        Case(
            "wave4.anthropic.overloaded.529",
            "overloaded",
            _anthropic_coded(529, "overloaded_error", "The service is temporarily at capacity; please retry shortly."),
        ),
        Case(
            "wave4.anthropic.precondition.412",
            "bad_request",
            _anthropic_coded(412, "invalid_request_error", "If-Match precondition failed for this batch."),
        ),
        Case(
            "wave4.anthropic.header_fields.431",
            "bad_request",
            _anthropic_coded(431, "invalid_request_error", "Request header fields too large"),
        ),
        Case(
            "wave4.anthropic.mid_stream.overloaded",
            "overloaded",
            _anthropic_mid_stream("overloaded_error", "Overloaded"),
        ),
        Case(
            "wave4.anthropic.mid_stream.api_error",
            "server_error",
            _anthropic_mid_stream("api_error", "Internal server error"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# OpenAI on real sockets, mid-stream errors, CDN pages, no key


def _partial_stream_server(after: str) -> contextlib.AbstractContextManager[str]:
    """Answer an SSE stream's head and one chunk, then ``stall`` (send nothing more) or ``reset`` (RST)."""
    chunk = {
        "id": "chatcmpl-9x",
        "object": "chat.completion.chunk",
        "created": 1733000000,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Revenue rose"}, "finish_reason": None}],
    }
    data = f"data: {json.dumps(chunk)}\n\n".encode()
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        _read_request(conn)
        conn.sendall(head + f"{len(data):x}\r\n".encode() + data + b"\r\n")
        if after == "reset":
            _abort(conn)
        else:
            stop.wait(1.0)

    return _answering_server(answer)


def _openai_at(base_url: str, timeout: float = 2.0) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-proj-test", base_url=base_url, max_retries=0, timeout=timeout)


def stream_answer(client: openai.OpenAI) -> str:
    parts = []
    for chunk in client.chat.completions.create(model="gpt-4o", messages=_USER_MSG, stream=True):
        parts.append(chunk.choices[0].delta.content or "")
    return "".join(parts)


def _openai_stream_of(events: list[dict[str, Any]]) -> BaseException:
    payload = "".join(f"data: {json.dumps(event)}\n\n" for event in events).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=payload, headers={"content-type": "text/event-stream"})

    return _raises(stream_answer, _openai_client(handler))


def _openai_page(status: int, html: str) -> BaseException:
    with _http_server(status, html, "text/html; charset=UTF-8") as url:
        return _raises(_openai_at(url + "/v1").chat.completions.create, model="gpt-4o", messages=_USER_MSG)


def _openai_cases() -> list[Case]:
    with _partial_stream_server("stall") as url:
        stalled = _raises(stream_answer, _openai_at(url, timeout=0.3))
    with _partial_stream_server("reset") as url:
        reset = _raises(stream_answer, _openai_at(url))
    with _tcp_server("plaintext") as url:
        tls = _raises(
            _openai_at(url.replace("http://", "https://") + "/v1").chat.completions.create,
            model="gpt-4o",
            messages=_USER_MSG,
        )
    with _env(OPENAI_API_KEY=None):
        no_key = _raises(openai.OpenAI)
    first = {
        "id": "chatcmpl-9y",
        "object": "chat.completion.chunk",
        "created": 1733000000,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": "Revenue"}, "finish_reason": None}],
    }
    return [
        Case("wave4.openai.stream_socket.stalled", "timeout", stalled),
        Case("wave4.openai.stream_socket.reset", "connection", reset),
        Case("wave4.openai.tls.plaintext_server", "connection", tls),
        Case(
            "wave4.openai.dns.invalid_host",
            "connection",
            _raises(
                _openai_at(f"http://{_INVALID_HOST}/v1").chat.completions.create, model="gpt-4o", messages=_USER_MSG
            ),
        ),
        Case(
            "wave4.openai.stream_chunk.server_error",
            "server_error",
            _openai_stream_of(
                [
                    first,
                    {
                        "error": {
                            "message": "The server had an error while processing your request. Sorry about that!",
                            "type": "server_error",
                            "param": None,
                            "code": None,
                        }
                    },
                ]
            ),
        ),
        Case(
            "wave4.openai.stream_chunk.rate_limit",
            "rate_limit",
            _openai_stream_of(
                [
                    first,
                    {
                        "error": {
                            "message": "Rate limit reached for gpt-4o on requests per min (RPM): Limit 500.",
                            "type": "requests",
                            "param": None,
                            "code": "rate_limit_exceeded",
                        }
                    },
                ]
            ),
        ),
        Case(
            "wave4.openai.cdn_page.520",
            "server_error",
            _openai_page(
                520,
                "<!DOCTYPE html><html><head><title>api.example.com | 520: Web server is returning an unknown error"
                "</title></head><body><h1>Web server is returning an unknown error</h1><p>Error code 520</p>"
                "</body></html>",
            ),
        ),
        Case(
            "wave4.openai.cdn_page.524",
            "timeout",
            _openai_page(
                524,
                "<!DOCTYPE html><html><head><title>api.example.com | 524: A timeout occurred</title></head>"
                "<body><h1>A timeout occurred</h1><p>The origin web server timed out responding to this request."
                "</p></body></html>",
            ),
        ),
        Case("wave4.openai.client.no_api_key", "configuration", no_key),
    ]


# --------------------------------------------------------------------------------------------------
# Gemini, Mistral, LiteLLM


def get_exchange_rate(base: str, target: str) -> float:
    return {("EUR", "USD"): 1.08}[(base, target)]


def _gemini_function_call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"functionCall": {"name": name, "args": args}}]},
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 31, "totalTokenCount": 40},
        "modelVersion": _GEMINI,
    }


def _gemini_automatic_call(name: str, args: dict[str, Any]) -> BaseException:
    client = _gemini_client(_json_handler(200, _gemini_function_call(name, args)))
    config = genai_types.GenerateContentConfig(tools=[get_exchange_rate])
    return _raises(
        client.models.generate_content, model=_GEMINI, contents="How many dollars is 20 euros?", config=config
    )


GEMINI_TOOLS: dict[str, Callable[..., Any]] = {"get_exchange_rate": get_exchange_rate}


def run_gemini_function_calls(response: Any) -> list[Any]:
    return [GEMINI_TOOLS[call.name](**call.args) for call in response.function_calls]


def _gemini_manual_call(name: str, args: dict[str, Any]) -> BaseException:
    client = _gemini_client(_json_handler(200, _gemini_function_call(name, args)))
    response = client.models.generate_content(model=_GEMINI, contents="How many dollars is 20 euros?")
    return _raises(run_gemini_function_calls, response)


def _mistral_page(status: int, html: str) -> BaseException:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=html, headers={"content-type": "text/html"})

    return _raises(_mistral_client(handler).chat.complete, model="mistral-large-latest", messages=_USER_MSG)


def _provider_cases() -> list[Case]:
    with _env(LITELLM_LOCAL_MODEL_COST_MAP="True", TIKTOKEN_CACHE_DIR=os.environ.get("TIKTOKEN_CACHE_DIR")):
        litellm = _import_litellm()
    exceptions = litellm.exceptions
    request = httpx.Request("POST", "https://api.openai.com/v1/chat/completions")
    try:
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body", request=request)
    except httpx.RemoteProtocolError as cut:
        mid_stream = _litellm_raise(
            exceptions.MidStreamFallbackError,
            message=f"litellm.ServiceUnavailableError: OpenAIException - {cut}",
            model="gpt-4o",
            llm_provider="openai",
            original_exception=cut,
            generated_content="Revenue rose",
        )
    return [
        Case(
            "wave4.gemini.automatic_calling.invented_function",
            "tool_call_malformed",
            _gemini_automatic_call("get_stock_price", {"ticker": "EURUSD"}),
        ),
        Case(
            "wave4.gemini.function_calls.unexpected_argument",
            "tool_call_malformed",
            _gemini_manual_call("get_exchange_rate", {"base": "EUR", "target": "USD", "amount": 20}),
        ),
        Case(
            "wave4.gemini.function_calls.missing_argument",
            "tool_call_malformed",
            _gemini_manual_call("get_exchange_rate", {"base": "EUR"}),
        ),
        Case(
            "wave4.gemini.status.cancelled_499",
            "cancelled",
            _gemini_status(499, "CANCELLED", "The operation was cancelled."),
        ),
        Case(
            "wave4.gemini.status.internal_500",
            "server_error",
            _gemini_status(500, "INTERNAL", "An internal error has occurred. Please retry or report the problem."),
        ),
        Case(
            "wave4.mistral.edge_page.503",
            "server_error",
            _mistral_page(
                503,
                "<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
                "<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
            ),
        ),
        Case(
            "wave4.litellm.rejected_request.pre_call_hook",
            "content_filter",
            _litellm_raise(
                exceptions.RejectedRequestError,
                message="Violated content safety policy: the prompt was flagged for self-harm",
                model="gpt-4o",
                llm_provider="openai",
                request_data={"model": "gpt-4o", "messages": _USER_MSG},
            ),
        ),
        Case("wave4.litellm.mid_stream_fallback.cut", "connection", mid_stream),
        Case(
            "wave4.litellm.model_info.unmapped_model",
            "configuration",
            _raises(litellm.get_model_info, "openai/gpt-omega-preview"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Transport libraries on loopback


def fetch_embeddings(base_url: str, api_key: str = "sk-test", timeout: float = 1.0) -> Any:
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        response = client.post("/v1/embeddings", json={"input": "refund policy"}, headers={"authorization": api_key})
        response.raise_for_status()
        return response.json()


def embeddings_base_url_from_env() -> str:
    return str(httpx.URL(os.environ["EMBEDDINGS_URL"]))


def post_chat(url: str, **kwargs: Any) -> Any:
    response = requests.post(url, json={"model": "gpt-4o", "messages": _USER_MSG}, timeout=1, **kwargs)
    response.raise_for_status()
    return response.json()


def read_streamed_answer(url: str) -> str:
    with requests.post(url + "/v1/chat/completions", json={"stream": True}, stream=True, timeout=1) as response:
        return b"".join(response.iter_content(chunk_size=None)).decode()


def pool_request(url: str, timeout: float = 0.2) -> bytes:
    with urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=1.0, read=timeout)) as pool:
        return pool.request("POST", url + "/v1/completions", body=b"{}").data


async def aiohttp_json(url: str) -> Any:
    async with aiohttp.ClientSession() as session, session.post(url, json={"input": "hi"}) as response:
        return await response.json()


async def aiohttp_text(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.text()


async def open_realtime_socket(url: str) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(url):
        pass


def _short_body_server() -> contextlib.AbstractContextManager[str]:
    """Promise a 4,096-byte body, send 12 bytes, hang up."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n")
        conn.sendall(b'{"data": [0.')

    return _answering_server(answer)


async def _websocket_closed(code: int, reason: str) -> None:
    async def handler(connection: Any) -> None:
        await connection.recv()
        await connection.close(code, reason)

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime") as connection:
            await connection.send('{"type": "response.create"}')
            await connection.recv()


async def _websocket_rejected(status: int) -> None:
    def reject(connection: Any, request: Any) -> Any:
        return connection.respond(status, "Forbidden: the API key has no access to the realtime API\n")

    async with websockets.serve(lambda connection: connection.recv(), "127.0.0.1", 0, process_request=reject) as server:
        port = server.sockets[0].getsockname()[1]
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime"):
            pass


async def read_frame(host: str, port: int) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(b"\x00\x00\x00\x02{}")
        await writer.drain()
        size = int.from_bytes(await reader.readexactly(4), "big")
        return await reader.readexactly(size)
    finally:
        writer.close()


@tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none())
def call_reranker(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
        return connection.recv(1)


def _transport_cases() -> list[Case]:
    cases = []
    with _tcp_server("reset") as url:
        cases.append(Case("wave4.httpx.reset.read_error", "connection", _raises(fetch_embeddings, url)))
        cases.append(Case("wave4.requests.reset.before_response", "connection", _raises(read_streamed_answer, url)))
    with _short_body_server() as url:
        cases.append(Case("wave4.requests.short_body.content_length", "connection", _raises(read_streamed_answer, url)))
        cases.append(
            Case("wave4.aiohttp.short_body.payload", "connection", _araises(lambda: aiohttp_text(url + "/v1/models")))
        )
    with _stalled_server() as url:
        cases.append(Case("wave4.urllib3.stalled.read_timeout", "timeout", _raises(pool_request, url)))
    proxy_page = (
        "<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>"
    )
    with _http_server(503, proxy_page, "text/html") as url:
        cases.append(
            Case("wave4.aiohttp.html_json.503", "server_error", _araises(lambda: aiohttp_json(url + "/v1/embeddings")))
        )
    with _http_server(401, json.dumps({"error": {"message": "Incorrect API key provided"}})) as url:
        cases.append(
            Case(
                "wave4.aiohttp.ws_handshake.401",
                "auth",
                _araises(lambda: open_realtime_socket(url.replace("http", "ws") + "/v1/realtime")),
            )
        )
    with _tcp_server("plaintext") as url:
        https_url = url.replace("http://", "https://")
        cases.append(
            Case("wave4.aiohttp.tls.plaintext_server", "connection", _araises(lambda: aiohttp_text(https_url)))
        )
        cases.append(Case("wave4.httpx.tls.plaintext_server", "connection", _raises(fetch_embeddings, https_url)))
    closed = _closed_port()
    cases += [
        Case("wave4.httpx.dns.invalid_host", "connection", _raises(fetch_embeddings, f"http://{_INVALID_HOST}")),
        Case("wave4.requests.dns.invalid_host", "connection", _raises(post_chat, f"http://{_INVALID_HOST}/v1/chat")),
        Case(
            "wave4.aiohttp.dns.invalid_host",
            "connection",
            _araises(lambda: aiohttp_text(f"http://{_INVALID_HOST}/v1/models")),
        ),
        Case(
            "wave4.requests.proxy.refused",
            "connection",
            _raises(
                post_chat,
                "http://api.openai.com/v1/chat/completions",
                proxies={"http": f"http://127.0.0.1:{closed}"},
            ),
        ),
        Case(
            "wave4.streams.open_connection.refused",
            "connection",
            _araises(lambda: read_frame("127.0.0.1", _closed_port())),
        ),
        Case("wave4.tenacity.retry_error.refused", "connection", _raises(call_reranker, _closed_port())),
        Case(
            "wave4.websockets.close_code.1011",
            "server_error",
            _araises(lambda: _websocket_closed(1011, "internal error")),
        ),
        Case("wave4.websockets.handshake.403", "auth", _araises(lambda: _websocket_rejected(403))),
    ]
    with _tcp_server("close") as url:
        port = int(url.rsplit(":", 1)[1])
        cases.append(
            Case("wave4.streams.readexactly.peer_closed", "connection", _araises(lambda: read_frame("127.0.0.1", port)))
        )
    return cases


# --------------------------------------------------------------------------------------------------
# Settings read at start-up


KNOWN_MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-6")


def chat_model_from_settings(text: str) -> str:
    model = str(tomllib.loads(text)["llm"]["model"])
    if model not in KNOWN_MODELS:
        raise ValueError(f"unknown model {model!r} in [llm] model; expected one of {', '.join(KNOWN_MODELS)}")
    return model


def vector_store_endpoint(text: str) -> str:
    config = yaml.safe_load(text)
    return str(config["retrieval"]["endpoint"])


def _ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return parser


def cache_enabled(text: str) -> bool:
    return _ini(text).getboolean("cache", "enabled")


def moderation_endpoint(text: str) -> str:
    return _ini(text).get("moderation", "endpoint")


class AgentSettings(pydantic_settings.BaseSettings):
    model_config = pydantic_settings.SettingsConfigDict(env_prefix="AGENT_")

    max_output_tokens: int = 1024
    request_timeout: datetime.timedelta = datetime.timedelta(seconds=30)


def agent_settings() -> AgentSettings:
    return AgentSettings()


def request_timeout_seconds() -> float:
    seconds = float(os.environ["LLM_TIMEOUT_SECONDS"])
    if seconds <= 0:
        raise ValueError(f"LLM_TIMEOUT_SECONDS must be a positive number of seconds, got {seconds:g}")
    return seconds


def _settings_cases() -> list[Case]:
    with _http_server(200, "{}") as url:
        newline_key = _with_env(
            lambda: fetch_embeddings(url, os.environ["EMBEDDINGS_AUTHORIZATION"]),
            EMBEDDINGS_AUTHORIZATION="Bearer test-token-123\n",  # pasted into a secrets file with its newline
        )
    return [
        Case("wave4.settings.api_key.trailing_newline", "configuration", newline_key),
        Case(
            "wave4.settings.toml.unknown_model",
            "configuration",
            _raises(chat_model_from_settings, '[llm]\nmodel = "gpt-5o-ultra"\n'),
        ),
        Case(
            "wave4.settings.yaml.missing_endpoint",
            "configuration",
            _raises(vector_store_endpoint, "retrieval:\n  collection: handbook\n  top_k: 5\n"),
        ),
        Case(
            "wave4.settings.ini.not_boolean", "configuration", _raises(cache_enabled, "[cache]\nenabled = sometimes\n")
        ),
        Case(
            "wave4.settings.ini.missing_option",
            "configuration",
            _raises(moderation_endpoint, "[moderation]\nthreshold = 0.8\n"),
        ),
        Case(
            "wave4.settings.ini.missing_section",
            "configuration",
            _raises(moderation_endpoint, "[cache]\nenabled = yes\n"),
        ),
        Case(
            "wave4.settings.pydantic_env.int",
            "configuration",
            _with_env(agent_settings, AGENT_MAX_OUTPUT_TOKENS="2k"),
        ),
        Case(
            "wave4.settings.pydantic_env.duration",
            "configuration",
            _with_env(agent_settings, AGENT_REQUEST_TIMEOUT="thirty seconds"),
        ),
        Case(
            "wave4.settings.env.non_positive",
            "configuration",
            _with_env(request_timeout_seconds, LLM_TIMEOUT_SECONDS="-5"),
        ),
        Case(
            "wave4.settings.env_url.bad_port",
            "configuration",
            _with_env(embeddings_base_url_from_env, EMBEDDINGS_URL="http://embeddings.internal:eighty/v1"),
        ),
        Case(
            "wave4.settings.env_url.grpc_scheme",
            "configuration",
            _raises(fetch_embeddings, "grpc://embeddings.internal:50051"),
        ),
        Case(
            "wave4.settings.env_url.requests_scheme",
            "configuration",
            _raises(post_chat, "ws://llm-gateway.internal/v1/chat"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Tool calls from model output


def search_orders(customer_id: str, status: str = "open") -> list[str]:
    return [f"{customer_id}:{status}"]


def schedule_follow_up(ticket_id: str, days: int) -> str:
    return (datetime.date(2026, 1, 1) + datetime.timedelta(days=days)).isoformat() + f" {ticket_id}"


AGENT_TOOLS: dict[str, Callable[..., Any]] = {"search_orders": search_orders, "schedule_follow_up": schedule_follow_up}


def execute_tool_calls(completion: Any) -> list[Any]:
    results = []
    for tool_call in completion.choices[0].message.tool_calls:
        tool = AGENT_TOOLS[tool_call.function.name]
        results.append(tool(**json.loads(tool_call.function.arguments)))
    return results


def _openai_tool_call(name: str, arguments: str) -> BaseException:
    tool_calls = [{"id": "call_Q7r", "type": "function", "function": {"name": name, "arguments": arguments}}]
    completion = _openai_client(_json_handler(200, _chat_completion(None, "tool_calls", tool_calls=tool_calls)))
    response = completion.chat.completions.create(model="gpt-4o", messages=_USER_MSG)
    return _raises(execute_tool_calls, response)


def handle_tool_use(message: Any) -> list[Any]:
    return [AGENT_TOOLS[block.name](**block.input) for block in message.content if block.type == "tool_use"]


def _anthropic_tool_use(name: str, tool_input: dict[str, Any]) -> BaseException:
    body = {
        "id": "msg_01Tq",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "tool_use", "id": "toolu_01A", "name": name, "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 310, "output_tokens": 48},
    }

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=body)

    message = _anthropic_client(handler).messages.create(model="claude-sonnet-4-6", max_tokens=512, messages=_USER_MSG)
    return _raises(handle_tool_use, message)


_FOLLOW_UP_SCHEMA = {
    "type": "object",
    "properties": {"ticket_id": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["ticket_id", "days"],
    "additionalProperties": False,
}


def validate_tool_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    jsonschema.validate(arguments, _FOLLOW_UP_SCHEMA)
    return arguments


class SearchOrdersArguments(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    customer_id: str
    status: str = "open"


def parse_tool_arguments(raw: str) -> SearchOrdersArguments:
    return SearchOrdersArguments.model_validate_json(raw)


def _tool_cases() -> list[Case]:
    return [
        Case(
            "wave4.tools.openai_dispatch.extra_data",
            "tool_call_malformed",
            _openai_tool_call("search_orders", '{"customer_id": "c-19"}{"customer_id": "c-20"}'),
        ),
        Case(
            "wave4.tools.openai_dispatch.unknown_tool",
            "tool_call_malformed",
            _openai_tool_call("browse_web", '{"url": "https://example.com"}'),
        ),
        Case(
            "wave4.tools.openai_dispatch.null_arguments",
            "tool_call_malformed",
            _openai_tool_call("search_orders", "null"),
        ),
        Case(
            "wave4.tools.openai_dispatch.string_for_int",
            "tool_call_malformed",
            _openai_tool_call("schedule_follow_up", '{"ticket_id": "T-88", "days": "3"}'),
        ),
        Case(
            "wave4.tools.anthropic_tool_use.unexpected_keyword",
            "tool_call_malformed",
            _anthropic_tool_use("search_orders", {"customer_id": "c-19", "limit": 5}),
        ),
        Case(
            "wave4.tools.anthropic_tool_use.missing_argument",
            "tool_call_malformed",
            _anthropic_tool_use("schedule_follow_up", {"ticket_id": "T-88"}),
        ),
        Case(
            "wave4.tools.jsonschema.additional_property",
            "tool_call_malformed",
            _raises(validate_tool_arguments, {"ticket_id": "T-88", "days": 3, "priority": "high"}),
        ),
        Case(
            "wave4.tools.jsonschema.below_minimum",
            "tool_call_malformed",
            _raises(validate_tool_arguments, {"ticket_id": "T-88", "days": 0}),
        ),
        Case(
            "wave4.tools.pydantic.extra_forbidden",
            "tool_call_malformed",
            _raises(parse_tool_arguments, '{"customer_id": "c-19", "include_closed": true}'),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Absent records and unreadable stored data


def answer_text(completion: Any) -> str:
    return completion.choices[0].message.content


def top_match_metadata(results: dict[str, Any]) -> dict[str, Any]:
    return results["matches"][0]["metadata"]


def call_transcript_words(transcripts: dict[str, str], call_id: str) -> list[str]:
    return transcripts.get(call_id).split()  # type: ignore[union-attr]


def query_similarity(cache: dict[str, list[float]], query_id: str, document: list[float]) -> float:
    vector = cache.get(query_id)
    return sum(a * b for a, b in zip(vector, document, strict=True))  # type: ignore[arg-type]


class NoContextError(LookupError):
    pass


def context_for(question: str, chunks: list[str]) -> str:
    if not chunks:
        raise NoContextError(f"retriever returned 0 chunks for collection 'handbook' (question: {question!r})")
    return "\n".join(chunks)


def load_prompt_templates(blob: bytes) -> Any:
    return yaml.safe_load(blob)


def read_transcript_utf16(blob: bytes) -> str:
    return blob.decode("utf-16-le")


def load_compiled_rules(blob: bytes) -> Any:
    return marshal.loads(blob)


def load_embedding_matrix(blob: bytes) -> Any:
    return numpy.load(io.BytesIO(blob))


def open_uploaded_docx(blob: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(blob)) as document:
        return document.namelist()


def import_feedback_export(blob: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(blob.decode()), strict=True))


def load_saved_run(blob: bytes) -> Any:
    return json.loads(blob.decode("utf-8"))


def _data_cases() -> list[Case]:
    empty_completion = _chat_completion("unused") | {"choices": []}
    no_choices = _openai_client(_json_handler(200, empty_completion)).chat.completions.create(
        model="gpt-4o", messages=_USER_MSG
    )
    return [
        Case("wave4.missing.completion.no_choices", "missing_data", _raises(answer_text, no_choices)),
        Case("wave4.missing.vector_query.no_matches", "missing_data", _raises(top_match_metadata, {"matches": []})),
        Case(
            "wave4.missing.transcript.none",
            "missing_data",
            _raises(call_transcript_words, {"call-1": "hello"}, "call-7"),
        ),
        Case("wave4.missing.query_vector.none", "missing_data", _raises(query_similarity, {}, "q-31", [0.1, 0.2])),
        Case("wave4.missing.context.no_chunks", "missing_data", _raises(context_for, "What is the refund window?", [])),
        Case(
            "wave4.stored.prompt_templates.yaml",
            "corrupted_data",
            _raises(load_prompt_templates, b"system: |\n  You are\n\x00\x00\x7f\x01binary: [\n"),
        ),
        Case("wave4.stored.transcript.utf16_odd", "corrupted_data", _raises(read_transcript_utf16, b"h\x00i\x00\x20")),
        Case("wave4.stored.compiled_rules.marshal", "corrupted_data", _raises(load_compiled_rules, b"\xee\x01\x02")),
        Case(
            "wave4.stored.embedding_matrix.npy", "corrupted_data", _raises(load_embedding_matrix, b"\x93NUMPY\x01\x00")
        ),
        Case(
            "wave4.stored.uploaded_docx.not_zip",
            "corrupted_data",
            _raises(open_uploaded_docx, b"%PDF-1.7 renamed to .docx"),
        ),
        Case(
            "wave4.stored.feedback_export.unterminated_quote",
            "corrupted_data",
            _raises(import_feedback_export, b'id,comment\n1,"great"\n2,"cut off mid-wr'),
        ),
        Case(
            "wave4.stored.saved_run.bom",
            "corrupted_data",
            _raises(load_saved_run, b'\xef\xbb\xbf{"run": 12, "status": "done"}'),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Second batch, split by assign() and measured on its own before any rule was changed for it


def _bedrock_rejected(**params: Any) -> BaseException:
    """A converse call botocore refuses before sending (its endpoint a closed loopback port, were it sent)."""
    client = _bedrock_client(endpoint_url=f"http://127.0.0.1:{_closed_port()}")
    return _raises(client.converse, modelId=_BEDROCK_MODEL, messages=_BEDROCK_MESSAGES, **params)


def _bedrock_cases() -> list[Case]:
    bedrock = _Bedrock()
    with tempfile.TemporaryDirectory() as home:
        empty = os.path.join(home, "config")
        open(empty, "w").close()
        with _env(AWS_CONFIG_FILE=empty, AWS_SHARED_CREDENTIALS_FILE=empty, AWS_PROFILE=None):
            missing_profile = _raises(botocore.session.Session(profile="llm-prod").create_client, "bedrock-runtime")
    return [
        Case(
            "wave4.bedrock.model_error.424",
            "server_error",
            bedrock.error("ModelErrorException", "The model produced an invalid response; retry the request.", 424),
        ),
        Case(
            "wave4.bedrock.service_quota.400",
            "quota_exceeded",
            bedrock.error(
                "ServiceQuotaExceededException",
                "Your request exceeds the service quota for your account. You can view your quotas at "
                "https://docs.aws.amazon.com/servicequotas/latest/userguide/gs-request-quota.html.",
                400,
            ),
        ),
        Case(
            "wave4.bedrock.param_validation.max_tokens_string",
            "bad_request",
            _bedrock_rejected(inferenceConfig={"maxTokens": "1024", "temperature": 0.2}),
        ),
        Case("wave4.bedrock.profile.not_found", "configuration", missing_profile),
    ]


def fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=1) as response:
        return json.load(response)


async def relay_to_tool_server() -> None:
    """Send a request down an MCP-style memory stream whose server side has gone away."""
    send, receive = anyio.create_memory_object_stream[dict[str, Any]](1)
    await receive.aclose()
    await send.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call"})


async def await_tool_result() -> dict[str, Any]:
    """Wait for the answer on a stream the tool server closed without answering."""
    send, receive = anyio.create_memory_object_stream[dict[str, Any]](1)
    await send.aclose()
    return await receive.receive()


def _standard_library_transport_cases() -> list[Case]:
    cases = [
        Case(
            "wave4.urllib.urlopen.refused",
            "connection",
            _raises(fetch_json, f"http://127.0.0.1:{_closed_port()}/v1/models"),
        ),
        Case("wave4.anyio.tool_stream.broken", "connection", _araises(relay_to_tool_server)),
        Case("wave4.anyio.tool_stream.ended", "connection", _araises(await_tool_result)),
    ]
    with _http_server(503, "<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html") as url:
        cases.append(Case("wave4.urllib.urlopen.http_503", "server_error", _raises(fetch_json, url + "/v1/models")))
    limited = json.dumps({"error": {"message": "Too many requests", "type": "rate_limit_error"}})
    with _http_server(429, limited) as url:
        cases.append(Case("wave4.urllib.urlopen.http_429", "rate_limit", _raises(fetch_json, url + "/v1/models")))
    return cases


class Provider(enum.Enum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"


def report_timezone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(os.environ["REPORT_TIMEZONE"])


def configure_logging(handler_class: str) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"file": {"class": handler_class, "filename": os.devnull}},
        }
    )


def price_per_thousand_tokens(settings: dict[str, str]) -> decimal.Decimal:
    return decimal.Decimal(settings["price_per_1k_tokens"])


def redaction_pattern(settings: dict[str, str]) -> re.Pattern[str]:
    return re.compile(settings["pii_pattern"])


def reranker_backend(settings: dict[str, str]) -> Any:
    return importlib.import_module(settings["reranker_backend"])


def configured_provider() -> Provider:
    return Provider(os.environ["LLM_PROVIDER"])


def _more_settings_cases() -> list[Case]:
    return [
        Case(
            "wave4.settings.timezone.unknown_key",
            "configuration",
            _with_env(report_timezone, REPORT_TIMEZONE="Europe/Olso"),
        ),
        Case(
            "wave4.settings.logging.handler_class",
            "configuration",
            _raises(configure_logging, "logging.handlers.RotatingFileHandlr"),
        ),
        Case(
            "wave4.settings.pricing.decimal_comma",
            "configuration",
            _raises(price_per_thousand_tokens, {"price_per_1k_tokens": "0,002"}),
        ),
        Case(
            "wave4.settings.redaction.regex",
            "configuration",
            _raises(redaction_pattern, {"pii_pattern": r"[A-Z{2}\d+"}),
        ),
        Case(
            "wave4.settings.reranker.module_missing",
            "configuration",
            _raises(reranker_backend, {"reranker_backend": "rerankers_colbert_fast"}),
        ),
        Case(
            "wave4.settings.provider.enum",
            "configuration",
            _with_env(configured_provider, LLM_PROVIDER="open-ai"),
        ),
    ]


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


def list_recent_orders(customer_id: str, limit: int = 5) -> list[str]:
    return [f"{customer_id}-{n}" for n in range(limit)]


def convert_temperature(value: float, unit: str) -> float:
    return value * 9 / 5 + 32 if Unit(unit) is Unit.FAHRENHEIT else value


MORE_TOOLS: dict[str, Callable[..., Any]] = {
    "list_recent_orders": list_recent_orders,
    "convert_temperature": convert_temperature,
}


def call_tool(name: str, arguments: str) -> Any:
    return MORE_TOOLS[name](**json.loads(arguments))


def run_function_call_items(response: Any) -> list[Any]:
    return [
        MORE_TOOLS[item.name](**json.loads(item.arguments)) for item in response.output if item.type == "function_call"
    ]


class ToolNotFoundError(KeyError):
    pass


def tool_server_call(name: str) -> Callable[..., Any]:
    if name not in MORE_TOOLS:
        raise ToolNotFoundError(f"Unknown tool: {name!r} (the tool server offers: {', '.join(sorted(MORE_TOOLS))})")
    return MORE_TOOLS[name]


def _responses_function_call(arguments: str) -> BaseException:
    item = {
        "type": "function_call",
        "id": "fc_67ca09c5",
        "call_id": "call_unLAR8",
        "name": "list_recent_orders",
        "arguments": arguments,
        "status": "completed",
    }
    body = {
        "id": "resp_67ca09c5",
        "object": "response",
        "created_at": 1741294021,
        "model": "gpt-4.1",
        "status": "completed",
        "output": [item],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    response = _openai_client(_json_handler(200, body)).responses.create(model="gpt-4.1", input="Recent orders?")
    return _raises(run_function_call_items, response)


def _more_tool_cases() -> list[Case]:
    return [
        Case(
            "wave4.tools.arguments.json_string",
            "tool_call_malformed",
            _raises(call_tool, "list_recent_orders", '"c-19"'),
        ),
        Case(
            "wave4.tools.arguments.limit_as_string",
            "tool_call_malformed",
            _raises(call_tool, "list_recent_orders", '{"customer_id": "c-19", "limit": "10"}'),
        ),
        Case(
            "wave4.tools.arguments.enum_value",
            "tool_call_malformed",
            _raises(call_tool, "convert_temperature", '{"value": 21, "unit": "kelvin"}'),
        ),
        Case(
            "wave4.tools.responses_function_call.truncated",
            "tool_call_malformed",
            _responses_function_call('{"customer_id": "c-19", "lim'),
        ),
        Case("wave4.tools.tool_server.unknown_tool", "tool_call_malformed", _raises(tool_server_call, "fetch_url")),
    ]


def cached_answer(cache: dict[str, str], key: str) -> Any:
    return json.loads(cache.get(key))  # type: ignore[arg-type]


def invoice_total_by_number(connection: sqlite3.Connection, number: str) -> float:
    (total,) = connection.execute("select total from invoices where id = ?", (number,)).fetchone()
    return float(total)


def end_session(sessions: dict[str, dict[str, Any]], session_id: str) -> dict[str, Any]:
    return sessions.pop(session_id)


def read_voice_note(blob: bytes) -> int:
    with wave.open(io.BytesIO(blob)) as audio:
        return audio.getnframes()


def parse_stored_sitemap(blob: bytes) -> list[str]:
    return [element.text or "" for element in ElementTree.fromstring(blob).iter("loc")]


def stored_record_keys(record: dict[str, str]) -> tuple[uuid.UUID, datetime.datetime]:
    return uuid.UUID(record["id"]), datetime.datetime.fromisoformat(record["created_at"])


def stored_digest(hex_digest: str) -> bytes:
    return bytes.fromhex(hex_digest)


def inflate_chunk(blob: bytes) -> bytes:
    return zlib.decompress(blob)


def _more_data_cases() -> list[Case]:
    return [
        Case("wave4.missing.cache.json_of_none", "missing_data", _raises(cached_answer, {}, "answer:q-17")),
        Case(
            "wave4.missing.sql.unpack_none",
            "missing_data",
            _raises(invoice_total_by_number, _invoices(), "INV-2291"),
        ),
        Case("wave4.missing.session.pop", "missing_data", _raises(end_session, {}, "sess-91")),
        Case("wave4.stored.voice_note.wave", "corrupted_data", _raises(read_voice_note, b"ID3\x04\x00 mp3 frames")),
        Case(
            "wave4.stored.sitemap.xml",
            "corrupted_data",
            _raises(parse_stored_sitemap, b"<urlset><url><loc>https://example.com/a</url></urlset>"),
        ),
        Case(
            "wave4.stored.record_fields.uuid",
            "corrupted_data",
            _raises(stored_record_keys, {"id": "3f2b-9c", "created_at": "2026-01-02T10:00:00"}),
        ),
        Case(
            "wave4.stored.record_fields.timestamp",
            "corrupted_data",
            _raises(
                stored_record_keys,
                {"id": "6f1c3f2b-9c4e-4c1b-8e0a-0d6c1b2a3f4e", "created_at": "2026-13-45T10:00:00"},
            ),
        ),
        Case("wave4.stored.digest.fromhex", "corrupted_data", _raises(stored_digest, "9f3zc1")),
        Case(
            "wave4.stored.chunk.zlib_truncated",
            "corrupted_data",
            _raises(inflate_chunk, zlib.compress(b"chunk text " * 200)[:-6]),
        ),
    ]


def build_wave4_second_batch() -> list[Case]:
    return [
        *_bedrock_cases(),
        *_standard_library_transport_cases(),
        *_more_settings_cases(),
        *_more_tool_cases(),
        *_more_data_cases(),
    ]


def build_wave4_cases() -> list[Case]:
    return [
        *_anthropic_cases(),
        *_openai_cases(),
        *_provider_cases(),
        *_transport_cases(),
        *_settings_cases(),
        *_tool_cases(),
        *_data_cases(),
        *build_wave4_second_batch(),
    ]
