"""LLMChatError: the cause and the error_id survive in the text, and it is still a ValueError."""

from __future__ import annotations

import asyncio
import json
import re

import httpx

from correlator.emit import LLMChatError
from correlator.emit.errors import causes_beneath
from correlator.processing.classify import Classifier
from correlator.processing.rootcause import ChainLink, extend_with_embedded_causes


def test_llm_chat_error_carries_id_and_cause_and_is_a_value_error():
    cause = TimeoutError("The read operation timed out")
    error = LLMChatError(cause)
    assert isinstance(error, ValueError)
    assert re.fullmatch(r"[0-9a-f]{12}", error.error_id)
    assert str(error) == f"LLM chat interaction failed [{error.error_id}]: TimeoutError: The read operation timed out"
    assert error.cause is cause


def test_raised_from_none_the_cause_is_still_found_in_its_text():
    error = LLMChatError(KeyError("choices"), error_id="4c2a64973bcd")
    chain = extend_with_embedded_causes((ChainLink("LLMChatError", str(error)),), Classifier.from_file().embedded_cause)
    assert chain[0] == ChainLink("KeyError", "'choices'")


def load_cached_reply(blob: bytes) -> object:
    return json.loads(blob)


def parse_model_reply(text: str) -> object:
    return json.loads(text)


def _from_none(call, argument) -> LLMChatError:
    try:
        call(argument)
    except ValueError as exc:
        try:
            raise LLMChatError(exc, error_id="4c2a64973bcd") from None
        except LLMChatError as wrapped:
            return wrapped
    raise AssertionError("did not raise")


def test_the_text_names_where_the_app_raised_the_cause_and_that_frame_is_the_causes_evidence():
    """From None the traceback is gone: the same JSON error is a stored blob's or a reply's by where it was raised."""
    classifier = Classifier.from_file()
    labels = {}
    for call in (load_cached_reply, parse_model_reply):
        error = _from_none(call, "{'reply': ")
        assert str(error).endswith(f" (raised in test_emit_errors.py:{call.__name__})")  # not json/decoder.py
        chain = extend_with_embedded_causes((ChainLink("LLMChatError", str(error)),), classifier.embedded_cause)
        assert chain[0].type == "JSONDecodeError" and chain[0].frames == (f"test_emit_errors.py:{call.__name__}",)
        assert "raised in" not in chain[0].message + chain[1].message
        labels[call.__name__] = classifier.classify_chain(chain).error_class
    assert labels == {"load_cached_reply": "corrupted_data", "parse_model_reply": "invalid_json"}


def test_a_wrapper_raised_from_none_over_a_bare_wrapper_is_still_no_evidence():
    def call_model(_: str) -> None:
        raise ValueError("LLM chat interaction failed.")

    error = _from_none(call_model, "")
    assert str(error).endswith("(raised in test_emit_errors.py:call_model)")
    classifier = Classifier.from_file()
    chain = extend_with_embedded_causes((ChainLink("LLMChatError", str(error)),), classifier.embedded_cause)
    assert classifier.classify_chain(chain).error_class == "unknown"


def _connection_error_over_a_bad_url() -> LLMChatError:
    try:
        try:
            raise httpx.UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol.")
        except httpx.UnsupportedProtocol as exc:
            raise ConnectionError("Connection error.") from exc
    except ConnectionError as exc:
        try:
            raise LLMChatError(exc, error_id="4c2a64973bcd") from None
        except LLMChatError as wrapped:
            return wrapped


def test_from_none_the_exceptions_the_cause_was_raised_from_are_named_and_become_its_roots():
    """An SDK's "Connection error." over a URL without a scheme is a configuration error, even from None."""
    error = _connection_error_over_a_bad_url()
    assert str(error).startswith(
        "LLM chat interaction failed [4c2a64973bcd]: ConnectionError: Connection error. [root: UnsupportedProtocol: "
    )
    classifier = Classifier.from_file()
    chain = extend_with_embedded_causes((ChainLink("LLMChatError", str(error)),), classifier.embedded_cause)
    assert [link.type for link in chain] == ["UnsupportedProtocol", "ConnectionError", "LLMChatError"]
    assert chain[0].message.startswith("Request URL is missing") and chain[1].message == "Connection error."
    assert classifier.classify_chain(chain).error_class == "configuration"


def test_from_none_a_task_groups_members_are_named_innermost_first():
    async def timed_out() -> None:
        async with asyncio.timeout(0):
            await asyncio.sleep(1)

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(timed_out())

    try:
        asyncio.run(main())
    except BaseExceptionGroup as exc:
        assert causes_beneath(exc)[-1] is exc.exceptions[0]
        error = LLMChatError(exc)
    chain = extend_with_embedded_causes((ChainLink("LLMChatError", str(error)),), Classifier.from_file().embedded_cause)
    assert [link.type for link in chain[:3]] == ["CancelledError", "TimeoutError", "ExceptionGroup"]
    assert Classifier.from_file().classify_chain(chain).error_class == "timeout"


def test_a_bare_wrapper_over_a_cause_keeps_that_cause_from_none():
    try:
        try:
            json.loads("{'reply': ")
        except ValueError as exc:
            raise ValueError("LLM chat interaction failed.") from exc
    except ValueError as masked:
        error = LLMChatError(masked)
    chain = extend_with_embedded_causes((ChainLink("LLMChatError", str(error)),), Classifier.from_file().embedded_cause)
    assert chain[0].type == "JSONDecodeError"
    assert Classifier.from_file().classify_chain(chain).error_class == "invalid_json"


def run_tool_calls(arguments: list[str]) -> list[object]:
    return [json.loads(text) for text in arguments]


def test_a_comprehension_is_not_where_the_cause_was_raised_its_function_is():
    error = _from_none(run_tool_calls, ["{'city': 'Oslo'}"])
    assert str(error).endswith("(raised in test_emit_errors.py:run_tool_calls)")
