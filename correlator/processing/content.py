"""Content checks on a call that returned: the failures that raise nothing (HTTP 200, unusable answer).

Each check applies only when the row carries what it needs (a finish reason, a ``refusal``
key, an ``output`` with a ``response_format``, ``tool_calls``), and says pass or fail; the
first failure, in :data:`CHECKS` order, is the call's label (a truncation that then broke
the JSON is a truncation: the fix starts there). Every outcome is also a ``code`` score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

if TYPE_CHECKING:
    from jsonschema_rs import Draft202012Validator

# the checks, in the order their failures win; each is named after the class it finds
CHECKS = ("truncation", "content_filter", "refusal", "invalid_json", "schema_mismatch", "tool_call_malformed")
FINISH_CHECKS = ("truncation", "content_filter")
# the scorer_version of the content checks' scores, which the engine's view stamps on each (the migration's
# literal): raise both when a check changes what it finds
CONTENT_CHECKS_VERSION = "content-checks-1"
_NOT_JSON = object()
_JSON_ONLY = ("json", "json_object")
#: the keys of a call the checks read besides its finish reason: a call with none of them is checked by that alone
CHECKED_KEYS = frozenset({"refusal", "output", "response_format", "tool_calls", "tools"})


class CheckOutcome(NamedTuple):
    """One check's verdict on one call; ``detail`` says what failed (never the output itself)."""

    check: str
    passed: bool
    detail: str = ""


def check_content(extras: Mapping[str, Any], finish_reason: str, finish_class: str) -> list[CheckOutcome]:
    """Every check that applies to this call, in :data:`CHECKS` order.

    ``finish_class`` is what the classifier makes of the finish reason (``length`` →
    ``truncation``…), so a finish reason means the same here as on a failed call.
    """
    outcomes = list(_finish_outcomes(finish_reason, finish_class)) if finish_reason else []
    if "refusal" in extras:
        refused = extras["refusal"] not in (None, "", False)
        outcomes.append(CheckOutcome("refusal", not refused, "the model refused" * refused))
    output, wanted = extras.get("output"), _wanted_format(extras.get("response_format"))
    if output is not None and wanted is not None:
        document = _parsed(output)
        not_json = document is _NOT_JSON
        outcomes.append(CheckOutcome("invalid_json", not not_json, "output is not JSON" * not_json))
        if isinstance(wanted, dict) and not not_json:
            problem = _schema_problem(document, wanted)
            if problem is not None:
                outcomes.append(CheckOutcome("schema_mismatch", not problem, problem))
    calls = extras.get("tool_calls")
    if isinstance(calls, str):
        calls = _parsed(calls)
    if calls not in (None, [], _NOT_JSON):
        problem = _tool_call_problem(calls, extras.get("tools"))
        outcomes.append(CheckOutcome("tool_call_malformed", not problem, problem))
    return outcomes


@lru_cache(maxsize=256)
def _finish_outcomes(finish_reason: str, finish_class: str) -> tuple[CheckOutcome, ...]:
    """The finish-reason checks' outcomes, made once per finish reason: most calls carry only that."""
    detail = f"finish_reason={finish_reason}"
    return tuple(CheckOutcome(name, finish_class != name, detail * (finish_class == name)) for name in FINISH_CHECKS)


def first_failure(outcomes: Sequence[CheckOutcome]) -> CheckOutcome | None:
    return next((outcome for outcome in outcomes if not outcome.passed), None)


def _parsed(value: Any) -> Any:
    """JSON text as its value; anything else (already decoded) as it is."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return _NOT_JSON


def _wanted_format(response_format: Any) -> str | dict[str, Any] | None:
    """``"json"`` when JSON is asked for, the JSON Schema when one is given, None when neither."""
    if isinstance(response_format, str):
        if response_format.strip().lower() in _JSON_ONLY:
            return "json"
        response_format = _parsed(response_format)
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":  # OpenAI's form: {"type": "json_schema", "json_schema": {"schema": {...}}}
        inner = response_format.get("json_schema")
        schema = inner.get("schema") if isinstance(inner, dict) else None
        return schema if isinstance(schema, dict) else "json"
    if kind in _JSON_ONLY:
        return "json"
    return None if kind == "text" else response_format


def _schema_problem(document: Any, schema: dict[str, Any]) -> str | None:
    """The first way ``document`` breaks ``schema`` ("" when it matches); None when the schema is unusable."""
    validator = _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))
    if validator is None:
        return None
    error = next(iter(validator.iter_errors(document)), None)
    if error is None:
        return ""
    where = "/".join(str(part) for part in error.instance_path) or "<root>"
    keyword = next((part for part in reversed(error.schema_path) if isinstance(part, str)), "schema")
    return f"{where}: fails {keyword}"  # the keyword, not the message: it may quote the output


@lru_cache(maxsize=256)
def _validator(schema_json: bytes) -> Draft202012Validator | None:
    """Compiled once per schema: most applications send the same few schemas with every call.

    jsonschema-rs, not jsonschema: on an answer of a few fields it validates in about 3 µs against
    about 100, which was most of what the checks cost the daemon (benchmarks/content_checks_cost.py).
    It is imported here, by the first output with a schema: importing it costs the daemon's start
    tens of milliseconds, and most streams never carry one.
    """
    from jsonschema_rs import Draft202012Validator, ValidationError

    try:  # checked against the meta-schema; a $ref to anything outside it is unusable, never fetched
        return Draft202012Validator(orjson.loads(schema_json), retriever=_no_remote_schema)
    except ValidationError:
        return None


def _no_remote_schema(uri: str) -> Any:
    raise ValueError(f"remote schemas are not fetched: {uri}")


def _tool_call_problem(calls: Any, tools: Any) -> str:
    """Why a tool call cannot run ("" when every call can): arguments not JSON, a tool not declared, a
    required parameter missing."""
    if not isinstance(calls, list):
        return "tool_calls is not a list"
    declared = _declared_tools(tools)
    for call in calls:
        name, arguments = _call_parts(call)
        if not name:
            return "a tool call has no name"
        if declared is not None and name not in declared:
            return f"tool {name} is not declared"
        parsed = _parsed(arguments) if arguments is not None else {}
        if not isinstance(parsed, dict):
            return f"tool {name}: arguments are not a JSON object"
        required = (declared or {}).get(name, ())
        missing = [parameter for parameter in required if parameter not in parsed]
        if missing:
            return f"tool {name}: missing {', '.join(missing)}"
    return ""


def _call_parts(call: Any) -> tuple[str, Any]:
    """A call's name and arguments, in correlator's form or OpenAI's (``{"function": {...}}``)."""
    if not isinstance(call, dict):
        return "", None
    inner = _function_of(call)
    return str(inner.get("name") or ""), inner.get("arguments")


def _declared_tools(tools: Any) -> dict[str, tuple[str, ...]] | None:
    """Declared tool → its required parameters; None when the row declares no tools (no name is then wrong)."""
    tools = _parsed(tools) if isinstance(tools, str) else tools
    if not isinstance(tools, list) or not tools:
        return None
    declared = {}
    for tool in tools:
        name, parameters = _tool_parts(tool)
        required = parameters.get("required") if isinstance(parameters, dict) else None
        declared[name] = tuple(str(p) for p in required) if isinstance(required, list) else ()
    return declared


def _tool_parts(tool: Any) -> tuple[str, Any]:
    if not isinstance(tool, dict):
        return "", None
    inner = _function_of(tool)
    return str(inner.get("name") or ""), inner.get("parameters")


def _function_of(entry: dict[str, Any]) -> dict[str, Any]:
    """OpenAI nests a tool or a call under ``function``; correlator's form does not."""
    inner = entry.get("function")
    return inner if isinstance(inner, dict) else entry
