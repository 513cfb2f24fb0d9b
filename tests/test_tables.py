"""Terminal tables at 80 columns: labels, ids and times unbroken, free text wrapped in what is left."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console

from correlator.commands.tables import print_table


def _render(headers: tuple[str, ...], rows: list[tuple[object, ...]], width: int = 80) -> list[str]:
    out = io.StringIO()
    print_table("title", headers, rows, Console(file=out, width=width, color_system=None))
    return out.getvalue().splitlines()


def test_labels_ids_and_times_are_unbroken_and_text_wraps_within_80_columns():
    seen = datetime.now(UTC).replace(microsecond=123456) - timedelta(minutes=5)
    message = "Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o in organization org-x'}}"
    rows = [
        ("api_error", "rate_limit", "gpt-4o-2024-08-06", 12, seen, message),
        ("parsing_error", "tool_call_malformed", "claude-3-5-sonnet", 3, seen, "Expecting value: line 1 column 1"),
    ]
    lines = _render(("category", "class", "model", "failures", "latest", "message"), rows)
    screen = "\n".join(lines)
    assert max(map(len, lines)) <= 80
    for label in ("parsing_error", "tool_call_malformed", "claude-3-5-sonnet", "gpt-4o-2024-08-06"):
        assert label in screen
    assert seen.strftime("%Y-%m-%d %H:%M:%S") in screen and "123456" not in screen
    # the message wrapped, every word of it still there
    assert len(lines) > 6 and all(word.strip("{}',") in screen for word in message.split())


def test_rows_become_records_when_the_labels_leave_too_little_room_for_text():
    rows = [("schema_mismatch", "1a8f85b2ef4f", "unknown", "AuthenticationError", "Error code: 401 - " + "x " * 60)]
    lines = _render(("error_class", "error_id", "metrics_said", "root_cause_type", "root_cause"), rows, width=60)
    screen = "\n".join(lines)
    assert max(map(len, lines)) <= 60
    for field, value in zip(("error_class", "error_id", "metrics_said", "root_cause_type"), rows[0], strict=False):
        assert any(field in line and value in line for line in lines)  # one field a line, its value unbroken
    assert "Error code: 401" in screen


def test_values_with_brackets_are_shown_as_written_in_both_layouts():
    """Messages are the applications' text, not rich markup: ``[/]`` used to stop the command, ``[bold]`` vanished."""
    message = "list index [/] out of [bold]range[/] [Errno 111]"
    for width in (80, 30):  # a table, then records
        screen = "\n".join(_render(("class", "message"), [("unknown", message)], width=width))
        assert "[/]" in screen and "[bold]range[/]" in screen and "[Errno 111]" in screen, screen
