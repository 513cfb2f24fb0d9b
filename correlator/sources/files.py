"""History on disk → messages: JSONL (plain or gzip) and plain-text Python log files.

Every message carries its file and line as provenance (``file:<absolute path>``, partition
0, offset = line number), so loading the same file twice is recognised as the same rows.
A folder holding a usage-metrics file beside a log file is one *run*: both are loaded
together, so the run's ``error_id``\\ s meet in the views.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import orjson

from correlator.errors import InputError
from correlator.records import LOG_STREAM, METRIC_STREAM, Message, Provenance
from correlator.sources.textlog import DEFAULT_FORMAT, parse_text_log

FILE_SOURCE_PREFIX = "file:"
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_TEXT_SUFFIXES = (".txt", ".log")
_METRICS_HINTS = ("usage", "metric")


class FileSourceError(InputError):
    """A path that cannot be loaded: it does not exist, or holds no file correlator reads."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    #: which stream its records belong to (a name: what they become is the pipeline's business)
    stream: str
    is_text_log: bool

    @property
    def source(self) -> str:
        """The ``topic`` its rows carry: stable for a file, whatever the working directory."""
        return FILE_SOURCE_PREFIX + str(self.path)


@dataclass(frozen=True, slots=True)
class Run:
    """Files loaded as one unit: a single file, or a folder's metrics and logs side by side."""

    name: str
    files: tuple[SourceFile, ...]


def discover(paths: Iterable[Path]) -> list[Run]:
    """The runs under ``paths`` (files or folders, searched recursively), in a stable order."""
    found: dict[Path, list[SourceFile]] = {}
    for given in paths:
        path = given.resolve()
        if not path.exists():
            raise FileSourceError(f"{given}: no such file or folder")
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for candidate in candidates:
            source_file = _source_file(candidate, explicit=candidate == path)
            if source_file is not None:
                found.setdefault(candidate.parent, []).append(source_file)
    runs = []
    for folder, files in sorted(found.items()):
        if {f.stream for f in files} == {LOG_STREAM, METRIC_STREAM}:
            runs.append(Run(str(folder), tuple(sorted(files, key=lambda f: f.path))))
        else:
            runs.extend(Run(str(f.path), (f,)) for f in files)
    if not runs:
        raise FileSourceError("no JSONL or log files under " + ", ".join(str(p) for p in paths))
    return runs


def _source_file(path: Path, explicit: bool) -> SourceFile | None:
    """What a file holds, by its name and first line; a folder's other files are passed over."""
    name = path.name.lower().removesuffix(".gz")
    if not explicit and not name.endswith(_JSON_SUFFIXES + _TEXT_SUFFIXES):
        return None
    first = _first_line(path)
    is_json = name.endswith(_JSON_SUFFIXES) or first.startswith(b"{")
    return SourceFile(path, _stream_of(name, first) if is_json else LOG_STREAM, is_text_log=not is_json)


def _stream_of(name: str, first_line: bytes) -> str:
    """A usage-metrics row says whether the call succeeded; a log line says what happened."""
    try:
        document = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        return METRIC_STREAM if any(hint in name for hint in _METRICS_HINTS) else LOG_STREAM
    is_metric = isinstance(document, dict) and "success" in document and not {"event", "message"} & document.keys()
    return METRIC_STREAM if is_metric else LOG_STREAM


def _open(path: Path) -> BinaryIO:
    if path.name.lower().endswith(".gz"):
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def _first_line(path: Path) -> bytes:
    with _open(path) as stream:
        for line in stream:
            if line.strip():
                return line.strip()
    return b""


def count_lines(source_file: SourceFile) -> int:
    """Lines in the file: the unit progress is measured in (records of a text log span several)."""
    with _open(source_file.path) as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def read_messages(source_file: SourceFile, from_line: int = 1, log_format: str = DEFAULT_FORMAT) -> Iterator[Message]:
    """The file's records from line ``from_line`` on; blank lines are not records."""
    with _open(source_file.path) as stream:
        if source_file.is_text_log:
            lines = (line.decode("utf-8", errors="replace") for line in stream)
            for record in parse_text_log(lines, log_format):
                if record.line >= from_line:
                    yield Message(orjson.dumps(record.fields), Provenance(source_file.source, 0, record.line))
            return
        for number, line in enumerate(stream, start=1):
            if number >= from_line and line.strip():
                yield Message(line.rstrip(b"\r\n"), Provenance(source_file.source, 0, number))
