"""A learned fallback for chains no rule has evidence for: a linear model shipped as data.

The model (``schemas/rules/fallback.json``, written by ``python -m tests.train_fallback``)
scores each class from the features of a chain: every link's exception type, the words of
its own text and the words of its in-app frames' function names. It only ever speaks where
the rules found nothing, and only above the rules file's ``min_confidence``; its version
and confidence go into the stored ``rule`` (``learned.<version>@0.87``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from correlator.processing.rootcause import ChainLink, is_library_frame

_TOKEN = re.compile(r"[^\s'\"`()\[\]{},:;=<>]+")
_WORD = re.compile(r"[a-z]{3,}")
_LINKS_READ = 4  # root first: the innermost links carry the cause, the outer ones wrap it


@dataclass(frozen=True, slots=True)
class Guess:
    error_class: str
    confidence: float


def chain_features(chain: Sequence[ChainLink], is_wrapper_only: Callable[[str], bool]) -> list[str]:
    """Type, text words and in-app frame words of the innermost links; no words at all means no guess.

    A wrapper's own text is no evidence here either, so a wrapper alone has no features.
    """
    features: set[str] = set()
    words = False
    for link in chain[:_LINKS_READ]:
        if link.type:
            features.add("type:" + link.type.rsplit(".", 1)[-1].lower())
        if link.message and not is_wrapper_only(link.message):
            found = _words(link.message)
            features.update("word:" + word for word in found)
            words = words or bool(found)
        for frame in link.frames:
            if is_library_frame(frame):
                continue
            found = _WORD.findall(frame.rsplit(":", 1)[-1].lower().replace("_", " "))
            features.update("frame:" + word for word in found)
            words = words or bool(found)
    return sorted(features) if words else []


def _words(text: str) -> list[str]:
    """The words of a text, leaving out tokens with a digit or a slash: ids, addresses, paths, counts."""
    return [
        word
        for token in _TOKEN.findall(text.lower())
        if not any(character.isdigit() or character == "/" for character in token)
        for word in _WORD.findall(token)
    ]


class LearnedFallback:
    """Multinomial logistic regression over :func:`chain_features`, read from its JSON."""

    def __init__(self, model: Mapping[str, Any], min_confidence: float) -> None:
        self.version: str = str(model["version"])
        self.min_confidence = min_confidence
        self._classes: list[str] = list(model["classes"])
        self._bias: list[float] = [float(value) for value in model["bias"]]
        self._weights: dict[str, list[float]] = {
            feature: [float(value) for value in row] for feature, row in model["weights"].items()
        }
        if len(self._bias) != len(self._classes) or any(
            len(row) != len(self._classes) for row in self._weights.values()
        ):
            raise ValueError("fallback model: every row needs one weight per class")

    def guess(self, features: Sequence[str]) -> Guess | None:
        """The most likely class and its probability, or None below ``min_confidence`` or with no known feature."""
        rows = [self._weights[feature] for feature in features if feature in self._weights]
        if not rows:
            return None
        scores = [bias + sum(row[index] for row in rows) for index, bias in enumerate(self._bias)]
        top = max(scores)
        exps = [math.exp(score - top) for score in scores]
        best = max(range(len(scores)), key=scores.__getitem__)
        confidence = exps[best] / sum(exps)
        if confidence < self.min_confidence or self._classes[best] == "unknown":
            return None
        return Guess(self._classes[best], confidence)
