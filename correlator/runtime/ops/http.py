"""``/healthz``, ``/readyz`` and ``/metrics`` on aiohttp, inside the daemon's event loop.

Liveness asks only whether the daemon's loop still turns (restarting helps nothing
else); readiness asks whether it can do its job now: Kafka and ClickHouse answer, the
schema is migrated and this replica owns partitions.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from correlator.runtime.ops.health import Observable
from correlator.runtime.ops.metrics import CONTENT_TYPE_LATEST

_SERVICE: web.AppKey[Observable] = web.AppKey("service")


def application(service: Observable) -> web.Application:
    app = web.Application()
    app[_SERVICE] = service
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    return app


@contextlib.asynccontextmanager
async def serving(service: Observable, host: str, port: int) -> AsyncIterator[int]:
    """Serve the endpoints while the block runs; yields the bound port (``port=0`` picks a free one)."""
    runner = web.AppRunner(application(service), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


async def _healthz(request: web.Request) -> web.Response:
    alive, detail = request.app[_SERVICE].liveness()
    return web.json_response({"alive": alive, "detail": detail}, status=200 if alive else 503)


async def _readyz(request: web.Request) -> web.Response:
    checks = await request.app[_SERVICE].readiness()
    ready = all(ok for ok, _ in checks.values())
    body = {"ready": ready, "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}}
    return web.json_response(body, status=200 if ready else 503)


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[_SERVICE].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
