"""Plain-text Python log files: records and multi-line tracebacks, written by real logging."""

from __future__ import annotations

import io
import logging

import pytest

from correlator.devkit.workload import FAILURES, masked_exception
from correlator.formats.events import LogEvent
from correlator.processing.classify import Classifier
from correlator.processing.rows import explain_log
from correlator.sources.textlog import DEFAULT_FORMAT, compile_format, parse_text_log


def _log_text(log_format: str = DEFAULT_FORMAT) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(log_format))
    logger = logging.getLogger(f"app.llm.{id(stream)}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.info("calling gpt-4o")
    try:
        raise masked_exception(FAILURES["rate_limit"][1], "seed")
    except ValueError:
        logger.exception("LLM chat interaction failed [4c2a64973bcd]\nsecond line of the message")
    logger.warning("retrying in 2s trace_id=4bf92f3577b34da6a3ce929d0e0e4736")
    return stream.getvalue()


def test_records_and_tracebacks_spanning_lines():
    records = list(parse_text_log(_log_text().splitlines(keepends=True)))
    assert [r.fields["levelname"] for r in records] == ["INFO", "ERROR", "WARNING"]
    assert [r.line for r in records][:2] == [1, 2]
    failed = records[1].fields
    assert failed["error_id"] == "4c2a64973bcd"
    assert failed["message"] == "LLM chat interaction failed [4c2a64973bcd]\nsecond line of the message"
    assert failed["exc_info"].startswith("Traceback (most recent call last):")
    assert "The above exception was the direct cause" in failed["exc_info"]
    assert records[2].fields["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_the_root_cause_of_a_text_record_is_classified():
    record = list(parse_text_log(_log_text().splitlines()))[1]
    explanation = explain_log(LogEvent.model_validate(record.fields), Classifier.from_file())
    assert explanation.root_cause.type == "openai.RateLimitError"
    assert explanation.label.error_class == "rate_limit"


def test_another_layout_through_its_format_string():
    layout = "[%(levelname)s] %(asctime)s %(name)s:%(lineno)d | %(message)s"
    records = list(parse_text_log(_log_text(layout).splitlines(), layout))
    assert [r.fields["levelname"] for r in records] == ["INFO", "ERROR", "WARNING"]
    assert records[1].fields["lineno"].isdigit()


def test_a_format_without_message_is_refused():
    with pytest.raises(ValueError, match="message"):
        compile_format("%(asctime)s %(levelname)s")
