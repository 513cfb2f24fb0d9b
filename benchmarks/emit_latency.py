"""How long an application waits on correlator.emit, with the broker up and with it down.

    python -m benchmarks.emit_latency [--calls 20000]

Prints JSON: per-call latency percentiles of a structlog log call and of a whole
``llm_call`` (log line + usage row) whose provider call fails, and the transport's counts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import orjson
import structlog

from correlator import emit
from correlator.devkit.broker import LocalBroker
from correlator.sources.kafka import ensure_topics


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6, 1)  # noqa: E731
    return {"p50_us": pick(0.50), "p99_us": pick(0.99), "max_us": round(ordered[-1] * 1e6, 1)}


def _measure(bootstrap: str, calls: int) -> dict[str, object]:
    emitter = emit.configure(bootstrap, service="bench", buffer_size=10_000)
    log = structlog.get_logger()
    logs, failures = [], []
    for index in range(calls):
        started = time.perf_counter()
        log.info("step done", index=index)
        logs.append(time.perf_counter() - started)
    for _ in range(calls // 10):
        started = time.perf_counter()
        try:
            with emit.llm_call(model="gpt-4o"):
                raise TimeoutError("The read operation timed out")
        except ValueError:
            failures.append(time.perf_counter() - started)
    emitter.close(timeout=10)
    structlog.reset_defaults()
    return {
        "log_call": _percentiles(logs),
        "failed_llm_call": _percentiles(failures),
        "transport": vars(emitter.transport.stats),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    with LocalBroker() as broker:
        asyncio.run(ensure_topics(broker.bootstrap, ["app-logs", "usage-metrics"]))
        up = _measure(broker.bootstrap, args.calls)
        bootstrap = broker.bootstrap
    down = _measure(bootstrap, args.calls)  # the broker is stopped now
    sys.stdout.buffer.write(orjson.dumps({"broker_up": up, "broker_down": down}, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
