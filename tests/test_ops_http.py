"""The ops endpoints' HTTP, over a real socket, for a service whose answers the test sets.

``test_ops.py`` asks a running daemon what they say; this asks what the responder does with
requests a probe, a scraper or a stray client may send.
"""

from __future__ import annotations

import asyncio

import orjson
import pytest

from correlator.processing.scorers import Scorers
from correlator.runtime.ops.health import Check
from correlator.runtime.ops.http import HEAD_LIMIT, serving
from correlator.runtime.ops.metrics import CONTENT_TYPE_LATEST, DaemonMetrics
from tests.harness import get


class Service:
    def __init__(self) -> None:
        self.metrics = DaemonMetrics(Scorers.from_file())
        self.alive: Check = (True, "running")
        self.ready: dict[str, Check] | None = {"kafka": (True, "reachable")}

    def liveness(self) -> Check:
        return self.alive

    async def readiness(self) -> dict[str, Check]:
        if self.ready is None:
            raise RuntimeError("readiness could not be judged")
        return self.ready


async def _raw(port: int, request: bytes) -> tuple[bytes, bytes]:
    """The response's head and body to ``request`` sent as is; the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return head, body


def test_probes_and_scrapes_get_their_status_and_body() -> None:
    async def scenario() -> None:
        service = Service()
        async with serving(service, "127.0.0.1", 0) as port:
            base = f"http://127.0.0.1:{port}"
            assert await get(base + "/healthz") == (200, '{"alive":true,"detail":"running"}')
            service.alive = (False, "the consume loop has made no progress for 301s")
            status, body = await get(base + "/healthz?verbose=1")
            assert (status, orjson.loads(body)["alive"]) == (503, False)
            status, body = await get(base + "/readyz")
            checks = {"kafka": {"ok": True, "detail": "reachable"}}
            assert (status, orjson.loads(body)) == (200, {"ready": True, "checks": checks})
            service.ready = {"kafka": (True, "reachable"), "partitions": (False, "0 assigned")}
            assert (await get(base + "/readyz"))[0] == 503
            service.metrics.consumed.labels("app-logs").inc(3)
            head, body = await _raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK") and f"Content-Type: {CONTENT_TYPE_LATEST}".encode() in head
            assert b'correlator_messages_consumed_total{topic="app-logs"} 3.0' in body

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("request_bytes", "status_line"),
    [
        (b"GET /nowhere HTTP/1.1\r\n\r\n", b"HTTP/1.1 404 Not Found"),
        (b"POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", b"HTTP/1.1 405 Method Not Allowed"),
        (b"not http at all\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
        (b"GET /healthz HTTP/1.1\r\nX-Pad: " + b"a" * HEAD_LIMIT + b"\r\n\r\n", b"HTTP/1.1 431 "),
    ],
)
def test_requests_the_endpoints_do_not_serve_get_a_clear_status(request_bytes: bytes, status_line: bytes) -> None:
    async def scenario() -> bytes:
        async with serving(Service(), "127.0.0.1", 0) as port:
            head, _ = await _raw(port, request_bytes)
            assert (await get(f"http://127.0.0.1:{port}/healthz"))[0] == 200  # and it goes on serving
            return head

    head = asyncio.run(scenario())
    assert head.startswith(status_line)
    assert b"Connection: close" in head
    if b"405" in status_line:
        assert b"Allow: GET, HEAD" in head


def test_head_has_no_body_and_a_failing_check_is_a_500_not_a_dead_server() -> None:
    async def scenario() -> None:
        service = Service()
        async with serving(service, "127.0.0.1", 0) as port:
            head, body = await _raw(port, b"HEAD /healthz HTTP/1.1\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: 33" in head and body == b""
            service.ready = None
            head, _ = await _raw(port, b"GET /readyz HTTP/1.1\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 500 Internal Server Error")
            assert (await get(f"http://127.0.0.1:{port}/healthz"))[0] == 200

    asyncio.run(scenario())
