"""Property-based fuzzing: no input crashes decoding, root-cause extraction or row building."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from correlator.formats.decode import decode
from correlator.formats.events import LogEvent, UsageMetric
from correlator.processing.batching import LOGS, METRICS, PartitionBatcher
from correlator.processing.classify import Classifier
from correlator.processing.rootcause import chain_from_dict_tracebacks, chain_from_message, chain_from_traceback_text
from correlator.processing.rows import chain_of_text
from correlator.records import DeadLetter, Message, Provenance

CLASSIFIER = Classifier.from_file()
HERE = Provenance("fuzz", 0, 0, 1_763_805_600_000)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=60),
)  # fmt: skip
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)
_core_keys = st.sampled_from([
    "event", "message", "level", "levelname", "timestamp", "time", "asctime", "created", "exception", "exc_info",
    "stack_trace", "error_id", "trace_id", "context", "error_category", "success", "error", "error_detail",
    "input_tokens", "cost_usd", "duration_seconds", "finish_reason", "model", "service",
])  # fmt: skip
_events = st.dictionaries(st.one_of(_core_keys, st.text(max_size=10)), _json, max_size=8)
_traceback_words = st.sampled_from([
    "Traceback (most recent call last):\n", '  File "a.py", line 3, in f\n', "    x()\n", "ValueError: boom\n",
    "\nThe above exception was the direct cause of the following exception:\n\n", "openai.RateLimitError: 429\n",
    "During handling of the above exception, another exception occurred:\n", "LLM chat interaction failed [ab12]: ",
    ":", "\n", " ", "Error code: 504",
])  # fmt: skip
_tracebacks = st.lists(st.one_of(_traceback_words, st.text(max_size=20)), max_size=12).map("".join)


def _build(kind_batcher: PartitionBatcher, raw: bytes) -> None:
    kind_batcher.add([Message(raw, HERE)])
    batch = kind_batcher.take()
    assert batch is not None and batch.size == 1


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_dead_letter(raw: bytes):
    for model in (LogEvent, UsageMetric):
        result = decode(raw, model, HERE)
        assert isinstance(result, DeadLetter | model)


@FUZZ
@given(_events)
def test_arbitrary_json_objects_become_a_row_or_a_dead_letter(document: dict[str, Any]):
    raw = orjson.dumps(document)
    for kind in (LOGS, METRICS):
        _build(PartitionBatcher(kind, CLASSIFIER, max_records=10), raw)


@FUZZ
@given(_tracebacks)
def test_root_cause_extraction_never_fails_on_text(text: str):
    chain_from_traceback_text(text)
    chain_from_message(text, CLASSIFIER.embedded_cause)
    CLASSIFIER.classify_chain(chain_of_text(text, CLASSIFIER) if text.strip() else (), "")


@FUZZ
@given(st.lists(_json, max_size=5))
def test_root_cause_extraction_never_fails_on_odd_dict_tracebacks(stacks: list[Any]):
    chain = chain_from_dict_tracebacks(stacks)
    CLASSIFIER.classify_chain(chain, "")
    _build(PartitionBatcher(LOGS, CLASSIFIER, max_records=10), orjson.dumps({"event": "x", "exception": stacks}))
