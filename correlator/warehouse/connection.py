"""Open the warehouse: the embedded engine (``chdb://``) or a ClickHouse server (``http(s)://``)."""

from __future__ import annotations

import fcntl
import sys
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver import options as driver_options
from clickhouse_connect.driver.client import Client

from correlator.config import redact_url
from correlator.errors import WarehouseError, WarehouseTransientError

__all__ = ["WarehouseError", "connect", "load_libraries"]


def connect(url: str, user: str = "", password: str = "") -> Client:
    """Open a clickhouse-connect client; the embedded engine's directory is created if absent.

    ``user`` and ``password``, when given, override the URL's: they come from the
    environment or a mounted secret file, so the URL itself need not carry a password.
    """
    embedded_dir = Path(url.removeprefix("chdb://")) if url.startswith("chdb://") and url != "chdb://" else None
    if embedded_dir is not None:
        embedded_dir.mkdir(parents=True, exist_ok=True)
    load_libraries(url)
    options: dict[str, Any] = {}
    if embedded_dir is None and not url.startswith("chdb:"):
        # clickhouse-connect reads TLS from the port (443, 8443), not the scheme: say it
        options["interface"] = "https" if url.startswith("https://") else "http"
        if user or password:
            options.update(username=user or None, password=password)
    try:
        return clickhouse_connect.get_client(dsn=url, **options)
    except Exception as exc:
        if embedded_dir is not None and _locked_by_another_process(embedded_dir):
            reason = "it is in use by another process (a running `correlator run`?); stop that, or use a server"
        else:
            reason = redact_url(str(exc)).replace(url, redact_url(url))
            if password:
                reason = reason.replace(password, "***")
        raise WarehouseTransientError(f"cannot open ClickHouse at {redact_url(url)}: {reason}") from None


def load_libraries(url: str) -> None:
    """Import what :func:`connect` needs for ``url`` (the embedded engine's library only for ``chdb:``),
    without pandas, pyarrow and numpy: nothing here reads or writes DataFrames.

    The daemon calls it before it opens the engine on a thread of its own: this is nearly all
    interpreter work, the engine's start and migrations are not, so done first the engine's
    start overlaps the command's other imports rather than sharing the interpreter with them.

    clickhouse-connect imports pandas and numpy on the first insert, only to ask whether the
    rows are a DataFrame, and chdb's Python module imports pyarrow for its Arrow outputs.
    Together they cost about 0.35 CPU-s at start and 85 MB resident for the life of the
    daemon. A library already imported (by a caller's own code) is left as it is.
    """
    for attribute, library in (("pd", "pandas"), ("pd_time_test", "pandas"), ("np", "numpy")):
        if library not in sys.modules:
            setattr(driver_options, attribute, None)
    if not url.startswith("chdb:") or "chdb.state.sqlitelike" in sys.modules or "pyarrow" in sys.modules:
        return
    sys.modules["pyarrow"] = None  # type: ignore[assignment]  # the import in chdb finds no pyarrow
    try:
        import chdb.state.sqlitelike  # noqa: F401
    except ImportError:  # a chdb that needs pyarrow: it is imported on connecting, as before
        pass
    finally:
        del sys.modules["pyarrow"]


def _locked_by_another_process(directory: Path) -> bool:
    """ClickHouse holds an exclusive lock on ``status`` while an engine owns the directory."""
    status = directory / "status"
    if not status.exists():
        return False
    with status.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
