"""How long the broker holds the daemon's fetches that find no records: the linger, above a floor.

Apache Kafka answers a fetch as soon as it finds a record, and an empty one when the wait
the consumer asked for is over: the time between an idle partition's answers is that wait.
What is asserted is the broker's answers to the consumer the daemon builds (aiokafka's
``last_poll_timestamp``), against aiokafka's default consumer in the same test.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import statistics
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from correlator.config import Settings
from correlator.runtime.daemon import (
    BROKER_FETCH_WAIT_FLOOR_SECONDS,
    FETCH_WAIT_CAP_SECONDS,
    broker_fetch_wait_ms,
    kafka_source,
)
from correlator.sources.kafka import ensure_topics
from tests.apache_kafka import ApacheKafka

SAMPLED_SECONDS = 2.5


async def _answer_intervals_ms(consumer: AIOKafkaConsumer, tp: TopicPartition) -> list[int]:
    """The times between the broker's answers for an idle partition, caught up, over SAMPLED_SECONDS."""
    await consumer.getmany(tp, timeout_ms=1000)
    answers: list[int] = []
    deadline = time.monotonic() + SAMPLED_SECONDS
    while time.monotonic() < deadline:
        answered = consumer.last_poll_timestamp(tp)
        if answered is not None and (not answers or answered != answers[-1]):
            answers.append(answered)
        await asyncio.sleep(0.002)
    return [later - earlier for earlier, later in itertools.pairwise(answers)]


async def _daemons_intervals(bootstrap: str, topic: str, linger: float) -> list[int]:
    settings = Settings(kafka_bootstrap=bootstrap, logs_topic=topic, group_id=f"wait-{secrets.token_hex(3)}",
                        batch_max_seconds=linger)  # fmt: skip
    source = kafka_source(settings)

    async def nothing(_: set[TopicPartition]) -> None:
        return None

    await source.start(nothing, nothing)
    try:
        return await _answer_intervals_ms(source.consumer, TopicPartition(topic, 0))
    finally:
        await source.stop()


async def _defaults_intervals(bootstrap: str, topic: str) -> list[int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        return await _answer_intervals_ms(consumer, TopicPartition(topic, 0))
    finally:
        await consumer.stop()


@pytest.mark.kafka
def test_the_broker_answers_the_daemons_idle_fetches_at_the_linger_never_below_the_floor(
    apache_kafka: ApacheKafka,
) -> None:
    async def scenario() -> tuple[list[int], list[int], list[int]]:
        topic = f"idle-{secrets.token_hex(3)}"
        await ensure_topics(apache_kafka.bootstrap, [topic], partitions=1)
        return (
            await _daemons_intervals(apache_kafka.bootstrap, topic, linger=0.2),
            await _daemons_intervals(apache_kafka.bootstrap, topic, linger=0.005),
            await _defaults_intervals(apache_kafka.bootstrap, topic),
        )

    at_linger, at_tiny_linger, at_default = asyncio.run(scenario())
    # a loaded machine only lengthens an interval: the lower bounds hold on any
    assert min(at_linger) >= 200
    assert min(at_tiny_linger) >= BROKER_FETCH_WAIT_FLOOR_SECONDS * 1000
    assert min(at_default) >= 500
    # answered at the linger's wait, not at aiokafka's: within one test, so on the same load
    assert statistics.median(at_linger) < statistics.median(at_default) * 0.6
    assert statistics.median(at_tiny_linger) < statistics.median(at_linger)


@pytest.mark.parametrize(
    ("linger", "expected_ms"),
    [(0.1, 100), (0.001, int(BROKER_FETCH_WAIT_FLOOR_SECONDS * 1000)), (5.0, int(FETCH_WAIT_CAP_SECONDS * 1000))],
)
def test_the_broker_is_asked_for_the_lingers_wait_within_the_floor_and_the_cap(linger: float, expected_ms: int) -> None:
    assert broker_fetch_wait_ms(Settings(batch_max_seconds=linger)) == expected_ms
