"""``LLMChatError``: the wrapper exception that keeps its cause and an id to join on."""

from __future__ import annotations

import secrets


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
    """

    def __init__(self, cause: BaseException, error_id: str | None = None, summary: str = "LLM chat interaction failed"):
        self.error_id = error_id or new_error_id()
        self.cause = cause
        detail = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        where = raised_in(cause)
        super().__init__(f"{summary} [{self.error_id}]: {detail}" + (f" (raised in {where})" if where else ""))


def raised_in(cause: BaseException) -> str:
    """``file.py:function`` of the innermost frame of the cause's traceback in the application's own code, or ""."""
    where = ""
    traceback = cause.__traceback__
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if not _is_library(code.co_filename):
            where = f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}"
        traceback = traceback.tb_next
    return where


def _is_library(filename: str) -> bool:
    # correlator.processing.rootcause.is_library_frame's test: the emitter is installed without that package
    return "-packages/" in filename or "/lib/python3" in filename or filename.startswith("<")
