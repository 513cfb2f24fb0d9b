"""``correlator run``'s start to its first commit, split, for this tree and another, alternating, as JSON.

    python -m benchmarks.first_commit [--broker tansu|apache] [--runs 3] [--messages 300000] [--baseline DIR]
                                      [--warehouse new|migrated]

The backlog of ``benchmarks.versus_script`` (issue 18's workload) is put on the broker once;
each run is then a new process on a new embedded warehouse and a new consumer group, stopped
at its first commit. Its start is split, from its own log, into its work before the group
join, the broker's join and its work after the assignment, by the clock and by the
process's CPU (``benchmarks.versus_script``'s split); the CPU spent during the join is
reported too, since work done then is hidden by a slow join and not by a fast one.
``--warehouse migrated`` has each run's warehouse migrated first by ``correlator migrate``
(not timed): a restart's start, where the daemon finds the schema as it left it.

``--baseline DIR``: a checkout of another commit (its mypyc modules built, or copied from
this tree when their sources are the same), run on ``PYTHONPATH`` with this interpreter,
alternately with this tree, so both sides share the sitting's load; the report gives each
side's runs, medians and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from benchmarks.brokers import add_broker_option, local_broker
from benchmarks.pipeline_throughput import PARTITIONS, Topics, _interleaved, _produce_batched
from benchmarks.report import write_report
from benchmarks.versus_script import (
    _DAEMON_WITH_JOIN_LINES,
    MESSAGES_PER_CALL,
    STEPS_PER_CALL,
    _start_split,
    _watch_commits,
)
from correlator.config import Settings
from correlator.devkit.workload import mixed_workload
from correlator.sources.kafka import ensure_topics
from tests.harness import DaemonProcess

THIS_TREE = Path(__file__).resolve().parent.parent
# what the split's own work adds up to, and the CPU the process spent to its first commit
OWN_WORK = ("own_work_before_join_seconds", "own_work_after_assignment_seconds")
CPU_PARTS = ("cpu_seconds_before_join", "cpu_seconds_during_join", "cpu_seconds_after_assignment_to_first_commit")


async def _first_commit(
    bootstrap: str, topics: Topics, ends: dict[TopicPartition, int], tree: Path, work: Path, migrated: bool
) -> dict[str, Any]:
    """One ``correlator run`` from ``tree``, on a new warehouse (or one just migrated) and group, until its
    first commit."""
    group = f"{topics.group}-{time.monotonic_ns()}"
    settings = Settings(kafka_bootstrap=bootstrap, logs_topic=topics.logs, metrics_topic=topics.metrics,
                        group_id=group)  # fmt: skip
    run_dir = work / group
    run_dir.mkdir()
    daemon = DaemonProcess(settings, f"chdb://{run_dir / 'warehouse'}", run_dir / "correlator.log")
    env = {**daemon.env, "PYTHONPATH": str(tree)}
    if migrated:
        subprocess.run([sys.executable, "-m", "correlator", "migrate"], env=env, cwd=tree, check=True,
                       capture_output=True)  # fmt: skip
    started = time.time()
    with daemon.log_path.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-c", _DAEMON_WITH_JOIN_LINES], env=env, stderr=stderr, cwd=tree)
    daemon.process, daemon.starts = process, 1
    try:
        commits = await _watch_commits(bootstrap, group, ends, process, daemon.log_path, first_only=True)
    finally:
        daemon.terminate(timeout=60)
    split: dict[str, Any] = _start_split(daemon.log_path, started, commits)
    split["own_work_seconds"] = round(sum(split[part] for part in OWN_WORK), 3)
    split["cpu_seconds_to_first_commit"] = round(sum(split[part] for part in CPU_PARTS), 2)
    split["start_to_first_commit_seconds"] = round(commits.first_at - started, 3)
    split["messages_committed_at_first_commit"] = commits.first_covered
    return split


def _summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}


def _commit_of(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return (done.stdout.strip() or "not a git checkout") + (" with changes" if dirty else "")


async def _run(
    messages: int, runs: int, broker_kind: str, trees: dict[str, Path], work: Path, migrated: bool
) -> dict[str, Any]:
    workload = mixed_workload(
        messages // MESSAGES_PER_CALL,
        failure_share=1.0,
        seed=18,
        steps_per_call=STEPS_PER_CALL,
        start=datetime.now(UTC) - timedelta(hours=3),
    )
    with local_broker(broker_kind, work) as broker:
        topics = Topics.fresh()
        await ensure_topics(broker.bootstrap, [topics.logs, topics.metrics], partitions=PARTITIONS)
        ends = (await _produce_batched(broker.bootstrap, _interleaved(workload, topics), compression="lz4")).ends()
        for tree in trees.values():  # warm the page cache and the rules' cache; not counted
            await _first_commit(broker.bootstrap, topics, ends, tree, work, migrated)
        measured: dict[str, list[dict[str, Any]]] = {side: [] for side in trees}
        for _ in range(runs):
            for side, tree in trees.items():
                measured[side].append(await _first_commit(broker.bootstrap, topics, ends, tree, work, migrated))
    report: dict[str, Any] = {"broker": broker_kind, "messages": sum(ends.values()),
                              "warehouse": "migrated" if migrated else "new"}  # fmt: skip
    for side, tree in trees.items():
        report[side] = {"tree": str(tree), "commit": _commit_of(tree), "median": _summary(measured[side]),
                        "runs": measured[side]}  # fmt: skip
    if "baseline" in trees:
        report["ratio_of_medians_this_tree_to_baseline"] = {
            key: round(report["this_tree"]["median"][key] / max(value, 1e-9), 3)
            for key, value in report["baseline"]["median"].items()
            if key.endswith("seconds")
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    add_broker_option(parser)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout, run alternately with this one")
    parser.add_argument("--warehouse", choices=("new", "migrated"), default="new")
    args = parser.parse_args()
    trees = {"baseline": args.baseline.resolve()} if args.baseline else {}
    trees["this_tree"] = THIS_TREE
    with tempfile.TemporaryDirectory(prefix="correlator-first-commit-") as directory:
        results = asyncio.run(
            _run(args.messages, args.runs, args.broker, trees, Path(directory), args.warehouse == "migrated")
        )
    write_report("first_commit", results)


if __name__ == "__main__":
    main()
