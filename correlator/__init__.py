"""correlator: joins LLM application logs and usage metrics in ClickHouse and explains masked failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from correlator.emit import LLMChatError

__all__ = ["LLMChatError"]


def __getattr__(name: str) -> Any:
    """``correlator.LLMChatError`` imports the emitter when asked for: the daemon, which never raises it,
    does not pay for the emitter's modules at start."""
    if name == "LLMChatError":
        from correlator.emit import LLMChatError

        return LLMChatError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
