"""``--since``/``--until`` values: a duration back from now ("90m", "24h", "7d") or a timestamp."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from correlator.errors import ConfigurationError

_DURATION = re.compile(r"^(?P<amount>\d+(?:\.\d+)?)(?P<unit>s|m|h|d|w)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time_bound(value: str, now: datetime | None = None) -> datetime:
    """An absolute UTC time for a duration ago or an ISO 8601 timestamp (naive means UTC)."""
    text = value.strip()
    match = _DURATION.match(text)
    if match:
        delta = timedelta(**{_UNITS[match.group("unit")]: float(match.group("amount"))})
        return (now or datetime.now(UTC)) - delta
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"{value!r} is neither a duration like 24h, 90m, 7d nor an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
