"""``correlator report``: one self-contained HTML file an on-call engineer can open anywhere.

Charts are plotly figures with plotly.js inlined once, so the file needs no network.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
from clickhouse_connect.driver.client import Client

from correlator.commands.incidents import Record, query, trace_spans
from correlator.commands.quality import quality
from correlator.commands.waterfall import waterfall

# traces drawn when none is asked for: those with the most failed spans in the window
WORST_TRACES = 3

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2330; }
h1 { margin-bottom: 0.2rem; } .meta { color: #5b6475; margin-bottom: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 2rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #d8dce5; padding: 0.3rem 0.8rem; text-align: left; vertical-align: top; }
th { background: #f2f4f8; } code { font-size: 0.85rem; }
"""


def build_report(
    client: Client, database: str, since: datetime, pass_threshold: float = 0.80, trace_ids: Sequence[str] = ()
) -> str:
    """The page; ``trace_ids`` are the traces to draw as waterfalls, else the worst failing ones in the window."""
    rates = query(client, database, "report_error_rates", since=since)
    health = query(client, database, "report_model_health", since=since)
    reclassified = query(client, database, "report_reclassifications", since=since)
    groups = query(client, database, "incidents_groups", since=since)
    charts = [
        ("error-rate-chart", "Error rate by class", _lines(rates, "window", "error_class", "error_rate", "error rate")),
        ("latency-chart", "Latency p95 by model (seconds)", _lines(health, "hour", "model", "latency_p95", "seconds")),
        ("cost-chart", "Cost by model (USD per hour)", _bars(health, "hour", "model", "cost_usd")),
    ]
    generated = datetime.now(UTC)
    parts = [f"<h1>correlator report: {html.escape(database)}</h1>",
             f"<p class='meta'>since {since:%Y-%m-%d %H:%M} UTC, generated {generated:%Y-%m-%d %H:%M}</p>"]  # fmt: skip
    for index, (element_id, title, figure) in enumerate(charts):
        parts.append(_chart_html(element_id, title, figure, since, generated, include_plotlyjs=index == 0))
    parts.append("<h2>Latency percentiles by model</h2>")
    parts.append(_table("latency-table", ["hour", "model", "calls", "p50 s", "p95 s", "p99 s"],
                        [(r["hour"], r["model"], r["calls"], f"{r['latency_p50']:.2f}", f"{r['latency_p95']:.2f}",
                          f"{r['latency_p99']:.2f}") for r in health]))  # fmt: skip
    parts.append("<h2>Reclassifications: what the metrics row said → what the root cause says</h2>")
    parts.append(_table("reclassifications", ["metrics said", "category", "class", "failures", "reclassified"],
                        [(r["original_error"], r["category"], r["error_class"], r["errors"], r["reclassified"])
                         for r in reclassified]))  # fmt: skip
    parts.append("<h2>Top root causes</h2>")
    root_causes = [(g["failures"], g["error_class"], g["root_cause_type"], g["example_message"][:200],
                    g["message_template"][:160], ", ".join(g["example_error_ids"])) for g in groups]  # fmt: skip
    parts.append(_table("root-causes", ["failures", "class", "root cause", "latest message", "grouped as",
                                        "example error_ids"], root_causes))  # fmt: skip
    parts += _quality_parts(client, database, since, generated, pass_threshold)
    parts += _trace_views(client, database, since, trace_ids)
    body = "\n".join(parts)
    return f"<!doctype html><html><head><meta charset='utf-8'><title>correlator report</title><style>{_STYLE}</style></head><body>{body}</body></html>"  # noqa: E501


def _trace_views(client: Client, database: str, since: datetime, trace_ids: Sequence[str]) -> list[str]:
    asked = bool(trace_ids)
    if not asked:
        trace_ids = [row["trace_id"] for row in query(client, database, "report_failed_traces", since=since,
                                                           limit=WORST_TRACES)]  # fmt: skip
    title = "Traces asked for" if asked else f"Traces with the most failed steps (up to {WORST_TRACES})"
    parts = [f"<h2>{title}</h2>"]
    if not trace_ids:
        parts.append("<p id='no-traces'>No trace with a failed span in the window.</p>")
    for index, trace_id in enumerate(trace_ids):
        spans = trace_spans(client, database, trace_id)
        if not spans:
            parts.append(
                f"<p class='missing-trace'>No spans stored for trace <code>{html.escape(trace_id)}</code>.</p>"
            )
            continue
        parts.append(waterfall(trace_id, spans).to_html(full_html=False, include_plotlyjs=False,
                                                         div_id=f"trace-waterfall-{index}"))  # fmt: skip
    return parts


def _chart_html(
    element_id: str, title: str, figure: go.Figure, since: datetime, generated: datetime, include_plotlyjs: bool
) -> str:
    figure.update_layout(title=title, height=360, margin={"t": 50, "l": 60, "r": 20, "b": 40})
    # the axis spans the window asked for: one point alone would get an axis a millisecond wide
    figure.update_xaxes(type="date", range=[since.replace(tzinfo=None), generated.replace(tzinfo=None)])
    return str(figure.to_html(full_html=False, include_plotlyjs=include_plotlyjs, div_id=element_id))


def _quality_parts(
    client: Client, database: str, since: datetime, generated: datetime, pass_threshold: float
) -> list[str]:
    """The quality section: pass rates over time and by scorer, drift alerts, content and safety failures,
    the review backlog."""
    section = quality(client, database, since, pass_threshold)
    backlog = section["review_backlog"]
    rates = query(client, database, "report_pass_rates", since=since)
    chart = _lines(rates, "window", "scorer", "pass_rate", "pass rate")
    rate = "no scores" if section["pass_rate"] is None else f"{section['pass_rate']:.1%} passed"
    return [
        "<h2 id='quality'>Quality</h2>",
        f"<p>{section['scores_evaluated']} scores evaluated, {rate}; {len(section['drift_alerts'])} drift alerts; "
        f"{section['content_failures']} content failures; {len(section['safety_failures'])} safety failures.</p>",
        _chart_html("pass-rate-chart", "Pass rate by scorer and model (15 min)", chart, since, generated, False),
        "<h3>Score drift alerts (score_drift)</h3>",
        _table("drift-alerts", ["latest window", "scorer", "model", "prompt", "alert", "mean", "24h mean",
                                "pass rate", "24h pass rate", "windows"],
               [(r["latest"], r["name"], r["model"], r["prompt_version"], r["alert"], _figure(r["mean"]),
                 _figure(r["baseline"]), _figure(r["pass_rate"]), _figure(r["baseline_pass_rate"]), r["windows"])
                for r in section["drift_alerts"]]),
        "<h3>Pass rates by scorer and model</h3>",
        _table("pass-rates", ["scorer", "model", "evaluated", "passed", "pass rate", "threshold"],
               [(r["name"], r["model"], r["evaluated"], r["passed"], f"{r['pass_rate']:.1%}", r["threshold"])
                for r in section["pass_rates"]]),
        "<h3>Content failures by class (the call returned, the answer is unusable)</h3>",
        _table("content-failures", ["class", "model", "failures", "rules", "latest", "latest trace"],
               [(r["error_class"], r["model"], r["failures"], ", ".join(r["rules"]), r["latest"],
                 r["latest_trace_id"]) for r in section["content_failures_by_class"]]),
        "<h3>Safety failures</h3>",
        _table("safety-failures", ["seen", "scorer", "source", "model", "trace", "label"],
               [(r["ts"], r["name"], r["source"], r["model"], r["trace_id"], r["label"])
                for r in section["safety_failures"]]),
        f"<h3>Review backlog: {backlog['waiting']} traces wait for a person (correlator review list)</h3>",
        _table("review-backlog", ["reason", "traces"], list(backlog["by_reason"].items())),
    ]  # fmt: skip


def _figure(value: float) -> str:
    """A mean or rate to two places; NaN (no NUMERIC scores) as nothing."""
    return "" if value != value else f"{value:.2f}"


def _lines(rows: list[Record], x: str, series: str, y: str, y_title: str) -> go.Figure:
    figure = go.Figure()
    for name in sorted({row[series] for row in rows}):
        points = [row for row in rows if row[series] == name]
        figure.add_trace(
            go.Scatter(x=[p[x] for p in points], y=[p[y] for p in points], mode="lines+markers", name=name)
        )
    figure.update_yaxes(title_text=y_title)
    return figure


def _bars(rows: list[Record], x: str, series: str, y: str) -> go.Figure:
    figure = go.Figure()
    for name in sorted({row[series] for row in rows}):
        points = [row for row in rows if row[series] == name]
        figure.add_trace(go.Bar(x=[p[x] for p in points], y=[p[y] for p in points], name=name))
    figure.update_layout(barmode="stack")
    return figure


def _table(element_id: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table id='{element_id}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
