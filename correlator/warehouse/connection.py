"""Open the warehouse: the embedded engine (``chdb://``) or a ClickHouse server (``http(s)://``)."""

from __future__ import annotations

import re
from pathlib import Path

import clickhouse_connect
from clickhouse_connect.driver.client import Client


class WarehouseError(RuntimeError):
    """The warehouse could not be opened or answered with an error."""


_CREDENTIALS = re.compile(r"(?<=://)([^:/@]+):([^@]*)@")


def redact_url(url: str) -> str:
    """A DSN fit for logs and error messages: the password replaced by ***."""
    return _CREDENTIALS.sub(r"\1:***@", url)


def embedded_url(data_dir: Path) -> str:
    return f"chdb://{(data_dir / 'clickhouse').resolve()}"


def connect(url: str) -> Client:
    """Open a clickhouse-connect client; the embedded engine's directory is created if absent."""
    if url.startswith("chdb://"):
        path = url.removeprefix("chdb://")
        if path:
            Path(path).mkdir(parents=True, exist_ok=True)
    try:
        return clickhouse_connect.get_client(dsn=url)
    except Exception as exc:
        message = redact_url(str(exc)).replace(url, redact_url(url))
        if "Cannot lock file" in message:
            message = (
                f"the embedded warehouse {redact_url(url)} is in use by another process "
                "(a running `correlator run`?); stop it, or point --clickhouse at a server"
            )
        raise WarehouseError(f"cannot open ClickHouse at {redact_url(url)}: {message}") from None
