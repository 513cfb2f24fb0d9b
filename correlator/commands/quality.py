"""The quality section of ``correlator incidents`` and ``correlator report``: what the scores say.

Pass rates by scorer and model, score_drift's alerts, calls that returned but failed a content
check, failed safety scores, and the review backlog (``correlator review list``'s queue without its
calibration sample: what waits for a person because something is wrong), all since a time.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from clickhouse_connect.driver.client import Client

from correlator.commands.incidents import Record, query
from correlator.commands.review import REASONS, review_queue

#: traces of the backlog counted at most (the queue is worst first, so the worst are always in)
BACKLOG_LIMIT = 1000
BACKLOG_SHOWN = 5


def quality(client: Client, database: str, since: datetime, pass_threshold: float = 0.80) -> Record:
    pass_rates = query(client, database, "quality_pass_rates", since=since)
    evaluated = sum(row["evaluated"] for row in pass_rates)
    content_failures = query(client, database, "quality_content_failures", since=since)
    return {
        "scores_evaluated": evaluated,
        "pass_rate": sum(row["passed"] for row in pass_rates) / evaluated if evaluated else None,
        "pass_rates": pass_rates,
        "drift_alerts": query(client, database, "quality_drift", since=since),
        "content_failures": sum(row["failures"] for row in content_failures),
        "content_failures_by_class": content_failures,
        "safety_failures": query(client, database, "quality_safety_failures", since=since),
        "review_backlog": _review_backlog(client, database, since, pass_threshold),
    }


def _review_backlog(client: Client, database: str, since: datetime, pass_threshold: float) -> Record:
    queue = review_queue(client, database, since, pass_threshold=pass_threshold, sample_rate=0.0,
                         limit=BACKLOG_LIMIT)  # fmt: skip
    by_reason = Counter(row["reason"] for row in queue)
    return {
        "waiting": len(queue),
        "by_reason": {reason: by_reason[reason] for reason in REASONS if by_reason[reason]},
        "worst": queue[:BACKLOG_SHOWN],
    }
