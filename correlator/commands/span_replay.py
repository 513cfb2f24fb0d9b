"""What an OpenTelemetry LLM span says a replay needs, as the dataset reads a usage row: a call of its own.

Instrumentations record the call's content in the span's attributes (stored whole in ``spans``):
the GenAI semantic conventions as JSON (``gen_ai.input.messages``, ``gen_ai.system_instructions``,
``gen_ai.output.messages`` whose ``tool_call`` parts are the tool calls, ``gen_ai.tool.definitions``,
``gen_ai.request.*`` settings), OpenLLMetry's flattened (``gen_ai.prompt.0.role``/``.content``,
``gen_ai.completion.0.content``, ``gen_ai.completion.0.tool_calls.0.name``/``.arguments``) and
OpenInference's (``llm.input_messages.0.message.role``/``.content``, ``llm.output_messages.0.message.
content``, ``llm.invocation_parameters``). Each becomes the usage row's attribute of the same meaning
(``messages``, ``output``, ``tool_calls`` with arguments as JSON text, ``tools``, the settings' names), so
one item builder reads both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from correlator.commands.incidents import Record
from correlator.processing.otlp_rows import INVOCATION_PARAMETERS

# gen_ai.request.<name> → the setting's name on a usage row
REQUEST_SETTINGS = {
    "temperature": "temperature", "top_p": "top_p", "top_k": "top_k", "max_tokens": "max_tokens", "seed": "seed",
    "presence_penalty": "presence_penalty", "frequency_penalty": "frequency_penalty", "stop_sequences": "stop",
}  # fmt: skip
# flattened messages: <prefix>.<index>.<field>, OpenLLMetry's and OpenInference's
_PROMPT = re.compile(r"^(?:gen_ai\.prompt|llm\.input_messages)\.(\d+)\.(?:message\.)?(role|content)$")
_COMPLETION = re.compile(r"^(?:gen_ai\.completion|llm\.output_messages)\.(\d+)\.(?:message\.)?content$")
_COMPLETION_TOOL = re.compile(r"^gen_ai\.completion\.(\d+)\.tool_calls\.(\d+)\.(name|arguments)$")


def span_call(span: Record) -> Record:
    """An LLM span (``queries/dataset_spans.sql``) in the shape of a usage row's call."""
    attributes: Mapping[str, str] = span["attributes"]
    content: dict[str, Any] = {
        "messages": _messages(attributes),
        "output": _output(attributes),
        "tool_calls": _tool_calls(attributes),
        "tools": _json(attributes.get("gen_ai.tool.definitions")),
        "response_format": "json" if attributes.get("gen_ai.output.type") == "json" else None,
        **_settings(attributes),
    }
    finish_reasons = span["finish_reasons"]
    return {
        "ts": span["ts"], "trace_id": span["trace_id"], "span_id": span["span_id"], "error_id": span["error_id"],
        "success": not span["error_id"], "model": span["model"], "provider": span["provider"], "prompt_version": "",
        "finish_reason": finish_reasons[0] if finish_reasons else "", "rules_version": span["rules_version"],
        "attributes": {key: value if isinstance(value, str) else orjson.dumps(value).decode()
                       for key, value in content.items() if value not in (None, [])},
    }  # fmt: skip


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _messages(attributes: Mapping[str, str]) -> Any:
    """The conventions' messages (the system instructions first, as a system message), else the flattened ones."""
    messages = _json(attributes.get("gen_ai.input.messages"))
    if isinstance(messages, list):
        instructions = _json(attributes.get("gen_ai.system_instructions"))
        return ([{"role": "system", "parts": instructions}] if instructions else []) + messages
    flattened: dict[int, dict[str, str]] = {}
    for key, value in attributes.items():
        if match := _PROMPT.match(key):
            flattened.setdefault(int(match[1]), {})[match[2]] = value
    return [flattened[index] for index in sorted(flattened)] or _json(attributes.get("gen_ai.prompt"))


def _output_parts(attributes: Mapping[str, str]) -> list[dict[str, Any]]:
    messages = _json(attributes.get("gen_ai.output.messages"))
    if not isinstance(messages, list):
        return []
    return [part for message in messages if isinstance(message, dict)
            for part in message.get("parts") or [] if isinstance(part, dict)]  # fmt: skip


def _output(attributes: Mapping[str, str]) -> str | None:
    """The model's text: the output messages' text parts, else the flattened completions, else OpenInference's."""
    parts = _output_parts(attributes)
    if parts:
        texts = [str(part.get("content", "")) for part in parts if part.get("type") == "text"]
        return "".join(texts) if texts else None
    completions = {int(m[1]): value for key, value in attributes.items() if (m := _COMPLETION.match(key))}
    if completions:
        return "".join(completions[index] for index in sorted(completions))
    return attributes.get("output.value")


def _tool_calls(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    """``[{"name", "arguments"}]``, arguments as JSON text, as a usage row carries them."""
    parts = [part for part in _output_parts(attributes) if part.get("type") == "tool_call"]
    if parts:
        return [{"name": str(part.get("name", "")), "arguments": _as_text(part.get("arguments", {}))}
                for part in parts]  # fmt: skip
    flattened: dict[tuple[int, int], dict[str, str]] = {}
    for key, value in attributes.items():
        if match := _COMPLETION_TOOL.match(key):
            flattened.setdefault((int(match[1]), int(match[2])), {})[match[3]] = value
    return [{"name": call.get("name", ""), "arguments": call.get("arguments", "{}")}
            for _, call in sorted(flattened.items())]  # fmt: skip


def _as_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()


def _settings(attributes: Mapping[str, str]) -> dict[str, Any]:
    """The request's settings: OpenInference's invocation parameters, then the conventions' gen_ai.request.*."""
    invocation = _json(attributes.get(INVOCATION_PARAMETERS))
    settings = dict(invocation) if isinstance(invocation, dict) else {}
    for name, setting in REQUEST_SETTINGS.items():
        if (value := attributes.get(f"gen_ai.request.{name}")) is not None:
            settings[setting] = _json(value)
    return settings
