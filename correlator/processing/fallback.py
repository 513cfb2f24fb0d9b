"""A learned fallback for chains no rule has evidence for: a linear model shipped as data.

The model (``schemas/rules/fallback.json``, written by ``python -m tests.train_fallback``)
scores each class from the features of a chain (:func:`chain_features`) of the kinds it
names (:data:`KINDS`): every link's exception type and its name's words, the words of its own
text, of its in-app frames' function names and source lines, and of its library frames'
function names. It only ever speaks where the rules found nothing, and only above the rules
file's ``min_confidence``; its version and confidence go into the stored ``rule``
(``learned.<version>@0.87``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from correlator.processing.rootcause import ChainLink, is_library_frame

_TOKEN = re.compile(r"[^\s'\"`()\[\]{},:;=<>]+")
_WORD = re.compile(r"[a-z]{3,}")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")  # ``ContentFilterFinishReason``, ``JSONDecodeError``
_LINKS_READ = 4  # root first: the innermost links carry the cause, the outer ones wrap it

#: the feature kinds a model may read; a model names its own in its ``features``
KINDS = (
    "type",  # the link's exception type, its last dotted name
    "typeword",  # the words of that name: ``ContentFilterFinishReason`` → content, filter, finish, reason
    "content",  # the words of its text (not a wrapper's) but the function words (:data:`FUNCTION_WORDS`)
    "frame",  # the words of its in-app frames' function names
    "source",  # the words of its in-app frames' source lines, where the traceback text has them
    "libframe",  # the words of its library frames' function names (``raw_decode``, ``_raise_if_missing``)
)
# Words that say nothing of a failure: fitted as features they take the weight of the classes whose
# corpus texts are sentences (``the request was blocked`` read as a content filter's at 0.78).
FUNCTION_WORDS = frozenset(
    {
        *("the", "any", "all", "this", "that", "these", "those", "its", "his", "her", "our", "your", "their"),
        *("are", "was", "were", "been", "being", "has", "have", "had", "does", "did", "can", "could"),
        *("will", "would", "shall", "should", "may", "might", "must"),
        *("you", "she", "they", "them", "him", "who", "which", "what", "whom"),
        *("for", "from", "with", "into", "onto", "upon", "about", "over", "under", "after", "before", "between"),
        *("through", "during", "without", "within", "via", "per", "off", "out"),
        *("and", "but", "nor", "yet", "because", "while", "although", "than", "then", "when", "where", "whether"),
    }
)


@dataclass(frozen=True, slots=True)
class Guess:
    error_class: str
    confidence: float


def chain_features(
    chain: Sequence[ChainLink], is_wrapper_only: Callable[[str], bool], kinds: Collection[str]
) -> list[str]:
    """The features of the innermost links of the given kinds; no words at all means no guess.

    Words are those of a text that is not a wrapper's or of in-app frames' function names,
    whatever the kinds read, so a wrapper alone has no features.
    """
    features: set[str] = set()
    words = False
    for link in chain[:_LINKS_READ]:
        if link.type:
            name = link.type.rsplit(".", 1)[-1]
            if "type" in kinds:
                features.add("type:" + name.lower())
            if "typeword" in kinds:
                features.update("typeword:" + piece.lower() for piece in _CAMEL.findall(name) if len(piece) >= 3)
        if link.message and not is_wrapper_only(link.message):
            found = _words(link.message)
            words = words or bool(found)
            if "content" in kinds:
                features.update("content:" + word for word in found if word not in FUNCTION_WORDS)
        for position, frame in enumerate(link.frames):
            function = frame.rpartition(":")[2]
            found = _WORD.findall(function.lower().replace("_", " "))
            if is_library_frame(frame):
                if "libframe" in kinds:
                    features.update("libframe:" + word for word in found)
                continue
            words = words or bool(found)
            if "frame" in kinds:
                features.update("frame:" + word for word in found)
            if "source" in kinds and position < len(link.sources):
                features.update("source:" + word for word in _WORD.findall(link.sources[position].lower()))
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
        self.kinds: frozenset[str] = frozenset(model["features"])
        unknown_kinds = sorted(self.kinds - set(KINDS))
        if unknown_kinds:
            raise ValueError(f"fallback model: unknown feature kinds {unknown_kinds}")
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
