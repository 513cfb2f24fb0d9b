"""What a fetched record costs the daemon's thread, unpacked as ConsumerRecords or as the batches hold them, as JSON.

    python -m benchmarks.fetch_unpack [--messages 300000] [--rounds 3] [--broker tansu|apache]

Issue 18's backlog (``benchmarks.versus_script``'s workload: 4 + 4 partitions, lz4 record
batches) is put on the broker, then read to its end by one consumer at a time, as
``KafkaSource`` reads (``range_consumer``: ``read_committed``, the fetch sizes; 10,000 records a ``getmany``),
each read's records made into columns (``Fetched``) as ``KafkaSource.fetch`` does. Two ways,
alternated in each round: aiokafka's own unpacking (a ConsumerRecord per record), and
``sources.kafka_batches`` (the batches' own records). For each read: this process's CPU
seconds (aiokafka's fetch handling and the unpacking run on its one thread), the
wall-clock seconds, and whether its columns equal the other way's, offset for offset.
The cycle collector runs as the daemon's does.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from benchmarks.brokers import add_broker_option, local_broker
from benchmarks.pipeline_throughput import PARTITIONS, Topics, _interleaved, _produce_batched, collecting_as_the_daemon
from benchmarks.report import write_report
from benchmarks.versus_script import MESSAGES_PER_CALL, STEPS_PER_CALL
from correlator.devkit.workload import mixed_workload
from correlator.sources.kafka import _fetched, ensure_topics, range_consumer
from correlator.sources.kafka_batches import hand_out_batches

WAYS = ("consumer_records", "batch_records")
FETCH_RECORDS = 10_000
Columns = dict[TopicPartition, tuple[list[Any], list[int], list[int | None], list[str]]]


async def _read(bootstrap: str, ends: dict[TopicPartition, int], way: str) -> tuple[dict[str, Any], Columns]:
    consumer = range_consumer(bootstrap)
    await consumer.start()
    try:
        if way == "batch_records" and not hand_out_batches(consumer):
            raise RuntimeError("this aiokafka's fetcher is not of the shape sources.kafka_batches knows")
        consumer.assign(list(ends))
        await consumer.seek_to_beginning()
        columns: Columns = {tp: ([], [], [], []) for tp in ends}
        total, read = sum(ends.values()), 0
        with collecting_as_the_daemon():
            cpu, started = time.process_time(), time.perf_counter()
            while read < total:
                for tp, records in (await consumer.getmany(timeout_ms=1000, max_records=FETCH_RECORDS)).items():
                    fetched = _fetched(tp, records)
                    values, offsets, timestamps, trace_ids = columns[tp]
                    values += fetched.values
                    offsets += fetched.offsets
                    timestamps += fetched.timestamps
                    trace_ids += fetched.trace_ids
                    read += len(fetched)
            cpu, seconds = time.process_time() - cpu, time.perf_counter() - started
        return {"records": read, "cpu_seconds": round(cpu, 3), "seconds": round(seconds, 3),
                "cpu_microseconds_per_record": round(cpu / read * 1e6, 3)}, columns  # fmt: skip
    finally:
        await consumer.stop()


async def _run(messages: int, rounds: int, broker_kind: str) -> dict[str, Any]:
    workload = mixed_workload(messages // MESSAGES_PER_CALL, failure_share=1.0, seed=18, steps_per_call=STEPS_PER_CALL,
                              start=datetime.now(UTC) - timedelta(hours=3))  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="correlator-fetch-unpack-") as work,
        local_broker(broker_kind, Path(work)) as broker,
    ):
        topics = Topics.fresh()
        await ensure_topics(broker.bootstrap, [topics.logs, topics.metrics], partitions=PARTITIONS)
        ends = (await _produce_batched(broker.bootstrap, _interleaved(workload, topics), compression="lz4")).ends()
        reads: dict[str, list[dict[str, Any]]] = {way: [] for way in WAYS}
        for _ in range(rounds):
            seen = {}
            for way in WAYS:
                result, seen[way] = await _read(broker.bootstrap, ends, way)
                reads[way].append(result)
            reads[WAYS[1]][-1]["same_columns_as_consumer_records"] = seen[WAYS[0]] == seen[WAYS[1]]
    median = {way: statistics.median(r["cpu_microseconds_per_record"] for r in reads[way]) for way in WAYS}
    return {
        "broker": broker_kind,
        "messages": sum(ends.values()),
        "reads": reads,
        "median_cpu_microseconds_per_record": median,
        "batch_records_cpu_to_consumer_records": round(median["batch_records"] / median["consumer_records"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    add_broker_option(parser)
    args = parser.parse_args()
    write_report("fetch_unpack", asyncio.run(_run(args.messages, args.rounds, args.broker)))


if __name__ == "__main__":
    main()
