"""What a call returned, for the daemon's content checks: output, refusal and tool calls, when the app opts in.

The checks (truncation, refusal, invalid JSON, schema mismatch, malformed tool calls) run in
the daemon on the usage row's ``output``, ``refusal``, ``response_format``, ``tools`` and
``tool_calls``; this module reads them from OpenAI- and Anthropic-style responses so an
application needs no code of its own. Text is redacted here (keys, tokens, e-mail addresses
never reach Kafka); the daemon's ``--hash-prompts`` replaces the stored output by a digest
after the checks have read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from correlator.redaction import redact


@dataclass
class CallContent:
    """The content fields of one usage row; ``None`` means not seen, and is not sent."""

    response_format: Any = None
    tools: list[dict[str, Any]] | None = None
    output: str | None = None
    refusal: str | None = None
    saw_refusal_field: bool = False
    tool_calls: list[dict[str, str]] = field(default_factory=list)

    def read(self, response: Any) -> None:
        """Read an OpenAI chat completion (``choices[0].message``) or an Anthropic message (``content`` blocks)."""
        choices = _field(response, "choices")
        if choices:
            self._read_openai_message(_field(choices[0], "message"))
        elif _field(response, "content") is not None:
            self._read_anthropic_blocks(_field(response, "content"), _field(response, "stop_reason"))

    def fields(self) -> dict[str, Any]:
        """The usage row's content keys, redacted; a refusal key only when the response had a refusal field."""
        found: dict[str, Any] = {}
        if self.response_format is not None:
            found["response_format"] = self.response_format
        if self.tools is not None:
            found["tools"] = self.tools
        if self.output is not None:
            found["output"] = redact(self.output)
        if self.saw_refusal_field:
            found["refusal"] = redact(self.refusal) if self.refusal else None
        if self.tool_calls:
            found["tool_calls"] = [{**call, "arguments": redact(call["arguments"])} for call in self.tool_calls]
        return found

    def _read_openai_message(self, message: Any) -> None:
        if message is None:
            return
        content = _field(message, "content")
        if isinstance(content, str):
            self.output = content
        if _has_field(message, "refusal"):
            self.saw_refusal_field = True
            self.refusal = _field(message, "refusal")
        for call in _field(message, "tool_calls") or []:
            function = _field(call, "function") or call
            self.tool_calls.append(
                {"name": str(_field(function, "name") or ""), "arguments": _text(_field(function, "arguments"))}
            )

    def _read_anthropic_blocks(self, blocks: Any, stop_reason: Any) -> None:
        texts = []
        for block in blocks or []:
            kind = _field(block, "type")
            if kind == "text":
                texts.append(str(_field(block, "text") or ""))
            elif kind == "tool_use":
                name = str(_field(block, "name") or "")
                self.tool_calls.append({"name": name, "arguments": _text(_field(block, "input"))})
        self.output = "".join(texts)
        self.saw_refusal_field = True  # Anthropic says so by its stop reason
        self.refusal = (self.output or "refused") if stop_reason == "refusal" else None


def _text(arguments: Any) -> str:
    """Arguments as JSON text: OpenAI sends text (possibly not JSON, which is what the check is for), Anthropic
    an object."""
    if arguments is None:
        return "{}"
    return arguments if isinstance(arguments, str) else orjson.dumps(arguments, default=str).decode()


def _has_field(value: Any, name: str) -> bool:
    return name in value if isinstance(value, dict) else hasattr(value, name)


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)
