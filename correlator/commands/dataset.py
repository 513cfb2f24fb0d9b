"""Regression datasets: stored failures as versioned JSON lines an application's CI can replay.

The bytes depend on the selection and the stored rows only: items are sorted by id, each one
canonical JSON (sorted keys, no wall-clock time), so the same selection gives the same file,
and the version (a SHA-256 of the items' bytes) changes exactly when an item does. An item's
id is derived from its trace and failing span, so it stays the same as the dataset grows.
Items follow ``schemas/datasets/regression_item.schema.json``; the first line is the manifest
(``schemas/datasets/manifest.schema.json``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from clickhouse_connect.driver.client import Client

from correlator.commands.incidents import Record, query
from correlator.commands.span_replay import span_call

FORMAT = "correlator.regression/1"
# call attributes that are the model's settings: what a replay passes back to the provider
SETTING_KEYS = frozenset({
    "temperature", "top_p", "top_k", "max_tokens", "max_output_tokens", "max_completion_tokens", "seed", "stop",
    "presence_penalty", "frequency_penalty", "reasoning_effort", "n",
})  # fmt: skip
INPUT_KEYS = ("messages", "prompt")


@dataclass(frozen=True, slots=True)
class Selection:
    """Which failures a dataset holds; ``since`` as the user wrote it, so the manifest names no wall-clock time."""

    since: str
    reviewed: bool = False
    group: str = ""
    error_class: str = ""

    def describe(self) -> dict[str, Any]:
        return {"since": self.since, "reviewed": self.reviewed, "group": self.group, "class": self.error_class}


@dataclass(frozen=True, slots=True)
class Export:
    items: int
    version: str


def export_dataset(
    client: Client, database: str, name: str, selection: Selection, since: datetime, rules_version: str, output: Path
) -> Export:
    """Write the manifest line, then one line per case; returns how many and the version."""
    lines = dataset_lines(client, database, selection, since)
    version = "sha256:" + hashlib.sha256(b"".join(lines)).hexdigest()
    manifest = {"dataset": name, "format": FORMAT, "version": version, "selection": selection.describe(),
                "rules_version": rules_version}  # fmt: skip
    output.write_bytes(_canonical({"manifest": manifest}) + b"".join(lines))
    return Export(len(lines), version)


def dataset_lines(client: Client, database: str, selection: Selection, since: datetime) -> list[bytes]:
    """Each case as a canonical JSON line, sorted by item id."""
    cases = query(client, database, "dataset_cases", since=since, reviewed=int(selection.reviewed),
                  group=selection.group, **{"class": selection.error_class})  # fmt: skip
    traces = [case["trace_id"] for case in cases]
    calls, steps = _by_trace([]), _by_trace([])
    if traces:
        calls = _by_trace(_calls(client, database, traces))
        steps = _by_trace(query(client, database, "dataset_steps", traces=traces))
    items = [regression_item(case, calls[case["trace_id"]], steps[case["trace_id"]]) for case in cases]
    return [_canonical(item) for item in sorted(items, key=lambda item: str(item["id"]))]


def _calls(client: Client, database: str, traces: list[str]) -> list[Record]:
    """The traces' usage rows, and their LLM spans no usage row reports (by span id), in time order."""
    reported = query(client, database, "dataset_calls", traces=traces)
    seen = {(call["trace_id"], call["span_id"]) for call in reported if call["span_id"]}
    spans = [span_call(span) for span in query(client, database, "dataset_spans", traces=traces)
             if (span["trace_id"], span["span_id"]) not in seen]  # fmt: skip
    return sorted([*reported, *spans], key=lambda call: (call["trace_id"], call["ts"]))


def regression_item(case: Record, calls: list[Record], steps: list[Record]) -> dict[str, Any]:
    """What replaying the case needs (input, model, settings, context, tools), what came out, and why it failed."""
    call = _failing_call(case, calls)
    attributes: dict[str, str] = dict(call["attributes"]) if call else {}
    span_id = case["review_span_id"] or (call["span_id"] if call else "")
    failure = None
    if case["error_id"]:
        failure = {key: case[key] for key in ("category", "error_class", "rule", "fingerprint", "root_cause_type",
                                              "root_cause_message")}  # fmt: skip
    review = None
    if case["reviewed"]:
        review = {"verdict": "fail", "mode": case["review_mode"], "note": case["review_note"]}
    return {
        "id": item_id(case["trace_id"], span_id),
        "trace_id": case["trace_id"],
        "span_id": span_id,
        "input": _input(attributes, steps, span_id),
        "model": call["model"] if call else "",
        "provider": call["provider"] if call else "",
        "prompt_version": call["prompt_version"] if call else "",
        "settings": {key: _decoded(value) for key, value in sorted(attributes.items()) if key in SETTING_KEYS},
        "response_format": _decoded(attributes["response_format"]) if "response_format" in attributes else None,
        "tools": _decoded(attributes["tools"]) if "tools" in attributes else None,
        "context": _context(attributes, steps),
        "tool_calls": _decoded(attributes.get("tool_calls", "[]")),
        "output": attributes.get("output"),
        "finish_reason": call["finish_reason"] if call else "",
        "failure": failure,
        "label": case["review_mode"] or (f"{case['category']}/{case['error_class']}" if failure else "fail"),
        "review": review,
        "rules_version": call["rules_version"] if call else "",
    }


def item_id(trace_id: str, span_id: str) -> str:
    """The same for the same case in every export: its trace and failing span, hashed."""
    return hashlib.sha256(f"{trace_id}\x1f{span_id}".encode()).hexdigest()[:20]


def _failing_call(case: Record, calls: list[Record]) -> Record | None:
    """The reviewed span's call, else the failure's, else the trace's first failed call, else its last."""
    for matches in (
        lambda call: bool(case["review_span_id"]) and call["span_id"] == case["review_span_id"],
        lambda call: bool(case["error_id"]) and call["error_id"] == case["error_id"],
        lambda call: not call["success"],
    ):
        found = next((call for call in calls if matches(call)), None)
        if found is not None:
            return found
    return calls[-1] if calls else None


def _input(attributes: dict[str, str], steps: list[Record], span_id: str) -> dict[str, Any]:
    """The rendered prompt or messages as logged: on the call, else on the span's (or the trace's) prompt step."""
    found = {key: _decoded(attributes[key]) for key in INPUT_KEYS if key in attributes}
    if found:
        return found
    ordered = [step for step in steps if step["span_id"] == span_id] + steps
    for step in ordered:
        found = {key: _decoded(step["attributes"][key]) for key in INPUT_KEYS if key in step["attributes"]}
        if found:
            return found
    return {}


def _context(attributes: dict[str, str], steps: list[Record]) -> dict[str, Any]:
    """Retrieved documents' ids (in the order first retrieved) and the tool steps' arguments."""
    document_ids: list[Any] = []
    for source in [attributes, *(step["attributes"] for step in steps)]:
        ids = _decoded(source.get("document_ids", "[]"))
        for document_id in ids if isinstance(ids, list) else [ids]:
            if document_id not in document_ids:
                document_ids.append(document_id)
    tool_steps = [
        {"span_id": step["span_id"], "tool_name": step["tool_name"], "tool_args": _decoded(step["tool_args"])}
        for step in steps if step["tool_args"]
    ]  # fmt: skip
    return {"document_ids": document_ids, "tool_steps": tool_steps}


def _decoded(text: str) -> Any:
    """An attribute as its JSON value when it holds one (the map stores non-strings as JSON), else the text."""
    if text[:1] in ("[", "{", '"') or text in ("true", "false", "null") or _is_number(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
    return text


def _is_number(text: str) -> bool:
    return bool(text) and text.lstrip("-").replace(".", "", 1).replace("e", "", 1).isdigit()


def _by_trace(records: Iterable[Record]) -> defaultdict[str, list[Record]]:
    grouped: defaultdict[str, list[Record]] = defaultdict(list)
    for record in records:
        grouped[record["trace_id"]].append(record)
    return grouped


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS) + b"\n"
