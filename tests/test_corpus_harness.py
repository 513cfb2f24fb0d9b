"""The corpus harness takes a case's exception only if the code under test raised it, never a mistake in the corpus."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.corpus.sdk_errors import (
    _USER_MSG,
    CorpusBuildError,
    _araises,
    _fixed_directory,
    _openai_client,
    _raises,
    _raises_as,
)


def _lookup_weather(city: str) -> str:
    return f"sunny in {city}"


def test_a_tool_called_with_the_models_arguments_is_a_case():
    exc = _raises(lambda: _lookup_weather(**json.loads('{"location": "Oslo"}')))
    assert isinstance(exc, TypeError) and "unexpected keyword argument 'location'" in str(exc)


def test_an_attribute_of_an_absent_record_is_a_case():
    record: dict[str, Any] = {}
    assert isinstance(_raises(lambda: record.get("order").status), AttributeError)


def test_a_name_the_case_never_defined_fails_the_build():
    with pytest.raises(CorpusBuildError, match="NameError"):
        _raises(lambda: undefined_helper())  # noqa: F821


def test_an_import_in_the_cases_code_that_does_not_resolve_fails_the_build():
    def load_plugin() -> None:
        import correlator_plugin_that_is_not_installed  # noqa: F401

    with pytest.raises(CorpusBuildError, match="ModuleNotFoundError"):
        _raises(load_plugin)


def test_an_attribute_a_module_lacks_fails_the_build():
    with pytest.raises(CorpusBuildError, match="AttributeError"):
        _raises(lambda: openai.RateLimitErrorr)


def test_a_mistake_the_sdk_wraps_as_a_connection_error_fails_the_build():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json=error_body)  # noqa: F821

    client = _openai_client(handler)
    with pytest.raises(CorpusBuildError, match="NameError"):
        _raises(client.chat.completions.create, model="gpt-4o", messages=_USER_MSG)


def test_a_mistake_beneath_an_applications_wrapper_fails_the_build():
    def summarise() -> None:
        try:
            summary_lenght  # noqa: B018
        except NameError as exc:
            raise RuntimeError("Failed to generate response") from exc

    with pytest.raises(CorpusBuildError, match="summary_lenght"):
        _raises(summarise)


def test_a_mistake_inside_an_exception_group_fails_the_build():
    async def fan_out() -> None:
        async def step() -> None:
            retriever.search("q")  # noqa: F821

        import asyncio

        async with asyncio.TaskGroup() as group:
            group.create_task(step())

    with pytest.raises(CorpusBuildError, match="retriever"):
        _araises(fan_out)


def test_a_declared_type_is_checked():
    assert isinstance(_raises_as(KeyError, lambda: {}["order_id"]), KeyError)
    with pytest.raises(CorpusBuildError, match=r"expected \['KeyError'\], raised IndexError"):
        _raises_as(KeyError, lambda: [][0])


def test_a_declared_name_error_is_a_case():
    def run_generated_code() -> None:
        exec("total = price * quantity", {})  # a code tool running the model's code: the NameError is the case

    assert isinstance(_raises_as(NameError, run_generated_code), NameError)
    assert isinstance(_raises_as(NameError, lambda: undefined_on_purpose), NameError)  # noqa: F821


def test_a_call_that_does_not_raise_fails_the_build():
    with pytest.raises(CorpusBuildError, match="did not raise"):
        _raises(lambda: None)


def test_a_broad_declaration_does_not_excuse_a_mistake():
    with pytest.raises(CorpusBuildError, match="NameError"):
        _raises_as(Exception, lambda: undefined_helper())  # noqa: F821


def test_a_fixed_directory_has_the_same_path_every_time_and_starts_empty():
    with _fixed_directory("harness-check") as first:
        (first / "left-behind.json").write_text("{}")
    assert not first.exists()
    with _fixed_directory("harness-check") as second:
        assert second == first and not any(second.iterdir())
