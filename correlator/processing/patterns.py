"""Every pattern that matches a text, found in one pass (Hyperscan).

Classification asks, for each exception of a chain, which of the rules' ~200 patterns
occur in its text. Hyperscan answers that with one scan whatever the number of patterns;
Python's ``re`` would scan once per tier and alternative.

Compiling the rules' and redaction's databases takes a few hundred CPU milliseconds at
every start, so a compiled database is kept in a cache directory (``~/.cache/correlator/
hyperscan`` unless told otherwise), under a digest of everything that shaped it: the
patterns, their flags and ids, the mode and the hyperscan binding's version. A changed
pattern is a different file, never a stale one; Hyperscan itself refuses a database that
is corrupt or from another library version or platform, and then it is compiled again.
A directory that cannot be created or written, or that others may write to, is not used.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

import hyperscan

# SINGLEMATCH: each pattern is reported once, at its first (leftmost-ending) match.
_FLAGS = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_MULTILINE
_CACHE_FORMAT = "correlator-hyperscan-1"
_BINDING_VERSION = str(getattr(hyperscan, "__version__", ""))


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "correlator" / "hyperscan"


class PatternSet:
    """Regexes compiled once; each ``(pattern, case_sensitive)``, matched anywhere in a text."""

    def __init__(
        self, patterns: Sequence[tuple[str, bool]], every_match: bool = False, cache_dir: Path | None = None
    ) -> None:
        """``every_match``: report every end of every match (for :meth:`match_ends`), not only the first.

        ``cache_dir``: where compiled databases are kept (:func:`default_cache_dir` when None).
        """
        self._database: hyperscan.Database | None = None
        if not patterns:
            return
        expressions = [pattern.encode() for pattern, _ in patterns]
        base = hyperscan.HS_FLAG_MULTILINE if every_match else _FLAGS
        flags = [base if case_sensitive else base | hyperscan.HS_FLAG_CASELESS for _, case_sensitive in patterns]
        directory = cache_dir if cache_dir is not None else default_cache_dir()
        cached = directory / f"{_digest(expressions, flags)}.hsdb"
        self._database = _load(cached)
        if self._database is None:
            self._database = _compile(expressions, flags)
            _save(self._database, cached)

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


def _compile(expressions: list[bytes], flags: list[int]) -> hyperscan.Database:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions),
                         flags=flags)  # fmt: skip
    except hyperscan.error as exc:
        raise ValueError(f"a pattern cannot be compiled: {exc}") from None
    return database


def _digest(expressions: list[bytes], flags: list[int]) -> str:
    """Everything that shapes the compiled database; ids are the patterns' positions."""
    shape = hashlib.sha256(f"{_CACHE_FORMAT}\0{_BINDING_VERSION}\0{hyperscan.HS_MODE_BLOCK}".encode())
    for expression, flag in zip(expressions, flags, strict=True):
        shape.update(b"\0%d\0%d\0" % (flag, len(expression)) + expression)
    return shape.hexdigest()


def _private_dir(directory: Path) -> bool:
    """The directory is ours alone (created so if absent): what is loaded from it, only this user wrote."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _load(cached: Path) -> hyperscan.Database | None:
    """The database kept at ``cached``; None when absent, unreadable, or refused by Hyperscan."""
    if not _private_dir(cached.parent):
        return None
    try:
        database = hyperscan.loadb(cached.read_bytes(), hyperscan.HS_MODE_BLOCK)
        database.scratch = hyperscan.Scratch(database)
    except (OSError, hyperscan.error):
        return None
    return database


def _save(database: hyperscan.Database, cached: Path) -> None:
    """Write the database whole or not at all (a rename), so a reader never sees half of one."""
    if not _private_dir(cached.parent):
        return
    try:
        descriptor, name = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(hyperscan.dumpb(database))
        os.replace(name, cached)
    except OSError:
        Path(name).unlink(missing_ok=True)
