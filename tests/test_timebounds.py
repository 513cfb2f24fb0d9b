from datetime import UTC, datetime, timedelta

import pytest

from correlator.commands.timebounds import parse_time_bound

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", NOW - timedelta(minutes=90)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("2026-11-20T08:00:00", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        ("2026-11-20T08:00:00+02:00", datetime(2026, 11, 20, 6, tzinfo=UTC)),
    ],
)
def test_durations_and_timestamps(text: str, expected: datetime):
    assert parse_time_bound(text, now=NOW) == expected


def test_nonsense_is_refused_with_the_accepted_forms():
    with pytest.raises(ValueError, match="24h"):
        parse_time_bound("yesterday-ish", now=NOW)
