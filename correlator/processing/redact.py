"""Redaction of secrets and personal data from rows and dead letters, before anything is stored.

The rules are :mod:`correlator.redaction`'s. Most text holds nothing to redact, so one
Hyperscan pass over all patterns decides first which of them occur at all; only those run
as Python regexes, to do the replacing.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Callable, Mapping
from itertools import accumulate
from typing import Any

from correlator.processing.patterns import PatternSet
from correlator.redaction import CARD, RULES, apply_rules

_SCANNED = [(pattern, case_sensitive) for pattern, case_sensitive, _ in RULES] + [(CARD, True)]
_SCAN = PatternSet(_SCANNED)
# the same patterns, every match reported: one scan over many rows' text says which rows hold one
_SCAN_EVERY = PatternSet(_SCANNED, every_match=True)


def secret_match_ends(data: bytes) -> list[int]:
    """Where each match of any redaction pattern ends in ``data`` (every match, for a scan over many texts)."""
    return _SCAN_EVERY.match_ends(data)


def _found(text: str) -> dict[int, int]:
    return _SCAN.first_matches(text.encode("utf-8", "surrogateescape"))


def redact(text: str) -> str:
    """The text with API keys, bearer tokens, credentials, e-mail addresses and card numbers masked.

    The same as :func:`correlator.redaction.redact`; one Hyperscan pass first says which rules can apply.
    """
    found = _found(text)
    return apply_rules(text, found) if found else text


def redact_bytes(raw: bytes) -> bytes:
    """Redact a raw message (a dead letter) and keep bytes that are not UTF-8 as they were."""
    return redact(raw.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


# attributes that hold what was sent to a model or came back from it
PROMPT_KEYS = frozenset({"prompt", "prompts", "messages", "input", "inputs", "output", "outputs", "completion",
                         "response", "system_prompt", "user_prompt"})  # fmt: skip
# the stored text columns of ``log_events``, ``usage_metrics`` and ``scores`` that may carry secrets
TEXT_COLUMNS = frozenset({"message", "root_cause_message", "traceback", "error_detail", "comment", "tool_args"})
ARRAY_COLUMNS = frozenset({"exception_values"})
MAP_COLUMNS = frozenset({"attributes"})

RowRedactor = Callable[[tuple[Any, ...]], tuple[Any, ...]]
RowsRedactor = Callable[[list[tuple[Any, ...]]], list[tuple[Any, ...]]]


def prompt_digest(value: str) -> str:
    """What is stored instead of a prompt or output when they are hashed: equal texts stay comparable."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def row_redactor(columns: tuple[str, ...], redact_text: bool = True, hash_prompts: bool = False) -> RowRedactor | None:
    """A function that redacts one warehouse row of ``columns`` (a tuple in that order); None if nothing to do."""
    if not (redact_text or hash_prompts):
        return None
    texts, arrays, maps = _text_places(columns)
    all_text = _row_text(columns)

    def attribute(key: str, value: str, mask: bool) -> str:
        if hash_prompts and key.lower() in PROMPT_KEYS:
            return prompt_digest(value)
        return redact(value) if mask else value

    def redact_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
        mask = redact_text and bool(_found(all_text(row)))
        if not (mask or hash_prompts):
            return row
        values = list(row)
        if mask:
            for i in texts:
                values[i] = redact(values[i])
            for i in arrays:
                values[i] = [redact(value) for value in values[i]]
        for i in maps:
            mapping: Mapping[str, str] = values[i]
            values[i] = {key: attribute(key, value, mask) for key, value in mapping.items()}
        return tuple(values)

    return redact_row


def rows_redactor(
    columns: tuple[str, ...], redact_text: bool = True, hash_prompts: bool = False
) -> RowsRedactor | None:
    """What :func:`row_redactor` does to each row, for many rows; None if nothing to do.

    One scan over all the rows' text (joined by newlines, which no pattern needs on either
    side of a match) finds the rows holding anything to mask; only those go through the
    row redactor. Every match within one row's text is also a match there, so no row that
    needs masking is missed; a match spanning two rows only costs its row a needless look.
    """
    redact_row = row_redactor(columns, redact_text, hash_prompts)
    if redact_row is None:
        return None
    if hash_prompts:
        return lambda rows: [redact_row(row) for row in rows]
    all_text = _row_text(columns)

    def redact_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        texts = [all_text(row) for row in rows]
        joined = "\n".join(texts)
        data = joined.encode("utf-8", "surrogateescape")
        sizes = (
            map(len, texts) if len(data) == len(joined) else (len(t.encode("utf-8", "surrogateescape")) for t in texts)
        )
        ends = list(accumulate(size + 1 for size in sizes))  # where each row's text and its newline end
        redacted = list(rows)
        for index in {bisect_left(ends, end) for end in _SCAN_EVERY.match_ends(data)}:
            redacted[index] = redact_row(rows[index])
        return redacted

    return redact_rows


def _text_places(columns: tuple[str, ...]) -> tuple[list[int], list[int], list[int]]:
    """Where a row holds text: plain columns, string arrays, string maps."""
    return (
        [i for i, name in enumerate(columns) if name in TEXT_COLUMNS],
        [i for i, name in enumerate(columns) if name in ARRAY_COLUMNS],
        [i for i, name in enumerate(columns) if name in MAP_COLUMNS],
    )


def _row_text(columns: tuple[str, ...]) -> Callable[[tuple[Any, ...]], str]:
    texts, arrays, maps = _text_places(columns)

    def all_text(row: tuple[Any, ...]) -> str:
        """Every text of a row in one string: most rows hold nothing to mask, and one scan says so."""
        parts: list[str] = [row[i] for i in texts]
        for i in arrays:
            parts.extend(row[i])
        for i in maps:
            parts.extend(row[i].values())
        return "\n".join(parts)

    return all_text
