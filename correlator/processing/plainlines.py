"""Plain log lines from one fetch's bytes to a ClickHouse Native block, in C, with no Python object per line.

Most of a log topic is plain info lines, and the lean path (:mod:`correlator.processing.lean`)
still costs about 12 µs a line between orjson, the row tuple and clickhouse-connect's Native
encoding (README, issue 18). The extension ``_plainlines`` scans a fetch's lines and writes
their rows as one Native block instead; the writer sends it in the same insert as the rows of
the lines it declined. It takes a line only when the lean path would take it and build the
same row, and declines anything else (declining is always safe: a declined line takes the
Python path unchanged). The contract is given from here: the keys are the lean path's
(``formats.events.input_keys(LogEvent)``), the columns are ``LOG_TABLE``'s with what the lean
path puts in each; ``tests/test_lean_path.py`` stores a varied corpus through the C, lean and
general paths and compares the tables, and fuzzes lines through both.

Two guarantees that need more than the line's shape are kept with Hyperscan, one pass each
over the whole fetch, after the scan and before anything is taken:

- **Redaction before storage.** The scanner gives each taken line's texts that redaction
  reads in such a row (``rows_redactor``'s: the text fields, here the message, and every
  attribute's value; ``_redacted_texts`` checks at import that the row holds no other), each
  on a line of its own. A taken line has no backslash, so each text is the line's bytes
  verbatim: the very string the row stores. One scan of the redaction patterns reporting
  every match's end (``redact.secret_match_ends``) declines each line a match touches, as
  ``rows_redactor`` sends each row a match touches to ``row_redactor``. A taken line's
  texts therefore hold no match, and ``redact`` leaves each as it is: redacting its row
  would change nothing. With ``hash_prompts`` the scanner is off (:func:`plain_lines`):
  hashing prompt attributes is the Python path's.
- **Embedded causes.** The lean path declines a message ``classifier.embedded_cause`` matches
  (``chain_from_message``: ``match`` on the stripped message). The scan gives each taken
  line's stripped message on a line of its own; the same pattern, compiled with Hyperscan in
  multi-line mode, reports every match end there. A message holds no newline (control
  characters are declined), so ``^`` at its line's start and ``$`` at its line's end read as
  they do on the message alone, and ``.`` never meets a newline inside it: a message the
  pattern matches has a match ending on its line, and the line is declined. Being ASCII, it
  reads the same under Python's Unicode classes and case folding as under Hyperscan's ASCII
  ones. A pattern Hyperscan cannot compile turns the scanner off.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from correlator.processing.classify import Classifier
from correlator.processing.lean import EMPTY_ARRAYS, EMPTY_STRINGS, FIELD_OF_KEY, STRING_FIELDS
from correlator.processing.patterns import PatternSet
from correlator.processing.redact import ARRAY_COLUMNS, MAP_COLUMNS, TEXT_COLUMNS, secret_match_ends
from correlator.processing.rows import EARLIEST_EVENT, ERROR_LEVELS, NO_LABEL
from correlator.records import LOG_TABLE, Fetched

try:
    from correlator.processing import _plainlines
    from correlator.processing._plainlines import Scan as Scan  # the batcher holds one a fetch
except ImportError:  # built without a C compiler, or with CORRELATOR_PURE_PYTHON=1: the lean path takes them all
    _plainlines = None  # type: ignore[assignment]
    Scan = Any  # type: ignore[misc,assignment]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# how each column of a plain line's row is filled: the lean path's row (lean._ROW_COLUMNS), as data
_LOWERED = {"level": 1, "step": 3, "tool_status": 3}  # 1: lower(); 3: strip().lower()


def _layout() -> list[tuple[str, str, int, int, int, bytes]]:
    """LOG_TABLE's columns as the scanner writes them: (name, type sent, kind, field, flags, constant)."""
    assert _plainlines is not None
    c = _plainlines
    special = {
        "ts": ("DateTime64(6, 'UTC')", c.COLUMN_TIMESTAMP),
        "attributes": ("Map(String, String)", c.COLUMN_ATTRIBUTES),
        "duration_ms": ("Nullable(Float64)", c.COLUMN_NULL_FLOAT),
        "topic": ("String", c.COLUMN_TOPIC),
        "partition": ("Int32", c.COLUMN_PARTITION),
        "offset": ("Int64", c.COLUMN_OFFSET),
    }
    layout = []
    for name in LOG_TABLE.columns:
        if name in special:
            type_name, kind = special[name]
            layout.append((name, type_name, kind, 0, 0, b""))
        elif name in STRING_FIELDS:
            layout.append((name, "String", c.COLUMN_FIELD, STRING_FIELDS.index(name), _LOWERED.get(name, 0), b""))
        elif name in EMPTY_ARRAYS:
            layout.append((name, "Array(String)", c.COLUMN_EMPTY_ARRAY, 0, 0, b""))
        elif name == "evidence":
            layout.append((name, "String", c.COLUMN_CONSTANT, 0, 0, str(NO_LABEL.evidence).encode()))
        elif name in EMPTY_STRINGS:
            layout.append((name, "String", c.COLUMN_CONSTANT, 0, 0, b""))
        else:
            raise TypeError(f"the plain-line scanner does not know what log_events.{name} holds for a plain line")
    return layout


def _redacted_texts() -> tuple[list[int], bool]:
    """What redaction reads in a plain line's row: its text fields, and whether the attributes' values.

    Every other column redaction reads holds "" or () in such a row: nothing to mask.
    """
    read = TEXT_COLUMNS | ARRAY_COLUMNS | MAP_COLUMNS
    fields = [STRING_FIELDS.index(name) for name in STRING_FIELDS if name in read]
    given = {*STRING_FIELDS, "attributes", *EMPTY_ARRAYS, *EMPTY_STRINGS}
    unread = read & set(LOG_TABLE.columns) - given
    if unread:
        raise TypeError(f"redaction reads {sorted(unread)}, which the plain-line scanner does not give it")
    return fields, "attributes" in read


def _keys() -> dict[str, int]:
    codes = {None: _plainlines.KEY_GENERAL, "timestamp": _plainlines.KEY_TIMESTAMP}
    return {key: codes[field] if field in codes else STRING_FIELDS.index(field) for key, field in FIELD_OF_KEY.items()}


class PlainLines:
    """Takes one fetch's plain lines at a time (:meth:`scan`); None from :func:`plain_lines` when it cannot."""

    def __init__(self, classifier: Classifier, redact: bool) -> None:
        assert _plainlines is not None
        self._scanner = _plainlines.Scanner(
            _keys(), STRING_FIELDS.index("level"), sorted(ERROR_LEVELS), _layout(), *_redacted_texts()
        )
        self._message_field = STRING_FIELDS.index("message")
        self._redact = redact
        self._causes = PatternSet([(classifier.embedded_cause.pattern, False)], every_match=True)

    def scan(self, fetched: Fetched, latest: datetime) -> Scan:
        """One fetch's lines (one partition's) scanned: its ``runs()`` are the lines taken, the rest are declined."""
        declined = bytearray(len(fetched))
        if any(fetched.trace_ids):  # a header's trace id fills the row's: the Python path's
            for index, trace_id in enumerate(fetched.trace_ids):
                if trace_id:
                    declined[index] = 1
        scan = self._scanner.scan(
            fetched.values,
            fetched.offsets,
            declined,
            (EARLIEST_EVENT - _EPOCH) // _MICROSECOND,
            (latest - _EPOCH) // _MICROSECOND,
            fetched.topic,
            fetched.partition,
            self._message_field,
        )
        if scan.taken and self._redact:
            ends = secret_match_ends(scan.texts())
            if ends:
                scan.decline_texts(ends, declined)
        if scan.taken:
            ends = self._causes.match_ends(scan.messages())
            if ends:
                scan.decline_messages(ends, declined)
        scan.release_texts()
        return scan


def day_of(day_number: int) -> date:
    """A run's day (days since 1970-01-01) as the batches hold it."""
    return date.fromordinal(_EPOCH_ORDINAL + day_number)


def plain_lines(classifier: Classifier, redact: bool, hash_prompts: bool) -> PlainLines | None:
    """The C path for these settings; None without the extension, or where it must decline every line."""
    if _plainlines is None or hash_prompts:
        return None
    try:
        return PlainLines(classifier, redact)
    except ValueError:  # the rules' embedded-cause pattern is not one Hyperscan compiles
        return None
