"""The report's trace view: each step of a trace as a bar from its start to its end.

A waterfall shows what a tree cannot: where the time went and which steps overlapped. One
row per span in tree order (names indented by depth, so the tree is still readable down the
axis), failed steps red, and the first failing step (where the debugging walk stops)
annotated with its root cause.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go

from correlator.commands.incidents import Record
from correlator.commands.trace_tree import duration, first_failure

FAILED_COLOUR = "#d62728"
PASSED_COLOUR = "#4c78a8"
# the least room a row is drawn in, so a deep agent run stays legible
ROW_PIXELS = 26


def waterfall(trace_id: str, spans: Sequence[Record]) -> go.Figure:
    """A horizontal bar per span (milliseconds after the trace's first start), the root on top."""
    origin = min(span["start"] for span in spans)
    offsets = [(span["start"] - origin).total_seconds() * 1000 for span in spans]
    lengths = [max(span["duration_ms"], 0.0) if span["duration_ms"] == span["duration_ms"] else 0.0 for span in spans]
    labels = [f"{'  ' * span['depth']}{span['step'] or 'span'}: {_text(span['name'] or '(unnamed)')}" for span in spans]
    hover = [
        _text(f"{span['name']}\n{duration(span['duration_ms'])}, {span['status']}"
              + (f", tool {span['tool_name']}" if span["tool_name"] else "")
              + (f"\n{span['error_class']}: {span['root_cause_type']} {span['root_cause_message']}"
                 if span["failed"] else ""))
        for span in spans
    ]  # fmt: skip
    rows = list(range(len(spans)))
    figure = go.Figure(
        go.Bar(
            y=rows, x=lengths, base=offsets, orientation="h", hovertext=hover, hoverinfo="text",
            marker_color=[FAILED_COLOUR if span["failed"] else PASSED_COLOUR for span in spans],
        )
    )  # fmt: skip
    first = first_failure(spans)
    if first is not None:
        row = spans.index(first)
        cause = _text(first["root_cause_type"] or first["error_class"] or "failed")
        figure.add_annotation(x=offsets[row] + lengths[row], y=row, text=f"first failure: {cause}", showarrow=True,
                              arrowhead=2, ax=60, ay=0, font={"color": FAILED_COLOUR})  # fmt: skip
    figure.update_yaxes(tickvals=rows, ticktext=labels, autorange="reversed")
    figure.update_xaxes(title_text="milliseconds after the trace's start", rangemode="tozero")
    figure.update_layout(
        title=f"Trace {trace_id}", height=120 + ROW_PIXELS * len(spans), showlegend=False,
        margin={"t": 50, "l": 20, "r": 120, "b": 50}, yaxis={"automargin": True},
    )  # fmt: skip
    return figure


def _text(value: str) -> str:
    """An application's string as plotly text: plotly reads ``<b>``, ``<a href>`` and entities in it, so escape."""
    return html.escape(value, quote=False).replace("\n", "<br>")
