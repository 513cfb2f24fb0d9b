"""Evidence from frames' source lines: what traceback text prints under ``File "...", line N, in f``.

Exceptions are raised for real in functions whose names carry no evidence, so only the code
line can explain them; structlog's dict frames carry no source line, so there the same failure
rests on what else the chain says.
"""

from __future__ import annotations

import json
import os
import traceback
from typing import Any

import orjson
import pytest

from correlator.devkit.workload import masked_exception, render_log
from correlator.formats.decode import decode
from correlator.formats.events import LogEvent
from correlator.processing.classify import RULES_PATH, Classifier
from correlator.processing.rootcause import ChainLink, chain_from_traceback_text
from correlator.processing.rows import explain_log, stored_traceback
from correlator.records import Provenance
from tests.quality import NOW

HERE = Provenance("test", 0, 0)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_file()


class _ToolFunction:
    def __init__(self, arguments: str) -> None:
        self.arguments = arguments


class _ToolCall:
    def __init__(self, arguments: str) -> None:
        self.function = _ToolFunction(arguments)


def step(tool_call: _ToolCall) -> dict[str, Any]:
    return dict(json.loads(tool_call.function.arguments))


def first(choices: list[Any]) -> Any:
    return choices[0].message


def warmth() -> float:
    return float(os.getenv("CORRELATOR_TEST_WARMTH", "warm"))


def _raised(call: Any, *args: Any) -> BaseException:
    try:
        call(*args)
    except Exception as exc:
        return exc
    raise AssertionError("did not raise")


def _text_line(exc: BaseException, capture_locals: bool = False) -> bytes:
    masked = masked_exception(lambda: _reraise(exc))
    text = "".join(traceback.TracebackException.from_exception(masked, capture_locals=capture_locals).format())
    return orjson.dumps({"message": "llm call failed", "levelname": "ERROR", "exc_info": text})


def _reraise(exc: BaseException) -> None:
    raise exc


def _explained(line: bytes, classifier: Classifier) -> tuple[str, str]:
    event = decode(line, LogEvent, HERE)
    assert isinstance(event, LogEvent)
    label = explain_log(event, classifier).label
    return label.error_class, label.rule


def test_text_tracebacks_give_each_frame_its_source_line_and_dict_frames_none():
    exc = _raised(step, _ToolCall("{'city': 'Oslo'}"))
    text = "".join(traceback.format_exception(exc))
    root = chain_from_traceback_text(text)[0]
    assert len(root.sources) == len(root.frames)
    code = "return dict(json.loads(tool_call.function.arguments))"
    assert root.sources[root.frames.index(f"{__file__}:step")] == code
    assert not any(line.strip(" ^~") == "" for line in root.sources if line)  # column markers are not code
    stacks = orjson.loads(render_log("failed", "error", NOW, exc))["exception"]
    event = decode(orjson.dumps({"message": "failed", "level": "error", "exception": stacks}), LogEvent, HERE)
    assert isinstance(event, LogEvent)
    assert explain_log(event, Classifier.from_file()).chain[0].sources == ()


@pytest.mark.parametrize(
    ("call", "args", "expected", "rule", "without"),
    [
        (step, (_ToolCall('{"city": "Os'),), "tool_call_malformed", "source.tool_arguments",
         ("invalid_json", "type.invalid_json")),
        (first, ([],), "missing_data", "source.first_item", ("missing_data", "type.absent_item")),
        (warmth, (), "configuration", "source.environment", ("unknown", "no-evidence")),
    ],
)  # fmt: skip
def test_a_source_line_explains_a_failure_whose_names_say_nothing(
    classifier, call, args, expected: str, rule: str, without: tuple[str, str]
):
    """Without the source rules (nor the learned fallback): a JSON error, a bare type's weak evidence, no evidence."""
    os.environ.pop("CORRELATOR_TEST_WARMTH", None)
    exc = _raised(call, *args)
    assert _explained(_text_line(exc), classifier) == (expected, rule)
    assert _explained(_text_line(exc, capture_locals=True), classifier) == (expected, rule)
    label, by = _explained(_text_line(exc), Classifier(_rules_without_sources()))
    assert (label, by[: len(without[1])]) == without


def test_a_library_frames_source_line_weighs_less_than_the_apps_own(classifier):
    library = "/srv/app/.venv/lib/python3.11/site-packages/agentkit/run.py:run"
    app = "/srv/app/service.py:answer"
    tool_line, setting_line = 'city = tool_call.function.arguments["city"]', "token = os.environ[name]"
    in_app = {"source.tool_arguments": tool_line, "source.environment": setting_line}
    for rule, app_line in in_app.items():
        library_line = setting_line if app_line == tool_line else tool_line
        chain = (ChainLink("KeyError", "'city'", (library, app), (library_line, app_line)),)
        assert classifier.classify_chain(chain).rule == rule
    library_only = (ChainLink("KeyError", "'TOKEN'", (library,), (setting_line,)),)
    assert classifier.classify_chain(library_only).rule == "source.environment"


def test_a_stored_traceback_keeps_code_lines_and_drops_locals_so_reclassify_reads_the_same_sources():
    exc = _raised(step, _ToolCall('{"city": "Os'))
    masked = masked_exception(lambda: _reraise(exc))
    text = "".join(traceback.TracebackException.from_exception(masked, capture_locals=True).format())
    assert "tool_call = <" in text  # the local's repr, which must not be kept
    stored = stored_traceback(text)
    assert "tool_call = <" not in stored
    assert [link.sources for link in chain_from_traceback_text(stored)] == [
        link.sources for link in chain_from_traceback_text(text)
    ]
    assert "return dict(json.loads(tool_call.function.arguments))" in chain_from_traceback_text(stored)[0].sources


def _rules_without_sources() -> dict[str, Any]:
    rules = orjson.loads(RULES_PATH.read_bytes())
    rules["version"] = "before-sources"
    rules["rules"] = [r for r in rules["rules"] if "source_patterns" not in r]
    del rules["learned_fallback"]  # what the rules alone say, whatever the model would guess
    return rules
