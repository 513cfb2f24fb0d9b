"""Query commands bind every user value: SQL crafted into an id changes nothing and finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator.commands import incidents
from correlator.processing.batching import METRICS, PartitionBatcher
from correlator.processing.classify import Classifier
from correlator.records import Message, Provenance
from correlator.warehouse.writer import Warehouse
from tests.conftest import rows

REAL_ID, TRACE = "4c2a64973bcd", "4bf92f3577b34da6a3ce929d0e0e4736"
# an id that is itself SQL, stored as data: binding must find exactly it
SQL_ID = "x' OR '1'='1"
CRAFTED = [
    "' OR '1'='1",
    "' OR 1=1 --",
    f"{REAL_ID}' OR error_id != '",
    "'; DROP TABLE {db}.usage_metrics; --",
    "' UNION ALL SELECT name, '', now(), '', '', '', '', '', 0, '', '', '', 0, 0, 0 FROM system.tables --",
    "{error_id:String}",
    "\\' OR 1=1 --",
    "') OR ('1'='1",
]


@pytest.fixture
def stored_failures(warehouse: Client, database: str) -> Client:
    batcher = PartitionBatcher(METRICS, Classifier.from_file(), max_records=10)
    at = datetime.now(UTC).isoformat()
    batcher.add(
        Message(orjson.dumps({"timestamp": at, "success": False, "model": "gpt-4o", "error": "unknown",
                              "error_id": error_id, "trace_id": TRACE}), Provenance("usage-metrics", 0, offset))
        for offset, error_id in enumerate((REAL_ID, "5d3b75a84cde", SQL_ID))
    )  # fmt: skip
    batch = batcher.take()
    assert batch is not None
    Warehouse(warehouse, database).store([batch])
    return warehouse


@pytest.mark.parametrize("crafted", CRAFTED)
def test_crafted_ids_change_nothing_and_return_nothing(stored_failures: Client, database: str, crafted: str):
    client, value = stored_failures, crafted.replace("{db}", database)
    before = rows(client, f"SELECT count() FROM {database}.usage_metrics")
    assert incidents.lookup(client, database, value) is None
    assert incidents.trace(client, database, value) == []
    assert rows(client, f"SELECT count() FROM {database}.usage_metrics") == before == [(3,)]


def test_an_id_that_looks_like_sql_is_only_data(stored_failures: Client, database: str):
    found = incidents.lookup(stored_failures, database, SQL_ID)
    assert found is not None and found["error_id"] == SQL_ID and len(found["metrics"]) == 1
    assert {row["error_id"] for row in incidents.trace(stored_failures, database, TRACE)} == {
        REAL_ID, "5d3b75a84cde", SQL_ID,
    }  # fmt: skip
