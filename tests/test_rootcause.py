"""Root-cause extraction from every log shape, on exceptions raised for real."""

from __future__ import annotations

import json
import traceback

import orjson
import pytest

from correlator.devkit.workload import FAILURES, masked_exception, render_log
from correlator.processing.classify import Classifier
from correlator.processing.rootcause import (
    ChainLink,
    chain_from_dict_tracebacks,
    chain_from_message,
    chain_from_traceback_text,
)


def _formatted(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def test_dict_tracebacks_chain_is_root_first():
    exc = masked_exception(FAILURES["invalid_json"][1])
    stacks = orjson.loads(render_log("failed", "error", _now(), exc))["exception"]
    chain = chain_from_dict_tracebacks(stacks)
    assert [link.type for link in chain] == ["JSONDecodeError", "ValueError"]
    assert chain[0].message.startswith("Unterminated string")
    assert chain[-1].message == "LLM chat interaction failed."


def test_traceback_text_with_direct_cause_and_implicit_context():
    try:
        try:
            try:
                json.loads("{")
            except ValueError as first:
                raise KeyError("lookup") from first
        except KeyError:
            raise ValueError("LLM chat interaction failed.")  # noqa: B904 - an implicit __context__ link
    except ValueError as exc:
        text = _formatted(exc)
    chain = chain_from_traceback_text(text)
    assert [link.type for link in chain] == ["json.decoder.JSONDecodeError", "KeyError", "ValueError"]


def test_a_frame_without_a_source_line_keeps_the_frame_after_it():
    """Code run by exec (like ``<frozen os>`` or a deployment without sources) prints no source line."""
    namespace: dict[str, object] = {}
    exec(compile("def workers(value):\n    return int(value)\n", "/srv/app/settings.py", "exec"), namespace)
    try:
        eval("workers('four')", namespace)
    except ValueError as exc:
        text = _formatted(exc)
    (root,) = chain_from_traceback_text(text)
    assert [frame.split(":", 1)[0] for frame in root.frames][-2:] == ["<string>", "/srv/app/settings.py"]
    assert root.sources[-2:] == ("", "")


def test_multiline_exception_message_is_kept_whole():
    import pydantic

    class Answer(pydantic.BaseModel):
        answer: str

    try:
        Answer.model_validate({})
    except pydantic.ValidationError as exc:
        text = _formatted(exc)
    [link] = chain_from_traceback_text(text)
    assert link.type == "pydantic_core._pydantic_core.ValidationError"
    assert link.message.startswith("1 validation error for Answer\nanswer\n  Field required")


def test_exception_group_contributes_every_member_as_a_cause_first_member_first():
    try:
        raise ExceptionGroup("several calls failed", [TimeoutError("read timed out"), KeyError("x")])
    except ExceptionGroup as exc:
        stacks = orjson.loads(render_log("failed", "error", _now(), exc))["exception"]
        text = _formatted(exc)
    for chain in (chain_from_dict_tracebacks(stacks), chain_from_traceback_text(text)):
        assert [(link.type, link.message) for link in chain] == [
            ("TimeoutError", "read timed out"),
            ("KeyError", "'x'"),
            ("ExceptionGroup", "several calls failed (2 sub-exceptions)"),
        ]


def test_nested_exception_groups_in_text_keep_every_member():
    def inner() -> None:
        raise ExceptionGroup("inner", [ValueError("a"), TimeoutError("t")])

    try:
        try:
            inner()
        except ExceptionGroup as exc:
            raise ExceptionGroup("outer", [exc, KeyError("b")]) from exc
    except ExceptionGroup as exc:
        chain = chain_from_traceback_text(_formatted(exc))
    assert [link.type for link in chain] == [
        "ValueError", "TimeoutError", "ExceptionGroup",  # the cause, printed first
        "ValueError", "TimeoutError", "ExceptionGroup", "KeyError", "ExceptionGroup",
    ]  # fmt: skip
    assert chain[-1].message == "outer (2 sub-exceptions)"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("LLM chat interaction failed [4c2a64973bcd]: RateLimitError: Error code: 429",
         ChainLink("RateLimitError", "Error code: 429")),
        ("LLM chat interaction failed: the upstream closed the stream",
         ChainLink("", "the upstream closed the stream")),
    ],
)  # fmt: skip
def test_wrapper_message_that_embeds_its_cause(message: str, expected: ChainLink):
    chain = chain_from_message(message, Classifier.from_file().embedded_cause)
    assert chain[0] == expected


def test_plain_wrapper_message_has_no_embedded_cause():
    assert chain_from_message("LLM chat interaction failed.", Classifier.from_file().embedded_cause) == ()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
