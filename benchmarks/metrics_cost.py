"""What counting stored usage rows for Prometheus costs the daemon's main thread, old way and new, as JSON.

    python -m benchmarks.metrics_cost [--calls 50000] [--batch 10000] [--repeat 7]

The daemon counts every stored usage-metrics batch (``DaemonMetrics.count_calls``,
``count_content_checks``, ``observe_ttft``). The old way, rebuilt here from the code it
replaced, did it through prometheus_client's per-child API: a Python loop tallying label
tuples, then ``labels(...).inc()`` per label set, and ``labels(model).observe()`` for every
row's time to first token, each call taking the child's lock. The new way keeps the tallies
in plain dicts (``correlator/runtime/ops/tallies.py``) and renders them through a collector.
Both count the same batches, made as the daemon makes them (the workload generator's usage
rows through a ``PartitionBatcher``), in alternating rounds, each first in turn, each into a
fresh registry; the median round of this thread's CPU time counts (a busy machine's waits
left out). The run also renders both registries and says whether the two expositions are the
same, ``_created`` timestamps aside.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections import Counter as TallyCounter
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from correlator.devkit.workload import mixed_workload
from correlator.processing.batching import METRICS, PartitionBatcher
from correlator.processing.classify import Classifier
from correlator.records import METRIC_TABLE, Message, Provenance
from correlator.runtime.ops.metrics import CALL_LABELS, CONTENT_FAILURE_LABELS, TTFT_SECONDS_BUCKETS, DaemonMetrics

Rows = Sequence[tuple[Any, ...]]
_MODEL, _SUCCESS, _ERROR, _CATEGORY, _ERROR_CLASS, _RULE, _ATTRIBUTES, _TTFT = (
    METRIC_TABLE.position(c)
    for c in ("model", "success", "error", "category", "error_class", "rule", "attributes", "ttft_ms")
)


class PerChildCounting:
    """The old way: the same series as prometheus_client objects, counted through their children."""

    def __init__(self, reference: DaemonMetrics) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.scorers = reference.scorers

        def counter(name: str, labels: Sequence[str]) -> Counter:
            family = getattr(reference, name)
            return Counter(family.name, family.documentation, labels, registry=r)

        self.calls, self.errors = counter("calls", CALL_LABELS), counter("errors", CALL_LABELS)
        self.reclassified = counter("reclassified", CALL_LABELS)
        self.scores = counter("scores", reference.scores.labelnames)
        self.content_failures = counter("content_failures", CONTENT_FAILURE_LABELS)
        self.ttft = Histogram(reference.ttft.name, reference.ttft.documentation, ["model"],
                              buckets=TTFT_SECONDS_BUCKETS, registry=r)  # fmt: skip

    def count(self, rows: Rows) -> None:
        calls: TallyCounter[tuple[str, ...]] = TallyCounter()
        errors: TallyCounter[tuple[str, ...]] = TallyCounter()
        reclassified: TallyCounter[tuple[str, ...]] = TallyCounter()
        content_failures: TallyCounter[tuple[str, ...]] = TallyCounter()
        for row in rows:
            labels = (row[_CATEGORY], row[_ERROR_CLASS], row[_MODEL])
            calls[labels] += 1
            if not row[_SUCCESS]:
                errors[labels] += 1
                reclassified[labels] += row[_ERROR] != row[_ERROR_CLASS]
                if row[_ATTRIBUTES].get("content_failure"):
                    content_failures[(*labels, row[_RULE])] += 1
        tallies = ((self.calls, calls), (self.errors, errors), (self.reclassified, reclassified),
                   (self.content_failures, content_failures), (self.scores, self._checks(rows)))  # fmt: skip
        for counter, tally in tallies:
            for label_values, count in tally.items():
                if count:
                    counter.labels(*label_values).inc(count)
        for row in rows:
            if row[_TTFT] is not None:
                self.ttft.labels(row[_MODEL]).observe(row[_TTFT] / 1000)

    def _checks(self, rows: Rows) -> TallyCounter[tuple[str, ...]]:
        by_text = TallyCounter((c, row[_MODEL]) for row in rows if (c := row[_ATTRIBUTES].get("content_checks")))
        tally: TallyCounter[tuple[str, ...]] = TallyCounter()
        for (checks, model), calls in by_text.items():
            for check, passed, _ in orjson.loads(checks):
                safety = "true" if self.scorers.is_safety(check) else "false"
                tally[(check, "code", model, "pass" if passed else "fail", safety)] += calls
        return tally

    def render(self) -> bytes:
        return generate_latest(self.registry)


class TalliedCounting:
    """The new way: the daemon's own ``DaemonMetrics``, as ``Daemon._count_stored`` calls it for usage rows."""

    def __init__(self) -> None:
        self.metrics = DaemonMetrics()

    def count(self, rows: Rows) -> None:
        self.metrics.count_calls(rows)
        self.metrics.count_content_checks(rows)
        self.metrics.observe_ttft(METRIC_TABLE, rows)

    def render(self) -> bytes:
        return self.metrics.render()


def usage_batches(calls: int, batch: int) -> list[Rows]:
    """The workload's usage rows, batched and classified as the daemon's metrics stream batches them."""
    workload = mixed_workload(calls, failure_share=0.2, seed=11)
    batcher = PartitionBatcher(METRICS, Classifier.from_file(), batch)
    messages = [Message(value, Provenance("usage-metrics", 0, offset)) for offset, value in enumerate(workload.metrics)]
    batches = batcher.add(messages)
    last = batcher.take()
    return [batch.rows for batch in [*batches, *([last] if last is not None else [])]]


def seconds_to_count(make: Callable[[], PerChildCounting | TalliedCounting], batches: list[Rows]) -> float:
    counting = make()
    started = time.thread_time()
    for rows in batches:
        counting.count(rows)
    return time.thread_time() - started


def counted_series(exposition: bytes) -> list[bytes]:
    """The exposition's lines for the series counted here, ``_created`` samples without their timestamp."""
    names = (b"llm_calls", b"llm_errors", b"llm_reclassified", b"correlator_scores", b"correlator_content_failures",
             b"llm_time_to_first_token")  # fmt: skip
    lines = [line for line in exposition.splitlines() if any(name in line for name in names)]
    return [line.rsplit(b" ", 1)[0] if b"_created{" in line else line for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=10_000, help="rows a batch holds at most (a backlog's fetch "
                        "gives about 1,250 usage rows, a stream at 10,000 events/s a few hundred)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    batches = usage_batches(args.calls, args.batch)
    rows = sum(map(len, batches))
    reference = DaemonMetrics()
    sides: list[tuple[list[float], Callable[[], PerChildCounting | TalliedCounting]]] = [
        ([], lambda: PerChildCounting(reference)),
        ([], TalliedCounting),
    ]
    for run in range(args.repeat):
        turn = run % len(sides)
        for spent, make in sides[turn:] + sides[:turn]:
            spent.append(seconds_to_count(make, batches))
    (old, _), (new, _) = sides
    old_way, new_way = PerChildCounting(reference), TalliedCounting()
    for rows_of_batch in batches:
        old_way.count(rows_of_batch)
        new_way.count(rows_of_batch)
    old_us, new_us = statistics.median(old) / rows * 1e6, statistics.median(new) / rows * 1e6
    print(orjson.dumps({
        "benchmark": "metrics_cost", "usage_rows": rows, "batch_at_most": args.batch, "batches": len(batches),
        "repeat": args.repeat,
        "rows_with_ttft": sum(row[_TTFT] is not None for batch in batches for row in batch),
        "us_per_usage_row_per_child_api": round(old_us, 3), "us_per_usage_row_tallied": round(new_us, 3),
        "old_over_new": round(old_us / new_us, 2),
        "seconds_per_child_api": [round(s, 4) for s in old], "seconds_tallied": [round(s, 4) for s in new],
        "same_exposition": counted_series(old_way.render()) == counted_series(new_way.render()),
        "python": platform.python_version(), "machine": platform.machine(),
    }).decode())  # fmt: skip


if __name__ == "__main__":
    main()
