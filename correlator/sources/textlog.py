"""Plain-text Python log files → log records, tracebacks and all.

A record starts on a line that matches the ``logging`` format (by default
``%(asctime)s - %(name)s - %(levelname)s - %(message)s``); every following line that does
not is part of it: more message, or from "Traceback (most recent call last):" on, its
exception text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from correlator.errors import ConfigurationError

DEFAULT_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"

_FIELD = re.compile(r"%\((?P<name>\w+)\)(?P<flags>[-#0 +]*\d*(?:\.\d+)?)(?P<kind>[sdfr])")
_FIELD_PATTERNS = {
    "asctime": r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d+)?",
    "levelname": r"[A-Z]+",
    "name": r"\S+",
    "message": r".*",
}
_IDS = {
    "error_id": re.compile(r"(?:error_id[=:]\s*['\"]?|\[)(?P<value>[0-9a-f]{12})(?:\]|\b)"),
    "trace_id": re.compile(r"trace_id[=:]\s*['\"]?(?P<value>[0-9a-fA-F-]{16,36})\b"),
}
_TRACEBACK_START = ("Traceback (most recent call last):", "Exception Group Traceback (most recent call last):")


@dataclass(frozen=True, slots=True)
class TextRecord:
    """One log record and the line of the file it started on (1-based)."""

    line: int
    fields: dict[str, Any]


def compile_format(log_format: str) -> re.Pattern[str]:
    """A ``logging`` format string → a regex with one named group per field."""
    pattern, position = [], 0
    for match in _FIELD.finditer(log_format):
        pattern.append(re.escape(log_format[position : match.start()]))
        name = match.group("name")
        default = r"-?\d+(?:\.\d+)?" if match.group("kind") in "df" else r".*?"
        pattern.append(f"(?P<{name}>{_FIELD_PATTERNS.get(name, default)})")
        position = match.end()
    pattern.append(re.escape(log_format[position:]))
    if "(?P<message>" in "".join(pattern):
        return re.compile("^" + "".join(pattern) + "$")
    raise ConfigurationError(f"the log format {log_format!r} has no %(message)s field")


def parse_text_log(lines: Iterable[str], log_format: str = DEFAULT_FORMAT) -> Iterator[TextRecord]:
    """Yield records in file order; lines before the first record form a record of their own."""
    record_start = compile_format(log_format)
    current: dict[str, Any] | None = None
    start_line, continuation = 0, []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        match = record_start.match(line)
        if match is None:
            if current is None and line.strip():
                current, start_line = {"message": ""}, number
            continuation.append(line)
            continue
        if current is not None:
            yield TextRecord(start_line, _finish(current, continuation))
        current, start_line, continuation = match.groupdict(), number, []
    if current is not None:
        yield TextRecord(start_line, _finish(current, continuation))


def _finish(fields: dict[str, Any], continuation: list[str]) -> dict[str, Any]:
    while continuation and not continuation[-1].strip():
        continuation.pop()
    starts = [i for i, line in enumerate(continuation) if line.strip().startswith(_TRACEBACK_START)]
    message_lines = continuation[: starts[0]] if starts else continuation
    if message_lines:
        fields["message"] = "\n".join([fields.get("message", ""), *message_lines]).strip("\n")
    if starts:
        fields["exc_info"] = "\n".join(continuation[starts[0] :])
    text = fields.get("message", "") + "\n" + fields.get("exc_info", "")
    for key, pattern in _IDS.items():
        found = pattern.search(text)
        if found and key not in fields:
            fields[key] = found.group("value")
    return fields
