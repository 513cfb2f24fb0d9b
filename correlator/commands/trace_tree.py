"""A trace's steps as a tree: nested records for ``--json``, a rich Tree for the terminal.

The debugging walk starts at the root and goes down to the first step that got good input
and still failed (``first_failure`` in ``trace_spans``), so that step is named above the
tree and marked in it; every failed step is red. Labels wrap within the console's width, so
the tree stays readable in an 80-column pane however deep it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

Record = dict[str, Any]

_FAILED_STYLE = "bold red"
_FIRST_FAILURE_MARK = "◀ first failure"


def nest(spans: Sequence[Record]) -> list[Record]:
    """Rows in ``trace_spans`` order (each parent before its children, with its depth) as nested records."""
    roots: list[Record] = []
    path: list[Record] = []
    for span in spans:
        node = {**span, "children": []}
        del path[span["depth"] :]
        (path[-1]["children"] if path else roots).append(node)
        path.append(node)
    return roots


def first_failure(spans: Sequence[Record]) -> Record | None:
    return next((span for span in spans if span["first_failure"]), None)


def duration(milliseconds: float) -> str:
    """``12 ms`` below a second, ``1.25 s`` above: steps of an agent run span both."""
    if milliseconds != milliseconds:  # NaN: the span did not say
        return "-"
    if milliseconds < 1:
        return "<1 ms"
    return f"{milliseconds:.0f} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.2f} s"


def summary(trace_id: str, spans: Sequence[Record]) -> str:
    failed = sum(1 for span in spans if span["failed"])
    line = f"trace {trace_id}: {len(spans)} steps, {failed} failed"
    first = first_failure(spans)
    if first is None:
        return line
    return f"{line}; first failing step: {_kind(first)} {first['name']} ({first['span_id']}), {_cause(first)}"


def print_tree(trace_id: str, spans: Sequence[Record], console: Console | None = None) -> None:
    """The tree under its summary line; the first failing step carries a mark and its root cause."""
    console = console or Console()
    root = Text(summary(trace_id, spans), style=_FAILED_STYLE if first_failure(spans) else "bold")
    tree = Tree(root, guide_style="dim")
    _add(tree, nest(spans))
    console.print(tree)


def _add(parent: Tree, nodes: Sequence[Record]) -> None:
    for node in nodes:
        _add(parent.add(_label(node)), node["children"])


def _label(span: Record) -> Text:
    """The step on one line; a failed step's label and root cause on the line beneath."""
    style = _FAILED_STYLE if span["failed"] else None
    label = Text(f"{_kind(span)} ", style=style or "cyan")
    label.append(span["name"] or "(unnamed)", style=style or "bold")
    details = [duration(span["duration_ms"]), span["status"]]
    if span["tool_name"]:
        details.append(f"tool {span['tool_name']}")
    if span["model"]:
        details.append(span["model"])
    label.append("  " + "  ".join(details), style=style or "dim")
    if span["first_failure"]:
        label.append(f"  {_FIRST_FAILURE_MARK}", style="bold red reverse")
    if span["failed"]:
        label.append(f"\n{span['error_class'] or 'failed'}: {_cause(span)}", style=style)
    return label


def _kind(span: Record) -> str:
    return f"[{span['step'] or 'span'}]"


def _cause(span: Record) -> str:
    cause = span["root_cause_type"] or span["error_class"] or span["status"]
    return f"{cause}: {span['root_cause_message']}" if span["root_cause_message"] else cause
