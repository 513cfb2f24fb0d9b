"""ClickHouse cluster mode: the same schema, as Replicated tables and Distributed tables ON CLUSTER.

The migration files are written for one server and never edited once applied, so cluster
mode rewrites each rendered statement instead: a table becomes ``<name>_local`` with the
Replicated engine on every node (replica path and name from the server's
``default_replica_path``/``default_replica_name``), every DDL runs ON CLUSTER, and a
Distributed table under the original name (``schemas/cluster/distributed.sql``) is what
the daemon, the views and the query commands read and write.
"""

from __future__ import annotations

import re

from correlator.config import check_identifier
from correlator.errors import ConfigurationError
from correlator.warehouse.sql import render, statements

_CREATE_DATABASE = re.compile(r"^(CREATE DATABASE IF NOT EXISTS \w+)", re.MULTILINE)
_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+)\.(\w+)", re.MULTILINE)
_ALTER_TABLE = re.compile(r"^ALTER TABLE (\w+)\.(\w+)", re.MULTILINE)
_CREATE_VIEW = re.compile(r"^(CREATE OR REPLACE VIEW \w+\.\w+)", re.MULTILINE)
_CREATE_MATERIALIZED_VIEW = re.compile(
    r"^(CREATE (?:OR REPLACE )?MATERIALIZED VIEW (?:IF NOT EXISTS )?\w+\.\w+) TO (\w+)\.(\w+)", re.MULTILINE
)
_DROP_VIEW = re.compile(r"^(DROP VIEW IF EXISTS \w+\.\w+)$", re.MULTILINE)
_FROM_TABLE = re.compile(r"\bFROM (\w+)\.(\w+)")
_MERGE_TREE = re.compile(r"^ENGINE = ((?:Replacing)?MergeTree(?:\(.*\))?)$", re.MULTILINE)
# rows of one topic-partition stay on one shard; tables without provenance spread evenly
SHARDING_KEYS = {"log_events": "cityHash64(topic, partition)", "usage_metrics": "cityHash64(topic, partition)",
                 "dead_letter_log": "cityHash64(topic, partition)",
                 "spans": "cityHash64(topic, partition)",
                 "scores": "cityHash64(topic, partition)",
                 "content_checks": "cityHash64(topic, partition)"}  # fmt: skip
DEFAULT_SHARDING_KEY = "rand()"


class ClusterSchemaError(ConfigurationError):
    """A statement cluster mode does not know how to run ON CLUSTER."""


def local_name(table: str) -> str:
    return f"{table}_local"


def on_cluster(statement: str, cluster: str) -> str:
    """One single-server DDL statement, as it runs on every node of ``cluster``."""
    cluster = check_identifier(cluster)
    if match := _CREATE_TABLE.search(statement):
        database, table = match.groups()
        if not _MERGE_TREE.search(statement):
            raise ClusterSchemaError(f"{database}.{table}: only (Replacing)MergeTree tables can be made Replicated")
        head = f"CREATE TABLE IF NOT EXISTS {database}.{local_name(table)} ON CLUSTER {cluster}"
        # without path arguments the Replicated engine takes the server's default replica path and name
        return _MERGE_TREE.sub(r"ENGINE = Replicated\1", _CREATE_TABLE.sub(head, statement, count=1))
    if match := _CREATE_MATERIALIZED_VIEW.search(statement):
        head, database, target = match.groups()
        statement = _CREATE_MATERIALIZED_VIEW.sub(f"{head} ON CLUSTER {cluster} TO {database}.{local_name(target)}",
                                                  statement, count=1)  # fmt: skip
        # each node's view sees the inserts into its own shard's table and writes to the same shard: the table it
        # reads and the one it writes shard by the same key (topic and partition)
        return _FROM_TABLE.sub(lambda m: f"FROM {m[1]}.{local_name(m[2])}", statement)
    if match := _ALTER_TABLE.search(statement):
        database, table = match.groups()
        return _ALTER_TABLE.sub(f"ALTER TABLE {database}.{local_name(table)} ON CLUSTER {cluster}", statement, count=1)
    for pattern in (_CREATE_DATABASE, _CREATE_VIEW, _DROP_VIEW):
        if pattern.search(statement):
            return pattern.sub(rf"\1 ON CLUSTER {cluster}", statement, count=1)
    raise ClusterSchemaError(f"no cluster form for: {statement[:120]}")


def tables_created(statement: str) -> list[str]:
    """The tables a single-server statement creates: each needs a Distributed table in cluster mode."""
    return [table for _, table in _CREATE_TABLE.findall(statement)]


def distributed_table(database: str, table: str, cluster: str) -> list[str]:
    sql = render("cluster/distributed.sql", database, table=check_identifier(table), cluster=check_identifier(cluster),
                 sharding_key=SHARDING_KEYS.get(table, DEFAULT_SHARDING_KEY))  # fmt: skip
    return statements(sql)


def cluster_ddl(sql: str, database: str, cluster: str) -> list[str]:
    """A schema file's statements in cluster form, each new table followed by its Distributed table."""
    ddl = []
    for statement in statements(sql):
        ddl.append(on_cluster(statement, cluster))
        for table in tables_created(statement):
            ddl += distributed_table(database, table, cluster)
    return ddl
