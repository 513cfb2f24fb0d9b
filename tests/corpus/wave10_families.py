"""Development-only cases for the families of rules 2026.12.02-9 (issue 19, tenth session, helper classify10).

Written by the rule writer, not by a corpus wave: each case illustrates a family broadened from the libraries'
and providers' own wording for the labels weakest in the sealed part's aggregate figures (content filter, invalid
JSON against corrupted data, file not found, truncation, configuration, missing data), so every scenario is
recorded in the development part of ``broad_split.json`` by hand, never by :func:`tests.corpus.broad.assign`.
None comes from a sealed case or a public issue thread. Real raises where a library raises the wording (json,
orjson, pydantic, numpy, pandas, zipfile, gzip, bz2, lzma, pickle, base64, uuid, xml, csv, sqlite3, tomllib,
configparser, python-dotenv, yaml, statistics, random, pathlib, subprocess, langchain-core), else an
application's own check of a reply or an OpenAI-compatible server's body through the OpenAI SDK.

Most are raised in neutral functions (``step``, ``step_*``): the wording or the type is the evidence, not a name.
"""

from __future__ import annotations

import base64
import bz2
import concurrent.futures
import configparser
import csv
import datetime
import gzip
import io
import json
import lzma
import os
import pickle
import random
import sqlite3
import statistics
import subprocess
import textwrap
import tomllib
import uuid
import xml.etree.ElementTree as ElementTree
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dotenv
import httpx
import numpy
import orjson
import pandas
import pyarrow.json
import pydantic
import pydantic_settings
from langchain_core import exceptions as langchain_errors
from langchain_core.exceptions import OutputParserException
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.prompts import PromptTemplate

from tests.corpus.sdk_errors import Case, _raises
from tests.corpus.wave6 import _compatible


class ReplyError(RuntimeError):
    """App-level: the application's own check of a model's reply."""


class StepError(RuntimeError):
    """App-level: a pipeline step that failed, in its own words."""


# --------------------------------------------------------------------------------------------------
# neutral steps: the library's wording is the only evidence
# --------------------------------------------------------------------------------------------------


def step(call: Callable[[], Any]) -> Any:
    """The application's neutral frame around a library call."""
    return call()


class Answer(pydantic.BaseModel):
    answer: str


def read_stored_page(blob: str) -> Any:
    """A crawled page kept as XHTML in the document store: ElementTree's wording is any XML's, the frame says stored."""
    return ElementTree.fromstring(blob)


def step_ini(text: str) -> Any:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return parser


def step_ini_interpolate(text: str, section: str, option: str) -> str:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return parser.get(section, option)


def step_dotenv(text: str) -> Any:
    """python-dotenv only logs a line it cannot parse; the app raises on the value it then lacks."""
    values = dotenv.dotenv_values(stream=io.StringIO(text))
    if "MODEL" not in values:
        raise StepError("python-dotenv could not parse statement starting at line 2")
    return values


def step_agent_reply(text: str) -> Any:
    """A hand-written agent's parser of a ReAct-style reply, raising as langchain's own parsers do."""
    if "Action:" not in text and "Final Answer:" not in text:
        raise OutputParserException(f"Could not parse LLM output: `{text}`", llm_output=text)
    return text


def step_socket(path: str) -> Any:
    """A local model server (or a Docker daemon) reached over its unix socket."""
    with httpx.Client(transport=httpx.HTTPTransport(uds=path)) as client:
        return client.get("http://localhost/v1/models")


def step_model(error: type[Exception], message: str) -> None:
    """A langchain-core integration's provider-neutral error, raised as its chat models raise it."""
    raise error(message)


# --------------------------------------------------------------------------------------------------
# an application's own checks of a reply
# --------------------------------------------------------------------------------------------------


def check_reply(reply: dict[str, Any]) -> str:
    """The app's check of a provider's stop reason, in the provider's own field name and value."""
    for key in ("finish_reason", "stop_reason", "stopReason", "completionReason", "finishReason"):
        if key in reply and str(reply[key]).lower() not in ("stop", "end_turn", "finish", "complete"):
            raise ReplyError(f"generation did not complete: {key}={reply[key]}")
    return str(reply.get("text", ""))


def _family_text(message: str) -> BaseException:
    return _raises(_raise_step, message)


def _raise_step(message: str) -> None:
    raise StepError(message)


def _compatible_400(message: str, code: str | None = None) -> BaseException:
    return _compatible(400, {"message": message, "type": "invalid_request_error", "param": None, "code": code})


def build_wave10_family_cases() -> list[Case]:
    return [
        *_content_filter_cases(),
        *_json_cases(),
        *_file_cases(),
        *_truncation_cases(),
        *_configuration_cases(),
        *_missing_cases(),
        *_corrupted_cases(),
        *_misreading_cases(),
        *_langchain_cases(),
        *_stdlib_cases(),
        *_settings_cases(),
        *_stored_json_cases(),
    ]


def _stdlib_cases() -> list[Case]:
    """The standard library's own wording for a setting out of range, a file absent, a value absent, bytes unreadable;
    and other runtimes' file errors, as a sandboxed tool (Java, .NET) reports them."""
    return [
        Case("wave10.families.settings.zlib_level", "configuration", _raises(step, lambda: zlib.compressobj(level=12))),
        Case("wave10.families.settings.bz2_level", "configuration", _raises(step, lambda: bz2.compress(b"x", 10))),
        Case(
            "wave10.families.settings.lzma_preset",
            "configuration",
            _raises(step, lambda: lzma.LZMACompressor(preset=12)),
        ),
        Case(
            "wave10.families.settings.pickle_protocol",
            "configuration",
            _raises(step, lambda: pickle.dumps(1, protocol=9)),
        ),
        Case(
            "wave10.families.settings.csv_dialect",
            "configuration",
            _raises(step, lambda: csv.reader(io.StringIO("a"), dialect="excell")),
        ),
        Case(
            "wave10.families.settings.strptime_directive",
            "configuration",
            _raises(step, lambda: datetime.datetime.strptime("2026", "%Q")),
        ),
        Case(
            "wave10.families.settings.wrap_width", "configuration", _raises(step, lambda: textwrap.wrap("abc", width=0))
        ),
        Case(
            "wave10.families.settings.pool_workers",
            "configuration",
            _raises(step, lambda: concurrent.futures.ThreadPoolExecutor(max_workers=0)),
        ),
        Case(
            "wave10.families.settings.open_mode",
            "configuration",
            _raises(step, lambda: open(Path("/tmp") / "report.txt", mode="rw")),
        ),
        Case(
            "wave10.families.settings.newline",
            "configuration",
            _raises(step, lambda: io.TextIOWrapper(io.BytesIO(), newline="x")),
        ),
        Case(
            "wave10.families.file.sqlite_directory",
            "file_not_found",
            _raises(step, lambda: sqlite3.connect("/nonexistent/memory/agent.db")),
        ),
        Case(
            "wave10.families.file.java_nio",
            "file_not_found",
            _family_text("pdfbox exited: java.nio.file.NoSuchFileException: /data/in/report.pdf"),
        ),
        Case(
            "wave10.families.file.dotnet",
            "file_not_found",
            _family_text("System.IO.FileNotFoundException: Could not find file '/data/in/report.docx'."),
        ),
        Case(
            "wave10.families.file.dotnet_directory",
            "file_not_found",
            _family_text("System.IO.DirectoryNotFoundException: Could not find a part of the path '/data/in'."),
        ),
        Case("wave10.families.missing.sample", "missing_data", _raises(step, lambda: random.sample([], 1))),
        Case("wave10.families.missing.json_none", "missing_data", _raises(step, lambda: json.loads(_absent()))),
        Case("wave10.families.missing.b64_none", "missing_data", _raises(step, lambda: base64.b64decode(_absent()))),
        Case("wave10.families.missing.join_none", "missing_data", _raises(step, lambda: ",".join(_absent()))),
        Case(
            "wave10.families.corrupted.memoryview",
            "corrupted_data",
            _raises(step, lambda: memoryview(b"\x00" * 7).cast("d")),
        ),
        Case(
            "wave10.families.corrupted.arrow_json",
            "corrupted_data",
            _raises(step, lambda: pyarrow.json.read_json(io.BytesIO(b'{"a": 1}\n{"a": tru}\n'))),
        ),
    ]


class Runtime(pydantic_settings.BaseSettings):
    """Settings read from the environment by pydantic-settings (its frames say so; its class name does not)."""

    llm_temperature: float = 0.2


def _settings_cases() -> list[Case]:
    """Settings a process reads at start: its settings model, the model a step is to use, a setting read by key."""
    return [
        Case("wave10.families.settings.settings_model", "configuration", _settings_from_env("LLM_TEMPERATURE", "warm")),
        Case(
            "wave10.families.settings.step_model",
            "configuration",
            _family_text("No model configured for the 'summarise' step"),
        ),
        Case(
            "wave10.families.settings.not_configured",
            "configuration",
            _family_text("the reranker is not configured: set RERANK_ENDPOINT"),
        ),
        Case("wave10.families.settings.keyed_value", "configuration", _raises(max_tokens_of, {"max_tokens": "4k"})),
    ]


def max_tokens_of(llm_config: dict[str, str]) -> int:
    return int(llm_config["max_tokens"])


class Event:
    """A consumed message, as a Kafka client hands it over (its value as bytes)."""

    def __init__(self, value: bytes) -> None:
        self._value = value

    def value(self) -> bytes:
        return self._value


def handle_message(event: Event) -> Any:
    return json.loads(event.value())


def step_object(body: io.BytesIO) -> Any:
    """An object store's reply (``get_object(...)["Body"]``), read and parsed where it lands."""
    return json.loads(body.read())


def _stored_json_cases() -> list[Case]:
    """JSON that an upstream store or producer wrote, unreadable: corrupted data, not a model's invalid JSON."""
    return [
        Case(
            "wave10.families.corrupted.consumed_event", "corrupted_data", _raises(handle_message, Event(b'{"id": 7,'))
        ),
        Case("wave10.families.corrupted.object_body", "corrupted_data", _raises(step_object, io.BytesIO(b"{'id': 7}"))),
    ]


def _settings_from_env(name: str, value: str) -> BaseException:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        return _raises(Runtime)
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def _absent() -> Any:
    """A lookup that found nothing (a cache miss, an empty field)."""
    return None


def _langchain_cases() -> list[Case]:
    """langchain-core's own exception classes and wording (``langchain_core/exceptions.py``, parsers, prompts)."""
    model = {
        "auth": (langchain_errors.ModelAuthenticationError, "Error code: 401 - invalid credentials"),
        "rate_limit": (langchain_errors.ModelRateLimitError, "provider throttled the request"),
        "timeout": (langchain_errors.ModelTimeoutError, "model request did not finish"),
        "connection": (langchain_errors.ModelConnectionError, "model provider unreachable"),
        "server_error": (langchain_errors.ModelAPIError, "provider reported a failure"),
        "not_found": (langchain_errors.ModelNotFoundError, "model claude-9 is unknown"),
        "context_length_exceeded": (langchain_errors.ContextOverflowError, "input is over the model's window"),
    }
    return [
        Case(
            "wave10.families.langchain.structured_shape",
            "schema_mismatch",
            _raises(step, lambda: PydanticOutputParser(pydantic_object=Answer).parse('{"reply": 1}')),
        ),
        Case(
            "wave10.families.langchain.structured_json",
            "invalid_json",
            _raises(step, lambda: PydanticOutputParser(pydantic_object=Answer).parse("answer: yes")),
        ),
        *(
            Case(f"wave10.families.langchain_model.{label}", label, _raises(step_model, error, message))
            for label, (error, message) in model.items()
        ),
    ]


def _content_filter_cases() -> list[Case]:
    return [
        Case(
            "wave10.families.content_filter.filtering_policy",
            "content_filter",
            _compatible_400("Output blocked by content filtering policy"),
        ),
        Case(
            "wave10.families.content_filter.content_risk",
            "content_filter",
            _compatible_400("Content Exists Risk"),
        ),
        Case(
            "wave10.families.content_filter.safety_reasons",
            "content_filter",
            _compatible_400("Invalid prompt: we've limited access to this content for safety reasons."),
        ),
        Case(
            "wave10.families.content_filter.content_filtered",
            "content_filter",
            _raises(check_reply, {"completionReason": "CONTENT_FILTERED"}),
        ),
        Case(
            "wave10.families.content_filter.gemini_enum",
            "content_filter",
            _raises(check_reply, {"finishReason": "FinishReason.SAFETY"}),
        ),
        Case(
            "wave10.families.content_filter.harmful_content",
            "content_filter",
            _family_text("reply withheld: the moderation endpoint marked it as harmful content (category: violence)"),
        ),
        Case(
            "wave10.families.content_filter.jailbreak",
            "content_filter",
            _family_text("prompt shield: jailbreak attempt detected in the user prompt"),
        ),
        Case(
            "wave10.families.content_filter.sensitive_zh",
            "content_filter",
            _compatible_400(
                "系统检测到输入或生成内容可能包含不安全或敏感内容,请您避免输入易产生敏感内容的提示语", "1301"
            ),
        ),
    ]


def _json_cases() -> list[Case]:
    return [
        Case(
            "wave10.families.invalid_json.delimiter",
            "invalid_json",
            _raises(step, lambda: json.loads('{"answer": "yes" "why": 1}')),
        ),
        Case(
            "wave10.families.invalid_json.control",
            "invalid_json",
            _raises(step, lambda: json.loads('{"answer": "a\nb"}')),
        ),
        Case(
            "wave10.families.invalid_json.escape",
            "invalid_json",
            _raises(step, lambda: json.loads('{"answer": "\\q"}')),
        ),
        Case(
            "wave10.families.invalid_json.orjson_comma",
            "invalid_json",
            _raises(step, lambda: orjson.loads(b'{"a": 1 "b": 2}')),
        ),
        Case(
            "wave10.families.invalid_json.pydantic_eof",
            "invalid_json",
            _raises(step, lambda: Answer.model_validate_json('{"answer": "ye')),
        ),
        Case(
            "wave10.families.invalid_json.langchain_parser",
            "invalid_json",
            _raises(step, lambda: JsonOutputParser().parse("Sure! Here is the answer: {answer: yes")),
        ),
        Case(
            "wave10.families.invalid_json.parser_exception",
            "invalid_json",
            _raises(step_agent_reply, "I think the answer is 42"),
        ),
    ]


def _file_cases() -> list[Case]:
    return [
        Case("wave10.families.connection.unix_socket", "connection", _raises(step_socket, "/nonexistent/ollama.sock")),
        Case(
            "wave10.families.file.pathlib",
            "file_not_found",
            _raises(step, lambda: Path("/nonexistent/prompts/system.txt").read_text()),
        ),
        Case(
            "wave10.families.file.executable",
            "file_not_found",
            _raises(
                step,
                lambda: subprocess.run(["/nonexistent/bin/pdftotext", "--version"], check=True, capture_output=True),
            ),
        ),
        Case(
            "wave10.families.file.shell_command",
            "file_not_found",
            _raises(
                step,
                lambda: subprocess.run(
                    "pdftotext-missing in.pdf -", shell=True, check=True, capture_output=True, text=True
                ),
            ),
        ),
        Case(
            "wave10.families.file.numpy_load",
            "file_not_found",
            _raises(step, lambda: numpy.load("/nonexistent/index.npy")),
        ),
        Case(
            "wave10.families.file.pandas_csv",
            "file_not_found",
            _raises(step, lambda: pandas.read_csv("/nonexistent/eval.csv")),
        ),
        Case(
            "wave10.families.file.windows",
            "file_not_found",
            _family_text("[WinError 2] The system cannot find the file specified: 'C:\\\\models\\\\ggml.bin'"),
        ),
        Case(
            "wave10.families.file.does_not_exist",
            "file_not_found",
            _family_text("File /srv/app/prompts/summary.j2 does not exist"),
        ),
        Case(
            "wave10.families.file.errno_equals",
            "file_not_found",
            _family_text(
                "Unable to open file (unable to open file: name = 'vectors.h5', errno = 2, error message = "
                "'No such file or directory', flags = 0, o_flags = 0)"
            ),
        ),
    ]


def _truncation_cases() -> list[Case]:
    return [
        Case(
            "wave10.families.truncation.gemini_enum",
            "truncation",
            _raises(check_reply, {"finishReason": "FinishReason.MAX_TOKENS"}),
        ),
        Case(
            "wave10.families.truncation.bedrock_stop", "truncation", _raises(check_reply, {"stopReason": "max_tokens"})
        ),
        Case(
            "wave10.families.truncation.titan_length",
            "truncation",
            _raises(check_reply, {"completionReason": "LENGTH"}),
        ),
        Case("wave10.families.truncation.cohere", "truncation", _raises(check_reply, {"finish_reason": "MAX_TOKENS"})),
        Case(
            "wave10.families.truncation.output_limit",
            "truncation",
            _compatible_400(
                "Could not finish the message because max_tokens or model output limit was reached. Please try again "
                "with higher max_tokens."
            ),
        ),
        Case(
            "wave10.families.truncation.context_window",
            "truncation",
            _raises(check_reply, {"stop_reason": "model_context_window_exceeded"}),
        ),
        Case(
            "wave10.families.truncation.cut_off",
            "truncation",
            _family_text("the model's response was cut off before the closing brace (hit the token limit)"),
        ),
    ]


def _configuration_cases() -> list[Case]:
    return [
        Case(
            "wave10.families.settings.toml",
            "configuration",
            _raises(step, lambda: tomllib.loads('model = "gpt"\ntimeout = 30s\n')),
        ),
        Case("wave10.families.settings.ini_header", "configuration", _raises(step_ini, "model = gpt\n")),
        Case(
            "wave10.families.settings.ini_duplicate",
            "configuration",
            _raises(step_ini, "[llm]\nmodel = a\nmodel = b\n"),
        ),
        Case(
            "wave10.families.settings.ini_interpolation",
            "configuration",
            _raises(step_ini_interpolate, "[llm]\nurl = %(host)s/v1\n", "llm", "url"),
        ),
        Case("wave10.families.settings.dotenv", "configuration", _raises(step_dotenv, "OPENAI_API_KEY\nMODEL='gpt\n")),
        Case(
            "wave10.families.settings.prompt_variable",
            "configuration",
            _raises(
                step,
                lambda: PromptTemplate.from_template("Summarise {document} for {audience}").invoke({"document": "x"}),
            ),
        ),
        Case(
            "wave10.families.settings.provider_not_provided",
            "configuration",
            _family_text(
                "litellm.BadRequestError: LLM Provider NOT provided. Pass in the LLM provider you are trying to call. "
                "You passed model=claude-sonnet"
            ),
        ),
        Case(
            "wave10.families.settings.api_key_option",
            "configuration",
            _family_text(
                "The api_key client option must be set either by passing api_key to the client or by setting the "
                "OPENAI_API_KEY environment variable"
            ),
        ),
        Case(
            "wave10.families.settings.azure_endpoint",
            "configuration",
            _family_text(
                "Must provide one of the `base_url` or `azure_endpoint` arguments, or the `AZURE_OPENAI_ENDPOINT` "
                "environment variable"
            ),
        ),
    ]


def _missing_cases() -> list[Case]:
    return [
        Case("wave10.families.missing.mean", "missing_data", _raises(step, lambda: statistics.mean([]))),
        Case("wave10.families.missing.median", "missing_data", _raises(step, lambda: statistics.median([]))),
        Case("wave10.families.missing.choice", "missing_data", _raises(step, lambda: random.choice([]))),
        Case(
            "wave10.families.missing.argmax", "missing_data", _raises(step, lambda: int(numpy.argmax(numpy.array([]))))
        ),
        Case(
            "wave10.families.missing.iloc", "missing_data", _raises(step, lambda: pandas.DataFrame({"a": []}).iloc[0])
        ),
        Case(
            "wave10.families.missing.reduction",
            "missing_data",
            _raises(step, lambda: float(numpy.max(numpy.array([])))),
        ),
        Case(
            "wave10.families.missing.index_size",
            "missing_data",
            _family_text("Number of requested results 5 is greater than number of elements in index 0"),
        ),
        Case("wave10.families.missing.no_documents", "missing_data", _family_text("No documents found for the query")),
    ]


def _corrupted_cases() -> list[Case]:
    return [
        Case(
            "wave10.families.corrupted.zip",
            "corrupted_data",
            _raises(step, lambda: zipfile.ZipFile(io.BytesIO(b"PK\x03\x04 truncated")).namelist()),
        ),
        Case(
            "wave10.families.corrupted.gzip",
            "corrupted_data",
            _raises(step, lambda: gzip.decompress(b"\x1f\x8b\x08\x00cut")),
        ),
        Case(
            "wave10.families.corrupted.bz2", "corrupted_data", _raises(step, lambda: bz2.decompress(b"BZh9 not really"))
        ),
        Case(
            "wave10.families.corrupted.xz",
            "corrupted_data",
            _raises(step, lambda: lzma.decompress(b"\xfd7zXZ\x00 cut")),
        ),
        Case(
            "wave10.families.corrupted.pickle",
            "corrupted_data",
            _raises(step, lambda: pickle.loads(b"\x80\x04\x95 cut")),
        ),
        Case(
            "wave10.families.corrupted.base64",
            "corrupted_data",
            _raises(step, lambda: base64.b64decode("aGVsbG8", validate=True)),
        ),
        Case("wave10.families.corrupted.uuid", "corrupted_data", _raises(step, lambda: uuid.UUID("3f2b-not-a-uuid"))),
        Case("wave10.families.corrupted.xml", "corrupted_data", _raises(read_stored_page, "<doc><p>cut")),
        Case(
            "wave10.families.corrupted.csv_quote",
            "corrupted_data",
            _raises(step, lambda: list(csv.reader(io.StringIO('a,"b"c\n'), strict=True))),
        ),
        Case(
            "wave10.families.corrupted.frombuffer",
            "corrupted_data",
            _raises(step, lambda: numpy.frombuffer(b"\x00" * 7, dtype=numpy.float32)),
        ),
        Case("wave10.families.corrupted.sqlite", "corrupted_data", _sqlite_not_a_database()),
        Case(
            "wave10.families.corrupted.parquet_magic",
            "corrupted_data",
            _family_text(
                "Parquet magic bytes not found in footer. Either the file is corrupted or this is not a parquet file."
            ),
        ),
        Case(
            "wave10.families.corrupted.safetensors",
            "corrupted_data",
            _family_text("Error while deserializing header: HeaderTooLarge"),
        ),
        Case(
            "wave10.families.corrupted.image_truncated",
            "corrupted_data",
            _family_text("image file is truncated (12 bytes not processed)"),
        ),
    ]


def _sqlite_not_a_database() -> BaseException:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".db", delete=False) as handle:
        handle.write(b"this is not a sqlite file at all, just text" * 40)
    return _raises(step, lambda: sqlite3.connect(handle.name).execute("select 1 from sqlite_master").fetchall())


def _misreading_cases() -> list[Case]:
    """Wording an older pattern misread: a client's own retries given up is not an account's quota."""
    return [
        Case(
            "wave10.families.misreading.retry_budget",
            "timeout",
            _family_text("retry budget exhausted after 5 attempts: the request timed out each time"),
        ),
    ]
