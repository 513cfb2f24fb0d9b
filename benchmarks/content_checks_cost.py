"""What the content checks cost of the daemon's CPU per event, checks on against off in one run, as JSON.

The target (issue 16): at most 10 % of the CPU per event, on a workload where a fifth of the
calls carry an output, a response format, declared tools and tool calls. Both sides run the
daemon's own pieces in this process (a PartitionBatcher per stream, the Warehouse's insert
into a fresh embedded engine, whose threads count in the process's CPU time) over the same
log lines and usage rows. "Off" is the same bytes with the content keys renamed to keys of
the same length no check reads (``output`` → ``xutput``…), so decoding and storing cost the
same and only the checks, and the scores they write, are missing. A third side runs the
checks but stores none of their ``code`` scores (the engine's view that copies them from the
stored calls into ``content_checks``, views/0015_content_checks.sql, dropped), which splits the
cost between the checks themselves and storing their scores. A fourth side stores them as
before migration 0015: migration 0012's view, writing each check as a row of ``scores``, in
place of the new one; so one run gives the old design's share and the new one's. Runs
alternate, each side first in turn, each in a database dropped after it; the median of
``--repeat`` rounds counts. The process collects cycles as the daemon does
(``collect_cycles_less_often``).

    python -m benchmarks.content_checks_cost [--calls 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Iterator

import orjson

from correlator.devkit.workload import mixed_workload
from correlator.processing.batching import LOGS, METRICS, PartitionBatcher, StreamKind, collect_cycles_less_often
from correlator.processing.classify import Classifier
from correlator.records import Batch, Message, Provenance
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
from correlator.warehouse.sql import render
from correlator.warehouse.writer import Warehouse

BATCH = 50_000
# where the checks' code scores go: content_checks (views/0015_content_checks.sql), or rows of scores as before
NEW, OLD = "0015_content_checks", "0012_content_check_scores"
CONTENT_SHARE = 5  # one call in this many carries content
TOOLS = [
    {"name": "search_orders", "parameters": {"type": "object", "required": ["customer_id", "since"],
                                             "properties": {"customer_id": {"type": "string"}}}},
    {"name": "refund", "parameters": {"type": "object", "required": ["order_id", "amount"]}},
]  # fmt: skip
ANSWER = {
    "type": "object",
    "required": ["answer", "sources"],
    "properties": {"answer": {"type": "string"}, "sources": {"type": "array", "items": {"type": "string"}}},
}
# the keys the checks read, and the same-length keys no check reads
CONTENT_KEYS = {b'"output"': b'"xutput"', b'"tool_calls"': b'"xool_calls"', b'"tools"': b'"xools"',
                b'"response_format"': b'"xesponse_format"', b'"finish_reason"': b'"xinish_reason"'}  # fmt: skip


def with_content(metrics: list[bytes], seed: int) -> list[bytes]:
    """A fifth of the successful calls get an output, a response format, tools and tool calls; one in ten of
    those fails a check (JSON cut short, a missing argument)."""
    rng = random.Random(seed)
    rows = []
    for index, value in enumerate(metrics):
        row = orjson.loads(value)
        if row.get("success") and index % CONTENT_SHARE == 0:
            broken = rng.random() < 0.1
            answer = {"answer": "Your refund of order 8812 was issued on the 3rd. " * 4, "sources": ["kb-12", "kb-40"]}
            output = orjson.dumps(answer).decode()
            arguments = {"customer_id": f"c{rng.randint(1, 10**6)}", "since": "2026-11-01"}
            if broken:
                output, arguments = output[: len(output) // 2], {"customer_id": "c1"}
            call = {"name": "search_orders", "arguments": orjson.dumps(arguments).decode()}
            row.update(output=output, response_format=ANSWER if index % 2 else "json", tools=TOOLS, tool_calls=[call])
        rows.append(orjson.dumps(row))
    return rows


def checks_off(values: list[bytes]) -> list[bytes]:
    renamed = []
    for value in values:
        for key, other in CONTENT_KEYS.items():
            value = value.replace(key, other)
        renamed.append(value)
    return renamed


def migrated(client: object, database: str, code_scores: str | None) -> Warehouse:
    """A fresh database whose checks' scores go where ``code_scores`` says: :data:`NEW`, :data:`OLD`, or nowhere."""
    migrate(client, database, retention_days=30)  # type: ignore[arg-type]
    if code_scores != NEW:
        client.command(f"DROP VIEW {database}.content_checks_from_calls")  # type: ignore[attr-defined]
    if code_scores == OLD:
        client.command(render(f"migrations/{OLD}.sql", database, retention_days=30))  # type: ignore[attr-defined]
    return Warehouse(client, database)  # type: ignore[arg-type]


def batched(kind: StreamKind, values: list[bytes], classifier: Classifier) -> Iterator[list[Batch]]:
    """A stream's batches as the daemon closes them, :data:`BATCH` messages at a time."""
    batcher = PartitionBatcher(kind, classifier, BATCH)
    messages = [Message(value, Provenance(kind.name, 0, offset)) for offset, value in enumerate(values)]
    for first in range(0, len(messages), BATCH):
        closed = batcher.add(messages[first : first + BATCH])
        last = batcher.take()
        yield [*closed, *([last] if last is not None else [])]


def cpu_seconds(
    client: object,
    database: str,
    logs: list[bytes],
    metrics: list[bytes],
    classifier: Classifier,
    code_scores: str | None = NEW,
) -> float:
    """Process CPU to batch and store both streams, as the daemon does; ``code_scores`` as :func:`migrated`."""
    warehouse = migrated(client, database, code_scores)
    started = time.process_time()
    for kind, values in ((LOGS, logs), (METRICS, metrics)):
        for batches in batched(kind, values, classifier):
            warehouse.store(batches)
    spent = time.process_time() - started
    # dropped, so its parts' merges do not run in (and count against) the next side's measurement
    client.command(f"DROP DATABASE {database} SYNC")  # type: ignore[attr-defined]
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    classifier = Classifier.from_file()
    collect_cycles_less_often()
    workload = mixed_workload(args.calls, failure_share=0.2, seed=11)
    metrics_on = with_content(workload.metrics, seed=11)
    metrics_off = checks_off(metrics_on)
    events = len(workload.logs) + len(metrics_on)
    on: list[float] = []
    off: list[float] = []
    unscored: list[float] = []
    old: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        client = connect(f"chdb://{directory}")
        cpu_seconds(client, "bench_warm_up", workload.logs, metrics_off, classifier)  # caches, the engine's first parts
        sides = [(on, metrics_on, NEW), (off, metrics_off, NEW), (unscored, metrics_on, None), (old, metrics_on, OLD)]
        for run in range(args.repeat):
            turn = run % len(sides)
            for side, (spent, metrics, code_scores) in enumerate(sides[turn:] + sides[:turn]):  # each first in turn
                spent.append(cpu_seconds(client, f"bench_{run}_{side}", workload.logs, metrics, classifier,
                                         code_scores=code_scores))  # fmt: skip
        client.close()
    on_us, off_us = statistics.median(on) / events * 1e6, statistics.median(off) / events * 1e6
    unscored_us = statistics.median(unscored) / events * 1e6
    share = (on_us - off_us) / on_us
    # load only ever adds CPU time: the least of each side is the figure a busy machine disturbs least
    least_share = (min(on) - min(off)) / min(on)
    old_us = statistics.median(old) / events * 1e6
    print(orjson.dumps({
        "benchmark": "content_checks_cost", "calls": len(metrics_on), "log_lines": len(workload.logs),
        "calls_with_content": sum(b'"output"' in value for value in metrics_on), "repeat": args.repeat,
        "cpu_us_per_event_checks_on": round(on_us, 2), "cpu_us_per_event_checks_off": round(off_us, 2),
        "cpu_seconds_on": [round(s, 3) for s in on], "cpu_seconds_off": [round(s, 3) for s in off],
        "cpu_seconds_unscored": [round(s, 3) for s in unscored],
        "cpu_us_per_event_checks_without_their_scores": round(unscored_us, 2),
        "checks_share_of_cpu": round(share, 4), "checks_share_of_cpu_least_runs": round(least_share, 4),
        "of_which_the_checks": round((unscored_us - off_us) / on_us, 4),
        "of_which_storing_their_code_scores": round((on_us - unscored_us) / on_us, 4),
        "target_share": 0.10, "target_met": share <= 0.10,
        "cpu_seconds_scores_as_before_0015": [round(s, 3) for s in old],
        "checks_share_of_cpu_as_before_0015": round((old_us - off_us) / old_us, 4),
        "of_which_storing_their_code_scores_as_before_0015": round((old_us - unscored_us) / old_us, 4),
        "storing_code_scores_us_per_call": {"now": round((on_us - unscored_us) * events / len(metrics_on), 2),
                                            "before_0015": round((old_us - unscored_us) * events / len(metrics_on), 2)},
        "cpu_per_event_now_over_before_0015": round(on_us / old_us, 4),
        "python": platform.python_version(), "machine": platform.machine(),
    }).decode())  # fmt: skip


if __name__ == "__main__":
    main()
