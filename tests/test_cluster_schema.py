"""``correlator migrate --cluster``: the rendered DDL. No ClickHouse cluster is at hand, so the
statements are checked for what they must say and parsed by the real ClickHouse parser
(``EXPLAIN AST`` in the embedded engine), not executed."""

from __future__ import annotations

import re

import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Thresholds
from correlator.processing.scorers import Scorers
from correlator.schemas_dir import SCHEMAS_DIR
from correlator.warehouse.cluster import ClusterSchemaError, cluster_ddl, on_cluster
from correlator.warehouse.migrate import CLUSTER_TABLES, RETENTION_TABLES, view_values
from correlator.warehouse.sql import render

FILES = [
    *(f"migrations/{p.name}" for p in sorted((SCHEMAS_DIR / "migrations").glob("*.sql"))),
    "retention.sql",
    *(f"views/{p.name}" for p in sorted((SCHEMAS_DIR / "views").glob("*.sql"))),
]
THRESHOLDS = view_values(Thresholds(), Scorers.from_file())


def rendered(relative: str) -> list[str]:
    return cluster_ddl(render(relative, "obs", retention_days=30, **THRESHOLDS), "obs", "main")


def code(statement: str) -> str:
    return "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--")).strip()


@pytest.mark.parametrize("relative", FILES)
def test_every_statement_runs_on_the_cluster_and_parses(relative: str, warehouse: Client):
    for statement in rendered(relative):
        assert re.search(r"^(CREATE|ALTER|DROP)\b[^\n]* ON CLUSTER main\b", code(statement), re.MULTILINE), statement
        warehouse.query(f"EXPLAIN AST {statement}")


def test_tables_become_replicated_locals_behind_distributed_tables():
    ddl = [code(s) for f in FILES if not f.startswith("views/") for s in rendered(f)]
    created = [re.search(r"CREATE TABLE IF NOT EXISTS obs\.(\w+)", s) for s in ddl]
    locals_ = {m.group(1) for m in created if m}
    assert locals_ == {f"{t}_local" for t in (*CLUSTER_TABLES, *RETENTION_TABLES)}
    assert not any(re.search(r"ENGINE = MergeTree\b", s) for s in ddl)
    assert sum(bool(re.search(r"ENGINE = Replicated(Replacing)?MergeTree\b", s)) for s in ddl) == len(locals_)
    distributed = {
        m.group(1): m.group(2)
        for s in ddl
        if (m := re.search(r"CREATE OR REPLACE TABLE obs\.(\w+) ON CLUSTER main\nAS obs\.\1_local\n"
                           r"ENGINE = Distributed\(main, obs, \1_local, (.+)\)", s))
    }  # fmt: skip
    assert distributed == {
        "schema_migrations": "rand()",
        "backfill_checkpoints": "rand()",
        **dict.fromkeys(RETENTION_TABLES, "cityHash64(topic, partition)"),
    }
    # data changes go to the local tables only; the Distributed tables are re-created after them
    assert all(re.match(r"ALTER TABLE obs\.\w+_local ON CLUSTER main", s) for s in ddl if s.startswith("ALTER"))


def test_views_read_the_distributed_tables_on_every_node():
    views = [code(s) for f in FILES if f.startswith("views/") for s in rendered(f) if "MATERIALIZED VIEW" not in s]
    views = [s for s in views if not s.startswith("DROP VIEW")]
    assert views and all(re.match(r"CREATE OR REPLACE VIEW obs\.\w+ ON CLUSTER main AS", s) for s in views)
    assert not any("_local" in s for s in views)


def test_an_unknown_statement_or_cluster_name_is_refused():
    with pytest.raises(ClusterSchemaError):
        on_cluster("DROP TABLE obs.log_events", "main")
    with pytest.raises(ValueError, match="not a valid"):
        on_cluster("CREATE DATABASE IF NOT EXISTS obs", "main; DROP DATABASE obs")


def test_the_content_checks_view_reads_and_writes_one_shards_tables_and_replaces_the_old_one():
    made, dropped = [code(s) for s in rendered("views/0015_content_checks.sql")]
    assert made.startswith(
        "CREATE OR REPLACE MATERIALIZED VIEW obs.content_checks_from_calls ON CLUSTER main"
        " TO obs.content_checks_local AS"
    )
    assert re.findall(r"FROM obs\.(\w+)", made) == ["usage_metrics_local"]
    assert dropped == "DROP VIEW IF EXISTS obs.content_check_scores ON CLUSTER main"


def test_the_content_check_scores_view_reads_and_writes_one_shards_tables():
    [statement] = [code(s) for s in rendered("migrations/0012_content_check_scores.sql")]
    assert statement.startswith(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS obs.content_check_scores ON CLUSTER main TO obs.scores_local AS"
    )
    assert re.findall(r"FROM obs\.(\w+)", statement) == ["usage_metrics_local"]
