"""``correlator reclassify``: re-derive stored labels with the current rules file.

Labels are derived from what each row stored (its exception chain, detail text, finish
reason, short label), exactly as at ingest, so running it twice changes nothing the
second time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from correlator.processing.classify import Classifier, Label
from correlator.processing.rootcause import ChainLink, chain_from_traceback_text
from correlator.processing.rows import ERROR_LEVELS, chain_of_text, label_log, label_metric
from correlator.warehouse.sql import render

MUTATION_CHUNK = 10_000
Key = tuple[str, int, int]


@dataclass
class ReclassifyReport:
    examined: int = 0
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        return sum(self.changes.values())


def reclassify(
    client: Client, database: str, classifier: Classifier, since: datetime, until: datetime, dry_run: bool = False
) -> ReclassifyReport:
    report = ReclassifyReport()
    bounds = {"since": since, "until": until}
    for table, query, derive in (
        ("log_events", "queries/reclassify_logs.sql", _log_label),
        ("usage_metrics", "queries/reclassify_metrics.sql", _metric_label),
    ):
        pending: dict[Label, list[Key]] = {}
        for row in _rows(client, render(query, database), bounds):
            report.examined += 1
            new = derive(row, classifier)
            old = (row["category"], row["error_class"], row["rule"], row["evidence"])
            if (new.category, new.error_class, new.rule, new.evidence) != old:
                report.changes[(f"{old[0]}/{old[1]}", f"{new.category}/{new.error_class}")] += 1
                pending.setdefault(new, []).append((row["topic"], row["partition"], row["offset"]))
        if not dry_run:
            _apply(client, database, table, pending, classifier.version)
    return report


def _rows(client: Client, sql: str, parameters: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with client.query_row_block_stream(sql, parameters=parameters) as stream:
        names = stream.source.column_names
        for block in stream:
            for values in block:
                yield dict(zip(names, values, strict=True))


def _log_label(row: dict[str, Any], classifier: Classifier) -> Label:
    links = zip(row["exception_types"], row["exception_values"], row["exception_frames"], strict=True)
    sources = _sources_by_frames(row["traceback"])
    chain = tuple(
        ChainLink(t, v, frames, sources.get(frames, ()))
        for t, v, frames in ((t, v, tuple(f.split("\n")) if f else ()) for t, v, f in links)
    )
    return label_log(chain, row["error_category"], row["level"] in ERROR_LEVELS, classifier, row["finish_reason"])


def _sources_by_frames(traceback: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    """A stored text traceback's source lines, by the frames they belong to (structlog's JSON has none)."""
    if not traceback or traceback.lstrip().startswith("["):
        return {}
    return {link.frames: link.sources for link in chain_from_traceback_text(traceback) if link.sources}


def _metric_label(row: dict[str, Any], classifier: Classifier) -> Label:
    chain = chain_of_text(row["error_detail"], classifier) if row["error_detail"] else ()
    return label_metric(chain, row["finish_reason"], row["error"], classifier)


def _apply(client: Client, database: str, table: str, pending: dict[Label, list[Key]], version: str) -> None:
    sql = render("queries/relabel.sql", database, table=table)
    for label, keys in pending.items():
        for start in range(0, len(keys), MUTATION_CHUNK):
            client.command(
                sql,
                parameters={
                    "category": label.category, "error_class": label.error_class, "rule": label.rule,
                    "evidence": label.evidence.value, "rules_version": version,
                    "keys": keys[start : start + MUTATION_CHUNK],
                },
                settings={"mutations_sync": 2},
            )  # fmt: skip
