"""A traceback read once is remembered (``rows.read_exception``): rows built from the memo are the rows built afresh.

Failure lines whose tracebacks repeat (the workload's wrappers that keep the cause only in
their chain), the same traceback with another finish reason, error category, level or
message, as text (once longer than the memo keeps) and as structlog's dicts, and an empty
exception list: each line's row is built once with the memos emptied before it and once
after every other line has filled them.
An exception nested too deeply to be written as JSON is explained all the same, and its line
stays a dead letter, as before there was a memo.
"""

from __future__ import annotations

import copy

import orjson

from correlator.devkit.workload import mixed_workload
from correlator.formats.events import LogEvent
from correlator.processing.batching import LOGS, PartitionBatcher
from correlator.processing.classify import RULES_PATH, Classifier
from correlator.processing.rows import explain_log, forget_explanations, log_row
from correlator.records import Message, Provenance

HERE = Provenance("app-logs", 0, 7, None)
TRACEBACK_TEXT = (
    "Traceback (most recent call last):\n"
    '  File "/app/llm.py", line 12, in call\n'
    "    reply = client.chat(prompt)\n"
    "TimeoutError: The read operation timed out\n"
)


def _variants(document: dict[str, object]) -> list[dict[str, object]]:
    """The same exception under other circumstances the label may depend on."""
    return [
        document,
        {**document, "finish_reason": "length"},
        {**document, "error_category": "rate_limit"},
        {**document, "level": "info"},
        {**document, "event": "request failed: TimeoutError: The read operation timed out"},
        {**document, "exception": TRACEBACK_TEXT},
        {**document, "exception": TRACEBACK_TEXT, "finish_reason": "content_filter"},
        {**document, "exception": []},
        {**document, "exception": ""},
        {**document, "exception": TRACEBACK_TEXT.replace("timed out", "timed out " + "after a long wait " * 1_000)},
    ]


def _events() -> list[LogEvent]:
    workload = mixed_workload(120, failure_share=1.0, seed=3)
    failures = [orjson.loads(line) for line in workload.logs if b'"level":"error"' in line]
    documents = [*failures, *(variant for failure in failures[:6] for variant in _variants(failure))]
    return [LogEvent.model_validate(document) for document in documents]


def _fresh_rows(events: list[LogEvent], classifier: Classifier) -> list[tuple[object, ...]]:
    rows = []
    for event in events:
        forget_explanations()
        rows.append(log_row(event, HERE, classifier))
    return rows


def test_rows_from_remembered_tracebacks_are_the_rows_built_afresh():
    events, classifier = _events(), Classifier.from_file()
    fresh = _fresh_rows(events, classifier)
    forget_explanations()
    first_pass = [log_row(event, HERE, classifier) for event in events]
    remembered = [log_row(event, HERE, classifier) for event in reversed(events)][::-1]
    assert len({orjson.dumps(event.exception) for event in events}) < len(events), "tracebacks repeat"
    assert first_pass == fresh
    assert remembered == fresh
    assert len({row[15] for row in fresh}) > 3, "the variants are labelled differently"


def test_another_classifier_is_never_answered_from_the_first_ones_memo():
    rules = orjson.loads(RULES_PATH.read_bytes())
    fewer = copy.deepcopy(rules)
    fewer["rules"] = [rule for rule in fewer["rules"] if rule["class"] not in ("timeout", "rate_limit")]
    fewer["version"] = f"{rules['version']}-fewer"
    full, reduced = Classifier.from_file(), Classifier(fewer, RULES_PATH.parent)
    events = _events()
    expected = _fresh_rows(events, reduced)
    forget_explanations()
    for event in events:
        log_row(event, HERE, full)
    assert [log_row(event, HERE, reduced) for event in events] == expected
    assert expected != _fresh_rows(events, full)


def test_an_exception_nested_deeper_than_json_is_written_is_explained_and_its_line_a_dead_letter():
    cause = {"exc_type": "TimeoutError", "exc_value": "The read operation timed out", "frames": []}
    line = orjson.dumps({"event": "call failed", "level": "error", "timestamp": "2026-01-01T00:00:00Z"})[:-1]
    line += b',"exception":[' + orjson.dumps(cause) + b"," + b"[" * 400 + b"]" * 400 + b"]}"  # orjson writes 254
    event = LogEvent.model_validate(orjson.loads(line))
    classifier = Classifier.from_file()
    assert explain_log(event, classifier).label.error_class == "timeout"
    batcher = PartitionBatcher(LOGS, classifier, max_records=10)
    batcher.add([Message(line, HERE)])
    batch = batcher.take()
    assert batch is not None and not batch.rows
    assert [letter.reason for letter in batch.dead_letters] == ["unprocessable"]
