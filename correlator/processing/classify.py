"""Map a root-cause chain to a taxonomy label, interpreting the versioned rules file.

The rules live in ``schemas/rules/classification.json``; this module only reads them.
Evidence is weighed by tier (the file's ``precedence``), innermost exception first, so a
504 is a timeout and a ``ValidationError`` stays a schema mismatch whatever digits its
text contains.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from correlator.errors import ConfigurationError
from correlator.processing.fallback import LearnedFallback, chain_features
from correlator.processing.patterns import PatternSet
from correlator.processing.rootcause import ROOT_MARK, Chain, ChainLink, embedded_text, is_library_frame
from correlator.schemas_dir import SCHEMAS_DIR

RULES_PATH = SCHEMAS_DIR / "rules" / "classification.json"
RULES_SCHEMA_PATH = SCHEMAS_DIR / "rules" / "classification.schema.json"
UNKNOWN = "unknown"
_STATUS_GROUP = "(?P<status>\\d{3})"


class Evidence(StrEnum):
    """What a label rests on: stored with each row (the ``evidence`` column) for the views to weigh.

    This is the convention between Python and SQL (``schemas/migrations/0006_evidence.sql``):
    the ``errors`` view takes a finish reason on the metrics row first, then the log line's
    label, then the metrics row's own, by this column and never by a rule's name. A label
    left ``unknown`` rests on nothing, whatever its rule.
    """

    #: the exception chain: a type, a message or a frame, by the rules file
    EXCEPTION = "exception"
    #: no rule had evidence: the learned fallback's guess from the chain's words, above its confidence
    LEARNED = "learned"
    #: the call's finish reason (``length``, ``content_filter``): the model stopped, whatever broke next
    FINISH_REASON = "finish_reason"
    #: a content check of a call that returned (refusal, invalid JSON, a malformed tool call...)
    CONTENT_CHECK = "content_check"
    #: the event's own short label: a metrics row's ``error``, an error record's ``error_category``
    REPORTED = "reported"
    #: no label, or ``unknown`` for want of evidence
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Label:
    """A taxonomy label, the rule that chose it and what that rule read."""

    category: str
    error_class: str
    rule: str
    evidence: Evidence


# Evidence is weighed by one integer key, smallest wins: the rule's tier (its place in the
# precedence list) first, then the link (innermost first), then a type before a text, then
# the rule's place in the file.
_TIER, _LINK, _TEXT = 1 << 40, 1 << 21, 1 << 20  # room for 2**19 links and 2**20 rules


@dataclass(frozen=True, slots=True)
class _Rule:
    """One rule as evidence, and the label it gives; its keys as type and as text evidence in link 0.

    ``frame_types``: the exception types (lower-case base names) its frame patterns speak
    for; empty for any type.
    """

    type_key: int
    text_key: int
    label: Label
    frame_types: frozenset[str] = frozenset()


_LIBRARY_FRAME = _TEXT >> 1  # a frame pattern matched in a library's frame: weaker than in the app's own
_NO_EVIDENCE = _TIER * 1024
_TYPE_TIER = "exception_type"
_TYPE_MEMO_SIZE = 4096
_FRAME_MEMO_SIZE = 1024  # frames are longer than a type's name: fewer kept


class RulesError(ConfigurationError):
    """The rules file is not usable: says which entry and why."""


class Classifier:
    """Classifies exception chains, metrics labels and finish reasons."""

    def __init__(self, rules: Mapping[str, Any], directory: Path = RULES_PATH.parent) -> None:
        """``directory``: where the rules' learned fallback model lies (beside the rules file)."""
        check_shape(rules, orjson.loads(RULES_SCHEMA_PATH.read_bytes()))
        try:
            self.version: str = str(rules["version"])
            self._taxonomy: dict[str, str] = dict(rules["taxonomy"])
            self._precedence: list[str] = list(rules["precedence"])
            self._wrappers = re.compile("|".join(rules["wrapper_messages"]), re.IGNORECASE)
            self.embedded_cause = re.compile(rules["embedded_cause"], re.IGNORECASE | re.DOTALL)
            self._metric_labels: dict[str, str] = dict(rules["metric_labels"])
            self._finish_reasons: dict[str, str] = dict(rules["finish_reasons"])
            self._build_rules(rules["rules"], list(rules["status_patterns"]))
            # where a frame rule reads a link, text of the tiers placed before the exception types still counts
            types_at = self._precedence.index(_TYPE_TIER) if _TYPE_TIER in self._precedence else 1
            self._frame_read_floor = types_at * _TIER
            self._fallback = _load_fallback(rules.get("learned_fallback"), directory)
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise RulesError(f"invalid rules file: {exc!r}") from exc

    @classmethod
    def from_file(cls, path: Path = RULES_PATH) -> Classifier:
        try:
            rules = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise RulesError(f"invalid rules file: {exc}") from None
        return cls(rules, path.parent)

    def _build_rules(self, entries: list[dict[str, Any]], status_templates: list[str]) -> None:
        """Index the evidence: exception types by name; message, status and frame patterns in two scanners.

        Status rules become one pattern per template and code (``Error code: 429``), so a
        status counts only where the text is shaped like one.
        """
        self._types: dict[str, _Rule] = {}
        self._type_memo: dict[str, _Rule | None] = {}
        self._frame_memo: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[int, _Rule | None]] = {}
        message_patterns: list[tuple[str, bool]] = []
        frame_patterns: list[tuple[str, bool]] = []
        source_patterns: list[tuple[str, bool]] = []
        self._message_rules: list[_Rule] = []
        self._frame_rules: list[_Rule] = []
        self._source_rules: list[_Rule] = []
        for order, entry in enumerate(entries):
            rule_id, error_class, tier = entry["id"], entry["class"], entry["tier"]
            if error_class not in self._taxonomy:
                raise RulesError(f"rule {rule_id}: class {error_class!r} is not in the taxonomy")
            if tier not in self._precedence:
                raise RulesError(f"rule {rule_id}: tier {tier!r} is not in the precedence list")
            weight = self._precedence.index(tier) * _TIER + order
            frame_types = frozenset(name.lower() for name in entry.get("frame_types", ()))
            rule = _Rule(weight, weight + _TEXT, self.label(error_class, rule_id, Evidence.EXCEPTION), frame_types)
            case_sensitive = bool(entry.get("case_sensitive", False))
            for type_name in entry.get("types", ()):
                known = self._types.get(type_name.lower())
                if known is None or rule.type_key < known.type_key:  # a type's strongest rule
                    self._types[type_name.lower()] = rule
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
            for pattern in entry.get("source_patterns", ()):
                source_patterns.append((pattern, case_sensitive))
                self._source_rules.append(rule)
        try:
            self._message_scanner = PatternSet(message_patterns)
            self._frame_scanner = PatternSet(frame_patterns)
            self._source_scanner = PatternSet(source_patterns)
        except ValueError as exc:
            raise RulesError(f"invalid rules file: {exc}") from None

    @property
    def taxonomy(self) -> Mapping[str, str]:
        """error_class → category, as the rules file declares it."""
        return self._taxonomy

    def label(self, error_class: str, rule: str, evidence: Evidence) -> Label:
        """The one place a label is made: ``unknown`` rests on no evidence, whatever the rule read."""
        category = self._taxonomy.get(error_class, UNKNOWN)
        return Label(category, error_class, rule, Evidence.NONE if error_class == UNKNOWN else evidence)

    def unknown(self, rule: str = "no-evidence") -> Label:
        return Label(UNKNOWN, UNKNOWN, rule, Evidence.NONE)

    def is_wrapper_only(self, message: str) -> bool:
        """A wrapper's own text ("LLM chat interaction failed.") is no evidence, nor one that embeds
        only wrappers' texts ("LLM chat interaction failed [id]: ValueError: Error calling LLM",
        ``LLMChatError`` raised ``from None`` over a bare wrapper): there the wrapper's words would
        otherwise be read as the cause's. Matched from the text's start, as the rules' patterns are written
        (``^…$``): searched for at every position, fifteen alternatives cost more than the rest of the test."""
        text = message.strip()
        if self._wrappers.match(text) is not None:
            return True
        embedded = self.embedded_cause.match(text)
        if embedded is None:
            return False
        cause = embedded.group("cause")  # a cause raised from others names them ([root: …]): they are evidence
        return ROOT_MARK not in cause and self._wrappers.match(embedded_text(cause)) is not None

    def classify_chain(self, chain: Chain, finish_reason: str = "") -> Label:
        """Label a root-first chain: the first tier, in precedence order, with evidence anywhere
        in the chain wins; within a tier the innermost exception speaks first, by its type
        before its text.

        An exception group's members all sit in the chain (:mod:`correlator.rootcause`), so
        the strongest evidence among them wins, the first member's on a tie.

        So a tier placed first (``chain_message``: truncation, tool calls) explains the whole
        chain, and a weak tier placed last (``weak_exception_type``: cancellation) only speaks
        when nothing else does: a TimeoutError raised over a CancelledError is a timeout.

        A frame rule that speaks for a link's type reads that link instead of its type and
        its own text (a ``JSONDecodeError`` in tool dispatch is a malformed tool call, not
        invalid JSON); only text of the tiers placed before ``exception_type`` still counts in that
        link (a library's own wording, "Protocol not known: s4", outweighs the app's function name).
        """
        if finish_reason:
            by_finish = self.classify_finish_reason(finish_reason)
            if by_finish is not None:
                return by_finish
        best_key, best = _NO_EVIDENCE, None
        read_by_frames: set[int] = set()
        for link_index, link in enumerate(chain):
            if link.frames:
                frame_key, frame_rule = self._frame_evidence(link)
                if frame_rule is not None:
                    read_by_frames.add(link_index)
                    if frame_key + link_index * _LINK < best_key:
                        best_key, best = frame_key + link_index * _LINK, frame_rule
        for link_index, link in enumerate(chain):
            rule = self._type_rule(link.type) if link_index not in read_by_frames else None
            if rule is not None and rule.type_key + link_index * _LINK < best_key:
                best_key, best = rule.type_key + link_index * _LINK, rule
        # a wrapper's text is no evidence, but its type still is
        messages = [b"" if self.is_wrapper_only(link.message) else link.message.encode() for link in chain]
        best_key, best = _strongest_text(
            self._message_rules, self._message_scanner, messages, best_key, best, read_by_frames, self._frame_read_floor
        )
        if best is not None:
            return best.label
        return self._learned_guess(chain)

    def _learned_guess(self, chain: Chain) -> Label:
        """No rule had evidence: the learned fallback's class above its confidence, else ``unknown``."""
        if self._fallback is None:
            return self.unknown()
        guess = self._fallback.guess(chain_features(chain, self.is_wrapper_only, self._fallback.kinds))
        if guess is None:
            return self.unknown()
        rule = f"learned.{self._fallback.version}@{guess.confidence:.2f}"
        return self.label(guess.error_class, rule, Evidence.LEARNED)

    def _frame_evidence(self, link: ChainLink) -> tuple[int, _Rule | None]:
        """The strongest frame rule this link's frames satisfy, keyed as in link 0 (None: none).

        Remembered per type, frames and source lines: a code path fails with the same frames
        over and over, and scanning them is most of what the rules cost a chain that has frames.
        """
        memo_key = (link.type, link.frames, link.sources)
        try:
            return self._frame_memo[memo_key]
        except KeyError:
            pass
        found = self._strongest_frame(link)
        if len(self._frame_memo) >= _FRAME_MEMO_SIZE:
            self._frame_memo.clear()
        self._frame_memo[memo_key] = found
        return found

    def _strongest_frame(self, link: ChainLink) -> tuple[int, _Rule | None]:
        """The strongest frame rule this link's frames or their source lines satisfy, keyed as in link 0.

        The app's own frames are scanned before the libraries' and weigh more; a rule with
        ``frame_types`` speaks only for an exception of one of those types (a ``KeyError`` in
        tool dispatch is a malformed tool call, a provider's error raised from there is not).
        A source line (``json.loads(tool_call.function.arguments)``) weighs as its frame's name does.
        """
        in_app: list[int] = []
        library: list[int] = []
        for index, frame in enumerate(link.frames):
            (library if is_library_frame(frame) else in_app).append(index)
        type_name = link.type.rsplit(".", 1)[-1].lower()
        places = (in_app, library)
        best_key, best = _strongest_in(self._frame_scanner, self._frame_rules, link.frames, places, type_name)
        if link.sources:
            key, rule = _strongest_in(self._source_scanner, self._source_rules, link.sources, places, type_name)
            if key < best_key:
                best_key, best = key, rule
        return best_key, best

    def _type_rule(self, type_name: str) -> _Rule | None:
        """The strongest rule naming this exception type, by qualified name, else by base name.

        Remembered per name: a service raises few distinct types, over and over.
        """
        try:
            return self._type_memo[type_name]
        except KeyError:
            pass
        lowered = type_name.lower()
        rule = self._types.get(lowered) or self._types.get(lowered.rsplit(".", 1)[-1].lstrip("_"))
        if len(self._type_memo) >= _TYPE_MEMO_SIZE:
            self._type_memo.clear()
        self._type_memo[type_name] = rule
        return rule

    def classify_finish_reason(self, finish_reason: str) -> Label | None:
        error_class = self._finish_reasons.get(finish_reason.lower()) if finish_reason else None
        if not error_class:
            return None
        return self.label(error_class, f"finish_reason.{finish_reason.lower()}", Evidence.FINISH_REASON)

    def classify_metric_label(self, error: str) -> Label:
        """The metrics row's own short label, mapped into the taxonomy."""
        key = error.strip().lower()
        error_class = self._metric_labels.get(key) or (key if key in self._taxonomy else UNKNOWN)
        return self.label(error_class, f"metrics.{key or 'empty'}", Evidence.REPORTED)


def _load_fallback(entry: Mapping[str, Any] | None, directory: Path) -> LearnedFallback | None:
    """The rules' ``learned_fallback``: a model file beside the rules and the confidence below which it is silent."""
    if entry is None:
        return None
    try:
        model = orjson.loads((directory / str(entry["model"])).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise RulesError(f"invalid rules file: learned_fallback model: {exc}") from None
    return LearnedFallback(model, float(entry["min_confidence"]))


def _strongest_in(
    scanner: PatternSet,
    rules: list[_Rule],
    lines: tuple[str, ...],
    places: tuple[list[int], list[int]],
    type_name: str,
) -> tuple[int, _Rule | None]:
    """The strongest rule that ``lines`` (a link's frames, or their sources) satisfy.

    ``places``: the indexes of the app's own frames and of the libraries'; the app's lines are scanned first.
    """
    in_app, library = places
    app_text = "\n".join([lines[index] for index in in_app]).encode()
    found = scanner.first_matches(app_text + b"\n" + "\n".join([lines[index] for index in library]).encode())
    best_key, best = _NO_EVIDENCE, None
    for pattern_id, end in found.items():
        rule = rules[pattern_id]
        if rule.frame_types and type_name not in rule.frame_types:
            continue
        key = rule.text_key + (0 if end <= len(app_text) else _LIBRARY_FRAME)
        if key < best_key:
            best_key, best = key, rule
    return best_key, best


def check_shape(rules: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """The keys the JSON Schema asks of the file and of each rule, so a misspelt key fails at load, not silently.

    A subset of the schema (required and allowed keys, one kind of evidence, ``frame_types``
    only beside ``frame_patterns`` or ``source_patterns``); the suite validates the whole schema with jsonschema.
    """
    _check_keys("rules file", rules, schema)
    rule_schema = schema["$defs"]["rule"]
    evidence = [alternative["required"][0] for alternative in rule_schema["anyOf"]]
    for position, entry in enumerate(rules.get("rules") or ()):
        name = f"rule {entry.get('id', position)!r}" if isinstance(entry, dict) else f"rule {position}"
        if not isinstance(entry, dict):
            raise RulesError(f"invalid rules file: {name} is not an object")
        _check_keys(name, entry, rule_schema)
        if not any(key in entry for key in evidence):
            raise RulesError(f"invalid rules file: {name} has no evidence (one of {', '.join(evidence)})")
        for key, needs in rule_schema["dependentSchemas"].items():
            wanted = [alternative["required"][0] for alternative in needs["anyOf"]]
            if key in entry and not any(other in entry for other in wanted):
                raise RulesError(f"invalid rules file: {name} has {key} without {' or '.join(wanted)}")


def _check_keys(name: str, value: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    missing = [key for key in schema["required"] if key not in value]
    unknown = [key for key in value if key not in schema["properties"]]
    if missing or unknown:
        raise RulesError(f"invalid rules file: {name}: missing {missing}, unknown {unknown}")


def _strongest_text(
    rules: list[_Rule],
    scanner: PatternSet,
    texts: list[bytes],
    best_key: int,
    best: _Rule | None,
    read_by_frames: set[int],
    read_floor: int,
) -> tuple[int, _Rule | None]:
    """The strongest of ``best`` and the rules the links' texts satisfy, in one scan.

    Texts are joined root first by newlines and each match is credited to the link it ends
    in, so a pattern's first match lies in the innermost link that has it. In a link in
    ``read_by_frames`` only patterns keyed below ``read_floor`` count (the tiers before the exception types).
    """
    found = scanner.first_matches(b"\n".join(texts))
    if not found:
        return best_key, best
    ends, position = [], -1
    for text in texts:
        position += len(text) + 1
        ends.append(position)  # offset of the newline after each text
    last_link = len(ends) - 1
    for pattern_id, end in found.items():
        rule = rules[pattern_id]
        link_index = min(bisect_left(ends, end), last_link)
        if link_index in read_by_frames and rule.text_key >= read_floor:
            continue
        key = rule.text_key + link_index * _LINK
        if key < best_key:
            best_key, best = key, rule
    return best_key, best
