"""A labelled corpus of real exceptions raised by LLM SDKs, HTTP libraries, parsers and Python itself.

Every exception in the corpus is raised for real and caught, so it carries the traceback and the
``__cause__`` / ``__context__`` chain exactly as the library produced it:

* SDK clients (openai, AzureOpenAI, anthropic, google-genai, mistralai) are called against a mocked
  HTTP transport that returns each provider's documented error status and JSON body, or raises the
  transport exception the SDK then wraps.  Retries are disabled everywhere.
* Bedrock ``converse`` errors come from ``botocore.stub.Stubber``; botocore transport errors, and the
  ``requests`` / ``aiohttp`` ones, come from real sockets on 127.0.0.1 (a closed port, a listener that
  never answers, or a tiny server that hangs up).
* LiteLLM exceptions are raised either by ``litellm.completion`` itself (against the same mocked
  transports) or by constructing its mapped exception classes the way its exception mapping does.
* Parsing, tool-call, data and system errors are raised by the standard library, pydantic, orjson,
  jsonschema or numpy, or by small app-level functions written the way application code raises them.
* ``wrapped.*`` cases hide one of those errors behind a generic app message (see
  :data:`WRAPPER_ONLY_MESSAGES`), chained with ``raise ... from`` or implicitly; they are labelled by the
  error underneath.

The ``expected`` label of each case is the taxonomy error_class that the evidence means.  Nothing here
needs the network, and :func:`build_cases` takes a few seconds (most of it importing the SDKs).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import fcntl
import functools
import gzip
import hashlib
import io
import json
import os
import pickle
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import traceback
import types
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import botocore.session
import httpx
import httpx2
import jsonschema
import numpy as np
import openai
import orjson
import pydantic
import pydantic_settings
import requests
from botocore.config import Config as BotoConfig
from botocore.stub import Stubber
from google import genai
from google.genai import types as genai_types
from mistralai.client import Mistral
from mistralai.client.utils import BackoffStrategy, RetryConfig


@dataclass(frozen=True)
class Case:
    name: str  # e.g. "openai.429.rate_limit_exceeded"
    expected: str  # an error_class from the taxonomy
    exception: BaseException  # exactly as raised, with its __cause__/__context__ chain intact
    finish_reason: str = ""  # only for cases where the evidence is a finish/stop reason


# Generic texts that application wrappers put on top of the real error.  On their own they carry no
# evidence about what went wrong; the classifier must look at the chain underneath.
WRAPPER_ONLY_MESSAGES: list[str] = [
    "LLM chat interaction failed.",
    "An error occurred",
    "An unexpected error occurred.",
    "Request failed",
    "Something went wrong",
    "Something went wrong. Please try again later.",
    "Internal error",
    "Unhandled exception in agent loop",
    "Error calling LLM",
    "LLM call failed",
    "Failed to generate response",
    "Agent run failed",
    "Operation failed",
    "Task failed",
    "Exception in pipeline step 'generate'",
    "Oops! Something bad happened.",
]

# --------------------------------------------------------------------------------------------------
# Generic helpers
# --------------------------------------------------------------------------------------------------

_CAUGHT = (Exception, asyncio.CancelledError)
_USER_MSG = [{"role": "user", "content": "Summarise the attached quarterly report."}]
_TESTS_DIR = Path(__file__).resolve().parents[1]  # the corpus and the tests that raise through its harness


class CorpusBuildError(AssertionError):
    """The corpus's own code is wrong (a case that did not raise, a request no handler was routed for, a mistake
    in a case's code): building stops here rather than labelling the mistake as a failure of the code under test."""


def _failing_file(exc: BaseException) -> Path | None:
    """The file of the line that failed: the innermost frame's, or its caller's when that frame is a module's
    ``__getattr__`` (``openai.RateLimitErrorr`` fails in the line that wrote it)."""
    frames = [frame for frame, _ in traceback.walk_tb(exc.__traceback__)]
    if len(frames) > 1 and frames[-1].f_code.co_name == "__getattr__":
        frames.pop()
    return Path(frames[-1].f_code.co_filename).resolve() if frames else None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception beneath it: causes, contexts and an exception group's members."""
    pending, seen = [exc], set()
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        members = link.exceptions if isinstance(link, BaseExceptionGroup) else ()
        pending.extend(e for e in (*members, link.__cause__, link.__context__) if e is not None)


def _is_own_mistake(exc: BaseException) -> bool:
    """A programming error the corpus's own code raised (the line that failed is under ``tests/``): a name or
    an import that does not resolve, an attribute a module lacks, or the harness's own assertion. No case means
    any of these, and the SDKs and ``_app_call`` would otherwise turn one into a plausible case (a connection
    error over a transport handler's ``NameError``); a case that does means it declares it (:func:`_raises_as`)."""
    if isinstance(exc, CorpusBuildError):
        return True
    own = (file := _failing_file(exc)) is not None and file.is_relative_to(_TESTS_DIR)
    module_attribute = isinstance(exc, AttributeError) and isinstance(exc.obj, types.ModuleType)
    return own and (isinstance(exc, NameError | ImportError) or module_attribute)


_MISTAKE_TYPES = (NameError, ImportError, AttributeError)


def _checked(exc: BaseException, declared: tuple[type[BaseException], ...]) -> BaseException:
    """``exc`` if it is a case: of a ``declared`` type (when types are declared), with no mistake of the corpus's
    own code in its chain, unless it is ``exc`` itself and declared by name (``NameError``, not ``Exception``)."""
    if declared and not isinstance(exc, declared):
        raise CorpusBuildError(f"expected {[t.__name__ for t in declared]}, raised {type(exc).__name__}") from exc
    meant = tuple(t for t in declared if issubclass(t, _MISTAKE_TYPES))
    for link in _chain(exc):
        if _is_own_mistake(link) and not (link is exc and isinstance(exc, meant)):
            raise CorpusBuildError(f"a mistake in the corpus's own code, not a case: {link!r}") from exc
    return exc


def _raises(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> BaseException:
    """Call ``fn`` and return the exception it raised (it must raise, and not from a mistake in the corpus)."""
    return _raises_as((), fn, *args, **kwargs)


def _raises_as(
    declared: type[BaseException] | tuple[type[BaseException], ...], fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> BaseException:
    """Call ``fn`` and return the exception it raised, which must be of the ``declared`` type(s) (none: any)."""
    try:
        fn(*args, **kwargs)
    except _CAUGHT as exc:
        return _checked(exc, declared if isinstance(declared, tuple) else (declared,))
    raise CorpusBuildError(f"{getattr(fn, '__qualname__', fn)!r} did not raise")


def _araises(factory: Callable[[], Any], *, declared: tuple[type[BaseException], ...] = ()) -> BaseException:
    """Run the coroutine made by ``factory`` in a fresh event loop and return what it raised (as :func:`_raises_as`)."""

    async def runner() -> BaseException | None:
        try:
            await factory()
        except _CAUGHT as exc:
            return exc
        return None

    exc = asyncio.run(runner())
    if exc is None:
        raise CorpusBuildError(f"{factory!r} did not raise")
    return _checked(exc, declared)


@contextlib.contextmanager
def _env(**changes: str | None) -> Iterator[None]:
    """Temporarily set (str) or unset (None) environment variables, restoring them afterwards."""
    saved = {key: os.environ.get(key) for key in changes}
    try:
        for key, value in changes.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _fixed_directory(name: str) -> Iterator[Path]:
    """An empty scratch directory whose path is the same on every run (``<tmp>/correlator-corpus/<name>``), so a
    message that names a file under it reads the same each time; held under a lock (two test workers may build the
    corpus at once), emptied before and removed after."""
    root = Path(tempfile.gettempdir()) / "correlator-corpus"
    root.mkdir(exist_ok=True)
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        directory = root / name
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir()
        try:
            yield directory
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def _app_call(message: str, call: Callable[[], Any], *, explicit: bool = True) -> Any:
    """App code that hides the real error behind a generic message (``raise ... from`` or implicit chaining)."""
    try:
        return call()
    except Exception as exc:
        if explicit:
            raise RuntimeError(message) from exc
        raise RuntimeError(message)  # noqa: B904 - implicit chaining (__context__ only) is the point


def _rethrow(build: Callable[[], BaseException]) -> Callable[[], Any]:
    """A call that raises a freshly raised-and-caught exception again (as a retry helper's ``reraise`` does)."""

    def call() -> Any:
        raise build()

    return call


class _Route:
    """A mock-transport handler that is swapped per case, so one costly-to-build SDK client serves many cases."""

    def __init__(self) -> None:
        self.handler: Callable[[Any], Any] | None = None

    def __call__(self, request: Any) -> Any:
        if self.handler is None:
            raise CorpusBuildError("no handler routed for this request")
        return self.handler(request)


# The messages httpx/httpcore put on these transport errors when they happen on a real socket.
_TRANSPORT_MESSAGES = {
    "ReadTimeout": "The read operation timed out",
    "ConnectTimeout": "timed out",
    "ConnectError": "[Errno 111] Connection refused",
    "RemoteProtocolError": "Server disconnected without sending a response.",
}


# --------------------------------------------------------------------------------------------------
# Loopback sockets for real transport failures
# --------------------------------------------------------------------------------------------------


def _closed_port() -> int:
    """A loopback port that was bound and closed again, so connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _stalled_server() -> Iterator[str]:
    """A listener that never accepts: TCP connects (backlog) but no byte ever comes back."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def _read_request(conn: socket.socket) -> None:
    """Read one whole HTTP request, body included, so the client waits for the answer when the server hangs up.

    Hanging up after a first ``recv`` raced the client's body: an RST before the body was sent
    gave ``RemoteDisconnected`` (urllib3 ignores the broken pipe), after it ``ConnectionResetError``.
    """
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


def _abort(conn: socket.socket) -> None:
    """Make closing ``conn`` send an RST rather than a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@contextlib.contextmanager
def _answering_server(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A raw loopback server that lets ``answer`` handle each connection (OSErrors ignored), then closes it.

    ``answer`` gets the event set at shutdown, so a server that stalls can wait on it.
    """
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    listener.settimeout(0.02)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                conn.settimeout(0.5)
                answer(conn, stop)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def _tcp_server(behaviour: str) -> contextlib.AbstractContextManager[str]:
    """A raw loopback server. ``close``: read the request, then hang up (FIN); ``reset``: read, then abort (RST);
    ``plaintext``: answer a plain-HTTP response at once (so a TLS client fails its handshake)."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        if behaviour == "plaintext":
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.recv(65536)
            return
        try:
            _read_request(conn)
        finally:
            if behaviour == "reset":
                _abort(conn)

    return _answering_server(answer)


@contextlib.contextmanager
def _http_server(
    status: int, body: str, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> Iterator[str]:
    """A real HTTP server on loopback that answers every request with ``status``, ``body`` and ``headers``."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            data = body.encode()
            self.send_response(status)
            for name, value in {"Content-Type": content_type, **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_HEAD = _reply

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(1)


# --------------------------------------------------------------------------------------------------
# OpenAI / Azure OpenAI
# --------------------------------------------------------------------------------------------------


def _openai_err(message: str, type_: str | None, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _openai_client(handler: Callable[[httpx.Request], httpx.Response], *, azure: bool = False) -> openai.OpenAI:
    http_client = httpx.Client(transport=httpx.MockTransport(handler))
    if azure:
        return openai.AzureOpenAI(
            api_key="0123456789abcdef0123456789abcdef",
            azure_endpoint="https://contoso-eastus.openai.azure.com",
            api_version="2024-10-21",
            max_retries=0,
            http_client=http_client,
        )
    return openai.OpenAI(api_key="sk-proj-test", max_retries=0, http_client=http_client)


def _json_handler(status: int, body: Any, headers: dict[str, str] | None = None) -> Callable[..., Any]:
    def handler(request: Any) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return handler


def _openai_status(status: int, body: Any, *, azure: bool = False) -> BaseException:
    client = _openai_client(_json_handler(status, body, {"x-request-id": "req_7c1f0e"}), azure=azure)
    return _raises(client.chat.completions.create, model="gpt-4o", messages=_USER_MSG)


def _openai_transport(exc_type: type[httpx.TransportError]) -> BaseException:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(_TRANSPORT_MESSAGES[exc_type.__name__], request=request)

    return _raises(_openai_client(handler).chat.completions.create, model="gpt-4o", messages=_USER_MSG)


def _chat_completion(
    content: str | None, finish_reason: str = "stop", *, refusal: str | None = None, tool_calls: Any = None
) -> dict[str, Any]:
    message = {"role": "assistant", "content": content, "refusal": refusal, "tool_calls": tool_calls}
    return {
        "id": "chatcmpl-AZ91qk",
        "object": "chat.completion",
        "created": 1733000000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message, "logprobs": None}],
        "usage": {"prompt_tokens": 412, "completion_tokens": 1024, "total_tokens": 1436},
    }


class _Summary(pydantic.BaseModel):
    summary: str
    sentiment: str
    confidence: float


def _openai_parse(completion: dict[str, Any], *, azure: bool = False, **kwargs: Any) -> BaseException:
    """``chat.completions.parse`` with a structured-output model against a canned 200 completion."""
    client = _openai_client(_json_handler(200, completion), azure=azure)
    kwargs.setdefault("response_format", _Summary)
    return _raises(client.chat.completions.parse, model="gpt-4o", messages=_USER_MSG, **kwargs)


def _openai_completion(completion: dict[str, Any]) -> Any:
    client = _openai_client(_json_handler(200, completion))
    return client.chat.completions.create(model="gpt-4o", messages=_USER_MSG)


def _openai_responses(body: dict[str, Any]) -> Any:
    base = {"id": "resp_67ccd2bed1ec8190", "object": "response", "created_at": 1741476542, "model": "gpt-4o"}
    return _openai_client(_json_handler(200, base | body)).responses.create(model="gpt-4o", input="Summarise it.")


def _openai_stream_error(event: dict[str, Any]) -> BaseException:
    payload = f"data: {json.dumps(event)}\n\n".encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=payload, headers={"content-type": "text/event-stream"})

    def consume() -> None:
        for _chunk in _openai_client(handler).chat.completions.create(model="gpt-4o", messages=_USER_MSG, stream=True):
            pass

    return _raises(consume)


class _RefusalError(RuntimeError):
    """App-level: the model declined to answer."""


class _ContentFilteredError(RuntimeError):
    """App-level: the provider blocked the prompt or the answer."""


class _TruncatedResponseError(RuntimeError):
    """App-level: the answer stopped at the output-token limit."""


def _openai_cases() -> list[Case]:
    cases = [
        Case(
            "openai.429.rate_limit_exceeded",
            "rate_limit",
            _openai_status(
                429,
                _openai_err(
                    "Rate limit reached for gpt-4o in organization org-3kQd on tokens per min (TPM): Limit 30000, "
                    "Used 28350, Requested 4012. Please try again in 4.724s. Visit "
                    "https://platform.openai.com/account/rate-limits to learn more.",
                    "tokens",
                    "rate_limit_exceeded",
                ),
            ),
        ),
        Case(
            "openai.429.requests_per_day",
            "rate_limit",
            _openai_status(
                429,
                _openai_err(
                    "Rate limit reached for gpt-4o-mini in organization org-3kQd on requests per day (RPD): "
                    "Limit 10000, Used 10000, Requested 1. Please try again in 8.64s.",
                    "requests",
                    "rate_limit_exceeded",
                ),
            ),
        ),
        Case(
            "openai.429.insufficient_quota",
            "quota_exceeded",
            _openai_status(
                429,
                _openai_err(
                    "You exceeded your current quota, please check your plan and billing details. For more "
                    "information on this error, read the docs: "
                    "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                    "insufficient_quota",
                    "insufficient_quota",
                ),
            ),
        ),
        Case(
            "openai.400.billing_hard_limit_reached",
            "quota_exceeded",
            _openai_status(
                400,
                _openai_err(
                    "Billing hard limit has been reached", "invalid_request_error", "billing_hard_limit_reached"
                ),
            ),
        ),
        Case(
            "openai.401.invalid_api_key",
            "auth",
            _openai_status(
                401,
                _openai_err(
                    "Incorrect API key provided: sk-proj-********************************abcd. You can find your "
                    "API key at https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
            ),
        ),
        Case(
            "openai.403.unsupported_country",
            "auth",
            _openai_status(
                403,
                _openai_err(
                    "Country, region, or territory not supported",
                    "request_forbidden",
                    "unsupported_country_region_territory",
                ),
            ),
        ),
        Case(
            "openai.404.model_not_found",
            "not_found",
            _openai_status(
                404,
                _openai_err(
                    "The model `gpt-5-turbo` does not exist or you do not have access to it.",
                    "invalid_request_error",
                    "model_not_found",
                ),
            ),
        ),
        Case(
            "openai.400.unsupported_parameter",
            "bad_request",
            _openai_status(
                400,
                _openai_err(
                    "Unsupported parameter: 'max_tokens' is not supported with this model. "
                    "Use 'max_completion_tokens' instead.",
                    "invalid_request_error",
                    "unsupported_parameter",
                    "max_tokens",
                ),
            ),
        ),
        Case(
            "openai.400.decimal_above_max_value",
            "bad_request",
            _openai_status(
                400,
                _openai_err(
                    "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.",
                    "invalid_request_error",
                    "decimal_above_max_value",
                    "temperature",
                ),
            ),
        ),
        Case(
            "openai.400.context_length_exceeded",
            "context_length_exceeded",
            _openai_status(
                400,
                _openai_err(
                    "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                    "130532 tokens. Please reduce the length of the messages.",
                    "invalid_request_error",
                    "context_length_exceeded",
                    "messages",
                ),
            ),
        ),
        Case(
            "openai.500.server_error",
            "server_error",
            _openai_status(
                500,
                _openai_err(
                    "The server had an error while processing your request. Sorry about that!", "server_error", None
                ),
            ),
        ),
        Case(
            "openai.502.bad_gateway_html",
            "server_error",
            _openai_status_text(
                502,
                "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
                "</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
            ),
        ),
        Case(
            "openai.503.engine_overloaded",
            "overloaded",
            _openai_status(
                503,
                _openai_err("The engine is currently overloaded, please try again later", "server_error", None),
            ),
        ),
        Case(
            "openai.408.request_timeout",
            "timeout",
            _openai_status(408, _openai_err("Request timed out.", "server_error", "timeout")),
        ),
        Case(
            "openai.stream.server_error_event",
            "server_error",
            _openai_stream_error(
                _openai_err(
                    "The server had an error while processing your request. Sorry about that!", "server_error", None
                )
            ),
        ),
        Case(
            "openai.images.400.content_policy_violation",
            "content_filter",
            _raises(
                _openai_client(
                    _json_handler(
                        400,
                        _openai_err(
                            "Your request was rejected as a result of our safety system. Your prompt may contain "
                            "text that is not allowed by our safety system.",
                            "image_generation_user_error",
                            "content_policy_violation",
                        ),
                    )
                ).images.generate,
                model="dall-e-3",
                prompt="a photo of ...",
            ),
        ),
        Case("openai.transport.read_timeout", "timeout", _openai_transport(httpx.ReadTimeout)),
        Case("openai.transport.connect_timeout", "timeout", _openai_transport(httpx.ConnectTimeout)),
        Case("openai.transport.connect_error", "connection", _openai_transport(httpx.ConnectError)),
        Case("openai.transport.remote_protocol_error", "connection", _openai_transport(httpx.RemoteProtocolError)),
        # Structured outputs: the SDK itself raises when the completion cannot be parsed.
        Case(
            "openai.parse.length_finish_reason",
            "truncation",
            _openai_parse(_chat_completion('{"summary": "Revenue grew 12% quarter over quarter, driven by', "length")),
            finish_reason="length",
        ),
        Case(
            "openai.parse.content_filter_finish_reason",
            "content_filter",
            _openai_parse(_chat_completion(None, "content_filter")),
            finish_reason="content_filter",
        ),
        Case(
            "openai.parse.schema_mismatch",
            "schema_mismatch",
            _openai_parse(_chat_completion('{"summary": "Revenue grew 12%", "confidence": "high"}')),
        ),
        Case(
            "openai.parse.invalid_json_content",
            "invalid_json",
            _openai_parse(_chat_completion('Sure! Here is the summary:\n{"summary": "Revenue grew 12%"}')),
        ),
        Case(
            "openai.parse.tool_arguments_not_json",
            "tool_call_malformed",
            _openai_parse(
                _chat_completion(
                    None,
                    "tool_calls",
                    tool_calls=[
                        {
                            "id": "call_Xk2",
                            "type": "function",
                            "function": {"name": "_Summary", "arguments": "{'summary': 'Revenue grew 12%'}"},
                        }
                    ],
                ),
                response_format=openai.NOT_GIVEN,
                tools=[openai.pydantic_function_tool(_Summary)],
            ),
        ),
    ]
    # Finish-reason evidence read from real completions, then acted on by app code.
    truncated = _openai_completion(
        _chat_completion('{"summary": "Revenue grew 12% quarter over quarter, driven', "length")
    )
    cases.append(
        Case(
            "openai.finish_length.json_decode",
            "truncation",
            _raises(json.loads, truncated.choices[0].message.content),
            finish_reason=truncated.choices[0].finish_reason,
        )
    )
    refused = _openai_parse_ok(_chat_completion(None, refusal="I'm sorry, I can't assist with that request."))
    cases.append(Case("openai.parse.refusal_field", "refusal", _raises(_check_parsed_refusal, refused)))
    raw_refusal = _openai_completion(_chat_completion(None, refusal="I'm sorry, but I can't help with that."))
    cases.append(Case("openai.chat.refusal_field", "refusal", _raises(_check_message_refusal, raw_refusal)))
    sorry = _openai_completion(_chat_completion("I'm sorry, but I can't help with that request."))
    cases.append(
        Case(
            "openai.chat.refusal_text_detected",
            "refusal",
            _raises(_check_refusal_text, sorry.choices[0].message.content),
        )
    )
    # The SDK itself rejects an embeddings response without vectors.
    empty = _openai_client(_json_handler(200, {"object": "list", "data": [], "model": "text-embedding-3-small"}))
    cases.append(
        Case(
            "openai.embeddings.no_embedding_data",
            "missing_data",
            _raises(empty.embeddings.create, model="text-embedding-3-small", input=["refund policy for annual plans"]),
        )
    )
    incomplete = _openai_responses(
        {
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
            "output": [
                {
                    "type": "message",
                    "id": "msg_67cc",
                    "role": "assistant",
                    "status": "incomplete",
                    "content": [{"type": "output_text", "text": '{"items": [{"sku": "A-1', "annotations": []}],
                }
            ],
        }
    )
    cases.append(
        Case(
            "openai.responses.incomplete_max_output_tokens",
            "truncation",
            _raises(_check_response_complete, incomplete),
            finish_reason="max_output_tokens",
        )
    )
    responses_refusal = _openai_responses(
        {
            "status": "completed",
            "output": [
                {
                    "type": "message",
                    "id": "msg_67cd",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "refusal", "refusal": "I'm sorry, I can't help with that."}],
                }
            ],
        }
    )
    cases.append(Case("openai.responses.refusal_item", "refusal", _raises(_check_response_refusal, responses_refusal)))
    with _env(OPENAI_API_KEY=None, OPENAI_ADMIN_KEY=None):
        cases.append(Case("openai.client.missing_api_key", "configuration", _raises(openai.OpenAI)))
    with _env(OPENAI_API_VERSION=None, AZURE_OPENAI_API_KEY=None):
        cases.append(
            Case(
                "azure.client.missing_api_version",
                "configuration",
                _raises(openai.AzureOpenAI, api_key="x", azure_endpoint="https://contoso.openai.azure.com"),
            )
        )
    cases.append(Case("openai.async.cancelled_mid_request", "cancelled", _araises(_cancelled_openai_call)))
    return cases


def _openai_status_text(status: int, text: str) -> BaseException:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=text, headers={"content-type": "text/html"})

    return _raises(_openai_client(handler).chat.completions.create, model="gpt-4o", messages=_USER_MSG)


def _openai_parse_ok(completion: dict[str, Any]) -> Any:
    client = _openai_client(_json_handler(200, completion))
    return client.chat.completions.parse(model="gpt-4o", messages=_USER_MSG, response_format=_Summary)


_REFUSAL_PREFIXES = ("i'm sorry, but i can't", "i can't help with", "i cannot help with", "i'm unable to help")


def _check_refusal_text(text: str) -> str:
    if text.strip().lower().startswith(_REFUSAL_PREFIXES):
        raise _RefusalError(f"Assistant declined to answer (flagged as refusal): {text!r}")
    return text


def _check_parsed_refusal(completion: Any) -> Any:
    message = completion.choices[0].message
    if message.refusal:
        raise ValueError(f"Model refused: {message.refusal}")
    return message.parsed


def _check_message_refusal(completion: Any) -> str:
    message = completion.choices[0].message
    if message.refusal is not None:
        raise _RefusalError(f"OpenAI returned a refusal instead of content: {message.refusal!r}")
    return message.content


def _check_response_complete(response: Any) -> str:
    if response.status == "incomplete":
        raise _TruncatedResponseError(
            f"Response {response.id} is incomplete (reason={response.incomplete_details.reason}); "
            f"partial output: {response.output_text!r}"
        )
    return response.output_text


def _check_response_refusal(response: Any) -> str:
    for item in response.output:
        for part in getattr(item, "content", []):
            if part.type == "refusal":
                raise _RefusalError(f"Model refused the request: {part.refusal}")
    return response.output_text


async def _cancelled_openai_call() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json={})

    client = openai.AsyncOpenAI(
        api_key="sk-proj-test", max_retries=0, http_client=httpx.AsyncClient(transport=httpx.MockTransport(slow))
    )
    task = asyncio.ensure_future(client.chat.completions.create(model="gpt-4o", messages=_USER_MSG))
    await asyncio.sleep(0.01)
    task.cancel()
    await task


def _azure_cases() -> list[Case]:
    content_filter_result = {
        "hate": {"filtered": False, "severity": "safe"},
        "self_harm": {"filtered": False, "severity": "safe"},
        "sexual": {"filtered": False, "severity": "safe"},
        "violence": {"filtered": True, "severity": "high"},
    }
    filtered_completion = _chat_completion(None, "content_filter")
    filtered_completion["choices"][0]["content_filter_results"] = content_filter_result
    return [
        Case(
            "azure.400.content_filter",
            "content_filter",
            _openai_status(
                400,
                {
                    "error": {
                        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                        "management policy. Please modify your prompt and retry. To learn more about our content "
                        "filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
                        "type": None,
                        "param": "prompt",
                        "code": "content_filter",
                        "status": 400,
                        "innererror": {
                            "code": "ResponsibleAIPolicyViolation",
                            "content_filter_result": content_filter_result,
                        },
                    }
                },
                azure=True,
            ),
        ),
        Case(
            "azure.parse.content_filter_finish_reason",
            "content_filter",
            _openai_parse(filtered_completion, azure=True),
            finish_reason="content_filter",
        ),
        Case(
            "azure.429.token_rate_limit",
            "rate_limit",
            _openai_status(
                429,
                {
                    "error": {
                        "code": "429",
                        "message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
                        "2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please "
                        "retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like "
                        "to further increase the default rate limit.",
                    }
                },
                azure=True,
            ),
        ),
        Case(
            "azure.404.deployment_not_found",
            "not_found",
            _openai_status(
                404,
                {
                    "error": {
                        "code": "DeploymentNotFound",
                        "message": "The API deployment for this resource does not exist. If you created the "
                        "deployment within the last 5 minutes, please wait a moment and try again.",
                    }
                },
                azure=True,
            ),
        ),
        Case(
            "azure.400.context_length_exceeded",
            "context_length_exceeded",
            _openai_status(
                400,
                _openai_err(
                    "This model's maximum context length is 8192 tokens. However, your messages resulted in "
                    "9451 tokens. Please reduce the length of the messages.",
                    "invalid_request_error",
                    "context_length_exceeded",
                    "messages",
                ),
                azure=True,
            ),
        ),
        Case(
            "azure.401.invalid_subscription_key",
            "auth",
            _openai_status(
                401,
                {
                    "error": {
                        "code": "401",
                        "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                        "to provide a valid key for an active subscription and use a correct regional API endpoint "
                        "for your resource.",
                    }
                },
                azure=True,
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Anthropic (the SDK uses httpx2)
# --------------------------------------------------------------------------------------------------

_CLAUDE = "claude-sonnet-4-6"


def _anthropic_client(handler: Callable[[httpx2.Request], httpx2.Response]) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="sk-ant-api03-test", max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(handler))
    )


def _anthropic_create(handler: Callable[[httpx2.Request], httpx2.Response]) -> BaseException:
    client = _anthropic_client(handler)
    return _raises(client.messages.create, model=_CLAUDE, max_tokens=1024, messages=_USER_MSG)


def _anthropic_status(status: int, error_type: str, message: str) -> BaseException:
    body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_011CSHoEeqs5"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body, headers={"request-id": "req_011CSHoEeqs5"})

    return _anthropic_create(handler)


def _anthropic_transport(exc_type: type[httpx2.TransportError]) -> BaseException:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise exc_type(_TRANSPORT_MESSAGES[exc_type.__name__], request=request)

    return _anthropic_create(handler)


def _anthropic_message(text: str | None, stop_reason: str) -> Any:
    body = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": _CLAUDE,
        "content": [{"type": "text", "text": text}] if text is not None else [],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 2095, "output_tokens": 1024},
    }

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=body)

    return _anthropic_client(handler).messages.create(model=_CLAUDE, max_tokens=1024, messages=_USER_MSG)


def _anthropic_message_start() -> dict[str, Any]:
    """A Messages stream's first event: the assistant's message, still empty."""
    return {
        "type": "message_start",
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": _CLAUDE,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 25, "output_tokens": 1},
        },
    }


def _anthropic_stream_error(error_type: str, message: str) -> BaseException:
    start = _anthropic_message_start()
    error = {"type": "error", "error": {"type": error_type, "message": message}}
    payload = (
        f"event: message_start\ndata: {json.dumps(start)}\n\nevent: error\ndata: {json.dumps(error)}\n\n"
    ).encode()

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=payload, headers={"content-type": "text/event-stream"})

    def consume() -> None:
        with _anthropic_client(handler).messages.stream(model=_CLAUDE, max_tokens=1024, messages=_USER_MSG) as stream:
            for _event in stream:
                pass

    return _raises(consume)


class _WeatherArgs(pydantic.BaseModel):
    city: str
    unit: str = "celsius"


def _run_anthropic_tool_use(message: Any) -> Any:
    for block in message.content:
        if block.type == "tool_use" and block.name == "get_weather":
            try:
                return _WeatherArgs.model_validate(block.input)
            except pydantic.ValidationError as exc:
                raise ValueError(f"Invalid tool call arguments for 'get_weather' (id={block.id}): {exc}") from exc
    return None


def _anthropic_cases() -> list[Case]:
    cases = [
        Case(
            "anthropic.429.rate_limit_error",
            "rate_limit",
            _anthropic_status(
                429,
                "rate_limit_error",
                "This request would exceed the rate limit for your organization (3f2c) of 50,000 input tokens per "
                "minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.",
            ),
        ),
        Case(
            "anthropic.529.overloaded_error",
            "overloaded",
            _anthropic_status(529, "overloaded_error", "Overloaded"),
        ),
        Case(
            "anthropic.stream.overloaded_error_event",
            "overloaded",
            _anthropic_stream_error("overloaded_error", "Overloaded"),
        ),
        Case(
            "anthropic.400.prompt_too_long",
            "context_length_exceeded",
            _anthropic_status(400, "invalid_request_error", "prompt is too long: 215321 tokens > 200000 maximum"),
        ),
        Case(
            "anthropic.400.credit_balance_too_low",
            "quota_exceeded",
            _anthropic_status(
                400,
                "invalid_request_error",
                "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade "
                "or purchase credits.",
            ),
        ),
        Case(
            "anthropic.401.authentication_error",
            "auth",
            _anthropic_status(401, "authentication_error", "invalid x-api-key"),
        ),
        Case(
            "anthropic.403.permission_error",
            "auth",
            _anthropic_status(
                403, "permission_error", "Your API key does not have permission to use the specified resource."
            ),
        ),
        Case(
            "anthropic.404.not_found_error",
            "not_found",
            _anthropic_status(404, "not_found_error", "model: claude-3-opus-latest"),
        ),
        Case(
            "anthropic.400.invalid_request_error",
            "bad_request",
            _anthropic_status(
                400,
                "invalid_request_error",
                "messages.0.content.1.image.source.base64.data: The image was specified using the image/jpeg media "
                "type, but the image appears to be a image/png image",
            ),
        ),
        Case(
            "anthropic.413.request_too_large",
            "bad_request",
            _anthropic_status(413, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
        ),
        Case(
            "anthropic.500.api_error",
            "server_error",
            _anthropic_status(500, "api_error", "Internal server error"),
        ),
        Case("anthropic.transport.read_timeout", "timeout", _anthropic_transport(httpx2.ReadTimeout)),
        Case("anthropic.transport.connect_error", "connection", _anthropic_transport(httpx2.ConnectError)),
        Case(
            "anthropic.transport.remote_protocol_error",
            "connection",
            _anthropic_transport(httpx2.RemoteProtocolError),
        ),
    ]
    truncated = _anthropic_message('{"summary": "Revenue grew 12% quarter over quarter, driven by strong', "max_tokens")
    cases.append(
        Case(
            "anthropic.stop_max_tokens.json_decode",
            "truncation",
            _raises(json.loads, truncated.content[0].text),
            finish_reason=truncated.stop_reason,
        )
    )
    declined = _anthropic_message(
        "I can't help with writing that exploit, but I can explain how to patch it.", "end_turn"
    )
    cases.append(
        Case("anthropic.refusal_text_detected", "refusal", _raises(_check_refusal_text, declined.content[0].text))
    )
    refused = _anthropic_message(None, "refusal")
    cases.append(
        Case(
            "anthropic.stop_refusal",
            "refusal",
            _raises(_check_anthropic_stop, refused),
            finish_reason=refused.stop_reason,
        )
    )
    tool_body = {
        "id": "msg_01Aq9w938a90dw8q",
        "type": "message",
        "role": "assistant",
        "model": _CLAUDE,
        "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq", "name": "get_weather", "input": {"unit": "f"}}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 472, "output_tokens": 41},
    }
    tool_message = _anthropic_client(_json_handler2(200, tool_body)).messages.create(
        model=_CLAUDE, max_tokens=1024, messages=_USER_MSG
    )
    cases.append(
        Case(
            "anthropic.tool_use.invalid_input",
            "tool_call_malformed",
            _raises(_run_anthropic_tool_use, tool_message),
        )
    )
    # Missing credentials: with no key in the environment the SDK fails at request time (no config directory)
    # or already in the constructor (an explicit config directory without the profile file).
    anthropic_env = {name: None for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE")}
    with tempfile.TemporaryDirectory() as home, _env(HOME=home, ANTHROPIC_CONFIG_DIR=None, **anthropic_env):
        cases.append(Case("anthropic.client.no_credentials", "configuration", _raises(_anthropic_unconfigured_call)))
    with tempfile.TemporaryDirectory() as config_dir, _env(ANTHROPIC_CONFIG_DIR=config_dir, **anthropic_env):
        cases.append(
            Case("anthropic.client.missing_profile_config", "configuration", _raises(_anthropic_unconfigured_call))
        )
    return cases


def _json_handler2(status: int, body: Any) -> Callable[[httpx2.Request], httpx2.Response]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body)

    return handler


def _anthropic_unconfigured_call() -> Any:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise CorpusBuildError("no request should be sent without credentials")

    client = anthropic.Anthropic(max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    return client.messages.create(model=_CLAUDE, max_tokens=16, messages=_USER_MSG)


def _check_anthropic_stop(message: Any) -> str:
    if message.stop_reason == "refusal":
        raise _RefusalError(f"Claude declined to respond (stop_reason={message.stop_reason}, id={message.id})")
    return message.content[0].text


# --------------------------------------------------------------------------------------------------
# Google Gemini (google-genai)
# --------------------------------------------------------------------------------------------------

_GEMINI = "gemini-2.5-flash"


@functools.cache
def _gemini_shared() -> tuple[genai.Client, _Route]:
    # genai.Client builds three SSL contexts per instance, so one client serves every case.
    route = _Route()
    options = genai_types.HttpOptions(
        httpx_client=httpx.Client(transport=httpx.MockTransport(route)),
        retry_options=genai_types.HttpRetryOptions(attempts=1),
    )
    return genai.Client(api_key="AIzaSyD-test-key", http_options=options), route


def _gemini_client(handler: Callable[[httpx.Request], httpx.Response]) -> genai.Client:
    client, route = _gemini_shared()
    route.handler = handler
    return client


def _gemini_status(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> BaseException:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    client = _gemini_client(_json_handler(code, {"error": error}))
    return _raises(client.models.generate_content, model=_GEMINI, contents="Summarise the attached report.")


def _gemini_transport(exc_type: type[httpx.TransportError]) -> BaseException:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(_TRANSPORT_MESSAGES[exc_type.__name__], request=request)

    client = _gemini_client(handler)
    return _raises(client.models.generate_content, model=_GEMINI, contents="Summarise the attached report.")


def _gemini_response(body: dict[str, Any]) -> Any:
    body = {"usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}, "modelVersion": _GEMINI} | body
    return _gemini_client(_json_handler(200, body)).models.generate_content(model=_GEMINI, contents="Summarise it.")


def _check_gemini_response(response: Any) -> str:
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        raise _ContentFilteredError(f"Gemini blocked the prompt: block_reason={feedback.block_reason.value}")
    candidate = response.candidates[0]
    if candidate.finish_reason == genai_types.FinishReason.SAFETY:
        flagged = [r.category.value for r in candidate.safety_ratings or [] if r.blocked]
        raise _ContentFilteredError(f"Gemini response blocked for SAFETY; categories={flagged}")
    return response.text


def _gemini_cases() -> list[Case]:
    rate_limit_details = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                    "quotaValue": "10",
                }
            ],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"},
    ]
    cases = [
        Case(
            "gemini.429.resource_exhausted_per_minute",
            "rate_limit",
            _gemini_status(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details. For more information "
                "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
                rate_limit_details,
            ),
        ),
        Case(
            "gemini.429.resource_exhausted",
            "rate_limit",
            _gemini_status(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        ),
        Case(
            "gemini.429.prepayment_credits_depleted",
            "quota_exceeded",
            _gemini_status(
                429,
                "RESOURCE_EXHAUSTED",
                "Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to "
                "manage your project and billing.",
            ),
        ),
        Case(
            "gemini.400.input_token_count_exceeded",
            "context_length_exceeded",
            _gemini_status(
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            ),
        ),
        Case(
            "gemini.400.api_key_invalid",
            "auth",
            _gemini_status(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    }
                ],
            ),
        ),
        Case(
            "gemini.403.permission_denied",
            "auth",
            _gemini_status(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). Please use API "
                "Key or other form of API consumer identity to call this API.",
            ),
        ),
        Case(
            "gemini.404.model_not_found",
            "not_found",
            _gemini_status(
                404,
                "NOT_FOUND",
                "models/gemini-1.0-pro is not found for API version v1beta, or is not supported for generateContent. "
                "Call ListModels to see the list of available models and their supported methods.",
            ),
        ),
        Case(
            "gemini.400.invalid_argument",
            "bad_request",
            _gemini_status(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n"),
        ),
        Case(
            "gemini.500.internal",
            "server_error",
            _gemini_status(
                500,
                "INTERNAL",
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting",
            ),
        ),
        Case(
            "gemini.503.unavailable_overloaded",
            "overloaded",
            _gemini_status(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        ),
        Case(
            "gemini.504.deadline_exceeded",
            "timeout",
            _gemini_status(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
        ),
        # google-genai does not wrap transport errors: the raw httpx exception reaches the caller.
        Case("gemini.transport.read_timeout", "timeout", _gemini_transport(httpx.ReadTimeout)),
        Case("gemini.transport.connect_error", "connection", _gemini_transport(httpx.ConnectError)),
    ]
    blocked_prompt = _gemini_response({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}})
    cases.append(
        Case("gemini.prompt_blocked.safety", "content_filter", _raises(_check_gemini_response, blocked_prompt))
    )
    blocked_answer = _gemini_response(
        {
            "candidates": [
                {
                    "index": 0,
                    "finishReason": "SAFETY",
                    "safetyRatings": [
                        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
                    ],
                }
            ]
        }
    )
    cases.append(
        Case(
            "gemini.finish_safety",
            "content_filter",
            _raises(_check_gemini_response, blocked_answer),
            finish_reason="SAFETY",
        )
    )
    truncated = _gemini_response(
        {
            "candidates": [
                {
                    "index": 0,
                    "finishReason": "MAX_TOKENS",
                    "content": {"role": "model", "parts": [{"text": '{"items": [{"name": "Widget", "price": 12.5},'}]},
                }
            ]
        }
    )
    cases.append(
        Case(
            "gemini.finish_max_tokens.json_decode",
            "truncation",
            _raises(json.loads, truncated.text),
            finish_reason=truncated.candidates[0].finish_reason.value,
        )
    )
    with _env(GOOGLE_API_KEY=None, GEMINI_API_KEY=None, GOOGLE_GENAI_USE_VERTEXAI=None):
        cases.append(Case("gemini.client.missing_api_key", "configuration", _raises(genai.Client)))
    return cases


# --------------------------------------------------------------------------------------------------
# Mistral
# --------------------------------------------------------------------------------------------------


@functools.cache
def _mistral_shared() -> tuple[Mistral, _Route]:
    # Mistral builds a default (TLS) async client unless given one, so one client serves every case.
    route = _Route()
    transport = httpx.MockTransport(route)
    client = Mistral(
        api_key="mistral-test",
        client=httpx.Client(transport=transport),
        async_client=httpx.AsyncClient(transport=transport),
        retry_config=RetryConfig("none", BackoffStrategy(1, 1, 1.0, 1), False),
    )
    return client, route


def _mistral_client(handler: Callable[[httpx.Request], httpx.Response]) -> Mistral:
    client, route = _mistral_shared()
    route.handler = handler
    return client


def _mistral_status(status: int, body: Any) -> BaseException:
    client = _mistral_client(_json_handler(status, body))
    return _raises(client.chat.complete, model="mistral-large-latest", messages=_USER_MSG)


def _mistral_transport(exc_type: type[httpx.TransportError]) -> BaseException:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(_TRANSPORT_MESSAGES[exc_type.__name__], request=request)

    return _raises(_mistral_client(handler).chat.complete, model="mistral-large-latest", messages=_USER_MSG)


def _mistral_err(message: str, type_: str, code: str | None) -> dict[str, Any]:
    return {"object": "error", "message": message, "type": type_, "param": None, "code": code}


def _mistral_cases() -> list[Case]:
    cases = [
        Case(
            "mistral.429.rate_limited",
            "rate_limit",
            _mistral_status(429, _mistral_err("Requests rate limit exceeded", "rate_limited", "1300")),
        ),
        Case(
            "mistral.401.unauthorized",
            "auth",
            _mistral_status(401, {"message": "Unauthorized", "request_id": "9c2b5e0a7d4f4f0e"}),
        ),
        Case(
            "mistral.400.context_too_large",
            "context_length_exceeded",
            _mistral_status(
                400,
                _mistral_err(
                    "Prompt contains 40155 tokens and 0 draft tokens, too large for model with 32768 maximum "
                    "context length",
                    "invalid_request_message_error",
                    None,
                ),
            ),
        ),
        Case(
            "mistral.400.invalid_message_order",
            "bad_request",
            _mistral_status(
                400,
                _mistral_err(
                    "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant",
                    "invalid_request_message_order",
                    "3230",
                ),
            ),
        ),
        Case(
            "mistral.422.http_validation_error",
            "bad_request",
            _mistral_status(
                422,
                {
                    "detail": [
                        {
                            "type": "greater_than_equal",
                            "loc": ["body", "temperature"],
                            "msg": "Input should be greater than or equal to 0",
                            "input": -1,
                        }
                    ]
                },
            ),
        ),
        Case("mistral.404.not_found", "not_found", _mistral_status(404, {"detail": "Not Found"})),
        Case(
            "mistral.500.internal_server_error",
            "server_error",
            _mistral_status(500, _mistral_err("Internal server error", "internal_server_error", None)),
        ),
        # mistralai does not wrap transport errors either.
        Case("mistral.transport.read_timeout", "timeout", _mistral_transport(httpx.ReadTimeout)),
        Case("mistral.transport.connect_error", "connection", _mistral_transport(httpx.ConnectError)),
    ]
    truncated_body = {
        "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
        "object": "chat.completion",
        "model": "mistral-large-latest",
        "created": 1702256327,
        "usage": {"prompt_tokens": 16, "completion_tokens": 512, "total_tokens": 528},
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": '[{"title": "Q3 revenue", "body": "Revenue grew'},
            }
        ],
    }
    truncated = _mistral_client(_json_handler(200, truncated_body)).chat.complete(
        model="mistral-large-latest", messages=_USER_MSG
    )
    cases.append(
        Case(
            "mistral.finish_length.json_decode",
            "truncation",
            _raises(json.loads, truncated.choices[0].message.content),
            finish_reason=truncated.choices[0].finish_reason,
        )
    )
    return cases


# --------------------------------------------------------------------------------------------------
# AWS Bedrock (botocore)
# --------------------------------------------------------------------------------------------------

_BEDROCK_MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
_BEDROCK_MESSAGES = [{"role": "user", "content": [{"text": "Summarise the attached quarterly report."}]}]


def _bedrock_client(**kwargs: Any) -> Any:
    config = BotoConfig(retries={"total_max_attempts": 1}, connect_timeout=0.2, read_timeout=0.1)
    with _env(AWS_PROFILE=None, AWS_DEFAULT_PROFILE=None):
        return botocore.session.Session().create_client(
            "bedrock-runtime",
            region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            config=config,
            **kwargs,
        )


class _Bedrock:
    def __init__(self) -> None:
        self.client = _bedrock_client()
        self.stubber = Stubber(self.client)

    def error(self, code: str, message: str, status: int) -> BaseException:
        self.stubber.add_client_error(
            "converse", service_error_code=code, service_message=message, http_status_code=status
        )
        with self.stubber:
            return _raises(self.client.converse, modelId=_BEDROCK_MODEL, messages=_BEDROCK_MESSAGES)

    def respond(self, stop_reason: str, text: str) -> dict[str, Any]:
        response = {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop_reason,
            "usage": {"inputTokens": 2095, "outputTokens": 1024, "totalTokens": 3119},
            "metrics": {"latencyMs": 8421},
        }
        self.stubber.add_response("converse", response)
        with self.stubber:
            return self.client.converse(modelId=_BEDROCK_MODEL, messages=_BEDROCK_MESSAGES)


def _check_bedrock_stop(response: dict[str, Any]) -> str:
    stop = response["stopReason"]
    text = response["output"]["message"]["content"][0]["text"]
    if stop in ("guardrail_intervened", "content_filtered"):
        raise _ContentFilteredError(f"Bedrock converse stopped with stopReason={stop}: {text!r}")
    if stop == "max_tokens":
        raise _TruncatedResponseError(
            f"Bedrock converse hit the output limit (stopReason={stop}); got {len(text)} chars"
        )
    return text


def _bedrock_cases() -> list[Case]:
    bedrock = _Bedrock()
    cases = [
        Case(
            "bedrock.ThrottlingException.requests",
            "rate_limit",
            bedrock.error("ThrottlingException", "Too many requests, please wait before trying again.", 429),
        ),
        Case(
            "bedrock.ThrottlingException.tokens",
            "rate_limit",
            bedrock.error("ThrottlingException", "Too many tokens, please wait before trying again.", 429),
        ),
        Case(
            "bedrock.ValidationException.input_too_long",
            "context_length_exceeded",
            bedrock.error("ValidationException", "Input is too long for requested model.", 400),
        ),
        Case(
            "bedrock.ValidationException.first_message_role",
            "bad_request",
            bedrock.error(
                "ValidationException",
                "A conversation must start with a user message. Try again with a conversation that starts with a "
                "user message.",
                400,
            ),
        ),
        Case(
            "bedrock.AccessDeniedException",
            "auth",
            bedrock.error(
                "AccessDeniedException", "You don't have access to the model with the specified model ID.", 403
            ),
        ),
        Case(
            "bedrock.UnrecognizedClientException",
            "auth",
            bedrock.error("UnrecognizedClientException", "The security token included in the request is invalid.", 403),
        ),
        Case(
            "bedrock.ResourceNotFoundException",
            "not_found",
            bedrock.error(
                "ResourceNotFoundException",
                "Could not resolve the foundation model from the provided model identifier.",
                404,
            ),
        ),
        Case(
            "bedrock.ModelTimeoutException",
            "timeout",
            bedrock.error(
                "ModelTimeoutException", "Model has timed out in processing the request. Try your request again.", 408
            ),
        ),
        Case(
            "bedrock.InternalServerException",
            "server_error",
            bedrock.error("InternalServerException", "The server encountered an internal error.", 500),
        ),
        Case(
            "bedrock.ServiceUnavailableException",
            "server_error",
            bedrock.error("ServiceUnavailableException", "Bedrock is unable to process your request.", 503),
        ),
    ]
    cases.append(
        Case(
            "bedrock.stop_max_tokens",
            "truncation",
            _raises(_check_bedrock_stop, bedrock.respond("max_tokens", '{"summary": "Revenue grew 12% quarter over')),
            finish_reason="max_tokens",
        )
    )
    cases.append(
        Case(
            "bedrock.stop_guardrail_intervened",
            "content_filter",
            _raises(
                _check_bedrock_stop, bedrock.respond("guardrail_intervened", "Sorry, the model cannot answer this.")
            ),
            finish_reason="guardrail_intervened",
        )
    )
    # Real botocore transport failures against loopback.
    refused = _bedrock_client(endpoint_url=f"http://127.0.0.1:{_closed_port()}")
    cases.append(
        Case(
            "bedrock.transport.endpoint_connection_error",
            "connection",
            _raises(refused.converse, modelId=_BEDROCK_MODEL, messages=_BEDROCK_MESSAGES),
        )
    )
    with _stalled_server() as url:
        stalled = _bedrock_client(endpoint_url=url)
        cases.append(
            Case(
                "bedrock.transport.read_timeout",
                "timeout",
                _raises(stalled.converse, modelId=_BEDROCK_MODEL, messages=_BEDROCK_MESSAGES),
            )
        )
    # Missing configuration: no region, and no credentials anywhere.
    with tempfile.TemporaryDirectory() as empty:
        aws_env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("AWS_")}
        aws_env |= {
            "AWS_CONFIG_FILE": os.path.join(empty, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(empty, "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        with _env(**aws_env):
            session = botocore.session.Session()
            cases.append(
                Case("bedrock.client.no_region", "configuration", _raises(session.create_client, "bedrock-runtime"))
            )
            no_creds = session.create_client("bedrock-runtime", region_name="us-east-1")
            cases.append(
                Case(
                    "bedrock.client.no_credentials",
                    "configuration",
                    _raises(no_creds.converse, modelId=_BEDROCK_MODEL, messages=_BEDROCK_MESSAGES),
                )
            )
    return cases


# --------------------------------------------------------------------------------------------------
# LiteLLM
# --------------------------------------------------------------------------------------------------


def _import_litellm() -> Any:
    import litellm  # imported lazily: it is slow to import, and needs LITELLM_LOCAL_MODEL_COST_MAP set first

    return litellm


def _litellm_raise(cls: type[BaseException], **kwargs: Any) -> BaseException:
    """Construct and raise a LiteLLM exception the way its exception mapping does."""
    try:
        raise cls(**kwargs)
    except cls as exc:
        return exc


def _litellm_completion(litellm: Any, model: str, client: Any) -> BaseException:
    """A real ``litellm.completion`` call whose provider request hits a mocked transport."""
    saved = litellm.suppress_debug_info
    litellm.suppress_debug_info = True
    try:
        return _raises(
            litellm.completion,
            model=model,
            messages=_USER_MSG,
            api_key="sk-test",
            client=client,
            num_retries=0,
            max_retries=0,
        )
    finally:
        litellm.suppress_debug_info = saved


def _litellm_cases() -> list[Case]:
    # Importing litellm sets TIKTOKEN_CACHE_DIR; put it back the way it was afterwards.
    with _env(LITELLM_LOCAL_MODEL_COST_MAP="True", TIKTOKEN_CACHE_DIR=os.environ.get("TIKTOKEN_CACHE_DIR")):
        return _litellm_cases_inner()


def _litellm_cases_inner() -> list[Case]:
    litellm = _import_litellm()
    from litellm.llms.custom_httpx.http_handler import HTTPHandler

    def openai_backend(status: int, body: Any) -> openai.OpenAI:
        return _openai_client(_json_handler(status, body))

    def anthropic_backend(status: int, body: Any) -> Any:
        return HTTPHandler(client=httpx.Client(transport=httpx.MockTransport(_json_handler(status, body))))

    def response(status: int) -> httpx.Response:
        return httpx.Response(status, request=httpx.Request("POST", "https://api.openai.com/v1/chat/completions"))

    return [
        # Raised by litellm.completion itself.
        Case(
            "litellm.completion.openai.rate_limit",
            "rate_limit",
            _litellm_completion(
                litellm,
                "openai/gpt-4o",
                openai_backend(
                    429,
                    _openai_err(
                        "Rate limit reached for gpt-4o in organization org-3kQd on requests per min (RPM): "
                        "Limit 500, Used 500, Requested 1.",
                        "requests",
                        "rate_limit_exceeded",
                    ),
                ),
            ),
        ),
        Case(
            "litellm.completion.openai.insufficient_quota",
            "quota_exceeded",
            _litellm_completion(
                litellm,
                "openai/gpt-4o",
                openai_backend(
                    429,
                    _openai_err(
                        "You exceeded your current quota, please check your plan and billing details.",
                        "insufficient_quota",
                        "insufficient_quota",
                    ),
                ),
            ),
        ),
        Case(
            "litellm.completion.openai.context_window",
            "context_length_exceeded",
            _litellm_completion(
                litellm,
                "openai/gpt-4o",
                openai_backend(
                    400,
                    _openai_err(
                        "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                        "131072 tokens. Please reduce the length of the messages.",
                        "invalid_request_error",
                        "context_length_exceeded",
                        "messages",
                    ),
                ),
            ),
        ),
        Case(
            "litellm.completion.openai.model_not_found",
            "not_found",
            _litellm_completion(
                litellm,
                "openai/gpt-5-turbo",
                openai_backend(
                    404,
                    _openai_err(
                        "The model `gpt-5-turbo` does not exist or you do not have access to it.",
                        "invalid_request_error",
                        "model_not_found",
                    ),
                ),
            ),
        ),
        Case(
            "litellm.completion.anthropic.overloaded",
            "overloaded",
            _litellm_completion(
                litellm,
                f"anthropic/{_CLAUDE}",
                anthropic_backend(
                    529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                ),
            ),
        ),
        Case(
            "litellm.completion.anthropic.prompt_too_long",
            "context_length_exceeded",
            _litellm_completion(
                litellm,
                f"anthropic/{_CLAUDE}",
                anthropic_backend(
                    400,
                    {
                        "type": "error",
                        "error": {
                            "type": "invalid_request_error",
                            "message": "prompt is too long: 208473 tokens > 200000 maximum",
                        },
                    },
                ),
            ),
        ),
        # Constructed the way litellm's exception mapping constructs them.
        Case(
            "litellm.RateLimitError.vertex",
            "rate_limit",
            _litellm_raise(
                litellm.RateLimitError,
                message="RateLimitError: VertexAIException - Resource exhausted. Please try again later.",
                llm_provider="vertex_ai",
                model="gemini-2.5-pro",
            ),
        ),
        Case(
            "litellm.BudgetExceededError",
            "quota_exceeded",
            _litellm_raise(litellm.BudgetExceededError, current_cost=10.27, max_budget=10.0),
        ),
        Case(
            "litellm.Timeout",
            "timeout",
            _litellm_raise(
                litellm.Timeout,
                message="APITimeoutError - Request timed out. Error_str: Request timed out.",
                model="gpt-4o",
                llm_provider="openai",
            ),
        ),
        Case(
            "litellm.ContextWindowExceededError.bedrock",
            "context_length_exceeded",
            _litellm_raise(
                litellm.ContextWindowExceededError,
                message="BedrockException: Context Window Error - Input is too long for requested model.",
                model=_BEDROCK_MODEL,
                llm_provider="bedrock",
            ),
        ),
        Case(
            "litellm.ContentPolicyViolationError.azure",
            "content_filter",
            _litellm_raise(
                litellm.ContentPolicyViolationError,
                message="AzureException - The response was filtered due to the prompt triggering Azure OpenAI's "
                "content management policy. Please modify your prompt and retry.",
                model="azure/gpt-4o",
                llm_provider="azure",
                provider_specific_fields={"innererror": {"code": "ResponsibleAIPolicyViolation"}},
            ),
        ),
        Case(
            "litellm.AuthenticationError.anthropic",
            "auth",
            _litellm_raise(
                litellm.AuthenticationError,
                message='AnthropicError - {"type":"error","error":{"type":"authentication_error",'
                '"message":"invalid x-api-key"}}',
                llm_provider="anthropic",
                model=_CLAUDE,
            ),
        ),
        Case(
            "litellm.PermissionDeniedError.vertex",
            "auth",
            _litellm_raise(
                litellm.PermissionDeniedError,
                message="VertexAIException - Permission 'aiplatform.endpoints.predict' denied on resource",
                llm_provider="vertex_ai",
                model="gemini-2.5-pro",
                response=response(403),
            ),
        ),
        Case(
            "litellm.NotFoundError.bedrock",
            "not_found",
            _litellm_raise(
                litellm.NotFoundError,
                message="BedrockException - Could not resolve the foundation model from the provided model identifier.",
                model="bedrock/anthropic.claude-v9",
                llm_provider="bedrock",
            ),
        ),
        Case(
            "litellm.BadRequestError.openai",
            "bad_request",
            _litellm_raise(
                litellm.BadRequestError,
                message="OpenAIException - Invalid value for 'tool_choice': 'required' is not supported.",
                model="gpt-4o",
                llm_provider="openai",
            ),
        ),
        Case(
            "litellm.UnprocessableEntityError",
            "bad_request",
            _litellm_raise(
                litellm.UnprocessableEntityError,
                message="HostedVLLMException - Unprocessable Entity: messages.0.content: Field required",
                model="hosted_vllm/llama-3.1-70b",
                llm_provider="hosted_vllm",
                response=response(422),
            ),
        ),
        Case(
            "litellm.APIConnectionError",
            "connection",
            _litellm_raise(
                litellm.APIConnectionError,
                message="APIConnectionError: OllamaException - [Errno 111] Connection refused",
                llm_provider="ollama",
                model="llama3",
            ),
        ),
        Case(
            "litellm.ServiceUnavailableError.overloaded",
            "overloaded",
            _litellm_raise(
                litellm.ServiceUnavailableError,
                message="ServiceUnavailableError: VertexAIException - The model is overloaded. Please try again later.",
                llm_provider="vertex_ai",
                model="gemini-2.5-flash",
            ),
        ),
        Case(
            "litellm.InternalServerError",
            "server_error",
            _litellm_raise(
                litellm.InternalServerError,
                message="InternalServerError: OpenAIException - The server had an error processing your request.",
                llm_provider="openai",
                model="gpt-4o",
            ),
        ),
        Case(
            "litellm.BadGatewayError",
            "server_error",
            _litellm_raise(
                litellm.BadGatewayError,
                message="BadGatewayError: OpenAIException - 502 Bad Gateway",
                llm_provider="openai",
                model="gpt-4o",
            ),
        ),
        Case(
            "litellm.JSONSchemaValidationError",
            "schema_mismatch",
            _litellm_raise(
                litellm.JSONSchemaValidationError,
                model="gpt-4o",
                llm_provider="openai",
                raw_response='{"summary": "Revenue grew 12%"}',
                schema=json.dumps(_Summary.model_json_schema()),
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# requests / aiohttp / raw sockets
# --------------------------------------------------------------------------------------------------

_CHAT_PATH = "/v1/chat/completions"


def _requests_call(url: str, *, check: bool = False, parse: bool = False, timeout: float = 0.5) -> Any:
    response = requests.post(url + _CHAT_PATH, json={"model": "gpt-4o", "messages": _USER_MSG}, timeout=timeout)
    if check:
        response.raise_for_status()
    if parse:
        return response.json()
    return response


def _http_cases() -> list[Case]:
    cases = [
        Case(
            "requests.connection_refused",
            "connection",
            _raises(_requests_call, f"http://127.0.0.1:{_closed_port()}"),
        )
    ]
    with _stalled_server() as url:
        cases.append(Case("requests.read_timeout", "timeout", _raises(_requests_call, url, timeout=0.1)))
    with _tcp_server("close") as url:
        cases.append(Case("requests.remote_disconnected", "connection", _raises(_requests_call, url)))
    with _tcp_server("reset") as url:
        cases.append(Case("requests.connection_aborted_rst", "connection", _raises(_requests_call, url)))
    with _tcp_server("plaintext") as url:
        https_url = url.replace("http://", "https://")
        cases.append(Case("requests.ssl_error", "connection", _raises(_requests_call, https_url)))
    with _http_server(429, json.dumps(_openai_err("Rate limit exceeded", "requests", "rate_limit_exceeded"))) as url:
        cases.append(Case("requests.http_error.429", "rate_limit", _raises(_requests_call, url, check=True)))
    with _http_server(401, json.dumps({"detail": "Invalid API key"})) as url:
        cases.append(Case("requests.http_error.401", "auth", _raises(_requests_call, url, check=True)))
    with _http_server(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html") as url:
        cases.append(Case("requests.http_error.502", "server_error", _raises(_requests_call, url, check=True)))
    with _http_server(200, "<html><body>Service temporarily unavailable</body></html>", "text/html") as url:
        cases.append(Case("requests.json_decode_html_body", "invalid_json", _raises(_requests_call, url, parse=True)))

    async def aiohttp_post(url: str, timeout: aiohttp.ClientTimeout | None = None, check: bool = False) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url + _CHAT_PATH, json={"model": "gpt-4o"}, timeout=timeout) as response,
        ):
            if check:
                response.raise_for_status()
            await response.read()

    cases.append(
        Case(
            "aiohttp.client_connector_error",
            "connection",
            _araises(lambda: aiohttp_post(f"http://127.0.0.1:{_closed_port()}")),
        )
    )
    with _stalled_server() as url:
        cases.append(
            Case(
                "aiohttp.total_timeout",
                "timeout",
                _araises(lambda: aiohttp_post(url, aiohttp.ClientTimeout(total=0.1))),
            )
        )
        cases.append(
            Case(
                "aiohttp.sock_read_timeout",
                "timeout",
                _araises(lambda: aiohttp_post(url, aiohttp.ClientTimeout(sock_read=0.1))),
            )
        )
    with _tcp_server("close") as url:
        cases.append(Case("aiohttp.server_disconnected", "connection", _araises(lambda: aiohttp_post(url))))
    with _http_server(503, json.dumps({"error": "upstream connect error"})) as url:
        cases.append(
            Case("aiohttp.client_response_error.503", "server_error", _araises(lambda: aiohttp_post(url, check=True)))
        )
    with _http_server(404, json.dumps({"detail": "Not Found"})) as url:
        cases.append(
            Case("aiohttp.client_response_error.404", "not_found", _araises(lambda: aiohttp_post(url, check=True)))
        )
    cases.append(
        Case(
            "socket.connection_refused",
            "connection",
            _raises(socket.create_connection, ("127.0.0.1", _closed_port()), timeout=0.5),
        )
    )
    cases.append(
        Case("asyncio.wait_for_timeout", "timeout", _araises(lambda: asyncio.wait_for(asyncio.sleep(5), 0.01)))
    )
    return cases


# --------------------------------------------------------------------------------------------------
# Parsing errors
# --------------------------------------------------------------------------------------------------


class _Invoice(pydantic.BaseModel):
    invoice_id: str
    total: float
    currency: str
    line_items: list[dict[str, Any]]


def _parse_model_output(text: str) -> dict[str, Any]:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Failed to parse model output as JSON: {exc}") from exc


def _require_keys(output: dict[str, Any], *keys: str) -> list[Any]:
    values = []
    for key in keys:
        try:
            values.append(output[key])
        except KeyError as exc:
            raise ValueError(f"Model output missing expected key {key!r}; got keys {sorted(output)}") from exc
    return values


def _parsing_cases() -> list[Case]:
    return [
        Case(
            "json.expecting_value.prose_prefix",
            "invalid_json",
            _raises(json.loads, 'Sure! Here is the JSON you asked for:\n{"answer": "Paris"}'),
        ),
        Case("json.expecting_value.empty", "invalid_json", _raises(json.loads, "")),
        Case(
            "json.unterminated_string",
            "invalid_json",
            _raises(json.loads, '{"answer": "Paris is the capital of France}'),
        ),
        Case("json.extra_data", "invalid_json", _raises(json.loads, '{"answer": "Paris"}\n{"answer": "Lyon"}')),
        Case(
            "json.expecting_comma_delimiter",
            "invalid_json",
            _raises(json.loads, '{"answer": "Paris" "confidence": 0.93}'),
        ),
        Case(
            "json.expecting_property_name",
            "invalid_json",
            _raises(json.loads, "{'answer': 'Paris', 'confidence': 0.93}"),
        ),
        Case("json.invalid_control_character", "invalid_json", _raises(json.loads, '{"answer": "line one\nline two"}')),
        Case(
            "json.wrapped_value_error",
            "invalid_json",
            _raises(_parse_model_output, '```json\n{"answer": "Paris"}\n```'),
        ),
        Case("orjson.unexpected_character", "invalid_json", _raises(orjson.loads, '```json\n{"answer": 1}\n```')),
        Case("orjson.trailing_comma", "invalid_json", _raises(orjson.loads, '{"answer": "Paris",}')),
        Case(
            "pydantic.model_validate_json.invalid_json",
            "invalid_json",
            _raises(_Summary.model_validate_json, '{"a": '),
        ),
        Case(
            "pydantic.model_validate_json.truncated_length",
            "truncation",
            _raises(_Summary.model_validate_json, '{"summary": "Revenue grew 12% quarter over quarter, driven by'),
            finish_reason="length",
        ),
        Case(
            "json.truncated_length",
            "truncation",
            _raises(json.loads, '[{"id": 1, "title": "Intro"}, {"id": 2, "title": "Meth'),
            finish_reason="length",
        ),
        Case(
            "pydantic.model_validate.missing_fields",
            "schema_mismatch",
            _raises(_Invoice.model_validate, {"invoice_id": "INV-1042", "total": 99.5}),
        ),
        Case(
            "pydantic.model_validate.wrong_types",
            "schema_mismatch",
            _raises(
                _Invoice.model_validate,
                {"invoice_id": 1042, "total": "ninety-nine", "currency": "EUR", "line_items": "none"},
            ),
        ),
        Case(
            "pydantic.type_adapter.list_items",
            "schema_mismatch",
            _raises(
                pydantic.TypeAdapter(list[_Summary]).validate_python,
                [{"summary": "ok", "sentiment": "positive", "confidence": 0.9}, {"summary": "missing the rest"}],
            ),
        ),
        Case(
            "jsonschema.required_property",
            "schema_mismatch",
            _raises(
                jsonschema.validate,
                {"summary": "Revenue grew 12%"},
                {
                    "type": "object",
                    "required": ["summary", "sentiment"],
                    "properties": {"summary": {"type": "string"}, "sentiment": {"enum": ["positive", "negative"]}},
                },
            ),
        ),
        Case(
            "app.missing_expected_key",
            "schema_mismatch",
            _raises(_require_keys, {"summary": "Revenue grew 12%", "score": 0.8}, "summary", "sentiment"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Tool calls
# --------------------------------------------------------------------------------------------------


def _search_web(query: str, max_results: int = 5) -> list[str]:
    return [f"result for {query}"][:max_results]


_TOOLS: dict[str, Callable[..., Any]] = {"search_web": _search_web}
_TOOL_REQUIRED = {"search_web": ["query"]}


class _ToolCallError(ValueError):
    """App-level: the model produced a tool call the app cannot execute."""


def _dispatch_tool_call(name: str, raw_arguments: str) -> Any:
    if name not in _TOOLS:
        raise _ToolCallError(f"Model requested unknown tool {name!r}; available tools: {sorted(_TOOLS)}")
    try:
        arguments = json.loads(raw_arguments)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Invalid tool call arguments for {name!r}: {raw_arguments!r}") from exc
    for required in _TOOL_REQUIRED.get(name, []):
        if required not in arguments:
            raise _ToolCallError(f"Missing required argument {required!r} for tool {name!r}")
    try:
        return _TOOLS[name](**arguments)
    except TypeError as exc:
        raise _ToolCallError(f"Tool {name!r} rejected the model's arguments {arguments!r}: {exc}") from exc


def _tool_cases() -> list[Case]:
    return [
        Case(
            "tool.arguments_not_json",
            "tool_call_malformed",
            _raises(_dispatch_tool_call, "search_web", '{"query": "weather in Paris", "max_results": 5'),
        ),
        Case(
            "tool.arguments_python_dict",
            "tool_call_malformed",
            _raises(_dispatch_tool_call, "search_web", "{'query': 'weather in Paris'}"),
        ),
        Case(
            "tool.unknown_tool",
            "tool_call_malformed",
            _raises(_dispatch_tool_call, "serach_web", '{"query": "weather in Paris"}'),
        ),
        Case(
            "tool.missing_required_argument",
            "tool_call_malformed",
            _raises(_dispatch_tool_call, "search_web", '{"max_results": 3}'),
        ),
        Case(
            "tool.unexpected_argument",
            "tool_call_malformed",
            _raises(_dispatch_tool_call, "search_web", '{"query": "weather", "querry": "weather in Paris"}'),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Data errors
# --------------------------------------------------------------------------------------------------


class _DocumentNotFoundError(LookupError):
    """App-level: a record the pipeline needs is not in the store."""


class _ChecksumMismatchError(ValueError):
    """App-level: stored bytes do not match their recorded digest."""


_VECTOR_STORE: dict[str, list[float]] = {"doc_1": [0.1, 0.2], "doc_2": [0.3, 0.4]}
_CUSTOMERS: dict[str, dict[str, str]] = {"cus_001": {"name": "Acme"}}


def _retrieve(query: str, index: str) -> list[str]:
    hits = [doc for doc in _VECTOR_STORE if query in doc]
    if not hits:
        raise LookupError(f"No documents found for query {query!r} in index {index!r}")
    return hits


def _build_context(chunks: list[str], query: str) -> str:
    if not chunks:
        raise ValueError(f"Empty retrieval: 0 chunks returned for query {query!r}; cannot build RAG context")
    return "\n".join(chunks)


def _embedding_for(doc_id: str) -> list[float]:
    try:
        return _VECTOR_STORE[doc_id]
    except KeyError as exc:
        raise _DocumentNotFoundError(f"No embedding found for document {doc_id!r} in collection 'support'") from exc


def _load_customer(customer_id: str) -> dict[str, str]:
    if customer_id not in _CUSTOMERS:
        raise KeyError(f"Record not found: customer_id={customer_id!r}")
    return _CUSTOMERS[customer_id]


def _user_features(user_id: str) -> dict[str, float]:
    features = {"u_1": {"ltv": 120.0}}.get(user_id)
    if features is None:
        raise LookupError(f"User profile {user_id!r} not found in feature store 'online-features'")
    return features


def _verify_blob(blob: bytes, expected_sha256: str) -> bytes:
    actual = hashlib.sha256(blob).hexdigest()
    if actual != expected_sha256:
        raise _ChecksumMismatchError(
            f"checksum mismatch for chunk 0007: expected sha256 {expected_sha256[:16]}…, got {actual[:16]}…"
        )
    return blob


def _data_cases() -> list[Case]:
    valid_pickle = pickle.dumps({"doc_id": "doc_1", "vector": list(range(64))})
    return [
        Case("app.retrieval.no_documents", "missing_data", _raises(_retrieve, "q3 revenue", "kb-prod")),
        Case("app.retrieval.empty_context", "missing_data", _raises(_build_context, [], "refund policy")),
        Case("app.embedding.missing", "missing_data", _raises(_embedding_for, "doc_8812")),
        Case("app.record.keyerror", "missing_data", _raises(_load_customer, "cus_404")),
        Case("app.feature_store.missing_profile", "missing_data", _raises(_user_features, "u_7781")),
        Case("bytes.decode.unicode_error", "corrupted_data", _raises(b"caf\xe9 \xff\xfe".decode, "utf-8")),
        Case("zlib.decompress.invalid", "corrupted_data", _raises(zlib.decompress, b"x\x9c\x00garbage")),
        Case(
            "gzip.bad_gzip_file",
            "corrupted_data",
            _raises(gzip.decompress, b'{"not": "gzip"}'),
        ),
        Case("zipfile.bad_zip_file", "corrupted_data", _raises(zipfile.ZipFile, io.BytesIO(b"PK\x03\x04truncated"))),
        Case("pickle.truncated", "corrupted_data", _raises(pickle.loads, valid_pickle[:40])),
        Case(
            "app.checksum_mismatch",
            "corrupted_data",
            _raises(
                _verify_blob,
                b"partially written chunk",
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            ),
        ),
        Case("base64.incorrect_padding", "corrupted_data", _raises(base64.b64decode, "aGVsbG8gd29ybGQ", validate=True)),
    ]


# --------------------------------------------------------------------------------------------------
# System errors
# --------------------------------------------------------------------------------------------------


def _allocate_kv_cache(num_blocks: int) -> None:
    raise RuntimeError(
        "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.65 GiB of which 1.12 GiB "
        "is free. Including non-PyTorch memory, this process has 22.52 GiB memory in use. Of the allocated memory "
        "21.80 GiB is allocated by PyTorch, and 321.55 MiB is reserved by PyTorch but unallocated. If reserved but "
        "unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid "
        "fragmentation.  See documentation for Memory Management  "
        "(https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)"
    )


def _cpu_alloc(nbytes: int) -> None:
    raise RuntimeError(
        "[enforce fail at alloc_cpu.cpp:114] data. DefaultCPUAllocator: not enough memory: "
        f"you tried to allocate {nbytes} bytes."
    )


def _check_worker(pod: str, exit_code: int, reason: str) -> None:
    raise RuntimeError(f"Inference worker {pod} terminated: reason={reason}, exit code {exit_code}")


def _load_settings_file(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class _Settings(pydantic_settings.BaseSettings):
    model_config = pydantic_settings.SettingsConfigDict(env_prefix="CORPUS_LLM_")
    openai_api_key: str
    request_timeout: float = 30.0


def _llm_temperature() -> float:
    raw = os.environ.get("CORPUS_LLM_TEMPERATURE", "hot")
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"Invalid configuration: LLM_TEMPERATURE={raw!r} is not a number between 0 and 2") from exc
    return value


def _system_cases() -> list[Case]:
    missing_dir = Path(tempfile.gettempdir()) / "corpus-does-not-exist-6f1c"
    cases = [
        Case("python.memory_error", "out_of_memory", _raises(bytearray, 2**62)),
        Case("numpy.array_memory_error", "out_of_memory", _raises(np.empty, (10**6, 10**6, 10**3))),
        Case("torch.cuda_out_of_memory", "out_of_memory", _raises(_allocate_kv_cache, 4096)),
        Case("torch.cpu_allocator_oom", "out_of_memory", _raises(_cpu_alloc, 34359738368)),
        Case("k8s.oomkilled", "out_of_memory", _raises(_check_worker, "llm-worker-7f9c", 137, "OOMKilled")),
        Case("open.missing_file", "file_not_found", _raises(open, missing_dir / "prompts" / "system.txt")),
        Case("pathlib.read_text.missing", "file_not_found", _raises((missing_dir / "schema.json").read_text)),
        Case("json.load.missing_config", "file_not_found", _raises(_load_settings_file, str(missing_dir / "llm.json"))),
        Case("os.listdir.missing_dir", "file_not_found", _raises(os.listdir, missing_dir / "chunks")),
        Case(
            "subprocess.missing_binary",
            "file_not_found",
            _raises(subprocess.run, ["corpus-missing-binary-6f1c", "--version"], check=True),
        ),
    ]
    with _env(OPENAI_API_KEY=None):
        cases.append(Case("os.environ.missing_key", "configuration", _raises(os.environ.__getitem__, "OPENAI_API_KEY")))
    with _env(CORPUS_LLM_OPENAI_API_KEY=None, CORPUS_LLM_REQUEST_TIMEOUT=None):
        cases.append(Case("pydantic_settings.missing_setting", "configuration", _raises(_Settings)))
    with _env(CORPUS_LLM_TEMPERATURE="hot"):
        cases.append(Case("app.invalid_config_value", "configuration", _raises(_llm_temperature)))
    cases += [
        Case("asyncio.task_cancelled", "cancelled", _araises(_cancel_task)),
        Case("futures.cancelled", "cancelled", _raises(_cancelled_future)),
        Case("executor.shutdown", "cancelled", _raises(_submit_after_shutdown)),
        Case("asyncio.gather_cancelled", "cancelled", _araises(_cancel_gather)),
    ]
    return cases


async def _cancel_task() -> None:
    async def call_llm() -> None:
        await asyncio.sleep(30)

    task = asyncio.create_task(call_llm(), name="call_llm")
    await asyncio.sleep(0)
    task.cancel()
    await task


async def _cancel_gather() -> None:
    async def embed(i: int) -> int:
        await asyncio.sleep(30)
        return i

    batch = asyncio.gather(*(embed(i) for i in range(4)))
    await asyncio.sleep(0)
    batch.cancel()
    await batch


def _cancelled_future() -> Any:
    future: concurrent.futures.Future[str] = concurrent.futures.Future()
    future.cancel()
    return future.result(timeout=1)


def _submit_after_shutdown() -> Any:
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    executor.shutdown()
    return executor.submit(print, "generate")


# --------------------------------------------------------------------------------------------------
# Masked failures: a generic wrapper whose chain carries the evidence
# --------------------------------------------------------------------------------------------------


def _wrapped_cases() -> list[Case]:
    rate_limited = _openai_err(
        "Rate limit reached for gpt-4o on tokens per min (TPM).", "tokens", "rate_limit_exceeded"
    )
    bad_key = _openai_err("Incorrect API key provided: sk-proj-****abcd.", "invalid_request_error", "invalid_api_key")
    too_long = _openai_err(
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 141877 tokens. "
        "Please reduce the length of the messages.",
        "invalid_request_error",
        "context_length_exceeded",
    )
    specs: list[tuple[str, str, str, bool, Callable[[], BaseException]]] = [
        ("openai.429", "rate_limit", "LLM chat interaction failed.", True, lambda: _openai_status(429, rate_limited)),
        ("openai.401", "auth", "LLM chat interaction failed.", False, lambda: _openai_status(401, bad_key)),
        (
            "anthropic.529",
            "overloaded",
            "An error occurred",
            True,
            lambda: _anthropic_status(529, "overloaded_error", "Overloaded"),
        ),
        (
            "anthropic.400.prompt_too_long",
            "context_length_exceeded",
            "Something went wrong",
            True,
            lambda: _anthropic_status(
                400, "invalid_request_error", "prompt is too long: 201877 tokens > 200000 maximum"
            ),
        ),
        (
            "gemini.connect_error",
            "connection",
            "Error calling LLM",
            True,
            lambda: _gemini_transport(httpx.ConnectError),
        ),
        ("mistral.read_timeout", "timeout", "Request failed", False, lambda: _mistral_transport(httpx.ReadTimeout)),
        (
            "bedrock.throttling",
            "rate_limit",
            "LLM call failed",
            False,
            lambda: _Bedrock().error("ThrottlingException", "Too many requests, please wait before trying again.", 429),
        ),
        (
            "json.unterminated_string",
            "invalid_json",
            "Failed to generate response",
            True,
            lambda: _raises(json.loads, '{"answer": "Paris is the capital of'),
        ),
        (
            "tool.unknown_tool",
            "tool_call_malformed",
            "Unhandled exception in agent loop",
            True,
            lambda: _raises(_dispatch_tool_call, "get_wether", '{"city": "Paris"}'),
        ),
    ]
    cases = [
        Case(
            f"wrapped.{'cause' if explicit else 'context'}.{name}",
            expected,
            _raises(_app_call, message, _rethrow(build), explicit=explicit),
        )
        for name, expected, message, explicit, build in specs
    ]
    # Two layers of generic wrappers over a context-length error.
    inner = _rethrow(lambda: _openai_status(400, too_long))
    cases.append(
        Case(
            "wrapped.twice.openai.400.context_length_exceeded",
            "context_length_exceeded",
            _raises(_app_call, "Agent run failed", lambda: _app_call("LLM chat interaction failed.", inner)),
        )
    )
    return cases


# --------------------------------------------------------------------------------------------------


def build_cases() -> list[Case]:
    """Raise every exception in the corpus for real and return the labelled cases."""
    cases: list[Case] = []
    for section in (
        _openai_cases,
        _azure_cases,
        _anthropic_cases,
        _gemini_cases,
        _mistral_cases,
        _bedrock_cases,
        _litellm_cases,
        _http_cases,
        _parsing_cases,
        _tool_cases,
        _data_cases,
        _system_cases,
        _wrapped_cases,
    ):
        cases.extend(section())
    names = [case.name for case in cases]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise AssertionError(f"duplicate case names: {sorted(duplicates)}")
    return cases
