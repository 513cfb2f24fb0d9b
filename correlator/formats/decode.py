"""Bytes from a topic or a file line → a validated event, or the reason it is not one.

Nothing is dropped: a message that cannot be decoded becomes a :class:`DeadLetter`
carrying its raw bytes, so it can be stored and replayed.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from correlator.records import DeadLetter, Provenance

EventT = TypeVar("EventT", bound=BaseModel)


def decode(raw: bytes | None, model: type[EventT], provenance: Provenance) -> EventT | DeadLetter:
    """Parse one message with orjson and validate it into ``model``."""
    document = parse(raw, provenance)
    return document if isinstance(document, DeadLetter) else validate(document, raw or b"", model, provenance)


def parse(raw: bytes | None, provenance: Provenance) -> dict[str, Any] | DeadLetter:
    """The message as a JSON object, parsed once (the lean path and validation both read it)."""
    if raw is None:
        # a log-compacted topic's deletion marker for its key: no event, and not a broken one either
        return DeadLetter(provenance, "tombstone", "a null value (a tombstone: the deletion of its key)", b"")
    if not raw:
        return DeadLetter(provenance, "empty", "the message has no value", raw)
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = "not_utf8" if not _is_utf8(raw) else "not_json"
        return DeadLetter(provenance, reason, str(exc), raw)
    if type(document) is not dict:
        kind = type(document).__name__
        return DeadLetter(provenance, "not_object", f"expected a JSON object, got {kind}", raw)
    return document


def validate(document: dict[str, Any], raw: bytes, model: type[EventT], provenance: Provenance) -> EventT | DeadLetter:
    """A parsed object validated into ``model``; ``raw`` is what a dead letter keeps."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        return DeadLetter(provenance, _reason(exc, model), describe_validation_error(exc), raw)
    except RecursionError:
        return DeadLetter(provenance, "too_deep", "the message nests too deeply to validate", raw)


def _reason(exc: ValidationError, model: type[BaseModel]) -> str:
    """A reason the model declares as its own (say, a score with no name), else ``invalid_fields``."""
    own: frozenset[str] = getattr(model, "dead_letter_reasons", frozenset())
    kinds = [error["type"] for error in exc.errors(include_input=False, include_url=False)]
    return kinds[0] if len(kinds) == 1 and kinds[0] in own else "invalid_fields"


def describe_validation_error(exc: ValidationError) -> str:
    """Which fields failed and why, without echoing their values (they may be secrets)."""
    problems = (
        f"{'.'.join(str(part) for part in error['loc']) or '<root>'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False)
    )
    return "; ".join(problems)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
