"""The scores topic, Kafka → daemon → ClickHouse: stored, joined to traces, replaced by id at read time."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiokafka import TopicPartition
from clickhouse_connect.driver.client import Client

from correlator.config import Settings, Thresholds
from correlator.devkit.demo import produce
from correlator.processing.batching import SCORES
from correlator.processing.classify import Classifier
from correlator.runtime.backfill import Loader, StopFlag, backfill_kafka
from correlator.runtime.progress import JsonProgress
from correlator.sources.kafka import KafkaRangeReader
from correlator.warehouse.migrate import migrate
from correlator.warehouse.writer import Warehouse
from tests.conftest import rows
from tests.harness import committed_offsets, run_daemon, stored_at_least


def _at(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def _json(*documents: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(document) for document in documents]


def _deliver(settings: Settings, warehouse: Client, topic: str, values: list[bytes]) -> None:
    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, topic, values)
        await run_daemon(settings, warehouse, stored_at_least(len(values)))

    asyncio.run(scenario())


def _trace_scores(warehouse: Client, db: str, trace_id: str) -> list[tuple[Any, ...]]:
    return rows(
        warehouse,
        f"SELECT name, source, data_type, value, string_value, model, prompt_version, trace_seen "
        f"FROM {db}.trace_scores WHERE trace_id = {{t:String}} ORDER BY name, source",
        t=trace_id,
    )


def test_a_score_before_its_trace_joins_it_when_the_trace_comes(settings: Settings, warehouse: Client):
    db = settings.database
    score = {"name": "groundedness", "trace_id": "t-early", "value": 0.91, "source": "judge", "timestamp": _at(5)}
    _deliver(settings, warehouse, settings.scores_topic, _json(score))
    assert _trace_scores(warehouse, db, "t-early") == [("groundedness", "judge", "NUMERIC", 0.91, "", "", "", 0)]

    call = {"timestamp": _at(6), "success": True, "model": "gpt-4o", "trace_id": "t-early", "prompt_version": "v7"}
    _deliver(settings, warehouse, settings.metrics_topic, _json(call))
    assert _trace_scores(warehouse, db, "t-early") == [
        ("groundedness", "judge", "NUMERIC", 0.91, "", "gpt-4o", "v7", 1)
    ]
    # a score after its trace joins it at once
    later = {"name": "relevance", "trace_id": "t-early", "value": True, "source": "code", "timestamp": _at(1)}
    _deliver(settings, warehouse, settings.scores_topic, _json(later))
    assert _trace_scores(warehouse, db, "t-early")[1] == ("relevance", "code", "BOOLEAN", 1.0, "", "gpt-4o", "v7", 1)
    # nothing stored changed: the join is the view's
    assert rows(warehouse, f"SELECT count(), countIf(model != '') FROM {db}.scores") == [(2, 0)]
    assert committed_offsets_total(settings) == 2


def committed_offsets_total(settings: Settings) -> int:
    offsets = asyncio.run(committed_offsets(settings.kafka_bootstrap, settings.group_id, settings.scores_topic, 2))
    return sum(offsets.values())


def test_a_score_re_sent_with_the_same_id_replaces_the_earlier_one_at_read_time(settings: Settings, warehouse: Client):
    db = settings.database
    first = {"id": "s-1", "name": "helpfulness", "trace_id": "t-r", "value": 0.4, "source": "judge",
             "timestamp": _at(3)}  # fmt: skip
    other = {"name": "helpfulness", "trace_id": "t-r", "value": 0.7, "source": "human", "timestamp": _at(3)}
    _deliver(settings, warehouse, settings.scores_topic, _json(first, other))
    assert [row[3] for row in _trace_scores(warehouse, db, "t-r")] == [0.7, 0.4]  # human, judge

    # the same id re-sent, with an earlier timestamp even: the later arrival wins
    _deliver(settings, warehouse, settings.scores_topic, _json({**first, "value": 0.95, "timestamp": _at(4)}))
    assert [(row[1], row[3]) for row in _trace_scores(warehouse, db, "t-r")] == [("human", 0.7), ("judge", 0.95)]
    assert rows(warehouse, f"SELECT count() FROM {db}.scores WHERE score_id = 's-1'") == [(2,)]
    assert rows(warehouse, f"SELECT versions FROM {db}.score_latest WHERE score_id = 's-1'") == [(2,)]


def test_langfuse_and_opentelemetry_spellings_are_the_same_score(settings: Settings, warehouse: Client):
    db = settings.database
    ours = {"name": "is_json", "trace_id": "t-1", "span_id": "sp", "value": True, "data_type": "BOOLEAN",
            "config_id": "c1", "source": "code", "timestamp": _at(2)}  # fmt: skip
    langfuse = {"name": "is_json", "traceId": "t-2", "observationId": "sp", "value": 1, "dataType": "BOOLEAN",
                "configId": "c1", "source": "code", "timestamp": _at(2)}  # fmt: skip
    otel_flat = {"gen_ai.evaluation.name": "is_json", "trace_id": "t-3", "span_id": "sp", "config_id": "c1",
                 "gen_ai.evaluation.score.value": True, "source": "code", "timestamp": _at(2)}  # fmt: skip
    otel_event = {"trace_id": "t-4", "span_id": "sp", "config_id": "c1", "source": "code", "timestamp": _at(2),
                  "attributes": {"gen_ai.evaluation.name": "is_json",
                                 "gen_ai.evaluation.score.value": True}}  # fmt: skip
    _deliver(settings, warehouse, settings.scores_topic, _json(ours, langfuse, otel_flat, otel_event))
    stored = rows(
        warehouse,
        f"SELECT trace_id, name, span_id, data_type, value, config_id, source FROM {db}.scores ORDER BY trace_id",
    )
    assert [row[1:] for row in stored] == [("is_json", "sp", "BOOLEAN", 1.0, "c1", "code")] * 4
    assert [row[0] for row in stored] == ["t-1", "t-2", "t-3", "t-4"]

    labelled = {"gen_ai.evaluation.name": "tone", "trace_id": "t-5", "gen_ai.evaluation.score.label": "polite",
                "gen_ai.evaluation.explanation": "no insults", "timestamp": _at(1)}  # fmt: skip
    _deliver(settings, warehouse, settings.scores_topic, _json(labelled))
    stored = rows(warehouse, f"SELECT data_type, string_value, label, comment FROM {db}.scores WHERE trace_id = 't-5'")
    assert stored == [("CATEGORICAL", "polite", "polite", "no insults")]


BAD_SCORES = {
    "no_name": {"trace_id": "t", "value": 1.0},
    "no_trace_id": {"name": "groundedness", "value": 1.0},
    "value_type_mismatch": {"name": "is_json", "trace_id": "t", "value": "yes please", "data_type": "BOOLEAN"},
    "not_finite": {"name": "groundedness", "trace_id": "t", "value": "NaN", "data_type": "NUMERIC"},
    "no_value": {"name": "groundedness", "trace_id": "t"},
}


def test_each_bad_score_is_a_dead_letter_with_its_own_reason(settings: Settings, warehouse: Client):
    db = settings.database
    messages = [orjson.dumps(document) for document in BAD_SCORES.values()]
    messages += [b"[0.9]", orjson.dumps({"name": "n", "trace_id": "t", "value": "Infinity", "dataType": "NUMERIC"})]
    messages += [orjson.dumps({"name": "n", "trace_id": "t", "value": {"a": 1}})]
    good = {"name": "groundedness", "trace_id": "t", "value": 0.5}
    _deliver(settings, warehouse, settings.scores_topic, [*messages, orjson.dumps(good)])

    dead = rows(
        warehouse, f"SELECT reason, raw FROM {db}.dead_letters WHERE topic = {{t:String}}", t=settings.scores_topic
    )
    reasons = sorted(reason for reason, _ in dead)
    expected = [*BAD_SCORES, "not_object", "not_finite", "value_type_mismatch"]
    assert reasons == sorted(expected)
    assert sorted(raw.encode() if isinstance(raw, str) else raw for _, raw in dead) == sorted(messages)
    assert rows(warehouse, f"SELECT name, value FROM {db}.scores") == [("groundedness", 0.5)]
    # the daemon went on and committed past every message, bad ones included
    assert committed_offsets_total(settings) == len(messages) + 1


def test_backfill_loads_the_scores_topic_once_however_often_it_runs(settings: Settings, warehouse: Client):
    db = settings.database
    scores = [{"id": f"s-{n % 5}", "name": "groundedness", "trace_id": f"t-{n % 5}", "value": n / 10,
               "timestamp": _at(9 - n)} for n in range(10)]  # fmt: skip

    async def send() -> dict[int, int]:
        first = await produce(settings.kafka_bootstrap, settings.scores_topic, _json(*scores[:5]))
        await asyncio.sleep(0.05)  # each id sent again later, on whichever partition
        again = await produce(settings.kafka_bootstrap, settings.scores_topic, _json(*scores[5:]))
        return {partition: max(first.get(partition, 0), again.get(partition, 0)) for partition in (0, 1)}

    ends = asyncio.run(send())
    ranges = {TopicPartition(settings.scores_topic, partition): (0, end) for partition, end in ends.items()}

    async def load(restart: bool = False) -> int:
        loader = Loader(Warehouse(warehouse, db), Classifier.from_file(), 1_000, JsonProgress("t", "u", io.StringIO()))
        reader = KafkaRangeReader(settings.kafka_bootstrap, 500)
        scores_only = {settings.scores_topic: SCORES}
        tally = await backfill_kafka(loader, reader, scores_only, StopFlag(), explicit=ranges, restart=restart)
        return tally.records

    assert asyncio.run(load()) == 10
    assert asyncio.run(load()) == 0  # resumed after its checkpoints: nothing left to read
    assert asyncio.run(load(restart=True)) == 10  # read again: the same batches, under the same tokens
    assert rows(warehouse, f"SELECT count() FROM {db}.scores") == [(10,)]
    latest = rows(warehouse, f"SELECT trace_id, value FROM {db}.trace_scores ORDER BY trace_id")
    assert latest == [(f"t-{n}", (n + 5) / 10) for n in range(5)]  # each id's second sending


def _window_start(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def test_eval_pass_rate_per_window_with_the_threshold_migrate_renders(settings: Settings, warehouse: Client):
    db = settings.database
    first = _window_start(datetime.now(UTC) - timedelta(hours=2))
    second = first + timedelta(minutes=15)
    numeric = [0.95, 0.80, 0.79, 0.5]  # at the default threshold of 0.80: two pass
    scores = [
        {"name": "groundedness", "trace_id": f"g-{n}", "value": value, "model": "m", "prompt_version": "v1",
         "source": "judge", "timestamp": (first + timedelta(minutes=1 + n)).isoformat()}
        for n, value in enumerate(numeric)
    ] + [
        {"name": "is_json", "traceId": f"j-{n}", "value": flag, "dataType": "BOOLEAN", "model": "m",
         "prompt_version": "v1", "source": "code", "timestamp": (second + timedelta(minutes=2)).isoformat()}
        for n, flag in enumerate([1, 1, 0])
    ]  # fmt: skip
    # g-2's judge re-scores it: its latest value is what counts, once
    scores.append({**scores[2], "value": 0.85, "timestamp": (first + timedelta(minutes=9)).isoformat()})
    _deliver(settings, warehouse, settings.scores_topic, _json(*scores))

    def pass_rates() -> list[tuple[Any, ...]]:
        return rows(
            warehouse,
            f"SELECT window, name, model, prompt_version, evaluated, passed, round(pass_rate, 3) "
            f"FROM {db}.eval_pass_rate(since = {{s:DateTime64(6)}})",
            s=(first - timedelta(minutes=1)).replace(tzinfo=None),
        )

    naive = first.replace(tzinfo=None), second.replace(tzinfo=None)
    assert [(w.replace(tzinfo=None), *rest) for w, *rest in pass_rates()] == [
        (naive[0], "groundedness", "m", "v1", 4, 3, 0.75),
        (naive[1], "is_json", "m", "v1", 3, 2, 0.667),
    ]
    migrate(warehouse, db, retention_days=30, thresholds=Thresholds(eval_pass_threshold=0.9))
    assert [row[4:6] for row in pass_rates()] == [(4, 1), (3, 2)]  # only 0.95 now; BOOLEAN unchanged
