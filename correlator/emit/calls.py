"""Wrap one LLM call: time it, read its usage, and on failure raise ``LLMChatError`` from the cause.

    with llm_call(model="gpt-4o", provider="openai") as call:
        call.observe(client.chat.completions.create(model="gpt-4o", messages=messages))

With ``record_content=True`` (and the ``response_format`` or ``tools`` the request gave) the
usage row also carries the output, refusal and tool calls, so the daemon's content checks find
a truncated answer, invalid JSON or an unusable tool call on a call that returned HTTP 200.

It replaces the seed pattern ``except Exception as e: raise ValueError("LLM chat interaction
failed.") from e``: the failure is logged with its chain and error_id, the usage row
carries the same error_id, and existing ``except ValueError`` sites still catch it.
"""

from __future__ import annotations

import functools
import inspect
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import structlog

from correlator.emit.content import CallContent
from correlator.emit.errors import LLMChatError, new_error_id
from correlator.emit.usage import record_usage_metric

P = ParamSpec("P")
R = TypeVar("R")
log = structlog.get_logger("correlator.emit")


@dataclass
class LLMCall:
    """What is known about one call; ``observe`` reads it from an OpenAI- or Anthropic-style response."""

    model: str
    provider: str | None = None
    prompt_version: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str | None = None
    request_id: str | None = None
    cost_usd: float = 0.0
    #: what the call returned, read only when the application opted in (``record_content``)
    content: CallContent | None = None

    def observe(self, response: Any) -> Any:
        usage = _field(response, "usage")
        if usage is not None:
            self.input_tokens = int(_field(usage, "prompt_tokens", "input_tokens") or 0)
            self.output_tokens = int(_field(usage, "completion_tokens", "output_tokens") or 0)
        choices = _field(response, "choices")
        if choices:
            self.finish_reason = _field(choices[0], "finish_reason")
        else:
            self.finish_reason = _field(response, "stop_reason") or self.finish_reason
        self.request_id = _field(response, "id", "_request_id") or self.request_id
        if self.content is not None:
            self.content.read(response)
        return response


@contextmanager
def llm_call(
    model: str,
    provider: str | None = None,
    prompt_version: str | None = None,
    *,
    record_content: bool = False,
    response_format: Any = None,
    tools: list[dict[str, Any]] | None = None,
) -> Iterator[LLMCall]:
    """Time and record one call; ``response_format`` (``"json"`` or a JSON Schema) and ``tools`` (``[{"name",
    "parameters"}]``) are what the request asked for, recorded with the content when ``record_content``."""
    content = CallContent(response_format, tools) if record_content else None
    call = LLMCall(model, provider, prompt_version, content=content)
    started = time.perf_counter()
    try:
        yield call
    except Exception as exc:
        raise _failed(call, exc, time.perf_counter() - started) from exc
    _record(call, time.perf_counter() - started, success=True)


def observed_llm_call(
    model: str, provider: str | None = None, prompt_version: str | None = None, **options: Any
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form for sync and async functions that return the provider's response; ``options`` are
    :func:`llm_call`'s (``record_content``, ``response_format``, ``tools``)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                with llm_call(model, provider, prompt_version, **options) as call:
                    return call.observe(await function(*args, **kwargs))

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with llm_call(model, provider, prompt_version, **options) as call:
                return call.observe(function(*args, **kwargs))  # type: ignore[no-any-return]

        return run

    return decorate


def _failed(call: LLMCall, exc: Exception, duration: float) -> LLMChatError:
    error_id = getattr(exc, "error_id", None) or new_error_id()
    wrapped = exc if isinstance(exc, LLMChatError) else LLMChatError(exc, error_id)
    wrapped.__cause__ = wrapped.__cause__ or (exc if wrapped is not exc else None)
    log.error("LLM chat interaction failed", error_id=error_id, model=call.model, exc_info=wrapped)
    _record(call, duration, success=False, error=_short_label(exc), error_id=error_id, error_detail=str(exc))
    return wrapped


def _record(call: LLMCall, duration: float, success: bool, **failure: Any) -> None:
    content = call.content.fields() if call.content is not None else {}
    record_usage_metric(
        success=success, model=call.model, duration_seconds=duration, input_tokens=call.input_tokens,
        output_tokens=call.output_tokens, cost_usd=call.cost_usd, finish_reason=call.finish_reason,
        provider=call.provider, prompt_version=call.prompt_version, request_id=call.request_id, **failure, **content,
    )  # fmt: skip


def _short_label(exc: BaseException) -> str:
    """``RateLimitError`` → ``rate_limit_error``: a short label; correlator derives the real class."""
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", type(exc).__name__).lower()


def _field(value: Any, *names: str) -> Any:
    for name in names:
        found = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
        if found is not None:
            return found
    return None
