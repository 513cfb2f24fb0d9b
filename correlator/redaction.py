"""The redaction rules: which secrets and personal data are masked, and how, in plain ``re``.

At the bottom of the package and free of Hyperscan, so the emitter (which redacts what an
application sends) installs without the daemon's engines; the daemon's redaction
(:mod:`correlator.processing.redact`) applies these same rules after a Hyperscan pre-check.
"""

from __future__ import annotations

import re
from collections.abc import Container

# (pattern, case sensitive, replacement); ASCII semantics, the same in Hyperscan and ``re``
RULES: tuple[tuple[str, bool, str], ...] = (
    (r"\b(sk-(?:ant-|proj-|live-|test-)?)[A-Za-z0-9_\-]{8,}", True, r"\1***"),
    (r"\bAIza[0-9A-Za-z_\-]{20,}", True, "AIza***"),
    (r"\b(AKIA|ASIA)[0-9A-Z]{12,}", True, r"\1***"),
    (r"\b(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}", False, r"\1***"),
    (r"\b((?:api[_-]?key|x-api-key|token|secret|password)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{4,}", False, r"\1***"),
    (r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b", True, "<email>"),
)
CARD = r"\b\d(?:[ -]?\d){12,18}\b"
PATTERNS = tuple(re.compile(p, re.ASCII | (0 if sensitive else re.IGNORECASE)) for p, sensitive, _ in RULES)
CARD_PATTERN = re.compile(CARD, re.ASCII)


def apply_rules(text: str, found: Container[int] | None = None) -> str:
    """``text`` with the rules applied: every rule, or only those whose index is in ``found``
    (the card rule's index is ``len(RULES)``)."""
    for index, (_, _, replacement) in enumerate(RULES):
        if found is None or index in found:
            text = PATTERNS[index].sub(replacement, text)
    if found is None or len(RULES) in found:
        text = CARD_PATTERN.sub(mask_card, text)
    return text


def redact(text: str) -> str:
    """The text with API keys, bearer tokens, credentials, e-mail addresses and card numbers masked."""
    return apply_rules(text)


def mask_card(match: re.Match[str]) -> str:
    """Only digit runs that pass the Luhn check are card numbers (not ids or timestamps)."""
    digits = [int(c) for c in match.group() if c.isdigit()]
    checksum = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
    return "<card>" if checksum % 10 == 0 else match.group()
