"""``/healthz``, ``/readyz`` and ``/metrics``: a small HTTP/1.1 responder on asyncio streams, in the daemon's loop.

Liveness asks only whether the daemon's loop still turns (restarting helps nothing
else); readiness asks whether it can do its job now: Kafka and ClickHouse answer, the
schema is migrated and this replica owns partitions.

Three GET endpoints for probes and scrapes need no web framework: aiohttp, which served
them before, cost about 0.15 CPU-s of every start (its client and TLS contexts included).
Each answer closes its connection; a request's head is read within ``HEAD_SECONDS`` and
``HEAD_LIMIT`` bytes, so a slow or oversized client holds nothing for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus

import orjson
import structlog

from correlator.runtime.ops.health import Observable
from correlator.runtime.ops.metrics import CONTENT_TYPE_LATEST

log = structlog.get_logger("correlator.http")

HEAD_LIMIT = 8192
HEAD_SECONDS = 10.0
JSON = "application/json; charset=utf-8"
#: (status, content type, body)
Answer = tuple[HTTPStatus, str, bytes]


@contextlib.asynccontextmanager
async def serving(service: Observable, host: str, port: int) -> AsyncIterator[int]:
    """Serve the endpoints while the block runs; yields the bound port (``port=0`` picks a free one)."""
    server = await asyncio.start_server(functools.partial(_connection, service), host, port, limit=HEAD_LIMIT)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def _connection(service: Observable, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One request, one answer, then the connection is closed."""
    try:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_SECONDS)
        except asyncio.LimitOverrunError:
            method, answer = b"GET", _text(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        else:
            method, answer = await _answer(service, head)
        status, content_type, body = answer
        writer.write(_response_head(status, content_type, len(body)) + (b"" if method == b"HEAD" else body))
        await writer.drain()
    except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
        pass  # the client went away, or sent no whole request in time: nothing to answer
    finally:
        writer.close()


async def _answer(service: Observable, head: bytes) -> tuple[bytes, Answer]:
    """The request's method and the answer to its request line."""
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return b"GET", _text(HTTPStatus.BAD_REQUEST)
    method, target, _ = parts
    endpoint = _ENDPOINTS.get(target.split(b"?", 1)[0])
    if endpoint is None:
        return method, _text(HTTPStatus.NOT_FOUND)
    if method not in (b"GET", b"HEAD"):
        return method, _text(HTTPStatus.METHOD_NOT_ALLOWED)
    try:
        return method, await endpoint(service)
    except Exception:
        log.exception("an ops endpoint failed", path=target.decode(errors="replace")[:100])
        return method, _text(HTTPStatus.INTERNAL_SERVER_ERROR)


def _response_head(status: HTTPStatus, content_type: str, length: int) -> bytes:
    allow = "Allow: GET, HEAD\r\n" if status is HTTPStatus.METHOD_NOT_ALLOWED else ""
    return (
        f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n"
        f"{allow}Connection: close\r\n\r\n"
    ).encode()


def _text(status: HTTPStatus) -> Answer:
    return status, "text/plain; charset=utf-8", f"{status.value}: {status.phrase}".encode()


async def _healthz(service: Observable) -> Answer:
    alive, detail = service.liveness()
    body = orjson.dumps({"alive": alive, "detail": detail})
    return HTTPStatus.OK if alive else HTTPStatus.SERVICE_UNAVAILABLE, JSON, body


async def _readyz(service: Observable) -> Answer:
    checks = await service.readiness()
    ready = all(ok for ok, _ in checks.values())
    body = {"ready": ready, "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}}
    return HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, JSON, orjson.dumps(body)


async def _metrics(service: Observable) -> Answer:
    return HTTPStatus.OK, CONTENT_TYPE_LATEST, service.metrics.render()


_ENDPOINTS: dict[bytes, Callable[[Observable], Awaitable[Answer]]] = {
    b"/healthz": _healthz,
    b"/readyz": _readyz,
    b"/metrics": _metrics,
}
