"""Map a root-cause chain to a taxonomy label, interpreting the versioned rules file.

The rules live in ``schemas/rules/classification.json``; this module only reads them.
Evidence is weighed by tier (the file's ``precedence``), innermost exception first, so a
504 is a timeout and a ``ValidationError`` stays a schema mismatch whatever digits its
text contains.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from correlator.patterns import PatternSet
from correlator.rootcause import Chain
from correlator.schemas_dir import SCHEMAS_DIR

RULES_PATH = SCHEMAS_DIR / "rules" / "classification.json"
UNKNOWN = "unknown"
_STATUS_GROUP = "(?P<status>\\d{3})"


@dataclass(frozen=True, slots=True)
class Label:
    """A taxonomy label and the rule that chose it."""

    category: str
    error_class: str
    rule: str


@dataclass(frozen=True, slots=True)
class _Rule:
    """One rule as evidence: its place in the file orders rules of the same tier."""

    order: int
    rule_id: str
    error_class: str
    tier: str


# per tier, the rule with the lowest order that the evidence satisfied
_TierHits = dict[str, _Rule]


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
            self._build_rules(rules["rules"], list(rules["status_patterns"]))
        except (KeyError, TypeError, re.error) as exc:
            raise RulesError(f"invalid rules file: {exc!r}") from exc

    @classmethod
    def from_file(cls, path: Path = RULES_PATH) -> Classifier:
        return cls(orjson.loads(path.read_bytes()))

    def _build_rules(self, entries: list[dict[str, Any]], status_templates: list[str]) -> None:
        """Index the evidence: exception types by name; message, status and frame patterns in two scanners.

        Status rules become one pattern per template and code (``Error code: 429``), so a
        status counts only where the text is shaped like one.
        """
        self._types: dict[str, _TierHits] = {}
        message_patterns: list[tuple[str, bool]] = []
        frame_patterns: list[tuple[str, bool]] = []
        self._message_rules: list[_Rule] = []
        self._frame_rules: list[_Rule] = []
        for order, entry in enumerate(entries):
            rule = _Rule(order, entry["id"], entry["class"], entry["tier"])
            if rule.error_class not in self._taxonomy:
                raise RulesError(f"rule {rule.rule_id}: class {rule.error_class!r} is not in the taxonomy")
            if rule.tier not in self._precedence:
                raise RulesError(f"rule {rule.rule_id}: tier {rule.tier!r} is not in the precedence list")
            case_sensitive = bool(entry.get("case_sensitive", False))
            for type_name in entry.get("types", ()):
                self._types.setdefault(type_name.lower(), {}).setdefault(rule.tier, rule)
            for pattern in entry.get("patterns", ()):
                message_patterns.append((pattern, case_sensitive))
                self._message_rules.append(rule)
            for status in entry.get("status", ()):
                for template in status_templates:
                    message_patterns.append((template.replace(_STATUS_GROUP, str(int(status))), False))
                    self._message_rules.append(rule)
            for pattern in entry.get("frame_patterns", ()):
                frame_patterns.append((pattern, case_sensitive))
                self._frame_rules.append(rule)
        try:
            self._message_scanner = PatternSet(message_patterns)
            self._frame_scanner = PatternSet(frame_patterns)
        except ValueError as exc:
            raise RulesError(f"invalid rules file: {exc}") from None

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
        by_type = [self._type_rules(link.type) for link in chain]
        by_text = self._text_evidence(chain)
        for tier in self._precedence:
            for link_index, type_hits in enumerate(by_type):
                rule = type_hits.get(tier) or by_text[link_index].get(tier)
                if rule is not None:
                    return self.label(rule.error_class, rule.rule_id)
        return self.unknown()

    def _text_evidence(self, chain: Chain) -> list[_TierHits]:
        """Per link, the first rule of each tier its text or frames satisfy: one scan per chain.

        Texts are joined root first, so a pattern's first match lies in the innermost link
        that has it. A wrapper's text is no evidence, but its type still is.
        """
        hits: list[_TierHits] = [{} for _ in chain]
        messages = [b"" if self.is_wrapper_only(link.message) else link.message.encode() for link in chain]
        _assign(hits, self._message_rules, self._message_scanner.first_matches, messages)
        if any(link.frames for link in chain):
            frames = ["\n".join(link.frames).encode() for link in chain]
            _assign(hits, self._frame_rules, self._frame_scanner.first_matches, frames)
        return hits

    def _type_rules(self, type_name: str) -> _TierHits:
        """Rules naming this exception type, by qualified name, else by base name."""
        lowered = type_name.lower()
        return self._types.get(lowered) or self._types.get(lowered.rsplit(".", 1)[-1].lstrip("_")) or {}

    def classify_finish_reason(self, finish_reason: str) -> Label | None:
        error_class = self._finish_reasons.get(finish_reason.lower()) if finish_reason else None
        return self.label(error_class, f"finish_reason.{finish_reason.lower()}") if error_class else None

    def classify_metric_label(self, error: str) -> Label:
        """The metrics row's own short label, mapped into the taxonomy."""
        key = error.strip().lower()
        error_class = self._metric_labels.get(key) or (key if key in self._taxonomy else UNKNOWN)
        return self.label(error_class, f"metrics.{key or 'empty'}")


def _assign(hits: list[_TierHits], rules: list[_Rule], scan: Any, texts: Sequence[bytes]) -> None:
    """Scan the links' texts joined by newlines; credit each match to the link it ends in."""
    ends, position = [], -1
    for text in texts:
        position += len(text) + 1
        ends.append(position)  # offset of the newline after each text
    for pattern_id, end in scan(b"\n".join(texts)).items():
        link_index = min(bisect_left(ends, end), len(ends) - 1)
        rule = rules[pattern_id]
        known = hits[link_index].get(rule.tier)
        if known is None or rule.order < known.order:
            hits[link_index][rule.tier] = rule
