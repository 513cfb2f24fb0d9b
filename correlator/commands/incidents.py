"""Incident answers: one failure (lookup), one trace, and what is failing since a time.

Every user-supplied value travels as a bound query parameter; the SQL is in
``schemas/queries``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from correlator.warehouse.sql import render

Record = dict[str, Any]


def query(client: Client, database: str, name: str, **parameters: Any) -> list[Record]:
    result = client.query(render(f"queries/{name}.sql", database), parameters=parameters)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def lookup(client: Client, database: str, error_id: str) -> Record | None:
    """The correlated failure, its metrics rows, and its log lines with their chains."""
    found = query(client, database, "lookup_error", error_id=error_id)
    if not found:
        return None
    logs = query(client, database, "lookup_logs", error_id=error_id)
    for line in logs:
        line["chain"] = [
            {"type": t, "message": m, "root_cause": index == 0}
            for index, (t, m) in enumerate(zip(line.pop("exception_types"), line.pop("exception_values"), strict=True))
        ]
    return {**found[0], "metrics": query(client, database, "lookup_metrics", error_id=error_id), "logs": logs}


def trace(client: Client, database: str, trace_id: str) -> list[Record]:
    return query(client, database, "trace", trace_id=trace_id)


def trace_spans(client: Client, database: str, trace_id: str) -> list[Record]:
    """The trace's steps in tree order (``trace_spans``): empty when it came without spans."""
    return query(client, database, "trace_spans", trace_id=trace_id)


def incidents(client: Client, database: str, since: datetime) -> Record:
    """What is failing since ``since``: totals, by class and model, groups, spikes, cost anomalies."""
    answers: dict[str, list[Record]] = {"total": [], "class": [], "class_and_model": []}
    for row in query(client, database, "incidents_failures", since=since):
        answers[row.pop("answer")].append(row)
    [total] = answers["total"] or [{"failures": 0, "still_unknown": 0, "reclassified": 0}]
    [calls] = query(client, database, "incidents_calls", since=since)
    groups = query(client, database, "incidents_groups", since=since)
    return {
        "since": since,
        "calls": calls["calls"],
        "failures": total["failures"],
        "still_unknown": total["still_unknown"],
        "unknown_share": total["still_unknown"] / total["failures"] if total["failures"] else 0.0,
        "reclassified": total["reclassified"],
        "by_class_and_model": [_pick(row, _BY_CLASS) for row in answers["class_and_model"]],
        "top_groups": groups,
        "new_groups": [group for group in groups if group["is_new"]],
        "spikes": query(client, database, "incidents_spikes", since=since),
        "cost_anomalies": query(client, database, "incidents_costs", since=since),
        "newest_example_per_class": [
            {"category": row["category"], "error_class": row["error_class"], "error_id": row["newest_error_id"],
             "model": row["newest_model"], "first_seen": row["latest"],
             "root_cause_type": row["newest_root_cause_type"], "root_cause": row["newest_root_cause"]}
            for row in answers["class"]
        ],
    }  # fmt: skip


_BY_CLASS = ("category", "error_class", "model", "failures", "reclassified", "since", "latest")


def _pick(row: Record, keys: tuple[str, ...]) -> Record:
    return {key: row[key] for key in keys}
