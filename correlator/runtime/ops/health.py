"""What the ops endpoints ask of the service they report on: a small interface, not the daemon itself."""

from __future__ import annotations

from typing import Protocol

from correlator.runtime.ops.metrics import DaemonMetrics

#: (ok, detail): one answer of a liveness or readiness check
Check = tuple[bool, str]


class Observable(Protocol):
    """A service with liveness, readiness and Prometheus metrics; the daemon is one."""

    @property
    def metrics(self) -> DaemonMetrics: ...

    def liveness(self) -> Check: ...

    async def readiness(self) -> dict[str, Check]: ...
