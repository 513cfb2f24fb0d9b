"""What an LLM application imports so its failures reach correlator ready to join."""

from correlator.emit.errors import LLMChatError, new_error_id

__all__ = ["LLMChatError", "new_error_id"]
