"""Redaction of secrets and personal data from free text, before it leaves a process or is stored."""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(sk-(?:ant-|proj-|live-|test-)?)[A-Za-z0-9_\-]{8,}"), r"\1***"),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"), "AIza***"),
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{12,}"), r"\1***"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}"), r"\1***"),
    (
        re.compile(r"(?i)\b((?:api[_-]?key|x-api-key|token|secret|password)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{4,}"),
        r"\1***",
    ),
    (re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"), "<email>"),
)


def redact(text: str) -> str:
    """The text with API keys, bearer tokens, credentials, e-mail addresses and card numbers masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _CARD.sub(_mask_card, text)


_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")


def _mask_card(match: re.Match[str]) -> str:
    """Only digit runs that pass the Luhn check are card numbers (not ids or timestamps)."""
    digits = [int(c) for c in match.group() if c.isdigit()]
    checksum = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
    return "<card>" if checksum % 10 == 0 else match.group()
