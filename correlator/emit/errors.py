"""``LLMChatError``: the wrapper exception that keeps its cause and an id to join on."""

from __future__ import annotations

import secrets


def new_error_id() -> str:
    """12 hex characters: short enough to read aloud, unique enough to join on."""
    return secrets.token_hex(6)


class LLMChatError(ValueError):
    """An LLM call failed; the text names the ``error_id`` and the root cause.

    A ``ValueError`` so that existing ``except ValueError`` sites keep working. Raise it
    ``from`` the original exception; even ``from None`` keeps the cause in the text.
    """

    def __init__(self, cause: BaseException, error_id: str | None = None, summary: str = "LLM chat interaction failed"):
        self.error_id = error_id or new_error_id()
        self.cause = cause
        detail = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        super().__init__(f"{summary} [{self.error_id}]: {detail}")
