"""``LLMChatError``: the wrapper exception that keeps its cause and an id to join on."""

from __future__ import annotations

import secrets

_COMPREHENSIONS = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"})
_NAMED = 8  # exceptions beneath the cause named in the text: it stays a line, not a report


def new_error_id() -> str:
    """12 hex characters: short enough to read aloud, unique enough to join on."""
    return secrets.token_hex(6)


class LLMChatError(ValueError):
    """An LLM call failed; the text names the ``error_id`` and the root cause.

    A ``ValueError`` so that existing ``except ValueError`` sites keep working. Raise it
    ``from`` the original exception; even ``from None`` keeps the cause in the text, and
    where the application raised it: ``(raised in cache.py:load_cached_reply)``, the
    innermost frame of the cause's traceback outside the libraries. That frame is what
    tells a JSON error on a stored blob from one on a model's reply once the traceback is gone.
    A cause that was itself raised from others names them too, innermost first, ``[root:
    UnsupportedProtocol: Request URL is missing an 'http://' or 'https://' protocol.]``: an
    SDK's ``APIConnectionError: Connection error.`` says nothing of why (an exception group
    names its members and theirs).
    """

    def __init__(self, cause: BaseException, error_id: str | None = None, summary: str = "LLM chat interaction failed"):
        self.error_id = error_id or new_error_id()
        self.cause = cause
        detail = _type_and_text(cause)
        for below in causes_beneath(cause):
            if not (str(below) and str(below) in str(cause)):
                detail += f" [root: {_type_and_text(below)}]"
        where = raised_in(cause)
        super().__init__(f"{summary} [{self.error_id}]: {detail}" + (f" (raised in {where})" if where else ""))


def _type_and_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def causes_beneath(exc: BaseException) -> list[BaseException]:
    """The exceptions ``exc`` was raised from, innermost first, as Python prints its chain (``__cause__``,
    else a shown ``__context__``); an exception group's members each with theirs, in order (the group's
    own text is bare: "unhandled errors in a TaskGroup (1 sub-exception)"). The first ``_NAMED``."""
    found: list[BaseException] = []
    _collect_beneath(exc, found, {id(exc)})
    return found[:_NAMED]


def _collect_beneath(exc: BaseException, found: list[BaseException], seen: set[int]) -> None:
    if isinstance(exc, BaseExceptionGroup):
        deeper = [member for member in exc.exceptions if id(member) not in seen]
    else:
        cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        deeper = [cause] if cause is not None and id(cause) not in seen else []
    for below in deeper:
        if len(found) >= _NAMED:
            return
        seen.add(id(below))
        _collect_beneath(below, found, seen)
        found.append(below)


def raised_in(cause: BaseException) -> str:
    """``file.py:function`` of the innermost frame of the cause's traceback in the application's own code, or "".

    A comprehension's frame names nothing (Python 3.12 inlines it): the function around it is named instead.
    """
    where = ""
    traceback = cause.__traceback__
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if not _is_library(code.co_filename) and code.co_name not in _COMPREHENSIONS:
            where = f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}"
        traceback = traceback.tb_next
    return where


def _is_library(filename: str) -> bool:
    # correlator.processing.rootcause.is_library_frame's test: the emitter is installed without that package
    return (
        "-packages/" in filename
        or "/lib/python3" in filename
        or filename.startswith("<")
        or filename.endswith((".pyx", ".pxi", ".pxd"))
    )
