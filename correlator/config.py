"""Settings: one typed object, built once at start-up from flags, environment and defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from correlator.warehouse.connection import embedded_url, redact_url
from correlator.warehouse.sql import check_identifier


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When incident views flag a window: rendered into the views by ``correlator migrate``."""

    spike_warn_rate: float = 0.02
    spike_page_rate: float = 0.05
    spike_sustained_windows: int = 3
    spike_jump_factor: float = 3.0
    spike_min_errors: int = 5
    cost_warn_factor: float = 2.0
    cost_page_factor: float = 3.0

    def __post_init__(self) -> None:
        if not 0 < self.spike_warn_rate <= self.spike_page_rate <= 1:
            raise ValueError("spike rates must satisfy 0 < warn <= page <= 1")
        if self.spike_sustained_windows < 1 or self.spike_min_errors < 0:
            raise ValueError("spike windows must be at least 1 and minimum errors not negative")
        if not 1 < self.cost_warn_factor <= self.cost_page_factor or self.spike_jump_factor <= 1:
            raise ValueError("factors must be above 1, and the cost warn factor at most the page factor")

    def as_sql_values(self) -> dict[str, str]:
        values = {name: repr(getattr(self, name)) for name in self.__dataclass_fields__}
        # the window frame of "sustained": the current 5-minute window and the ones before it
        values["spike_sustained_seconds"] = str((self.spike_sustained_windows - 1) * 300)
        return values


@dataclass(frozen=True, slots=True)
class Settings:
    kafka_bootstrap: str = "localhost:9092"
    clickhouse_url: str = ""
    clickhouse_cluster: str = ""
    database: str = "correlator"
    logs_topic: str = "app-logs"
    metrics_topic: str = "usage-metrics"
    group_id: str = "correlator"
    data_dir: Path = Path(".correlator")
    retention_days: int = 30
    batch_max_records: int = 50_000
    batch_max_seconds: float = 0.25
    shutdown_grace_seconds: float = 20.0
    kafka_session_timeout_ms: int = 10_000
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    thresholds: Thresholds = Thresholds()

    def __post_init__(self) -> None:
        check_identifier(self.database)
        if self.clickhouse_cluster:
            check_identifier(self.clickhouse_cluster)
        if not self.clickhouse_url:
            object.__setattr__(self, "clickhouse_url", embedded_url(self.data_dir))
        if self.batch_max_records < 1 or self.batch_max_seconds <= 0:
            raise ValueError("batch limits must be positive")
        if self.shutdown_grace_seconds <= 0:
            raise ValueError("the shutdown grace period must be positive")

    def describe(self) -> dict[str, object]:
        """The settings as they may appear in logs: no credentials."""
        return {
            "kafka": self.kafka_bootstrap,
            "clickhouse": redact_url(self.clickhouse_url),
            "database": self.database,
            "cluster": self.clickhouse_cluster or None,
            "logs_topic": self.logs_topic,
            "metrics_topic": self.metrics_topic,
            "group_id": self.group_id,
            "retention_days": self.retention_days,
            "batch_max_records": self.batch_max_records,
            "batch_max_seconds": self.batch_max_seconds,
            "shutdown_grace_seconds": self.shutdown_grace_seconds,
            "http": f"{self.http_host}:{self.http_port}" if self.http_port else "off",
        }
