"""Every pattern that matches a text, found in one pass (Hyperscan).

Classification asks, for each exception of a chain, which of the rules' ~200 patterns
occur in its text. Hyperscan answers that with one scan whatever the number of patterns;
Python's ``re`` would scan once per tier and alternative.
"""

from __future__ import annotations

from collections.abc import Sequence

import hyperscan

_FLAGS = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_MULTILINE | hyperscan.HS_FLAG_DOTALL


class PatternSet:
    """Regexes compiled once; each ``(pattern, case_sensitive)``, matched anywhere in a text."""

    def __init__(self, patterns: Sequence[tuple[str, bool]]) -> None:
        self._database: hyperscan.Database | None = None
        if not patterns:
            return
        expressions = [pattern.encode() for pattern, _ in patterns]
        flags = [_FLAGS if case_sensitive else _FLAGS | hyperscan.HS_FLAG_CASELESS for _, case_sensitive in patterns]
        self._database = hyperscan.Database()
        try:
            self._database.compile(expressions=expressions, ids=list(range(len(patterns))), elements=len(patterns),
                                   flags=flags)  # fmt: skip
        except hyperscan.error as exc:
            raise ValueError(f"a pattern cannot be compiled: {exc}") from None

    def matches(self, text: str) -> set[int]:
        """Indexes of the patterns that occur somewhere in ``text``."""
        found: set[int] = set()
        if self._database is not None and text:
            self._database.scan(text.encode("utf-8", "replace"), match_event_handler=_collect, context=found)
        return found


def _collect(pattern_id: int, _start: int, _end: int, _flags: int, found: object) -> None:
    assert isinstance(found, set)
    found.add(pattern_id)
