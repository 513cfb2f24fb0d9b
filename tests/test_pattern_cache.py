"""Compiled Hyperscan databases are kept on disk and reused, never for patterns they were not compiled from."""

from __future__ import annotations

import shutil
from pathlib import Path

from correlator.processing.patterns import PatternSet

TEXT = b"the openai key sk-abc failed with RateLimitError after 3 retries"
FIRST = [("sk-[a-z]+", True), ("ratelimiterror", False)]


def _kept(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.hsdb"))


def test_a_compiled_database_is_kept_and_served_from_the_cache(tmp_path: Path) -> None:
    cache, elsewhere = tmp_path / "cache", tmp_path / "elsewhere"
    assert PatternSet(FIRST, cache_dir=cache).first_matches(TEXT) == {0: 19, 1: 48}
    [kept] = _kept(cache)
    # a database of other patterns put in its place is what a second PatternSet loads: the cache is read
    PatternSet([("retries", True)], cache_dir=elsewhere)
    [other] = _kept(elsewhere)
    shutil.copyfile(other, kept)
    assert PatternSet(FIRST, cache_dir=cache).first_matches(TEXT) == {0: len(TEXT)}


def test_a_changed_pattern_or_flag_is_never_served_from_a_stale_database(tmp_path: Path) -> None:
    PatternSet(FIRST, cache_dir=tmp_path)
    changed = [("sk-[a-z]+", True), ("after [0-9]+", False)]
    assert PatternSet(changed, cache_dir=tmp_path).first_matches(TEXT) == {0: 19, 1: 56}
    caseless = [("sk-[a-z]+", True), ("ratelimiterror", True)]
    assert PatternSet(caseless, cache_dir=tmp_path).first_matches(TEXT) == {0: 19}
    every = PatternSet([("r", True)], every_match=True, cache_dir=tmp_path)
    assert every.match_ends(b"rr") == [1, 2]
    assert len(_kept(tmp_path)) == 4


def test_a_corrupt_cached_database_is_compiled_again_and_replaced(tmp_path: Path) -> None:
    PatternSet(FIRST, cache_dir=tmp_path)
    [kept] = _kept(tmp_path)
    good = kept.read_bytes()
    kept.write_bytes(good[: len(good) // 2] + bytes(len(good) - len(good) // 2))
    assert PatternSet(FIRST, cache_dir=tmp_path).first_matches(TEXT) == {0: 19, 1: 48}
    assert kept.read_bytes() == good


def test_an_unusable_cache_directory_only_costs_a_compile(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    assert PatternSet(FIRST, cache_dir=not_a_directory / "cache").first_matches(TEXT) == {0: 19, 1: 48}
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # others could plant a database here: it is neither read nor written
    assert PatternSet(FIRST, cache_dir=shared).first_matches(TEXT) == {0: 19, 1: 48}
    assert _kept(shared) == []
