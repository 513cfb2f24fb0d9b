"""The quality section of ``correlator incidents`` and ``correlator report``: what the scores say.

Pass rates by scorer and model, score_drift's alerts, calls that returned but failed a content
check, and failed safety scores, all since a time. ``review_backlog`` is the review queue's seam:
None here; ``correlator review list`` (issue 16's review queue) fills it with what waits for a person.
"""

from __future__ import annotations

from datetime import datetime

from clickhouse_connect.driver.client import Client

from correlator.commands.incidents import Record, query


def quality(client: Client, database: str, since: datetime) -> Record:
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
        "review_backlog": None,
    }
