"""The kind of step that failed decides between labels that share a library's words (rules 2026.12.06-14 to -18).

Each failure is raised for real and judged in the four forms of :mod:`tests.quality`, both ways: the same decoder's
or validator's error is configuration in a settings loader or a start-up step and keeps its other label elsewhere.
"""

from __future__ import annotations

import io
import json
import pickle
from typing import Any

import pydantic
import pytest
from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import VertexGeminiConfig

from correlator.processing.classify import Classifier
from tests.test_library_evidence import ALL_FORMS, _labels, _raised

BOM_JSON = b'\xef\xbb\xbf{"model": "gpt-4o"}'


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_file()


def load_settings_file(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))


def get_cached_run(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))


def test_a_byte_order_mark_is_a_setting_in_a_settings_loader_and_corrupt_data_read_back(classifier: Classifier):
    """The json module words a BOM the same for any file: the loader's frame says which file it was."""
    settings = _labels(_raised(lambda: load_settings_file(BOM_JSON)), classifier)
    assert settings == dict.fromkeys(ALL_FORMS, "configuration"), settings
    cached = _labels(_raised(lambda: get_cached_run(BOM_JSON)), classifier)
    assert cached == dict.fromkeys(ALL_FORMS, "corrupted_data"), cached


def read_config(handle: io.StringIO) -> Any:
    return json.load(handle)


def restore_session(handle: io.StringIO) -> Any:
    return json.load(handle)


def test_a_stored_data_source_line_does_not_outweigh_a_settings_frame(classifier: Classifier):
    """``json.load(handle)`` is read as stored data from its source line (text tracebacks) unless the frame is named
    for settings."""
    settings = _labels(_raised(lambda: read_config(io.StringIO('{"retries": 3,}'))), classifier)
    assert settings == dict.fromkeys(ALL_FORMS, "configuration"), settings
    session = _labels(_raised(lambda: restore_session(io.StringIO('{"turns": [1,}'))), classifier)
    assert session == dict.fromkeys(ALL_FORMS, "corrupted_data"), session


def init_provider(text: str) -> Any:
    return json.loads(text)


def init_cache(raw: bytes) -> Any:
    return pickle.loads(raw)


def init_reply_cache(text: str) -> Any:
    return json.loads(text)


def test_a_start_up_step_is_configuration_unless_it_names_stored_data(classifier: Classifier):
    startup = _labels(_raised(lambda: init_provider('{"name": openai}')), classifier)
    assert startup == dict.fromkeys(ALL_FORMS, "configuration"), startup
    unpickled = _labels(_raised(lambda: init_cache(pickle.dumps({"a": 1})[:-3])), classifier)
    assert unpickled == dict.fromkeys(ALL_FORMS, "corrupted_data"), unpickled
    cached = _labels(_raised(lambda: init_reply_cache('{"answer": 4')), classifier)
    assert cached == dict.fromkeys(ALL_FORMS, "corrupted_data"), cached


def price_per_token(text: str) -> Any:
    return json.loads(text)


def load_price_history(text: str) -> Any:
    return json.loads(text)


def test_a_storage_word_outweighs_a_settings_noun_but_not_settings(classifier: Classifier):
    """A price or an option is a setting in a frame named for it alone; read back from history or a cache it is data;
    a frame named for settings stays configuration."""
    price = _labels(_raised(lambda: price_per_token('{"gpt-4o": 2.5')), classifier)
    assert price == dict.fromkeys(ALL_FORMS, "configuration"), price
    history = _labels(_raised(lambda: load_price_history('{"gpt-4o": 2.5')), classifier)
    assert history == dict.fromkeys(ALL_FORMS, "corrupted_data"), history
    settings = _labels(_raised(lambda: load_settings_file(b'{"model": "gpt-4o",}')), classifier)
    assert settings == dict.fromkeys(ALL_FORMS, "configuration"), settings


@pydantic.validate_call
def book_table(restaurant: str, party_size: int) -> str:
    return f"{restaurant}:{party_size}"


class Forecast(pydantic.BaseModel):
    days: int


def test_a_schema_named_for_a_function_is_a_calls_arguments_and_a_model_class_is_a_shape(classifier: Classifier):
    """pydantic names a ``validate_call`` (or LangChain ``@tool``) schema after the function, snake_case."""
    call = _labels(_raised(lambda: book_table(restaurant="Noma", party_size="six")), classifier)  # type: ignore[arg-type]
    assert call == dict.fromkeys(ALL_FORMS, "tool_call_malformed"), call
    shape = _labels(_raised(lambda: Forecast.model_validate_json('{"days": "the weekend"}')), classifier)
    assert shape == dict.fromkeys(ALL_FORMS, "schema_mismatch"), shape


def step(message: str) -> None:
    raise RuntimeError(message)


def test_a_generation_flagged_for_unauthorized_citations_is_a_content_filter_not_auth(classifier: Classifier):
    """LiteLLM words Gemini's RECITATION "flagged for unauthorized citations": the verdict speaks before the
    credentials' word, which still means auth on its own."""
    flagged = VertexGeminiConfig().get_flagged_finish_reasons()["RECITATION"]
    recitation = _labels(_raised(lambda: step(flagged)), classifier)
    assert recitation == dict.fromkeys(ALL_FORMS, "content_filter"), recitation
    refused = _labels(_raised(lambda: step("401 Unauthorized: the gateway refused the key")), classifier)
    assert refused == dict.fromkeys(ALL_FORMS, "auth"), refused


NEAR: list[tuple[str, str]] = [
    ("the linter exited with status 1", "out_of_memory"),
    ("memory usage is 40% of the limit", "out_of_memory"),
    ("guardrail settings were reloaded", "content_filter"),
    ("the moderation queue is empty", "content_filter"),
    ("safety settings: default", "content_filter"),
    ("1 validation error for Answer", "tool_call_malformed"),
    ("moderation result: {'sexual': False, 'violence': False}", "content_filter"),
    ("moderation result: {'ModerationLabels': []}", "content_filter"),
    ("text analysis: [{'category': 'Hate', 'severity': 0}]", "content_filter"),
    ("toxicity 0.12, under the threshold", "content_filter"),
    ("verdicts: {'hate': {'filtered': False, 'severity': 'safe'}}", "content_filter"),
    ("the reply was blocked by the proxy: connection reset", "content_filter"),
    ("finish reason STOP", "content_filter"),
    ("prompt guard loaded", "content_filter"),
]


@pytest.mark.parametrize(("text", "not_expected"), NEAR, ids=[f"{t} not {n}" for t, n in NEAR])
def test_text_near_a_kind_does_not_take_its_label(text: str, not_expected: str, classifier: Classifier) -> None:
    labels = _labels(_raised(lambda: step(text)), classifier)
    assert not_expected not in labels.values(), labels
