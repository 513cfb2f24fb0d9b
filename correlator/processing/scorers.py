"""Per-scorer settings, a versioned data file (``schemas/rules/scorers.json``) and what follows from them.

One file says when a score of a given name passes, which names have a floor and which are
safety scorers, so the views (rendered by ``correlator migrate``), the daemon's score
counters and the alerts on them all judge a score the same way. The file is validated in
full against its JSON Schema at load: a typo in a threshold's key would otherwise be a
threshold silently not applied. It is validated with jsonschema-rs, which the content checks
use too: the pure-Python ``jsonschema`` cost about 40 ms of every start to import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from jsonschema_rs import Draft202012Validator

from correlator.config import Settings
from correlator.errors import ConfigurationError
from correlator.schemas_dir import SCHEMAS_DIR

SCORERS_PATH = SCHEMAS_DIR / "rules" / "scorers.json"
SCORERS_SCHEMA_PATH = SCHEMAS_DIR / "rules" / "scorers.schema.json"
BOOLEAN, NUMERIC = "BOOLEAN", "NUMERIC"


class ScorersError(ConfigurationError):
    """The scorers file is not usable: says where and why."""


HIGHER, LOWER = "higher", "lower"


@dataclass(frozen=True, slots=True)
class Scorer:
    pass_threshold: float | None = None
    floor: float | None = None
    safety: bool = False
    #: which way a NUMERIC value is better: ``lower`` for rates of something bad (toxicity, hallucination_rate)
    direction: str = HIGHER


@dataclass(frozen=True, slots=True)
class Scorers:
    """The scorers file as read; ``default_pass_threshold`` is ``--eval-pass-threshold``."""

    version: str
    scorers: Mapping[str, Scorer]
    default_pass_threshold: float = 0.80

    @classmethod
    def from_file(cls, path: Path = SCORERS_PATH, default_pass_threshold: float = 0.80) -> Scorers:
        try:
            document = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise ScorersError(f"cannot read the scorers file {path}: {exc.strerror}") from None
        except orjson.JSONDecodeError as exc:
            raise ScorersError(f"{path}: not JSON: {exc}") from None
        return cls.from_document(document, default_pass_threshold)

    @classmethod
    def for_settings(cls, settings: Settings) -> Scorers:
        return cls.from_file(settings.scorers_file or SCORERS_PATH, settings.thresholds.eval_pass_threshold)

    @classmethod
    def from_document(cls, document: Any, default_pass_threshold: float = 0.80) -> Scorers:
        problem = next(iter(_validator().iter_errors(document)), None)
        if problem is not None:
            where = "/".join(map(str, problem.instance_path)) or "the top level"
            raise ScorersError(f"scorers file, at {where}: {problem.message}")
        scorers = {name: Scorer(**entry) for name, entry in document["scorers"].items()}
        for name, scorer in scorers.items():
            if any(not math.isfinite(v) for v in (scorer.pass_threshold, scorer.floor) if v is not None):
                raise ScorersError(f"scorers file, at scorers/{name}: thresholds must be finite numbers")
        return cls(document["version"], scorers, default_pass_threshold)

    def pass_threshold(self, name: str) -> float:
        scorer = self.scorers.get(name)
        if scorer is None or scorer.pass_threshold is None:
            return self.default_pass_threshold
        return scorer.pass_threshold

    def passes(self, name: str, data_type: str, value: float, label: str) -> bool | None:
        """The verdict the views give (``eval_pass_rate``): None when the score is not pass/fail at all."""
        if data_type == BOOLEAN:
            return value == 1
        if data_type == NUMERIC:
            threshold = self.pass_threshold(name)
            return value <= threshold if self.lower_is_better(name) else value >= threshold
        if label in ("pass", "fail"):
            return label == "pass"
        return None

    def is_safety(self, name: str) -> bool:
        scorer = self.scorers.get(name)
        return scorer is not None and scorer.safety

    def lower_is_better(self, name: str) -> bool:
        scorer = self.scorers.get(name)
        return scorer is not None and scorer.direction == LOWER

    def lower_is_better_names(self) -> list[str]:
        return sorted(name for name, scorer in self.scorers.items() if scorer.direction == LOWER)

    def as_sql_values(self) -> dict[str, str]:
        """SQL expressions of the column ``name`` for the views' placeholders (names are schema-checked)."""
        thresholds = {n: s.pass_threshold for n, s in self.scorers.items() if s.pass_threshold is not None}
        floors = {n: s.floor for n, s in self.scorers.items() if s.floor is not None}
        threshold = _lookup(thresholds, repr(float(self.default_pass_threshold)))
        lower = f"has({_names(self.lower_is_better_names())}, name)"
        return {
            "scorer_pass_threshold": threshold,
            # a NUMERIC value's verdict, and +1/-1 for the side a fall in quality moves a mean to (below/above)
            "scorer_numeric_passes": f"if({lower}, value <= {threshold}, value >= {threshold})",
            "scorer_direction": f"if({lower}, -1, 1)",
            "scorer_floor": _lookup(floors, "nan"),
            "safety_scorers": _names(sorted(n for n, s in self.scorers.items() if s.safety)),
            "scorers_version": _quoted(self.version),
        }


def _validator() -> Draft202012Validator:
    return Draft202012Validator(orjson.loads(SCORERS_SCHEMA_PATH.read_bytes()))


def _quoted(name: str) -> str:
    return "'" + name + "'"


def _names(names: list[str]) -> str:
    return f"CAST([{', '.join(map(_quoted, names))}], 'Array(String)')"


def _lookup(values: dict[str, float], default: str) -> str:
    """``name`` mapped to its value, else ``default``: ClickHouse's transform over two literal arrays."""
    numbers = ", ".join(repr(float(values[name])) for name in sorted(values))
    return f"transform(name, {_names(sorted(values))}, CAST([{numbers}], 'Array(Float64)'), {default})"
