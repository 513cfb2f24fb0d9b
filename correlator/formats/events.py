"""Event contracts: the two message shapes on the topics, as pydantic models.

Core fields are typed; every other key is kept (``extra="allow"``) and stored as an
attribute, never rejected. Aliases accept the field names of structlog's JSONRenderer,
stdlib JSON loggers and ``error_category`` error records alike.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar

import orjson
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from correlator.formats.headers import TRACE_ID_KEYS
from correlator.schemas_dir import SCHEMAS_DIR

_ASCTIME = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}),(\d{1,6})")


def _normalise_timestamp(value: Any) -> Any:
    """Accept Python logging's ``asctime`` ("2026-11-22 10:00:00,123") beside ISO 8601."""
    if isinstance(value, str) and "," in value:
        return _ASCTIME.sub(r"\1.\2", value.strip())
    return value


Timestamp = Annotated[datetime | None, BeforeValidator(_normalise_timestamp)]


def _alias(*names: str) -> Any:
    return Field(default="", validation_alias=AliasChoices(*names))


def _json_text(value: Any) -> Any:
    """``tool_args`` as JSON text: text as it came, an object in one spelling (sorted keys), so equal calls match."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _lowered(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else _absent_as_empty(value)


def _absent_as_empty(value: Any) -> Any:
    return "" if value is None else value


def _keep_unreadable_numbers(document: Any, fields: tuple[str, ...]) -> Any:
    """A measurement that is not a non-negative number is kept as ``rejected_<field>``: no reason to lose the line."""
    if not isinstance(document, dict) or document.keys().isdisjoint(fields):
        return document  # every line passes here: the check that it has none of them stays in C
    moved = dict(document)
    for field in fields:
        value = moved.get(field)
        if value is None:
            continue
        try:
            readable = not isinstance(value, bool) and 0 <= float(value) < float("inf")
        except (TypeError, ValueError):
            readable = False
        if not readable:
            moved[f"rejected_{field}"] = moved.pop(field)
    return moved


JsonText = Annotated[
    str,
    BeforeValidator(_json_text),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}], "title": "Tool Args",
                    "description": "the tool's arguments: JSON text, or the object itself"}),
]  # fmt: skip
Lowered = Annotated[str, BeforeValidator(_lowered)]
# a step's text field: null is the same as absent
OptionalText = Annotated[str, BeforeValidator(_absent_as_empty)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    timestamp: Timestamp = Field(
        default=None,
        validation_alias=AliasChoices("timestamp", "@timestamp", "time", "asctime", "created"),
    )
    trace_id: str = _alias(*TRACE_ID_KEYS)
    span_id: str = _alias("span_id", "spanId", "otelSpanID")
    error_id: str = ""
    service: str = _alias("service", "service_name", "service.name")
    model: str = ""

    #: the measurements a producer may get wrong without losing its line (see :func:`_keep_unreadable_numbers`)
    measurements: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _measurements(cls, document: Any) -> Any:
        return _keep_unreadable_numbers(document, cls.measurements) if cls.measurements else document

    @field_validator("timestamp")
    @classmethod
    def _assume_utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def extras(self) -> dict[str, Any]:
        return self.__pydantic_extra__ or {}


class LogEvent(_Event):
    """One application log line (structlog, stdlib JSON logger or error record)."""

    level: str = _alias("level", "levelname", "severity", "log.level")
    message: str = _alias("event", "message", "msg")
    logger: str = _alias("logger", "name", "logger_name")
    exception: str | list[Any] | None = Field(
        default=None,
        validation_alias=AliasChoices("exception", "exc_info", "stack_trace", "traceback"),
    )
    error_category: str = ""
    context: dict[str, Any] | str | None = None
    # a step of the trace (contract: "Steps, tool calls and content"): its parent, kind and tool call
    parent_span_id: OptionalText = _alias("parent_span_id", "parentSpanId")
    step: Lowered = _alias("step", "span_kind")
    tool_name: OptionalText = ""
    tool_args: JsonText = ""
    tool_status: Lowered = ""
    duration_ms: float | None = None

    measurements: ClassVar[tuple[str, ...]] = ("duration_ms",)


class UsageMetric(_Event):
    """One LLM call attempt from the usage-metrics topic."""

    success: bool
    duration_seconds: float = Field(default=0.0, ge=0)
    error: str = ""
    error_detail: str = _alias("error_detail", "error_message")
    request_id: str = ""
    input_tokens: int = Field(default=0, ge=0, le=4_294_967_295)
    output_tokens: int = Field(default=0, ge=0, le=4_294_967_295)
    cost_usd: float = Field(default=0.0, ge=0)
    finish_reason: str = ""
    prompt_version: str = ""
    provider: str = ""
    user_id: str = ""
    session_id: str = ""
    #: time to first token of a streaming call
    ttft_ms: float | None = None

    measurements: ClassVar[tuple[str, ...]] = ("ttft_ms",)

    @field_validator("error", "finish_reason", mode="before")
    @classmethod
    def _none_as_empty(cls, value: Any) -> Any:
        return "" if value is None else value


def input_keys(model: type[BaseModel]) -> dict[str, list[str]]:
    """Each field of ``model`` → the input keys it is read from (its aliases, else its own name)."""
    keys = {}
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias or name]
        keys[name] = [choice for choice in choices if isinstance(choice, str)]
    return keys


EVENT_SCHEMAS_DIR = SCHEMAS_DIR / "events"
EVENT_MODELS: dict[str, type[BaseModel]] = {"log_event": LogEvent, "usage_metric": UsageMetric}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The contracts as JSON Schema, as published in ``schemas/events`` for producers to validate against."""
    return {name: model.model_json_schema(mode="validation") for name, model in EVENT_MODELS.items()}


def write_json_schemas(directory: Path = EVENT_SCHEMAS_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        (directory / f"{name}.schema.json").write_bytes(orjson.dumps(schema, option=orjson.OPT_INDENT_2) + b"\n")
