"""correlator: joins LLM application logs and usage metrics in ClickHouse and explains masked failures."""

from correlator.emit import LLMChatError

__all__ = ["LLMChatError"]
