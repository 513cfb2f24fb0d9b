"""Evidence from frames and from exception groups, on exceptions raised for real and logged in each form."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import gzip
import json
import traceback

import orjson
import pydantic
import pytest

from correlator.devkit.workload import masked_exception, render_log
from correlator.formats.decode import decode
from correlator.formats.events import LogEvent
from correlator.processing.classify import Classifier
from correlator.processing.rootcause import ChainLink
from correlator.processing.rows import explain_log
from correlator.records import Provenance
from tests.quality import NOW

HERE = Provenance("test", 0, 0)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_file()


def _explained(line: bytes, classifier: Classifier) -> tuple[str, list[str]]:
    event = decode(line, LogEvent, HERE)
    assert isinstance(event, LogEvent)
    explanation = explain_log(event, classifier)
    return explanation.label.error_class, [link.type for link in explanation.chain]


def _both_forms(exc: BaseException) -> list[bytes]:
    """The failure masked by a wrapper, as structlog's dicts and as stdlib traceback text."""
    masked = masked_exception(functools.partial(_reraise, exc))
    text = "".join(traceback.format_exception(masked))
    return [
        render_log("llm call failed", "error", NOW, masked),
        orjson.dumps({"message": "llm call failed", "levelname": "ERROR", "exc_info": text}),
    ]


def _reraise(exc: BaseException) -> None:
    raise exc


def _raised(call, *args) -> BaseException:
    try:
        call(*args)
    except Exception as exc:
        return exc
    raise AssertionError("did not raise")


def lookup_weather(city: str, unit: str) -> str:
    return f"{city}: 4 {unit}"


def dispatch_tool_call(arguments: str, tool=lookup_weather) -> str:
    return tool(**json.loads(arguments))


def rate_limited_tool(city: str) -> str:
    raise RuntimeError("Rate limit reached for requests: Error code: 429")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [('{"city": "Oslo"}', "tool_call_malformed"), ("{'city': 'Oslo'}", "tool_call_malformed")],
)
def test_a_builtin_raised_in_tool_dispatch_is_a_malformed_tool_call(classifier, arguments: str, expected: str):
    for line in _both_forms(_raised(dispatch_tool_call, arguments)):
        assert _explained(line, classifier)[0] == expected


def test_frame_evidence_speaks_only_for_the_types_it_names(classifier):
    """A provider's rate limit raised from inside tool dispatch stays a rate limit."""
    exc = _raised(dispatch_tool_call, '{"city": "Oslo"}', rate_limited_tool)
    for line in _both_forms(exc):
        assert _explained(line, classifier)[0] == "rate_limit"


def test_the_apps_own_frames_weigh_more_than_a_librarys(classifier):
    library = "/srv/app/.venv/lib/python3.11/site-packages/agentkit/tools.py:run_tool_call"
    app = "/srv/app/settings.py:load_settings"
    assert classifier.classify_chain((ChainLink("ValueError", "bad value", (library, app)),)).rule == (
        "frame.configuration"
    )
    assert classifier.classify_chain((ChainLink("ValueError", "bad value", (library,)),)).rule == "frame.tool_dispatch"


def test_frames_seen_before_weigh_as_they_did_for_each_type_and_place_in_the_chain():
    """Frame evidence is remembered per type and frames: a classifier that has met the same
    frames in other types and other links answers each chain as a fresh classifier does."""
    tool = "/srv/app/agent/tools.py:dispatch_tool_call"
    settings = "/srv/app/settings.py:load_settings"
    library = "/srv/app/.venv/lib/python3.11/site-packages/agentkit/tools.py:run_tool_call"
    links = [
        ChainLink(type_name, message, frames)
        for type_name in ("json.decoder.JSONDecodeError", "RateLimitError", "KeyError", "ValueError")
        for message in ("Expecting value: line 1 column 1 (char 0)", "Error code: 429")
        for frames in ((tool,), (library, settings), (library,), ())
    ]
    chains = [(inner, outer) for inner in links[::3] for outer in links[::5]] + [(link,) for link in links]
    fresh = [Classifier.from_file().classify_chain(chain) for chain in chains]
    seasoned = Classifier.from_file()
    for _ in range(2):
        assert [seasoned.classify_chain(chain) for chain in chains] == fresh
        assert [seasoned.classify_chain(chain) for chain in reversed(chains)] == fresh[::-1]
    assert {label.rule for label in fresh} >= {"frame.tool_dispatch", "frame.configuration"}


class _RateLimitError(Exception):
    """Named as the SDKs name theirs: the type is the evidence."""


_RateLimitError.__name__ = _RateLimitError.__qualname__ = "RateLimitError"


async def _call_model() -> None:
    raise _RateLimitError("Error code: 429 - Rate limit reached")


async def _slow_tool() -> None:
    raise KeyError("cus_404")


async def _agent_step() -> None:
    async with asyncio.TaskGroup() as group:
        group.create_task(_call_model())
        group.create_task(_slow_tool())


def _group_failure() -> BaseException:
    try:
        asyncio.run(_agent_step())
    except BaseExceptionGroup as exc:
        return exc
    raise AssertionError("did not raise")


def test_every_member_of_an_exception_group_is_a_cause_in_both_forms(classifier):
    for line in _both_forms(_group_failure()):
        label, types = _explained(line, classifier)
        assert label == "rate_limit"  # the strongest evidence among the members
        assert [name.rsplit(".", 1)[-1] for name in types] == [
            "RateLimitError",
            "KeyError",
            "ExceptionGroup",
            "ValueError",
        ]


def test_a_bare_group_logged_as_text_has_its_members_as_root_causes(classifier):
    text = "".join(traceback.format_exception(_group_failure()))
    line = orjson.dumps({"message": "agent step failed", "levelname": "ERROR", "exc_info": text})
    event = decode(line, LogEvent, HERE)
    assert isinstance(event, LogEvent)
    explanation = explain_log(event, classifier)
    assert explanation.root_cause.type.endswith("RateLimitError")
    assert "Exception Group Traceback" not in explanation.root_cause.message


def load_cached_reply(blob: bytes) -> object:
    return json.loads(blob)


def parse_reply(text: str) -> object:
    return json.loads(text)


def test_a_frame_rule_reads_the_link_instead_of_its_type_and_text(classifier):
    """The same JSONDecodeError is corrupted stored data when read back from a cache, invalid JSON from the model."""
    for line in _both_forms(_raised(load_cached_reply, b'{"answer": "4')):
        assert _explained(line, classifier)[0] == "corrupted_data"
    for line in _both_forms(_raised(parse_reply, '{"answer": "4')):
        assert _explained(line, classifier)[0] == "invalid_json"


def fetch(blob: bytes) -> bytes:
    return gzip.decompress(blob)


def test_a_decompressor_in_the_standard_library_speaks_for_a_neutral_app_frame(classifier):
    exc = _raised(fetch, gzip.compress(b"quarterly notes " * 40)[:30])
    assert isinstance(exc, EOFError)
    for line in _both_forms(exc):
        assert _explained(line, classifier)[0] == "corrupted_data"


class WeatherArgs(pydantic.BaseModel):
    city: str
    days: int


class Invoice(pydantic.BaseModel):
    total: float


@pytest.mark.parametrize("payload", ['{"city": "Oslo", "days": "soon"}', '{"city": "Oslo", "days": 3'])
def test_a_tool_argument_model_failing_is_a_malformed_tool_call_not_a_parse_error(classifier, payload: str):
    for line in _both_forms(_raised(WeatherArgs.model_validate_json, payload)):
        assert _explained(line, classifier)[0] == "tool_call_malformed"
    # the same failure on an output model stays a parse error
    output = _raised(Invoice.model_validate_json, payload.replace('"days"', '"total"').replace('"city": "Oslo", ', ""))
    assert {_explained(line, classifier)[0] for line in _both_forms(output)} <= {"schema_mismatch", "invalid_json"}


def top_passage(hits: list[str]) -> str:
    return hits[0]


async def _empty_retrieval() -> None:
    top_passage([])


async def _timed_out_call() -> None:
    concurrent.futures.Future[None]().result(timeout=0)  # a worker's answer waited for, in vain


async def _retrieve_and_call() -> None:
    async with asyncio.TaskGroup() as group:
        group.create_task(_empty_retrieval())
        group.create_task(_timed_out_call())


def test_a_type_that_names_its_failure_outweighs_a_frame_inference_in_another_member(classifier):
    """Members disagree: the TimeoutError is direct evidence, the IndexError's meaning only inferred from a frame."""
    try:
        asyncio.run(_retrieve_and_call())
    except BaseExceptionGroup as exc:
        group = exc
    for line in _both_forms(group):
        label, types = _explained(line, classifier)
        assert label == "timeout"
        assert [name.rsplit(".", 1)[-1] for name in types[:2]] == ["IndexError", "TimeoutError"]
