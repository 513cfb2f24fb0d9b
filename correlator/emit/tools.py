"""Tool calls as steps of the trace: one log line per call, with its arguments, outcome and duration.

    with emit.tool_call("lookup_order", {"order": 42}) as call:
        orders = call.returned(lookup_order(42))

The line carries ``tool_name``, ``tool_args``, ``tool_status`` (``ok``; ``empty`` when the
tool returned nothing; ``error`` when it raised, with the traceback and an ``error_id`` so
the failure is explained like any other) and ``duration_ms``: what ``tool_call_health``
and ``agent_loops`` count.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from correlator.emit.errors import new_error_id
from correlator.emit.tracing import span

log = structlog.get_logger("correlator.emit")
TOOL_STEP = "tool"


@dataclass
class ToolCall:
    """One call of a tool; :meth:`returned` records whether it gave anything back."""

    name: str
    args: Any = None
    status: str = "ok"

    def returned(self, result: Any) -> Any:
        """Note the tool's result (``empty`` when it is None, blank or an empty collection) and pass it on."""
        empty = result is None or (isinstance(result, (str, bytes)) and not result.strip()) or _empty(result)
        self.status = "empty" if empty else "ok"
        return result


def _empty(result: Any) -> bool:
    try:
        return len(result) == 0
    except TypeError:
        return False


@contextmanager
def tool_call(name: str, args: Any = None) -> Iterator[ToolCall]:
    """A step of kind ``tool`` in the current trace, logged once it ends; an exception is logged and re-raised."""
    call = ToolCall(name, args)
    with span(name, kind=TOOL_STEP):
        started = time.perf_counter()
        fields = {"tool_name": name, "tool_args": args}
        try:
            yield call
        except Exception:
            log.error(f"execute_tool {name} failed", **fields, tool_status="error", duration_ms=_ms_since(started),
                      error_id=new_error_id(), exc_info=True)  # fmt: skip
            raise
        log.info(f"execute_tool {name}", **fields, tool_status=call.status, duration_ms=_ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
