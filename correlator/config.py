"""Settings: one typed object, built once at start-up from flags, environment and defaults.

It sits at the bottom of the package beside the records: every layer is handed its values
(a source its Kafka security, the warehouse its view thresholds), so none imports another
layer to read them, and this module imports none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from correlator.errors import ConfigurationError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CREDENTIALS = re.compile(r"(?<=://)([^:/@]+):([^@]*)@")


def check_identifier(name: str) -> str:
    """Database names are spliced into DDL, so only plain identifiers are accepted."""
    if not _IDENTIFIER.match(name):
        raise ConfigurationError(f"{name!r} is not a valid ClickHouse database name (letters, digits, _)")
    return name


def redact_url(url: str) -> str:
    """A DSN fit for logs and error messages: the password replaced by ***."""
    return _CREDENTIALS.sub(r"\1:***@", url)


def embedded_url(data_dir: Path) -> str:
    """The embedded warehouse's DSN: its directory under the data directory."""
    return f"chdb://{(data_dir / 'clickhouse').resolve()}"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When incident views flag a window, and when a score passes: rendered into the views by ``correlator migrate``."""

    spike_warn_rate: float = 0.02
    spike_page_rate: float = 0.05
    spike_sustained_windows: int = 3
    spike_jump_factor: float = 3.0
    spike_min_errors: int = 5
    cost_warn_factor: float = 2.0
    cost_page_factor: float = 3.0
    eval_pass_threshold: float = 0.80
    drift_window_minutes: int = 30
    drift_min_drop: float = 0.03
    drift_sigmas: float = 3.0
    drift_min_samples: int = 20

    def __post_init__(self) -> None:
        if not 0 < self.spike_warn_rate <= self.spike_page_rate <= 1:
            raise ConfigurationError("spike rates must satisfy 0 < warn <= page <= 1")
        if self.spike_sustained_windows < 1 or self.spike_min_errors < 0:
            raise ConfigurationError("spike windows must be at least 1 and minimum errors not negative")
        if not 1 < self.cost_warn_factor <= self.cost_page_factor or self.spike_jump_factor <= 1:
            raise ConfigurationError("factors must be above 1, and the cost warn factor at most the page factor")
        if not math.isfinite(self.eval_pass_threshold):
            raise ConfigurationError("the pass threshold of a NUMERIC score must be a finite number")
        if self.drift_window_minutes not in (15, 30, 45, 60):
            raise ConfigurationError("the drift window must be 15, 30, 45 or 60 minutes (whole 15-minute windows)")
        if not (0 < self.drift_min_drop < 1 and self.drift_sigmas > 0 and self.drift_min_samples >= 2):
            raise ConfigurationError("drift needs 0 < minimum drop < 1, sigmas above 0 and at least 2 samples")

    def as_sql_values(self) -> dict[str, str]:
        values = {name: repr(getattr(self, name)) for name in self.__dataclass_fields__}
        # the window frame of "sustained": the current 5-minute window and the ones before it
        values["spike_sustained_seconds"] = str((self.spike_sustained_windows - 1) * 300)
        # score_drift's frames over its 15-minute windows: the rolling window reaches this far back, and
        # the trailing day is the 24 hours before the rolling window
        rolling = self.drift_window_minutes * 60 - 900
        values.update(
            drift_rolling_seconds=str(rolling),
            drift_baseline_near=str(rolling + 1),
            drift_baseline_seconds=str(rolling + 86400),
        )
        return values


KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """How the daemon authenticates to Kafka and encrypts the connection; the password never prints."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    # the passphrase of an encrypted client key: a secret like the SASL password
    ssl_key_password: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.protocol not in KAFKA_SECURITY_PROTOCOLS:
            raise ConfigurationError(
                f"the Kafka security protocol must be one of {', '.join(KAFKA_SECURITY_PROTOCOLS)}"
            )
        if self.sasl_mechanism not in KAFKA_SASL_MECHANISMS:
            raise ConfigurationError(f"the Kafka SASL mechanism must be one of {', '.join(KAFKA_SASL_MECHANISMS)}")
        if self.uses_sasl and not (self.sasl_username and self.sasl_password):
            raise ConfigurationError(f"{self.protocol} needs a SASL username and password")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ConfigurationError("a client certificate needs its key, and a key its certificate")
        if self.ssl_key_password and self.ssl_keyfile is None:
            raise ConfigurationError("a key password was given without a client key")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    def describe(self) -> dict[str, object]:
        return {
            "kafka_security_protocol": self.protocol,
            **({"kafka_sasl_mechanism": self.sasl_mechanism, "kafka_sasl_username": self.sasl_username}
               if self.uses_sasl else {}),
            **({"kafka_ssl_cafile": str(self.ssl_cafile or "system"), "kafka_ssl_client_cert": bool(self.ssl_certfile)}
               if self.uses_tls else {}),
        }  # fmt: skip


def read_secret(value: str, path: Path | None, name: str) -> str:
    """A secret given directly, else read from a mounted file (trailing newline dropped); never both."""
    if value and path is not None:
        raise ConfigurationError(f"give {name} or its file, not both")
    if path is None:
        return value
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the {name} file {path}: {exc.strerror}") from None


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    kafka_bootstrap: str = "localhost:9092"
    clickhouse_url: str = ""
    clickhouse_cluster: str = ""
    database: str = "correlator"
    logs_topic: str = "app-logs"
    metrics_topic: str = "usage-metrics"
    # the OpenTelemetry Collector's Kafka exporter's default topics
    otlp_spans_topic: str = "otlp_spans"
    otlp_logs_topic: str = "otlp_logs"
    otlp: bool = True  # consume the OTLP topics at all
    scores_topic: str = "llm-scores"
    group_id: str = "correlator"
    data_dir: Path = Path(".correlator")
    retention_days: int = 30
    batch_max_records: int = 50_000
    batch_max_seconds: float = 0.1
    shutdown_grace_seconds: float = 20.0
    liveness_stall_seconds: float = 300.0
    #: how often, at most, the daemon counts runaway sessions (``llm_runaway_sessions``) after storing calls
    session_check_seconds: float = 60.0
    kafka_session_timeout_ms: int = 10_000
    #: how often topic metadata is refreshed: a topic created, grown or deleted is seen within it
    kafka_metadata_max_age_ms: int = 30_000
    #: static group membership (KIP-345): a restart under the same id within the session timeout rebalances nothing
    kafka_group_instance_id: str = ""
    kafka_security: KafkaSecurity = KafkaSecurity()
    clickhouse_user: str = ""
    clickhouse_password: str = field(default="", repr=False)
    redact: bool = True
    hash_prompts: bool = False
    #: let the embedded engine build plain log lines' rows from their bytes (see ``parses_in_engine``); off:
    #: measured, it costs more CPU a line than the lean path today (README, issue 18)
    engine_parse: bool = False
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    thresholds: Thresholds = Thresholds()
    #: per-scorer pass thresholds, floors and safety flags; None: the shipped schemas/rules/scorers.json
    scorers_file: Path | None = None

    def __post_init__(self) -> None:
        check_identifier(self.database)
        if self.clickhouse_cluster:
            check_identifier(self.clickhouse_cluster)
        if not self.clickhouse_url:
            object.__setattr__(self, "clickhouse_url", embedded_url(self.data_dir))
        if self.batch_max_records < 1 or self.batch_max_seconds <= 0:
            raise ConfigurationError("batch limits must be positive")
        if self.shutdown_grace_seconds <= 0:
            raise ConfigurationError("the shutdown grace period must be positive")
        if self.liveness_stall_seconds <= 0:
            raise ConfigurationError("the liveness stall time must be positive")
        if self.session_check_seconds <= 0:
            raise ConfigurationError("the runaway-session check interval must be positive")

    @property
    def parses_in_engine(self) -> bool:
        """Whether plain log lines go to the engine as they came: it reads them from a local file, so only the
        embedded engine, and not while prompts are hashed (that is done in Python)."""
        return self.engine_parse and self.clickhouse_url.startswith("chdb:") and not self.hash_prompts

    def describe(self) -> dict[str, object]:
        """The settings as they may appear in logs: no credentials."""
        return {
            "kafka": self.kafka_bootstrap,
            "clickhouse": redact_url(self.clickhouse_url),
            "database": self.database,
            "cluster": self.clickhouse_cluster or None,
            "logs_topic": self.logs_topic,
            "metrics_topic": self.metrics_topic,
            "otlp_spans_topic": self.otlp_spans_topic,
            "otlp_logs_topic": self.otlp_logs_topic,
            "otlp": self.otlp,
            "scores_topic": self.scores_topic,
            "group_id": self.group_id,
            "group_instance_id": self.kafka_group_instance_id or None,
            "retention_days": self.retention_days,
            "batch_max_records": self.batch_max_records,
            "batch_max_seconds": self.batch_max_seconds,
            "clickhouse_user": self.clickhouse_user or "from the URL",
            "redact": self.redact,
            "hash_prompts": self.hash_prompts,
            "engine_parse": self.parses_in_engine,
            "scorers_file": str(self.scorers_file) if self.scorers_file else "shipped",
            **self.kafka_security.describe(),
            "shutdown_grace_seconds": self.shutdown_grace_seconds,
            "liveness_stall_seconds": self.liveness_stall_seconds,
            "session_check_seconds": self.session_check_seconds,
            "http": f"{self.http_host}:{self.http_port}" if self.http_port else "off",
        }

    def __repr__(self) -> str:
        return f"Settings({self.describe()})"

    def mask_secrets(self, text: str) -> str:
        """``text`` with every configured secret, and any DSN password, replaced by ***."""
        security = self.kafka_security
        for secret in (self.clickhouse_password, security.sasl_password, security.ssl_key_password):
            if secret:
                text = text.replace(secret, "***")
        return redact_url(text)
