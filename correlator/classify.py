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

from correlator.rootcause import Chain, ChainLink

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
        self._types: dict[str, tuple[str, str]] = {}
        self._statuses: dict[int, tuple[str, str]] = {}
        pattern_rules: dict[str, list[_PatternRule]] = {}
        for entry in entries:
            rule_id, error_class, tier = entry["id"], entry["class"], entry["tier"]
            if error_class not in self._taxonomy:
                raise RulesError(f"rule {rule_id}: class {error_class!r} is not in the taxonomy")
            if tier not in self._precedence:
                raise RulesError(f"rule {rule_id}: tier {tier!r} is not in the precedence list")
            for type_name in entry.get("types", ()):
                self._types.setdefault(type_name.lower(), (rule_id, error_class))
            for status in entry.get("status", ()):
                self._statuses.setdefault(int(status), (rule_id, error_class))
            for pattern in entry.get("patterns", ()):
                compiled = re.compile(pattern, re.IGNORECASE)
                pattern_rules.setdefault(tier, []).append(_PatternRule(rule_id, error_class, compiled))
        self._tiers = {
            tier: _PatternTier(
                re.compile("|".join(f"(?:{r.pattern.pattern})" for r in rules), re.IGNORECASE),
                tuple(rules),
            )
            for tier, rules in pattern_rules.items()
        }

    def label(self, error_class: str, rule: str) -> Label:
        return Label(self._taxonomy.get(error_class, UNKNOWN), error_class, rule)

    def unknown(self, rule: str = "no-evidence") -> Label:
        return Label(UNKNOWN, UNKNOWN, rule)

    def is_wrapper_only(self, message: str) -> bool:
        """A wrapper's own text ("LLM chat interaction failed.") is no evidence."""
        return self._wrappers.search(message.strip()) is not None

    def classify_chain(self, chain: Chain, finish_reason: str = "") -> Label:
        """Label a root-first chain; the first tier in precedence with evidence wins."""
        by_finish = self.classify_finish_reason(finish_reason)
        if by_finish is not None:
            return by_finish
        # A wrapper's text is no evidence, but its type still is (RateLimitError("Error")).
        evidence = [link for link in chain if not self.is_wrapper_only(link.message)]
        for tier in self._precedence:
            if tier == "chain_message":
                found = self._match_chain_messages(evidence)
                if found is not None:
                    return found
                continue
            for link in chain if tier == "exception_type" else evidence:
                found = self._match_link(tier, link)
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

    def _match_chain_messages(self, links: list[ChainLink]) -> Label | None:
        tier = self._tiers.get("chain_message")
        if tier is None:
            return None
        for link in links:
            rule = tier.first_match(link.message)
            if rule is not None:
                return self.label(rule.error_class, rule.rule_id)
        return None

    def _match_link(self, tier_name: str, link: ChainLink) -> Label | None:
        if tier_name == "exception_type":
            return self._match_type(link.type)
        if tier_name == "http_status":
            return self._match_status(link.message)
        tier = self._tiers.get(tier_name)
        rule = tier.first_match(link.message) if tier else None
        return self.label(rule.error_class, rule.rule_id) if rule else None

    def _match_type(self, type_name: str) -> Label | None:
        if not type_name:
            return None
        lowered = type_name.lower()
        hit = self._types.get(lowered) or self._types.get(lowered.rsplit(".", 1)[-1])
        return self.label(hit[1], hit[0]) if hit else None

    def _match_status(self, message: str) -> Label | None:
        for pattern in self._status_patterns:
            for match in pattern.finditer(message.lower()):
                hit = self._statuses.get(int(match.group("status")))
                if hit:
                    return self.label(hit[1], hit[0])
        return None
