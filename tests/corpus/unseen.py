"""A second wave of broad cases, written before any rule was changed for them (issue 19, second session).

Sources, none of them public issue threads and none read from the sealed part:

* ``blobs.*``, ``sessions.*``, ``attachments.*``: stored data read back by application code (object
  storage downloads, pickled session state, base64 attachments, numpy vectors, tar/zip/bz2
  archives), as the standard library and numpy raise on it.
* ``agent.*``, ``router.*``: tool calls dispatched from model output by hand-written agent loops
  (registry lookups, ``**arguments`` calls, ``json.loads`` of arguments, pydantic and jsonschema
  argument checks).
* ``startup.*``: settings converted at start-up (environment, TOML, YAML, INI, JSON files).
* ``search.*``, ``replies.*``: retrieval results and parsed model replies used as if present or
  shaped as expected.
* ``guard.*``: refusals and safety stops raised by the application from a stop/finish reason.
* ``bare.*``: exceptions raised with no message at all, where the type is the only evidence.
* ``http.*``, ``sdk2.*``: httpx and requests raising on their own, and SDK classes over mocked
  transports with bodies not used before.
* ``groups.*``: exception groups whose members disagree.

Each scenario's part is the hash in :func:`tests.corpus.broad.assign`, recorded in
``broad_split.json`` with the others.
"""

from __future__ import annotations

import asyncio
import base64
import bz2
import concurrent.futures
import configparser
import gzip
import io
import json
import os
import pickle
import socket
import tarfile
import tomllib
import zipfile
from typing import Any

import httpx
import jsonschema
import numpy
import orjson
import pydantic
import requests
import yaml

from tests.corpus.broad import _group
from tests.corpus.sdk_errors import (
    Case,
    _anthropic_status,
    _araises,
    _gemini_status,
    _mistral_status,
    _openai_err,
    _openai_status,
    _raises,
)

# --------------------------------------------------------------------------------------------------
# Stored data read back


def download_report_artifact(payload: bytes) -> bytes:
    return gzip.decompress(payload)


def unpack_bundle(payload: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(payload)) as bundle:
        return bundle.getnames()


def open_uploaded_zip(payload: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return archive.read(archive.namelist()[0])


def fetch_compressed_transcript(payload: bytes) -> str:
    return bz2.decompress(payload).decode()


def restore_session_state(payload: bytes) -> Any:
    return pickle.loads(payload)


def load_conversation_history(payload: bytes) -> Any:
    return json.loads(payload)


def read_user_memory(payload: bytes) -> Any:
    return orjson.loads(payload)


def decode_attachment(encoded: str) -> bytes:
    return base64.b64decode(encoded, validate=True)


def attachment_text(payload: bytes) -> str:
    return payload.decode("utf-8")


def load_vector_from_disk(payload: bytes) -> Any:
    return numpy.frombuffer(payload, dtype=numpy.float32)


def _corrupt_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "quarterly notes " * 20)
    data = bytearray(buffer.getvalue())
    data[data.index(b"quarterly") + 3] ^= 0xFF  # one flipped byte: the member's CRC no longer matches
    return bytes(data)


def _stored_data_cases() -> list[Case]:
    gzipped = gzip.compress(b'{"summary": "ok"}' * 10)
    history = gzip.compress(b'[{"role": "user", "content": "hi"}]')
    return [
        Case("blobs.download.not_gzip", "corrupted_data", _raises(download_report_artifact, b"PK\x03\x04 not gzip")),
        Case("blobs.download.truncated", "corrupted_data", _raises(download_report_artifact, gzipped[:20])),
        Case("blobs.bundle.tar", "corrupted_data", _raises(unpack_bundle, b"\x00garbage" * 8)),
        Case("blobs.upload.zip_crc", "corrupted_data", _raises(open_uploaded_zip, _corrupt_zip())),
        Case("blobs.transcript.bz2", "corrupted_data", _raises(fetch_compressed_transcript, b"BZh9 not bzip2")),
        Case("sessions.state.load_key", "corrupted_data", _raises(restore_session_state, b"\x07garbage")),
        Case("sessions.state.truncated", "corrupted_data", _raises(restore_session_state, pickle.dumps({"a": 1})[:-3])),
        Case("sessions.history.gzip_as_json", "corrupted_data", _raises(load_conversation_history, history)),
        Case("sessions.memory.orjson", "corrupted_data", _raises(read_user_memory, b'{"facts": ["likes tea"')),
        Case("attachments.base64.digit", "corrupted_data", _raises(decode_attachment, "aGVsbG8*d29ybGQ=")),
        Case("attachments.text.latin1", "corrupted_data", _raises(attachment_text, "Zürich".encode("latin-1"))),
        Case("attachments.vector.size", "corrupted_data", _raises(load_vector_from_disk, b"\x00" * 10)),
    ]


# --------------------------------------------------------------------------------------------------
# Tool calls from model output


def lookup_weather(city: str, unit: str = "celsius") -> str:
    return f"{city}: 21 {unit}"


def create_ticket(title: str, priority: int) -> str:
    return f"{title} ({priority})"


TOOL_REGISTRY = {"lookup_weather": lookup_weather, "create_ticket": create_ticket}


def route_model_tool_call(name: str, arguments: str) -> Any:
    return TOOL_REGISTRY[name](**json.loads(arguments))


class TicketArguments(pydantic.BaseModel):
    title: str
    priority: int


def run_agent_action(action: dict[str, Any]) -> Any:
    arguments = TicketArguments.model_validate_json(action["arguments"])
    return create_ticket(arguments.title, arguments.priority)


_WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
    "required": ["city"],
}


def apply_function_call(function_call: dict[str, Any]) -> Any:
    arguments = json.loads(function_call["arguments"])
    jsonschema.validate(arguments, _WEATHER_SCHEMA)
    return lookup_weather(**arguments)


def _tool_cases() -> list[Case]:
    return [
        Case("router.dispatch.unknown_name", "tool_call_malformed", _raises(route_model_tool_call, "get_stock", "{}")),
        Case(
            "router.dispatch.unexpected_kwarg",
            "tool_call_malformed",
            _raises(route_model_tool_call, "lookup_weather", '{"location": "Oslo"}'),
        ),
        Case(
            "router.dispatch.missing_arg",
            "tool_call_malformed",
            _raises(route_model_tool_call, "create_ticket", '{"title": "Printer on fire"}'),
        ),
        Case(
            "router.dispatch.arguments_not_json",
            "tool_call_malformed",
            _raises(route_model_tool_call, "lookup_weather", "{'city': 'Oslo'}"),
        ),
        Case(
            "router.dispatch.arguments_list",
            "tool_call_malformed",
            _raises(route_model_tool_call, "lookup_weather", '["Oslo"]'),
        ),
        Case(
            "agent.action.pydantic",
            "tool_call_malformed",
            _raises(run_agent_action, {"arguments": '{"title": "Printer", "priority": "urgent"}'}),
        ),
        Case(
            "agent.action.pydantic_json",
            "tool_call_malformed",
            _raises(run_agent_action, {"arguments": '{"title": "Printer", "priority": 2'}),
        ),
        Case(
            "agent.function_call.jsonschema",
            "tool_call_malformed",
            _raises(apply_function_call, {"arguments": '{"city": "Oslo", "unit": "kelvin"}'}),
        ),
        Case(
            "agent.function_call.truncated",
            "tool_call_malformed",
            _raises(apply_function_call, {"arguments": '{"city": "Os'}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Settings converted at start-up


def read_worker_count() -> int:
    return int(os.environ.get("AGENT_WORKERS", "four"))


def read_temperature(settings: dict[str, Any]) -> float:
    return float(settings["model"]["temperature"])


def load_toml_settings(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def load_yaml_config(text: str) -> Any:
    return yaml.safe_load(text)


def load_ini_config(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return parser


def required_setting(name: str) -> str:
    return os.environ[name]


def _startup_cases() -> list[Case]:
    saved = os.environ.pop("AGENT_WORKERS", None)
    try:
        workers = _raises(read_worker_count)
    finally:
        if saved is not None:
            os.environ["AGENT_WORKERS"] = saved
    return [
        Case("startup.env.int", "configuration", workers),
        Case(
            "startup.dict.temperature", "configuration", _raises(read_temperature, {"model": {"temperature": "warm"}})
        ),
        Case("startup.dict.missing_section", "configuration", _raises(read_temperature, {"retrieval": {}})),
        Case("startup.toml.syntax", "configuration", _raises(load_toml_settings, 'model = "gpt-4o\nretries = 3')),
        Case("startup.yaml.syntax", "configuration", _raises(load_yaml_config, "model: gpt-4o\n  retries: [3\n")),
        Case("startup.ini.header", "configuration", _raises(load_ini_config, "model = gpt-4o\n")),
        Case("startup.env.unset", "configuration", _raises(required_setting, "VECTOR_STORE_URL")),
    ]


# --------------------------------------------------------------------------------------------------
# Retrieval results and parsed replies


def best_passage(matches: list[dict[str, str]]) -> str:
    return matches[0]["text"]


def highest_score(scores: list[float]) -> float:
    return max(scores)


def first_relevant(matches: list[dict[str, Any]]) -> dict[str, Any]:
    return next(match for match in matches if match["score"] > 0.5)


def get_document(store: dict[str, str], document_id: str) -> str:
    return store[document_id]


def reply_title(parsed: Any) -> str:
    return str(parsed["title"])


def reply_tags(parsed: Any) -> list[str]:
    return list(parsed.get("tags", []))


def _retrieval_cases() -> list[Case]:
    return [
        Case("search.matches.empty", "missing_data", _raises(best_passage, [])),
        Case("search.scores.empty", "missing_data", _raises(highest_score, [])),
        Case("search.relevant.none", "missing_data", _raises(first_relevant, [{"score": 0.1}])),
        Case("search.document.missing", "missing_data", _raises(get_document, {}, "doc-42")),
        Case("replies.title.list", "schema_mismatch", _raises(reply_title, ["Quarterly report"])),
        Case("replies.title.none", "schema_mismatch", _raises(reply_title, None)),
        Case("replies.tags.string", "schema_mismatch", _raises(reply_tags, "finance, q3")),
    ]


# --------------------------------------------------------------------------------------------------
# Refusals and safety stops raised by the application


class AssistantDeclined(RuntimeError):
    pass


def ensure_completed(stop_reason: str) -> None:
    if stop_reason != "end_turn":
        raise AssistantDeclined(f"assistant did not complete the answer (stop_reason={stop_reason!r})")


def ensure_not_filtered(finish_reason: str) -> None:
    if finish_reason != "stop":
        raise RuntimeError(f"generation stopped early: finish_reason={finish_reason}")


def _guard_cases() -> list[Case]:
    return [
        Case("guard.stop.refusal", "refusal", _raises(ensure_completed, "refusal")),
        Case("guard.stop.max_tokens", "truncation", _raises(ensure_completed, "max_tokens")),
        Case("guard.finish.content_filter", "content_filter", _raises(ensure_not_filtered, "content_filter")),
        Case("guard.finish.length", "truncation", _raises(ensure_not_filtered, "length")),
    ]


# --------------------------------------------------------------------------------------------------
# Exceptions with no message


async def _slow_call() -> None:
    await asyncio.wait_for(asyncio.sleep(1), timeout=0.001)


async def _cancelled_call() -> None:
    task = asyncio.create_task(asyncio.sleep(1))
    await asyncio.sleep(0)
    task.cancel()
    await task


def _executor_timeout() -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: None).result()
        raise concurrent.futures.TimeoutError


def _socket_timeout() -> None:
    raise socket.timeout  # noqa: UP041 - the alias network code still raises by


def _reset() -> None:
    raise ConnectionResetError


def _bare_cases() -> list[Case]:
    return [
        Case("bare.asyncio.wait_for", "timeout", _araises(_slow_call)),
        Case("bare.asyncio.cancelled", "cancelled", _araises(_cancelled_call)),
        Case("bare.futures.timeout", "timeout", _raises(_executor_timeout)),
        Case("bare.socket.timeout", "timeout", _raises(_socket_timeout)),
        Case("bare.connection.reset", "connection", _raises(_reset)),
    ]


# --------------------------------------------------------------------------------------------------
# httpx and requests on their own; SDK classes with bodies not used before


def _httpx_status(status: int, text: str) -> BaseException:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(status, text=text)))
    return _raises(lambda: client.post("https://llm-gateway.internal/v1/generate").raise_for_status())


def _httpx_transport(exc_type: type[httpx.TransportError], message: str) -> BaseException:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return _raises(client.post, "https://llm-gateway.internal/v1/generate")


def _requests_status(status: int, reason: str) -> BaseException:
    response = requests.Response()
    response.status_code, response.reason, response.url = status, reason, "https://llm-gateway.internal/v1/generate"
    return _raises(response.raise_for_status)


def _http_cases() -> list[Case]:
    return [
        Case("http.httpx.status_503", "server_error", _httpx_status(503, "upstream unavailable")),
        Case("http.httpx.status_429", "rate_limit", _httpx_status(429, "slow down")),
        Case(
            "http.httpx.remote_protocol",
            "connection",
            _httpx_transport(httpx.RemoteProtocolError, "Server disconnected without sending a response."),
        ),
        Case("http.httpx.pool_timeout", "timeout", _httpx_transport(httpx.PoolTimeout, "")),
        Case("http.requests.status_502", "server_error", _requests_status(502, "Bad Gateway")),
        Case("http.requests.status_401", "auth", _requests_status(401, "Unauthorized")),
        Case("http.requests.status_504", "timeout", _requests_status(504, "Gateway Timeout")),
    ]


def _sdk_cases() -> list[Case]:
    return [
        Case(
            "sdk2.openai.project_model_access",
            "auth",
            _openai_status(
                403,
                _openai_err(
                    "Project `proj_x1` does not have access to model `gpt-4o`",
                    "invalid_request_error",
                    "model_not_found",
                ),
            ),
        ),
        Case(
            "sdk2.openai.unprocessable",
            "bad_request",
            _openai_status(
                422, _openai_err("Unprocessable entity: 'messages' is empty", "invalid_request_error", None)
            ),
        ),
        Case(
            "sdk2.openai.server_overloaded",
            "overloaded",
            _openai_status(
                503, _openai_err("The engine is currently overloaded, please try again later", "server_error", None)
            ),
        ),
        Case(
            "sdk2.anthropic.request_too_large",
            "bad_request",
            _anthropic_status(413, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
        ),
        Case(
            "sdk2.anthropic.billing",
            "quota_exceeded",
            _anthropic_status(
                400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API."
            ),
        ),
        Case(
            "sdk2.gemini.deadline",
            "timeout",
            _gemini_status(504, "DEADLINE_EXCEEDED", "The request timed out. Please try again."),
        ),
        Case(
            "sdk2.gemini.invalid_argument",
            "bad_request",
            _gemini_status(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
        ),
        Case(
            "sdk2.gemini.api_key",
            "auth",
            _gemini_status(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."),
        ),
        Case(
            "sdk2.mistral.unauthorized",
            "auth",
            _mistral_status(401, {"message": "Unauthorized", "request_id": "8f1c"}),
        ),
        Case(
            "sdk2.mistral.capacity",
            "overloaded",
            _mistral_status(
                429,
                {
                    "object": "error",
                    "message": "Service tier capacity exceeded for this model.",
                    "type": "service_tier_capacity_exceeded",
                    "code": "3505",
                },
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Exception groups whose members disagree


def _groups_cases() -> list[Case]:
    timeout = _araises(_slow_call)
    missing = _raises(best_passage, [])
    filtered = _raises(ensure_not_filtered, "content_filter")
    return [
        Case("groups.mixed.missing_and_timeout", "timeout", _group(missing, timeout)),
        Case("groups.mixed.missing_and_filter", "content_filter", _group(missing, filtered)),
    ]


def build_unseen_cases() -> list[Case]:
    return [
        *_stored_data_cases(),
        *_tool_cases(),
        *_startup_cases(),
        *_retrieval_cases(),
        *_guard_cases(),
        *_bare_cases(),
        *_http_cases(),
        *_sdk_cases(),
        *_groups_cases(),
    ]
