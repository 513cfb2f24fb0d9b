"""Evidence read from the installed libraries' own exception classes and wording (rules 2026.12.01-8).

Each failure is raised for real through the library that defines it, in a function whose name
carries no evidence unless the test is about names, and judged in the four forms of
:mod:`tests.quality`: as raised, masked as structlog dicts, masked as traceback text, and
``LLMChatError(e) from None``.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import pickle
import shlex
import ssl
import tarfile
import tempfile
import urllib.error
import urllib.parse
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import botocore.session
import httpx
import numpy
import openai
import pytest
import tenacity
import yaml
from botocore.stub import Stubber
from google.genai import types as genai_types

from correlator.formats.decode import decode
from correlator.formats.events import LogEvent
from correlator.processing.classify import Classifier
from correlator.processing.rows import explain_log
from tests.corpus.sdk_errors import Case, _gemini_status
from tests.quality import FORMS, HERE, log_lines

ALL_FORMS = frozenset(FORMS)
TEXT_FORM = frozenset({"masked_text"})
# the forms that keep every frame (the emitter's `from None` keeps the application's innermost only)
RAISED_FORMS = ALL_FORMS - {"llm_chat_error_from_none"}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_file()


def _raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError(f"{call!r} did not raise")


def _labels(exc: BaseException, classifier: Classifier) -> dict[str, str]:
    """form → error_class of this failure's log line in that form."""
    labels = {}
    for form, line in log_lines(Case("probe", "?", exc)):
        event = decode(line, LogEvent, HERE)
        assert isinstance(event, LogEvent)
        labels[form] = explain_log(event, classifier).label.error_class
    return labels


def _openai_reply(status: int, body: dict[str, Any]) -> BaseException:
    client = openai.OpenAI(
        api_key="sk-proj-test",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(status, json=body))),
    )
    return _raised(lambda: client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}]))


def _openai_message(status: int, message: str) -> BaseException:
    return _openai_reply(status, {"error": {"message": message, "code": str(status)}})


def reset_mid_body() -> None:
    """httpx's ReadError: structlog names it without its module, as tarfile's is named."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)

    httpx.Client(transport=httpx.MockTransport(handler)).get("http://127.0.0.1:9/v1/models")


def unpack_report(payload: bytes) -> None:
    with tarfile.open(fileobj=io.BytesIO(payload)) as archive:
        archive.getnames()


def bedrock_error(operation: str, code: str, message: str, status: int) -> None:
    """Bedrock runtime answering ``operation`` with one of its service model's errors (botocore's Stubber)."""
    client = botocore.session.get_session().create_client(
        "bedrock-runtime", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        stubber.add_client_error(operation, service_error_code=code, service_message=message, http_status_code=status)
        getattr(client, operation)(modelId="anthropic.claude-3-haiku-20240307-v1:0", messages=[])


def payment_required() -> None:
    httpx.Response(402, request=httpx.Request("POST", "https://llm-gateway.internal/v1/chat")).raise_for_status()


_REPLIES: dict[str, dict[str, Any]] = {}


def read_cached_summary(key: str) -> str:
    """A cache miss: ``None`` where the stored reply should be is absent data, not corrupt data."""
    return str(_REPLIES.get(key)["text"])  # type: ignore[index]


def upstream_limit(settings: dict[str, dict[str, str]]) -> int:
    return int(settings["llm"]["retries"])


def previous_run(path: Path) -> Any:
    with path.open() as fh:
        return json.load(fh)


def worker_count() -> int:
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--workers", type=int)
    return int(parser.parse_args(["--workers", "four"]).workers)


def gateway_port() -> int | None:
    return urllib.parse.urlsplit("http://llm-gateway.internal:eighty/v1").port


def plugin() -> None:
    from json import reranker  # type: ignore[attr-defined]  # noqa: F401


def conversation_state(blob: bytes) -> Any:
    return pickle.loads(blob)


def _stored_json(tmp: Path) -> BaseException:
    path = tmp / "run.json"
    path.write_text('{"steps": [1, 2,')
    return _raised(lambda: previous_run(path))


def service_unavailable() -> None:
    raise urllib.error.HTTPError("https://llm-gateway.internal/v1/chat", 503, "Service Unavailable", Message(), None)


def gemini_answer() -> None:
    """An application's own check of the candidate's finish reason (google.genai's FinishReason)."""
    raise RuntimeError(f"no answer: finish_reason={genai_types.FinishReason.SPII.value}")


class _Socket:
    def __init__(self, reply: bytes) -> None:
        self.reply = reply

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.reply)


def status_line() -> None:
    http.client.HTTPResponse(_Socket(b"SSH-2.0-OpenSSH_9.6\r\n")).begin()  # type: ignore[arg-type]


@tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none())
def chat_with_retries() -> None:
    raise openai.APITimeoutError(httpx.Request("POST", "https://api.openai.com/v1/chat/completions"))


def command_line() -> list[str]:
    return shlex.split('python -m mcp_server --root "/srv/tools')


def client_certificate(path: Path) -> None:
    path.write_text("not a certificate")
    ssl.create_default_context().load_cert_chain(path)


def stacked(vectors: list[Any]) -> Any:
    return numpy.vstack(vectors)


def extract_title(xml_text: str) -> str:
    return str(ElementTree.fromstring(xml_text).find("title").text)  # type: ignore[union-attr]


def pasted_api_key() -> None:
    """A key pasted with a typographic apostrophe: httpx encodes header values as ASCII."""
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    client.get("http://127.0.0.1:9/v1/models", headers={"Authorization": "Bearer sk-proj\u2019abc"})


def gateway_base() -> str:
    return os.environ["correlator_test_gateway_base"]  # noqa: SIM112 - the lower-case name is the point


def proxy_refused() -> None:
    """A proxy's 407 is the way to the provider failing, not the provider refusing a key."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ProxyError("407 Proxy Authentication Required", request=request)

    httpx.Client(transport=httpx.MockTransport(handler)).get("https://api.openai.com/v1/models")


def _in_module(filename: str, source: str, call: str) -> BaseException:
    """Raised by code compiled as the application's ``filename``: the module's name is the evidence."""
    namespace: dict[str, Any] = {}
    exec(compile(source, f"/srv/app/{filename}", "exec"), namespace)
    return _raised(lambda: eval(call, namespace))


def _named(stream: io.StringIO, name: str) -> io.StringIO:
    stream.name = name  # type: ignore[misc]  # what yaml's reader prints as the file's name
    return stream


_LOADS = "import json\ndef get(raw):\n    return json.loads(raw)\n"

CASES: list[tuple[str, Callable[[Path], BaseException], str, frozenset[str]]] = [
    ("httpx ReadError is a connection in every form", lambda tmp: _raised(reset_mid_body), "connection", ALL_FORMS),
    (
        "tarfile's ReadError is stored data",
        lambda tmp: _raised(lambda: unpack_report(b"not an archive " * 40)),
        "corrupted_data",
        ALL_FORMS,
    ),
    (
        "Bedrock's ServiceQuotaExceededException",
        lambda tmp: _raised(
            lambda: bedrock_error(
                "converse",
                "ServiceQuotaExceededException",
                "Your request exceeds the service quota for your account.",
                400,
            )
        ),
        "quota_exceeded",
        ALL_FORMS,
    ),
    ("HTTP 402 Payment Required", lambda tmp: _raised(payment_required), "quota_exceeded", ALL_FORMS),
    (
        "LiteLLM proxy's ExceededBudget",
        lambda tmp: _openai_message(400, "ExceededBudget: User=u-17 over budget. Spend=12.5, Budget=10.0"),
        "quota_exceeded",
        ALL_FORMS,
    ),
    ("None from a cache lookup", lambda tmp: _raised(lambda: read_cached_summary("k-1")), "missing_data", ALL_FORMS),
    ("argparse's invalid value", lambda tmp: _raised(worker_count), "configuration", ALL_FORMS),
    ("urllib.parse on a settings URL", lambda tmp: _raised(gateway_port), "configuration", ALL_FORMS),
    ("an ImportError of a configured plugin", lambda tmp: _raised(plugin), "configuration", ALL_FORMS),
    ("pickle's empty input", lambda tmp: _raised(lambda: conversation_state(b"")), "corrupted_data", ALL_FORMS),
    (
        "a settings lookup on the source line",
        lambda tmp: _raised(lambda: upstream_limit({"llm": {"retries": "three"}})),
        "configuration",
        TEXT_FORM,
    ),
    ("json.load of a stored file on the source line", _stored_json, "corrupted_data", TEXT_FORM),
    ("urllib's HTTP Error 503", lambda tmp: _raised(service_unavailable), "server_error", ALL_FORMS),
    ("Gemini's SPII finish reason", lambda tmp: _raised(gemini_answer), "content_filter", ALL_FORMS),
    (
        "Bedrock's ModelStreamErrorException",
        lambda tmp: _raised(
            lambda: bedrock_error(
                "converse_stream",
                "ModelStreamErrorException",
                "An error occurred while processing the model stream.",
                424,
            )
        ),
        "server_error",
        ALL_FORMS,
    ),
    ("http.client's BadStatusLine", lambda tmp: _raised(status_line), "connection", ALL_FORMS),
    ("tenacity gave up on timeouts", lambda tmp: _raised(chat_with_retries), "timeout", ALL_FORMS),
    ("shlex on a configured command", lambda tmp: _raised(command_line), "configuration", ALL_FORMS),
    (
        "a client certificate that is not PEM",
        lambda tmp: _raised(lambda: client_certificate(tmp / "client.pem")),
        "configuration",
        ALL_FORMS,
    ),
    ("numpy stacking no vectors", lambda tmp: _raised(lambda: stacked([])), "missing_data", ALL_FORMS),
    (
        "an XML element not found, on the source line",
        lambda tmp: _raised(lambda: extract_title("<report/>")),
        "missing_data",
        TEXT_FORM,
    ),
    (
        "Google's billing disabled",
        lambda tmp: _gemini_status(
            403,
            "PERMISSION_DENIED",
            "This API method requires billing to be enabled. Please enable billing on project #1.",
        ),
        "quota_exceeded",
        ALL_FORMS,
    ),
    (
        "Azure's call volume quota",
        lambda tmp: _openai_reply(
            403,
            {
                "error": {
                    "code": "403",
                    "message": "Out of call volume quota for OpenAI API. Quota will be replenished in 2.01 days.",
                }
            },
        ),
        "quota_exceeded",
        ALL_FORMS,
    ),
    ("an API key that is not ASCII", lambda tmp: _raised(pasted_api_key), "configuration", ALL_FORMS),
    ("an unset lower-case environment variable", lambda tmp: _raised(gateway_base), "configuration", RAISED_FORMS),
    (
        "Gemini's expired API key",
        lambda tmp: _gemini_status(400, "INVALID_ARGUMENT", "API key expired. Please renew the API key."),
        "auth",
        ALL_FORMS,
    ),
    ("a proxy's 407", lambda tmp: _raised(proxy_refused), "connection", ALL_FORMS),
    (
        "out of free credits",
        lambda tmp: _openai_message(429, "You are out of free credits for this month."),
        "quota_exceeded",
        ALL_FORMS,
    ),
    (
        "JSON read in the app's store.py",
        lambda tmp: _in_module("store.py", _LOADS, "get('{')"),
        "corrupted_data",
        ALL_FORMS,
    ),
    (
        "JSON read in the app's toolbox.py",
        lambda tmp: _in_module("toolbox.py", _LOADS, "get('{')"),
        "tool_call_malformed",
        ALL_FORMS,
    ),
    (
        "JSON read in the app's agent.py",
        lambda tmp: _in_module("agent.py", _LOADS, "get('{')"),
        "invalid_json",
        ALL_FORMS,
    ),
    (
        "a ValueError in the app's cli.py",
        lambda tmp: _in_module("cli.py", "def workers(v):\n    return int(v)\n", "workers('four')"),
        "configuration",
        ALL_FORMS,
    ),
    (
        "YAML naming its settings file",
        lambda tmp: _raised(
            lambda: yaml.safe_load(_named(io.StringIO("model: gpt-4o\n  retries: 3\n"), "config/llm_settings.yaml"))
        ),
        "configuration",
        ALL_FORMS,
    ),
]


@pytest.mark.parametrize(("what", "raise_it", "expected", "forms"), CASES, ids=[case[0] for case in CASES])
def test_library_evidence(
    what: str, raise_it: Callable[[Path], BaseException], expected: str, forms: frozenset[str], classifier: Classifier
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        labels = _labels(raise_it(Path(tmp)), classifier)
    assert {form: labels[form] for form in forms} == dict.fromkeys(forms, expected), labels


def test_gemini_finish_reasons_on_a_metrics_row(classifier: Classifier) -> None:
    labels = {reason: classifier.classify_finish_reason(reason) for reason in ("RECITATION", "MALFORMED_FUNCTION_CALL")}
    assert {reason: label and label.error_class for reason, label in labels.items()} == {
        "RECITATION": "content_filter",
        "MALFORMED_FUNCTION_CALL": "tool_call_malformed",
    }
