"""`correlator trace` draws the span tree, and the report draws waterfalls: from spans stored by the daemon."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from clickhouse_connect.driver.client import Client

from correlator.commands.cli import main
from correlator.config import Settings
from tests.chromium import rendered_report
from tests.otlp_producers import AgentRun, LoopingRun, agent_run, deliver_spans, looping_agent_run, otlp_settings


@pytest.fixture(scope="module")
def traced(module_settings: Settings, warehouse: Client) -> tuple[Settings, LoopingRun, AgentRun]:
    """A looping agent whose chat call fails in its HTTP request, and an agent whose second chat call times out;
    stored once for the module, whose tests only read them."""
    settings = otlp_settings(module_settings)
    looping, planner = looping_agent_run("support"), agent_run("planner")
    deliver_spans(settings, warehouse, [looping.spans.SerializeToString(), planner.spans.SerializeToString()], 7 + 3)
    return settings, looping, planner


def _trace(settings: Settings, *arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["trace", *arguments, "--clickhouse", settings.clickhouse_url, "--database",
                                       settings.database], env={"COLUMNS": "80"})  # fmt: skip
    return result.exit_code, result.output


def test_trace_draws_the_tree_in_80_columns_names_the_first_failing_step_and_keeps_the_timeline(
    traced: tuple[Settings, LoopingRun, AgentRun],
) -> None:
    settings, looping, _ = traced
    code, output = _trace(settings, looping.trace_id)
    assert code == 0, output
    lines = [line.rstrip() for line in output.splitlines()]
    assert max(map(len, lines)) <= 80, output
    # the tree under its summary, then the timeline table (titled with the trace id) as before
    table = lines.index(f"trace {looping.trace_id}")
    tree, timeline = "\n".join(lines[:table]), lines[table:]
    assert tree.startswith(f"trace {looping.trace_id}: 7 steps, 2 failed; first failing step:")
    assert f"({looping.innermost_failure})" in " ".join(tree.split())  # named, even where the line wraps
    steps = [line for line in lines[:table] if re.match(r"^[│ ]*[├└]── ", line)]
    assert sum("[tool] execute_tool lookup_order" in line and "tool lookup_order" in line for line in steps) == 4
    [marked] = [line for line in steps if "first failure" in line]
    [chat] = [line for line in steps if "[llm] chat gpt-4o" in line]
    assert "[span] POST /v1/chat/completions" in marked and steps.index(chat) + 1 == steps.index(marked)
    assert "error" in chat and marked.index("[") > chat.index("[")  # beneath the chat call
    assert sum(re.search(r"kind\s+│ span\b", line) is not None for line in timeline) == 7  # a record per span


def test_trace_tree_as_json_is_nested_and_the_timeline_json_is_unchanged(
    traced: tuple[Settings, LoopingRun, AgentRun],
) -> None:
    settings, looping, planner = traced
    code, output = _trace(settings, looping.trace_id, "--tree", "--json")
    assert code == 0, output
    tree = orjson.loads(output)
    assert (tree["trace_id"], tree["first_failure"]) == (looping.trace_id, looping.innermost_failure)
    [root] = tree["spans"]
    assert root["name"] == "invoke_agent support" and len(root["children"]) == 5
    [chat] = [child for child in root["children"] if child["step"] == "llm"]
    [request] = chat["children"]
    assert (request["span_id"], request["failed"], request["first_failure"], request["root_cause_type"]) == (
        looping.innermost_failure, 1, 1, "ConnectionError"
    )  # fmt: skip
    code, output = _trace(settings, planner.trace_id, "--json")
    assert code == 0, output
    assert [row["kind"] for row in orjson.loads(output)] == ["span", "span", "span"]
    code, output = _trace(settings, "0" * 32, "--tree")
    assert code == 1 and "no spans with trace_id" in output


def _waterfalls(dom: str) -> list[str]:
    """Each waterfall's rendered part of the DOM, in page order."""
    starts = [match.start() for match in re.finditer(r'id="trace-waterfall-\d+"', dom)]
    return [dom[start:end] for start, end in zip(starts, [*starts[1:], len(dom)], strict=True)]


def _bar_fills(part: str) -> list[str]:
    return re.findall(r'class="point"><path [^>]*?style="[^"]*?fill: (rgb\([^)]*\))', part)


def test_the_report_draws_the_worst_failing_traces_as_waterfalls_in_chromium(
    traced: tuple[Settings, LoopingRun, AgentRun], tmp_path: Path
) -> None:
    settings, looping, planner = traced
    first, second = _waterfalls(rendered_report(settings, tmp_path, "--since", "1h"))
    # the trace with more failed steps first; a bar per span, the failed ones red, the first failure annotated
    assert f"Trace {looping.trace_id}" in first and f"Trace {planner.trace_id}" in second
    assert 'class="main-svg"' in first and 'class="trace bars' in first
    fills = _bar_fills(first)
    assert len(fills) == 7 and fills.count("rgb(214, 39, 40)") == 2, fills
    ticks = re.findall(r'class="ytick"><text[^>]*>([^<]+)', first)
    assert ticks[0].strip() == "agent: invoke_agent support" and ticks[-1].strip() == "span: POST /v1/chat/completions"
    assert "first failure: ConnectionError" in first
    assert _bar_fills(second).count("rgb(214, 39, 40)") == 1 and "first failure: TimeoutError" in second


def test_the_report_draws_the_traces_asked_for(traced: tuple[Settings, LoopingRun, AgentRun], tmp_path: Path) -> None:
    settings, _, planner = traced
    dom = rendered_report(settings, tmp_path, "--since", "1h", "--trace", planner.trace_id, "--trace", "f" * 32)
    [only] = _waterfalls(dom)
    assert f"Trace {planner.trace_id}" in only and len(_bar_fills(only)) == 3
    assert f"No spans stored for trace <code>{'f' * 32}</code>" in dom


def test_span_names_are_text_in_the_waterfall_not_markup() -> None:
    from datetime import UTC, datetime

    from correlator.commands.waterfall import waterfall

    span = {"span_id": "a" * 16, "depth": 0, "step": "tool", "name": "<a href='https://x.invalid'>x</a> & <b>",
            "start": datetime.now(UTC), "duration_ms": 5.0, "status": "error", "tool_name": "", "failed": 1,
            "first_failure": 1, "error_class": "unknown", "root_cause_type": "<script>",
            "root_cause_message": ""}  # fmt: skip
    figure = waterfall("b" * 32, [span])
    assert list(figure.layout.yaxis.ticktext) == ["tool: &lt;a href='https://x.invalid'&gt;x&lt;/a&gt; &amp; &lt;b&gt;"]
    assert "<script>" not in figure.data[0].hovertext[0] and "&lt;script&gt;" in figure.layout.annotations[0].text
