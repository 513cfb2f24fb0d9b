"""The review queue: what a person should look at, and their verdict sent back as a ``human`` score.

The verdict travels through the scores topic like every other score, so it is stored,
deduplicated and joined by the daemon, and ``review label`` works while the daemon owns an
embedded warehouse (this command never opens it). Its id is the trace's and span's, so a
second verdict on the same case replaces the first at read time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from clickhouse_connect.driver.client import Client

from correlator.commands.incidents import Record, query
from correlator.config import Settings
from correlator.errors import InputError
from correlator.errors import KafkaError as BrokerError
from correlator.processing.content import CONTENT_CHECKS_VERSION
from correlator.processing.scorers import Scorers

REASONS = ("safety", "content_failure", "low_score", "sampled")
VERDICTS = ("pass", "fail")
#: the score a verdict becomes: its name, and its source
REVIEW_SCORE, REVIEW_SOURCE = "review", "human"
_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
# words that say something failed without saying what: a mode made only of these is refused
_VAGUE_WORDS = frozenset({
    "answer", "bad", "error", "fail", "failed", "failure", "generic", "hallucination", "incorrect", "invalid",
    "issue", "misc", "other", "output", "poor", "problem", "response", "result", "unknown", "wrong",
})  # fmt: skip
MODE_MAX_LENGTH = 64
_MODE_HINT = 'see the README, "Review queue": a failure mode names what went wrong, in snake_case'


def review_queue(
    client: Client,
    database: str,
    since: datetime,
    reason: str = "",
    pass_threshold: float = 0.80,
    sample_rate: float = 0.01,
    limit: int = 200,
    scorers: Scorers | None = None,
) -> list[Record]:
    """Traces waiting for a person since ``since``, worst first (``reason``: only those with it).

    A score fails as the views judge it: under the scorers file's pass threshold for its name, else
    ``pass_threshold`` (over it, for a lower-is-better scorer, which ranks by ``1 - value``); a failed score
    of a safety scorer (a judge's too) is a ``safety`` reason.
    """
    scorers = scorers or Scorers.from_file(default_pass_threshold=pass_threshold)
    thresholds = {name: s.pass_threshold for name, s in sorted(scorers.scorers.items()) if s.pass_threshold is not None}
    return query(
        client, database, "review_queue", since=since, reason=reason, threshold=scorers.default_pass_threshold,
        threshold_names=list(thresholds), threshold_values=list(thresholds.values()),
        lower_is_better=scorers.lower_is_better_names(),
        safety_scorers=sorted(name for name, s in scorers.scorers.items() if s.safety),
        sample_per_million=round(sample_rate * 1_000_000), content_checks=CONTENT_CHECKS_VERSION, limit=limit,
    )  # fmt: skip


def check_failure_mode(mode: str) -> str:
    """A failure mode as a dataset and a dashboard can group by: specific, snake_case, two words or more.

    ``stale_policy_retrieval`` says what to fix; ``incorrect_answer`` says only that something
    failed, which the verdict already says.
    """
    if len(mode) > MODE_MAX_LENGTH or not _SNAKE_CASE.match(mode):
        raise InputError(
            f"failure mode {mode!r} is not snake_case words (two or more, at most {MODE_MAX_LENGTH} characters), "
            "e.g. stale_policy_retrieval",
            _MODE_HINT,
        )
    if set(mode.split("_")) <= _VAGUE_WORDS:
        raise InputError(
            f"failure mode {mode!r} says that the answer failed, not how: name the cause "
            "(e.g. stale_policy_retrieval, wrong_tool_arguments, ignored_system_prompt)",
            _MODE_HINT,
        )
    return mode


def verdict_score(trace_id: str, verdict: str, mode: str = "", span_id: str = "", note: str = "") -> dict[str, Any]:
    """The ``human`` score a verdict becomes (BOOLEAN: true for pass), ready for the scores topic."""
    if not trace_id.strip():
        raise InputError("a verdict needs the trace it judges")
    if verdict not in VERDICTS:
        raise InputError(f"verdict {verdict!r} is neither pass nor fail")
    if mode and verdict == "pass":
        raise InputError("a pass has no failure mode: give --mode with --verdict fail only")
    document: dict[str, Any] = {
        "id": f"review:{trace_id}:{span_id}",
        "name": REVIEW_SCORE,
        "source": REVIEW_SOURCE,
        "data_type": "BOOLEAN",
        "value": verdict == "pass",
        "label": check_failure_mode(mode) if mode else verdict,
        "trace_id": trace_id,
        "timestamp": datetime.now(UTC).isoformat(),
        "verdict": verdict,
    }
    if span_id:
        document["span_id"] = span_id
    if note:
        document["comment"] = note
    return document


async def send_verdict(settings: Settings, score: dict[str, Any]) -> None:
    """Produce the score to the scores topic with the daemon's broker settings; returns once it is acknowledged."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    from correlator.sources.kafka import security_options

    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", request_timeout_ms=15_000,
        **security_options(settings.kafka_security),
    )  # fmt: skip
    try:
        await producer.start()
        await producer.send_and_wait(settings.scores_topic, orjson.dumps(score), key=score["trace_id"].encode())
    except KafkaError as exc:
        raise BrokerError(
            f"Kafka {settings.kafka_bootstrap}: the verdict was not delivered to {settings.scores_topic} ({exc})"
        ) from None
    finally:
        await producer.stop()
