"""Settings: one typed object, built once at start-up from flags, environment and defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from correlator.warehouse.connection import embedded_url, redact_url
from correlator.warehouse.sql import check_identifier


@dataclass(frozen=True, slots=True)
class Settings:
    kafka_bootstrap: str = "localhost:9092"
    clickhouse_url: str = ""
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

    def __post_init__(self) -> None:
        check_identifier(self.database)
        if not self.clickhouse_url:
            object.__setattr__(self, "clickhouse_url", embedded_url(self.data_dir))
        if self.batch_max_records < 1 or self.batch_max_seconds <= 0:
            raise ValueError("batch limits must be positive")

    @property
    def embedded(self) -> bool:
        return self.clickhouse_url.startswith("chdb://")

    def describe(self) -> dict[str, object]:
        """The settings as they may appear in logs: no credentials."""
        return {
            "kafka": self.kafka_bootstrap,
            "clickhouse": redact_url(self.clickhouse_url),
            "database": self.database,
            "logs_topic": self.logs_topic,
            "metrics_topic": self.metrics_topic,
            "group_id": self.group_id,
            "retention_days": self.retention_days,
            "batch_max_records": self.batch_max_records,
            "batch_max_seconds": self.batch_max_seconds,
        }
