"""Map a root-cause chain to a taxonomy label, interpreting the versioned rules file.

The rules live in ``schemas/rules/classification.json``; this module only reads them.
Evidence is weighed by tier (the file's ``precedence``), innermost exception first, so a
504 is a timeout and a ``ValidationError`` stays a schema mismatch whatever digits its
text contains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from correlator.rootcause import Chain

RULES_PATH = Path(__file__).resolve().parent.parent / "schemas" / "rules" / "classification.json"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Label:
    """A taxonomy label and the rule that chose it."""

    category: str
    error_class: str
    rule: str


@dataclass(frozen=True, slots=True)
class _PatternRule:
    rule_id: str
    error_class: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class _PatternTier:
    """Rules of one tier; ``prefilter`` rejects most texts with a single regex search."""

    prefilter: re.Pattern[str]
    rules: tuple[_PatternRule, ...]

    def first_match(self, text: str) -> _PatternRule | None:
        if self.prefilter.search(text) is None:
            return None
        return next((rule for rule in self.rules if rule.pattern.search(text)), None)


class RulesError(ValueError):
    """The rules file is not usable: says which entry and why."""


class Classifier:
    """Classifies exception chains, metrics labels and finish reasons."""

    def __init__(self, rules: Mapping[str, Any]) -> None:
        try:
            self.version: str = str(rules["version"])
            self._taxonomy: dict[str, str] = dict(rules["taxonomy"])
            self._precedence: list[str] = list(rules["precedence"])
            self._wrappers = re.compile("|".join(rules["wrapper_messages"]), re.IGNORECASE)
            self.embedded_cause = re.compile(rules["embedded_cause"], re.IGNORECASE | re.DOTALL)
            self._metric_labels: dict[str, str] = dict(rules["metric_labels"])
            self._finish_reasons: dict[str, str] = dict(rules["finish_reasons"])
            self._status_patterns = [re.compile(p) for p in rules["status_patterns"]]
            self._build_rules(rules["rules"])
        except (KeyError, TypeError, re.error) as exc:
            raise RulesError(f"invalid rules file: {exc!r}") from exc

    @classmethod
    def from_file(cls, path: Path = RULES_PATH) -> Classifier:
        return cls(orjson.loads(path.read_bytes()))

    def _build_rules(self, entries: list[dict[str, Any]]) -> None:
        """Index every tier's evidence: exception types, HTTP statuses, message patterns."""
        self._types: dict[str, dict[str, tuple[str, str]]] = {tier: {} for tier in self._precedence}
        self._statuses: dict[str, dict[int, tuple[str, str]]] = {tier: {} for tier in self._precedence}
        pattern_rules: dict[str, list[_PatternRule]] = {}
        frame_rules: dict[str, list[_PatternRule]] = {}
        for entry in entries:
            rule_id, error_class, tier = entry["id"], entry["class"], entry["tier"]
            if error_class not in self._taxonomy:
                raise RulesError(f"rule {rule_id}: class {error_class!r} is not in the taxonomy")
            if tier not in self._precedence:
                raise RulesError(f"rule {rule_id}: tier {tier!r} is not in the precedence list")
            for type_name in entry.get("types", ()):
                self._types[tier].setdefault(type_name.lower(), (rule_id, error_class))
            for status in entry.get("status", ()):
                self._statuses[tier].setdefault(int(status), (rule_id, error_class))
            for key, target in (("patterns", pattern_rules), ("frame_patterns", frame_rules)):
                for pattern in entry.get(key, ()):
                    compiled = re.compile(pattern, re.IGNORECASE | re.MULTILINE)
                    target.setdefault(tier, []).append(_PatternRule(rule_id, error_class, compiled))
        self._tiers = _pattern_tiers(pattern_rules)
        self._frame_tiers = _pattern_tiers(frame_rules)

    @property
    def taxonomy(self) -> Mapping[str, str]:
        """error_class → category, as the rules file declares it."""
        return self._taxonomy

    def label(self, error_class: str, rule: str) -> Label:
        return Label(self._taxonomy.get(error_class, UNKNOWN), error_class, rule)

    def unknown(self, rule: str = "no-evidence") -> Label:
        return Label(UNKNOWN, UNKNOWN, rule)

    def is_wrapper_only(self, message: str) -> bool:
        """A wrapper's own text ("LLM chat interaction failed.") is no evidence."""
        return self._wrappers.search(message.strip()) is not None

    def classify_chain(self, chain: Chain, finish_reason: str = "") -> Label:
        """Label a root-first chain: the first tier, in precedence order, with evidence anywhere
        in the chain wins; within a tier the innermost exception speaks first.

        So a tier placed first (``chain_message``: truncation, tool calls) explains the whole
        chain, and a weak tier placed last (``weak_exception_type``: cancellation) only speaks
        when nothing else does: a TimeoutError raised over a CancelledError is a timeout.
        """
        by_finish = self.classify_finish_reason(finish_reason)
        if by_finish is not None:
            return by_finish
        # A wrapper's text is no evidence, but its type still is (RateLimitError("Error")).
        evidence = [link for link in chain if not self.is_wrapper_only(link.message)]
        for tier in self._precedence:
            for link in chain:
                found = self._match_type(tier, link.type) or self._match_frames(tier, link.frames)
                if found is None and link in evidence:
                    found = self._match_status(tier, link.message) or self._match_pattern(tier, link.message)
                if found is not None:
                    return found
        return self.unknown()

    def classify_finish_reason(self, finish_reason: str) -> Label | None:
        error_class = self._finish_reasons.get(finish_reason.lower()) if finish_reason else None
        return self.label(error_class, f"finish_reason.{finish_reason.lower()}") if error_class else None

    def classify_metric_label(self, error: str) -> Label:
        """The metrics row's own short label, mapped into the taxonomy."""
        key = error.strip().lower()
        error_class = self._metric_labels.get(key) or (key if key in self._taxonomy else UNKNOWN)
        return self.label(error_class, f"metrics.{key or 'empty'}")

    def _match_pattern(self, tier_name: str, message: str) -> Label | None:
        tier = self._tiers.get(tier_name)
        rule = tier.first_match(message) if tier else None
        return self.label(rule.error_class, rule.rule_id) if rule else None

    def _match_frames(self, tier_name: str, frames: tuple[str, ...]) -> Label | None:
        tier = self._frame_tiers.get(tier_name)
        rule = tier.first_match("\n".join(frames)) if tier and frames else None
        return self.label(rule.error_class, rule.rule_id) if rule else None

    def _match_type(self, tier: str, type_name: str) -> Label | None:
        types = self._types[tier]
        if not type_name or not types:
            return None
        lowered = type_name.lower()
        hit = types.get(lowered) or types.get(lowered.rsplit(".", 1)[-1].lstrip("_"))
        return self.label(hit[1], hit[0]) if hit else None

    def _match_status(self, tier: str, message: str) -> Label | None:
        statuses = self._statuses[tier]
        if not statuses:
            return None
        lowered = message.lower()
        for pattern in self._status_patterns:
            for match in pattern.finditer(lowered):
                hit = statuses.get(int(match.group("status")))
                if hit:
                    return self.label(hit[1], hit[0])
        return None


def _pattern_tiers(rules_by_tier: dict[str, list[_PatternRule]]) -> dict[str, _PatternTier]:
    return {
        tier: _PatternTier(
            re.compile("|".join(f"(?:{r.pattern.pattern})" for r in rules), re.IGNORECASE | re.MULTILINE),
            tuple(rules),
        )
        for tier, rules in rules_by_tier.items()
    }
