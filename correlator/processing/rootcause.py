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
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::[ \t]?(.*))?$", re.DOTALL)  # type, message
_TRACEBACK_HEADER = "Traceback (most recent call last):"
_GROUP_HEADER = "+ Exception Group Traceback (most recent call last):"
_GROUP_HEADER_LINE = re.compile(r"^( *)\+ Exception Group Traceback \(most recent call last\):[ \t]*$", re.MULTILINE)
_TOP_LEVEL_SEPARATOR = re.compile(
    r"^(?:The above exception was the direct cause of the following exception:"
    r"|During handling of the above exception, another exception occurred:)[ \t]*$",
    re.MULTILINE,
)
_MEMBER_START = re.compile(r" (?:\d+|\.\.\.) -+$")
# filename, function and the indented line after it: the frame's source line, when Python found one. A frame
# with none (``<frozen os>``, code run by exec, a deployment without sources) is followed by the next header,
# whose indentation the lookahead must see whole, or the next frame would be read as this one's source
_FRAME_LINE = re.compile(r'File "([^"]*)", line \d+, in ([^\n]+)(?:\n[ \t]+(?![ \t]|File ")([^\n]*))?')
# what follows a frame's header without being its code: column markers, and capture_locals' ``name = value``
# where the value is a literal or a repr (an assignment of a call, ``args = json.loads(raw)``, is code)
_NOT_SOURCE = re.compile(r"""[\s^~]*$|[A-Za-z_]\w* = (?:['"<\[{(\d-]|[bfru]{1,2}['"]|None$|True$|False$|\.\.\.$)""")
# correlator.emit.LLMChatError's ending: where the application raised the cause it embeds
_RAISED_IN = re.compile(r" \(raised in ([^\s():]+:[\w<>.-]+)\)$")
# and before it, each exception that cause was raised from, innermost first: ``Type: message``
ROOT_MARK = " [root: "
_UNINDENTED = re.compile(r"[^\s+]")
_UNINDENTED_AFTER_NEWLINE = re.compile(r"\n[^\s+]")  # a literal first: searched fast, unlike a multiline ^


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One exception of a chain: its type as the log named it, its text, and its frames.

    ``frames`` are ``filename:function`` of each stack frame, outermost first, as far as
    the log kept them: they are evidence (a tool-argument parser) and a fingerprint.
    ``sources`` are the frames' source lines, one per frame ("" where none), when the log
    kept any: only traceback text does (``json.loads(tool_call.function.arguments)``);
    structlog's dict frames carry none, so their chains have ``()``.
    """

    type: str
    message: str
    frames: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


def chain_from_dict_tracebacks(stacks: Sequence[Any]) -> Chain:
    """Read structlog's ``dict_tracebacks`` list (outermost first) into a root-first chain.

    An exception group contributes every member's chain, in the group's order, beneath
    the group itself (see :func:`chain_from_traceback_text`).
    """
    links: list[ChainLink] = []
    for stack in reversed(stacks):
        if not isinstance(stack, dict):  # decoded JSON: objects are dicts
            continue
        if stack.get("is_group"):
            members = stack.get("exceptions")
            if isinstance(members, list):
                for member in members:
                    if isinstance(member, list):
                        links.extend(chain_from_dict_tracebacks(member))
        frames = stack.get("frames")
        names = (
            tuple([f"{f.get('filename') or ''}:{f.get('name') or ''}" for f in frames if isinstance(f, dict)])
            if isinstance(frames, list)
            else ()
        )
        links.append(ChainLink(_text(stack.get("exc_type")), _text(stack.get("exc_value")), names))
    return tuple(links)


def chain_from_traceback_text(text: str) -> Chain:
    """Parse formatted traceback text; Python prints the root cause's block first.

    An exception group (``+ Exception Group Traceback``) is a block whose members are
    indented behind ``|``: each member's chain comes beneath the group, in the group's
    order, so every member is a cause and its type is stored; the classifier then takes the
    strongest evidence among them, the first member's on a tie.
    """
    if _GROUP_HEADER in text:
        return _chain_with_groups(text)
    links = []
    for block in text.replace(_CONTEXT, _DIRECT_CAUSE).split(_DIRECT_CAUSE):
        link = _exception_of_block(block)
        if link is not None:
            links.append(link)
    return tuple(links)


def _chain_with_groups(text: str) -> Chain:
    """The slower parse for text with groups: blocks split only at unindented separators."""
    links: list[ChainLink] = []
    for block in _TOP_LEVEL_SEPARATOR.split(text):
        header = _GROUP_HEADER_LINE.search(block)
        if header is None:
            link = _exception_of_block(block)
            if link is not None:
                links.append(link)
            continue
        own, members = _group_parts(block[header.end() :].splitlines(), len(header.group(1)))
        for member in members:
            links.extend(_member_chain(member))
        link = _exception_of_block(own)
        if link is not None:
            links.append(link)
    return tuple(links)


def _group_parts(lines: list[str], indent: int) -> tuple[str, list[list[str]]]:
    """A group block's own lines (un-indented) and each member's lines (still behind their ``|``).

    Python draws the group's own lines as ``{indent}| …``, its first member's rule as
    ``{indent}+-+-- 1 --``, the next ones and the closing rule at ``indent + 2``, and the
    members' lines (a nested group's rules too) deeper than ``indent + 1``.
    """
    own_prefix, member_indent = " " * indent + "| ", " " * (indent + 2)
    own: list[str] = []
    members: list[list[str]] = []
    for line in lines:
        if line.startswith(" " * indent + "+-+") and not line[indent].isspace():
            members.append([])
        elif line.startswith(member_indent + "+-") and not line.startswith(member_indent + "+-+"):
            if _MEMBER_START.search(line):
                members.append([])
        elif members and line.startswith(member_indent):
            members[-1].append(line[len(member_indent) :])
        elif not members and line.startswith(own_prefix.rstrip()):
            own.append(line[len(own_prefix) :])
    return "\n".join(own), members


def _member_chain(lines: list[str]) -> Chain:
    """One member's chain: a nested group (its rules at the member's margin) or plain traceback text."""
    if any(line.startswith("+-+") for line in lines):
        body = lines[1:] if lines and lines[0].startswith("| Exception Group Traceback") else lines
        return _chain_with_groups("\n".join([_GROUP_HEADER, *body]))
    return chain_from_traceback_text("\n".join([line[2:] if line.startswith("| ") else line[1:] for line in lines]))


def chain_from_message(message: str, embedded_cause: re.Pattern[str]) -> Chain:
    """A wrapper message that embeds its cause ("LLM chat interaction failed [id]: X").

    ``correlator.emit.LLMChatError`` ends it with where the cause was raised, ``(raised in
    cache.py:load_cached_reply)``: that is the cause's one frame, and neither link's text.
    A cause raised from others names them, innermost first, ``[root: Type: message]`` each
    (an exception group's members too): they go beneath the cause, as in the traceback
    they came from.
    """
    match = embedded_cause.match(message.strip())
    if match is None:
        return ()
    cause, where = _without_raised_in(match.group("cause").strip())
    cause, *roots = cause.split(ROOT_MARK) if cause.endswith("]") else (cause,)
    exception_type, text = _type_and_message(cause)
    wrapper = _without_raised_in(message.strip())[0]
    return (
        *[ChainLink(*_type_and_message(root.removesuffix("]"))) for root in roots],
        ChainLink(exception_type, text, (where,) if where else ()),
        ChainLink("", wrapper),
    )


def embedded_text(cause: str) -> str:
    """One embedded cause's own text: ``Type: message (raised in f.py:g)`` without its type and where it was raised."""
    return _type_and_message(_without_raised_in(cause)[0])[1]


def extend_with_embedded_causes(chain: Chain, embedded_cause: re.Pattern[str]) -> Chain:
    """Put a cause embedded in the root exception's own text beneath it in the chain.

    ``raise LLMChatError(f"... [{error_id}]: {e}") from None`` keeps the cause only as text.
    """
    if not chain:
        return chain
    deeper = chain_from_message(chain[0].message, embedded_cause)
    if not deeper:
        return chain
    wrapper = chain[0]
    return (*deeper[:-1], ChainLink(wrapper.type, deeper[-1].message, wrapper.frames, wrapper.sources), *chain[1:])


def _without_raised_in(cause: str) -> tuple[str, str]:
    """The embedded cause's text, and the frame its ``(raised in file.py:function)`` ending names ("" if none).

    Only the last ``" (raised in "`` can begin the ending (a frame's name has no spaces): matched there, not
    searched for from every position of a long text.
    """
    start = cause.rfind(" (raised in ") if cause.endswith(")") else -1
    found = _RAISED_IN.match(cause, start) if start >= 0 else None
    return (cause[:start], found.group(1)) if found else (cause, "")


def _exception_of_block(block: str) -> ChainLink | None:
    """The exception of one traceback block: from the first unindented line after its frames."""
    header = block.rfind(_TRACEBACK_HEADER)
    body = block[header + len(_TRACEBACK_HEADER) :] if header >= 0 else block
    start = _first_unindented_line(body)
    if start < 0:
        return None
    found = _FRAME_LINE.findall(body, 0, start)
    frames = tuple([f"{filename}:{name.rstrip()}" for filename, name, _ in found])
    sources = tuple([source_line(line) if line else "" for _, _, line in found])
    exception_type, message = _type_and_message(body[start:].strip())
    return ChainLink(exception_type, message, frames, sources if any(sources) else ())


def source_line(line: str) -> str:
    """The code of a frame's source line, "" for what only follows a frame's header (markers, locals).

    The same test decides which lines a stored traceback keeps (:func:`correlator.processing.rows.stored_traceback`),
    so a chain parsed from it again has the sources it had at ingest.
    """
    code = line.strip()
    if not code or code[0] in "^~":
        return "" if _NOT_SOURCE.match(code) else code
    return "" if " = " in code and _NOT_SOURCE.match(code) else code


def _first_unindented_line(body: str) -> int:
    """Where the first line that starts neither with whitespace nor with "+" begins; -1 if none."""
    if _UNINDENTED.match(body):
        return 0
    found = _UNINDENTED_AFTER_NEWLINE.search(body)
    return found.start() + 1 if found else -1


def _type_and_message(text: str) -> tuple[str, str]:
    """``module.Type: message`` → its two parts; text not shaped so is all message."""
    match = _EXCEPTION_LINE.match(text)
    if match is None:
        return "", text
    exception_type, message = match.groups()
    return exception_type, (message or "").strip()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def is_library_frame(frame: str) -> bool:
    """A frame (``path:function``) in an installed library or the standard library, not the application's code.

    A Cython source (``pyarrow/error.pxi``, ``pandas/_libs/parsers.pyx``) is a compiled library's, whose
    frames carry a path relative to the package. ``correlator.emit.errors`` keeps its own copy: the
    emitter is installed without this package.
    """
    return (
        "-packages/" in frame
        or "/lib/python3" in frame
        or frame.startswith("<")
        or ".pyx:" in frame
        or ".pxi:" in frame
        or ".pxd:" in frame
    )


def root_cause(chain: Iterable[ChainLink]) -> ChainLink | None:
    """The innermost exception of a chain."""
    return next(iter(chain), None)
