"""Times for the rows tests store: relative to now, so the tables' retention (a TTL of days) never drops
them in the middle of a test, whatever day the suite runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def hours_ago(hours: float) -> datetime:
    """A UTC time this many hours before now, to the second (as a log line or metrics row would carry it)."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours)
