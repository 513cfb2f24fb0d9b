"""Find the exception chain, and its innermost cause, in the shapes logs arrive in.

A chain is a tuple of :class:`ChainLink`, root cause first and outermost exception last:
the order Python prints tracebacks in, and the order Sentry stores chains in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Chain = tuple["ChainLink", ...]

_DIRECT_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"
_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::[ \t]?(?P<message>.*))?$", re.DOTALL)
_TRACEBACK_HEADER = "Traceback (most recent call last):"
_FRAME_LINE = re.compile(r'File "(?P<filename>[^"]*)", line \d+, in (?P<name>[^\n]+)')
_UNINDENTED_LINE = re.compile(r"^[^\s+]", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One exception of a chain: its type as the log named it, its text, and its frames.

    ``frames`` are ``filename:function`` of each stack frame, outermost first, as far as
    the log kept them: they are evidence (a tool-argument parser) and a fingerprint.
    """

    type: str
    message: str
    frames: tuple[str, ...] = ()


def chain_from_dict_tracebacks(stacks: Sequence[Any]) -> Chain:
    """Read structlog's ``dict_tracebacks`` list (outermost first) into a root-first chain.

    An exception group contributes its first member's chain as the deeper cause: the
    group itself says only that several things failed.
    """
    links: list[ChainLink] = []
    for stack in reversed(stacks):
        if not isinstance(stack, dict):  # decoded JSON: objects are dicts
            continue
        members = stack.get("exceptions") if stack.get("is_group") else None
        if isinstance(members, list) and members and isinstance(members[0], list):
            links.extend(chain_from_dict_tracebacks(members[0]))
        frames = stack.get("frames")
        names = (
            tuple(f"{f.get('filename') or ''}:{f.get('name') or ''}" for f in frames if isinstance(f, dict))
            if isinstance(frames, list)
            else ()
        )
        links.append(ChainLink(_text(stack.get("exc_type")), _text(stack.get("exc_value")), names))
    return tuple(links)


def chain_from_traceback_text(text: str) -> Chain:
    """Parse formatted traceback text; Python prints the root cause's block first."""
    links = []
    for block in text.replace(_CONTEXT, _DIRECT_CAUSE).split(_DIRECT_CAUSE):
        link = _exception_of_block(block)
        if link is not None:
            links.append(link)
    return tuple(links)


def chain_from_message(message: str, embedded_cause: re.Pattern[str]) -> Chain:
    """A wrapper message that embeds its cause ("LLM chat interaction failed [id]: X")."""
    match = embedded_cause.match(message.strip())
    if match is None:
        return ()
    cause = match.group("cause").strip()
    return (_link_from_exception_line(cause), ChainLink("", message.strip()))


def extend_with_embedded_causes(chain: Chain, embedded_cause: re.Pattern[str]) -> Chain:
    """Put a cause embedded in the root exception's own text beneath it in the chain.

    ``raise LLMChatError(f"... [{error_id}]: {e}") from None`` keeps the cause only as text.
    """
    if not chain:
        return chain
    deeper = chain_from_message(chain[0].message, embedded_cause)
    return deeper[:1] + chain if deeper else chain


def _exception_of_block(block: str) -> ChainLink | None:
    """The exception of one traceback block: from the first unindented line after its frames."""
    header = block.rfind(_TRACEBACK_HEADER)
    body = block[header + len(_TRACEBACK_HEADER) :] if header >= 0 else block
    start = _UNINDENTED_LINE.search(body)
    if start is None:
        return None
    frames = tuple(
        f"{m.group('filename')}:{m.group('name').rstrip()}" for m in _FRAME_LINE.finditer(body, 0, start.start())
    )
    link = _link_from_exception_line(body[start.start() :].strip())
    return ChainLink(link.type, link.message, frames)


def _link_from_exception_line(text: str) -> ChainLink:
    match = _EXCEPTION_LINE.match(text)
    if match is None:
        return ChainLink("", text)
    return ChainLink(match.group("type"), (match.group("message") or "").strip())


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def root_cause(chain: Iterable[ChainLink]) -> ChainLink | None:
    """The innermost exception of a chain."""
    return next(iter(chain), None)
