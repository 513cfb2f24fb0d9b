"""Every pattern that matches a text, found in one pass (Hyperscan).

Classification asks, for each exception of a chain, which of the rules' ~200 patterns
occur in its text. Hyperscan answers that with one scan whatever the number of patterns;
Python's ``re`` would scan once per tier and alternative.
"""

from __future__ import annotations

from collections.abc import Sequence

import hyperscan

# SINGLEMATCH: each pattern is reported once, at its first (leftmost-ending) match.
_FLAGS = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_MULTILINE


class PatternSet:
    """Regexes compiled once; each ``(pattern, case_sensitive)``, matched anywhere in a text."""

    def __init__(self, patterns: Sequence[tuple[str, bool]], every_match: bool = False) -> None:
        """``every_match``: report every end of every match (for :meth:`match_ends`), not only the first."""
        self._database: hyperscan.Database | None = None
        if not patterns:
            return
        expressions = [pattern.encode() for pattern, _ in patterns]
        base = hyperscan.HS_FLAG_MULTILINE if every_match else _FLAGS
        flags = [base if case_sensitive else base | hyperscan.HS_FLAG_CASELESS for _, case_sensitive in patterns]
        self._database = hyperscan.Database()
        try:
            self._database.compile(expressions=expressions, ids=list(range(len(patterns))), elements=len(patterns),
                                   flags=flags)  # fmt: skip
        except hyperscan.error as exc:
            raise ValueError(f"a pattern cannot be compiled: {exc}") from None

    def first_matches(self, data: bytes) -> dict[int, int]:
        """Each pattern that occurs in ``data`` → the byte offset where its first match ends."""
        found: dict[int, int] = {}
        if self._database is not None and data:
            self._database.scan(data, match_event_handler=_collect, context=found)
        return found

    def match_ends(self, data: bytes) -> list[int]:
        """The byte offset where each match of any pattern ends (built with ``every_match``), in scan order."""
        ends: list[int] = []
        if self._database is not None and data:
            self._database.scan(data, match_event_handler=_collect_end, context=ends)
        return ends


def _collect_end(_pattern_id: int, _start: int, end: int, _flags: int, ends: object) -> None:
    assert isinstance(ends, list)
    ends.append(end)


def _collect(pattern_id: int, _start: int, end: int, _flags: int, found: object) -> None:
    assert isinstance(found, dict)
    found.setdefault(pattern_id, end)
