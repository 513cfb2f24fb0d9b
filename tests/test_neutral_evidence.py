"""Failures raised in code whose names say nothing, read from the raising library's own wording (rules 2026.12.02-6,
broadened in -7, -8, -9 and -10).

Each is raised for real (or, for wording no installed library raises, with the text the library
or provider writes) inside a function named ``step``, and judged in the four forms of
:mod:`tests.quality`, as :mod:`tests.test_library_evidence` does.
"""

from __future__ import annotations

import base64
import datetime
import enum
import hashlib
import io
import ipaddress
import logging
import multiprocessing
import sqlite3
import ssl
import statistics
import struct
from collections.abc import Callable
from typing import Any

import jinja2
import lz4.frame
import numpy
import pandas
import pyarrow
import pyarrow.csv
import pytest
import tiktoken

from correlator.emit.errors import raised_in
from correlator.processing.classify import Classifier
from tests.test_library_evidence import ALL_FORMS, _labels, _raised


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_file()


class Tier(enum.Enum):
    FREE = "free"


PROMPT = "Answer as {persona"  # a prompt template from settings with its brace unclosed


def step(call: Callable[[], Any]) -> Any:
    """The application's neutral frame around each failure."""
    return call()


def _none() -> Any:
    return None


def read_export(payload: bytes) -> Any:
    return pyarrow.csv.read_csv(pyarrow.BufferReader(payload))


def _fail(exc: BaseException) -> Callable[[], Any]:
    def raise_it() -> Any:
        raise exc

    return raise_it


# wording no installed library raises: the text the library or provider writes, raised as a ValueError
WORDING: list[tuple[str, str]] = [
    ("max_retries must be a non-negative integer", "configuration"),
    ("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 8589934592 bytes.", "out_of_memory"),
    ("std::bad_alloc", "out_of_memory"),
    ("stop_reason=refusal, no tool call and no answer", "refusal"),
    ('the model answered: "I\'m unable to help with that request."', "refusal"),
    ("Error code: 400 - the request exceeds the available context size", "context_length_exceeded"),
    ("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096", "context_length_exceeded"),
    ("Error code: 429 - Daily request limit reached for your tier", "quota_exceeded"),
    ("402 InsufficientBalanceError: balance not enough, please recharge", "quota_exceeded"),
    # rules 2026.12.02-7: each family broadened from the providers' and libraries' words
    ("insufficient VRAM to load the model", "out_of_memory"),
    ("CUDA failure 2: CUDA_ERROR_OUT_OF_MEMORY", "out_of_memory"),
    ("CUDNN_STATUS_NOT_ENOUGH_MEMORY", "out_of_memory"),
    ("Memory limit of 512 MB exceeded", "out_of_memory"),
    ("Container killed for exceeding memory limits", "out_of_memory"),
    ("GPU memory exhausted", "out_of_memory"),
    ("the model's memory requirement exceeds the available memory on the instance", "out_of_memory"),
    ("OOM while generating the batch", "out_of_memory"),
    ("Killed process 4121 (python3) total-vm:8123412kB", "out_of_memory"),
    ("llama runner process has terminated: signal: killed", "out_of_memory"),
    ("RESOURCE_EXHAUSTED: Failed to allocate request for 1.5GiB", "out_of_memory"),
    ("You have exhausted your credits", "quota_exceeded"),
    ("monthly token budget of 2000000 exhausted for tenant acme", "quota_exceeded"),
    ("You have used up your plan's request allowance", "quota_exceeded"),
    ("No quota remaining for this project", "quota_exceeded"),
    ("credits remaining: 0", "quota_exceeded"),
    ("This request exceeds your quota of 10000", "quota_exceeded"),
    ("Your free trial has ended", "quota_exceeded"),
    ("Request limit exceeded for your plan", "quota_exceeded"),
    ("You have hit your limit for this billing period", "quota_exceeded"),
    ("Open api total request limit reached", "quota_exceeded"),
    ("usage cap reached", "quota_exceeded"),
    ("insufficient_credits", "quota_exceeded"),
    ("credit_limit_exceeded", "quota_exceeded"),
    ("Not enough balance to perform this request", "quota_exceeded"),
    ("Quota limit reached for project demo", "quota_exceeded"),
    ("Account suspended for non-payment", "quota_exceeded"),
    ("document doc-7 has no content", "missing_data"),
    ("expected at least one passage, got none", "missing_data"),
    ("empty response from retriever", "missing_data"),
    ("collection not found: kb_docs", "not_found"),
    ("Could not decompress data", "corrupted_data"),
    ("record is damaged", "corrupted_data"),
    ("premature end of data", "corrupted_data"),
    ("checksum failed", "corrupted_data"),
    ("stream did not contain valid UTF-8", "corrupted_data"),
    ("Could not deserialize key data.", "configuration"),
    ("unknown config option 'temprature'", "configuration"),
    ("Repo id must be in the form 'repo_name' or 'namespace/repo_name'", "configuration"),
    # after wave 8's first batch
    ('Invalid value for configuration property "request.required.acks"', "configuration"),
    ("Invalid specifier: '<2 beta'", "configuration"),
    ("no lexer for alias 'pyhton' found", "configuration"),
    ("unclosed left parenthesis", "configuration"),
    ("label empty or too long", "configuration"),
    ("Frame incomplete. LZ4F_decompress returned: 11", "corrupted_data"),
    ("Your request exceeded model token limit: 8192", "context_length_exceeded"),
    ("Namespace 'tenant-4' does not exist", "not_found"),
    # rules 2026.12.02-8: OpenAI's documented error codes, Gemini's finish reasons, the kubelet's and CUDA's words
    ("cyber_policy", "content_filter"),
    ("bio_policy", "content_filter"),
    ("The model stopped generating because the content potentially violates safety policies.", "content_filter"),
    ("The model stopped generating because the content may be prohibited.", "content_filter"),
    ("The prompt was blocked because it contains a term from the terminology blocklist.", "content_filter"),
    ("Candidate was blocked due to SAFETY", "content_filter"),
    ("organization_usage_limit_exceeded", "quota_exceeded"),
    ("credit_balance_exhausted", "quota_exceeded"),
    ("The organization has no API credits remaining.", "quota_exceeded"),
    ("The node was low on resource: memory.", "out_of_memory"),
    ("cudaErrorMemoryAllocation", "out_of_memory"),
    # after wave 9's first batch
    ("An error occurred (ParameterNotFound) when calling the GetParameter operation: ", "configuration"),
    ("An error occurred (ExpiredToken) when calling the AssumeRole operation: expired", "auth"),
    ("An error occurred (TooManyRequestsException) when calling the Invoke operation: Rate Exceeded.", "rate_limit"),
    ("An error occurred (InvalidCiphertextException) when calling the Decrypt operation: ", "corrupted_data"),
    ("DataInspectionFailed: Output data may contain inappropriate content.", "content_filter"),
    ("The request was rejected because it was considered high risk", "content_filter"),
    ("ollama generation ended with done_reason=length", "truncation"),
    ("search_phase_execution_exception: all shards failed", "server_error"),
    # after wave 9's second and third batches
    ("slack chat.postMessage: not_authed", "auth"),
    ("slack chat.update: too_many_attachments", "bad_request"),
    ("Unrecognized filesystem type in URI: s7://exports/", "configuration"),
    ("Must have at least two buckets", "configuration"),
    ("year 60000 is out of range", "corrupted_data"),
    ("['score'] not in index", "schema_mismatch"),
]

# text near a family that neither its rules nor the learned fallback may label (rules 2026.12.02-7; the fallback
# since lr-fe89aebcd9, which leaves function words out: lr-432e471cc0 read "the request was blocked by the firewall"
# as a content filter at 0.78)
NOT_THE_FAMILY: list[tuple[str, str]] = [
    ("Rate limit exceeded for your plan: 60 requests per minute", "quota_exceeded"),
    ("Quota exceeded for quota metric 'Generate Content API requests per minute'", "quota_exceeded"),
    ("the agent exhausted its retry budget", "quota_exceeded"),
    ("connection pool exhausted", "quota_exceeded"),
    ("connection pool exhausted", "out_of_memory"),
    ("memory usage is 40% of the limit", "out_of_memory"),
    ("the room was zoomed out", "out_of_memory"),
    ("ram_mb must be between 256 and 65536", "out_of_memory"),
    ("'Settings' object has no attribute 'model'", "missing_data"),
    ("model gpt-5 has no access to tools", "missing_data"),
    ("model not found", "missing_data"),
    ("response is truncated", "corrupted_data"),
    ("the output was truncated at 4096 tokens", "corrupted_data"),
    ("[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol", "corrupted_data"),
    ("unknown tool 'search_web'", "configuration"),
    ("Document doc-1 not found in collection kb", "not_found"),
    ("exceeded token rate limit of your current pricing tier", "context_length_exceeded"),
    ("no documents found for the query", "configuration"),
    # rules 2026.12.02-8
    ("the request was blocked by the firewall", "content_filter"),
    ("safety policies were updated on 2026-11-30", "content_filter"),
    ("the node was low on resource: ephemeral-storage", "out_of_memory"),
    ("12 credits remaining on this key", "quota_exceeded"),
    ("rate_limit_exceeded", "quota_exceeded"),
    ("the error rate exceeded 5% for an hour", "rate_limit"),
    ("done_reason=stop after 12 tokens", "truncation"),
    ("the reply was judged safe by the guard model", "content_filter"),
    ("the review must have at least two reviewers", "missing_data"),
    ("compression ratio 3.2 for segment 7", "configuration"),
    ("all shards answered in 12 ms", "server_error"),
    ("token_count=12 for the reply", "auth"),
    ("the year 2026 is out of the trial window", "corrupted_data"),
    ("the index is not in the cache", "schema_mismatch"),
    ("retry budget exhausted after 5 attempts", "quota_exceeded"),
    ("the connection was cut off by the peer", "truncation"),
    ("finish_reason=stop, stop_reason=end_turn", "truncation"),
    ("I can't help with harmful content like that.", "content_filter"),
    ("the safety system was updated; see the changelog", "content_filter"),
    ("the document for the query does not exist", "file_not_found"),
    ("exit status 1 from the linter", "file_not_found"),
    ("Expecting a tool result before the next turn", "invalid_json"),
]

CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("a time of day out of range", lambda: datetime.time.fromisoformat("25:00"), "configuration"),
    ("an enum member that does not exist", lambda: Tier("enterprise"), "configuration"),
    ("an IP network with a bad prefix", lambda: ipaddress.ip_network("10.0.0.0/33"), "configuration"),
    ("tiktoken's model map", lambda: tiktoken.encoding_for_model("acme-chat-large"), "configuration"),
    ("a pandas frequency", lambda: pandas.date_range("2026-01-01", periods=2, freq="fortnight"), "configuration"),
    ("a jinja2 template that does not parse", lambda: jinja2.Template("{% if persona %}"), "configuration"),
    ("a hash name OpenSSL does not know", lambda: hashlib.new("sha257"), "configuration"),
    ("a struct format", lambda: struct.calcsize("Qz"), "configuration"),
    ("a broken format template", lambda: PROMPT.format(persona="x"), "configuration"),
    ("LZ4 data that is not a frame", lambda: lz4.frame.decompress(b"not an lz4 frame"), "corrupted_data"),
    ("base85 data", lambda: base64.b85decode(b"~~~~~"), "corrupted_data"),
    ("a CSV row with more columns", lambda: read_export(b"a,b\n1,2,3\n"), "corrupted_data"),
    ("None where a list should be", lambda: list(_none()), "missing_data"),
    ("None in arithmetic", lambda: _none() + 1, "missing_data"),
    ("a median of nothing", lambda: statistics.median([]), "missing_data"),
    ("an item not in the list", lambda: ["doc-1"].index("doc-2"), "missing_data"),
    ("a record id missing from a dict", lambda: {"ticket-1": {}}["ticket-2"], "missing_data"),
    ("pandas concatenating no frame", lambda: pandas.concat([]), "missing_data"),
    ("a stored vector of the wrong size", lambda: numpy.zeros(3, numpy.float32).reshape(384), "corrupted_data"),
    ("a CA bundle that is no certificate", lambda: ssl.create_default_context(cadata="x"), "configuration"),
    ("an SQLite URI's access mode", lambda: sqlite3.connect("file:a.db?mode=rwx", uri=True), "configuration"),
    ("a process start method", lambda: multiprocessing.get_context("forkk"), "configuration"),
    ("a logging style", lambda: logging.Formatter("%(message)s", style="!"), "configuration"),  # type: ignore[arg-type]
    ("a log format for another style", lambda: logging.Formatter("{message}", validate=True), "configuration"),
    ("a pandas time unit", lambda: pandas.Timedelta("5 minutez"), "configuration"),
    ("a pandas compression name", lambda: pandas.read_csv(io.StringIO("a"), compression="snapy"), "configuration"),
    ("a variance of one point", lambda: statistics.variance([1.0]), "missing_data"),
    ("a scalar from an empty array", lambda: numpy.array([]).item(), "missing_data"),
    ("a packed IPv4 address of three bytes", lambda: ipaddress.IPv4Address(b"\n\x00\x03"), "corrupted_data"),
    ("a codec error handler", lambda: "naïve".encode("ascii", errors="ignorre"), "configuration"),
    *((text, _fail(ValueError(text)), expected) for text, expected in WORDING),
]


@pytest.mark.parametrize(("what", "call", "expected"), CASES, ids=[case[0] for case in CASES])
def test_neutral_code(what: str, call: Callable[[], Any], expected: str, classifier: Classifier) -> None:
    labels = _labels(_raised(lambda: step(call)), classifier)
    assert labels == dict.fromkeys(ALL_FORMS, expected), labels


@pytest.mark.parametrize(("text", "not_expected"), NOT_THE_FAMILY, ids=[f"{t} not {n}" for t, n in NOT_THE_FAMILY])
def test_text_near_a_family_does_not_take_its_label(text: str, not_expected: str, classifier: Classifier) -> None:
    labels = _labels(_raised(lambda: step(_fail(ValueError(text)))), classifier)
    assert not_expected not in labels.values(), labels


def test_a_cython_frame_is_a_library_frame_so_from_none_names_the_apps() -> None:
    exc = _raised(lambda: read_export(b"a,b\n1,2,3\n"))
    assert raised_in(exc) == "test_neutral_evidence.py:read_export"


def archive_filesystem(message: str) -> Any:
    raise ValueError(message)


def test_a_librarys_own_wording_outweighs_the_apps_function_name(classifier: Classifier) -> None:
    """``archive_filesystem`` is a stored-data name (frame.stored_data speaks for a ValueError): its words
    alone leave it corrupted data, but a setting fsspec rejected is said in the specific tier, which still
    counts in a link a frame rule reads."""
    rejected = _labels(_raised(lambda: archive_filesystem("Protocol not known: s4")), classifier)
    assert rejected == dict.fromkeys(ALL_FORMS, "configuration"), rejected
    unreadable = _labels(_raised(lambda: archive_filesystem("Expecting value: line 1 column 1 (char 0)")), classifier)
    assert unreadable == dict.fromkeys(ALL_FORMS, "corrupted_data"), unreadable


def dispatch_tool_call(arguments: dict[str, Any]) -> Any:
    """A tool called with the model's arguments, one of them a duration the tool hands to ``timedelta``."""
    return datetime.timedelta(minutes=arguments["minutes"])


def test_a_values_wording_is_a_setting_in_neutral_code_and_a_malformed_call_in_tool_dispatch(
    classifier: Classifier,
) -> None:
    """The standard library words a bad value the same whoever passed it (rules 2026.12.03-10 read it in the weak
    ``message`` tier): a tool's frame, which reads the link, outweighs it."""
    in_neutral_code = _labels(_raised(lambda: step(lambda: datetime.timedelta(seconds="30"))), classifier)  # type: ignore[arg-type]
    assert in_neutral_code == dict.fromkeys(ALL_FORMS, "configuration"), in_neutral_code
    in_a_tool = _labels(_raised(lambda: dispatch_tool_call({"minutes": "ten"})), classifier)
    assert in_a_tool == dict.fromkeys(ALL_FORMS, "tool_call_malformed"), in_a_tool
