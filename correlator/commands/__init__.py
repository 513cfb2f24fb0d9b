"""The command line, and the answers the incident commands read from the views."""

from __future__ import annotations

import sys


def _structlog_without_rich() -> None:
    """Import structlog as if rich were absent: it imports rich, when installed, only for its console
    renderer's tracebacks and frame locals' reprs, and the commands log JSON without locals
    (``runtime/ownlogs.py``). That is 30-50 ms of CPU at every start, the daemon's included. rich
    itself stays importable for the commands that draw with it (progress bars, trace trees).
    """
    if "structlog" in sys.modules or "rich" in sys.modules:
        return
    sys.modules["rich"] = None  # type: ignore[assignment]  # structlog's `import rich` fails: it does without
    try:
        import structlog  # noqa: F401
    finally:
        del sys.modules["rich"]


_structlog_without_rich()
