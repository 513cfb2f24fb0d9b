"""One exception tree: every error correlator raises on purpose is a :class:`CorrelatorError`.

::

    CorrelatorError                      what happened (the message) and what to do (``hint``)
    ├── ConfigurationError (ValueError)  a setting, flag, rules file or SQL identifier is wrong
    │   ├── RulesError                   (correlator.processing.classify)
    │   └── ClusterSchemaError           (correlator.warehouse.cluster)
    ├── InputError (ValueError)          what was asked to be loaded cannot be: no such file, topic or range
    │   └── FileSourceError              (correlator.sources.files)
    ├── WarehouseError (RuntimeError)    ClickHouse could not be opened or refused a statement
    │   ├── WarehouseTransientError      worth retrying: unreachable, in use, overloaded
    │   └── WarehousePermanentError      retrying cannot help: a query the schema does not support
    ├── KafkaError (RuntimeError)        the broker could not be reached or refused us
    │   └── KafkaUnavailable             (correlator.runtime.daemon)
    └── ShutdownTimeout (RuntimeError)   (correlator.runtime.daemon)

The built-in bases (``ValueError``, ``RuntimeError``) are kept so callers that caught those
before still do. The command line catches :class:`CorrelatorError` and prints the message
and the hint; its exit codes are in the README ("Exit codes").
"""

from __future__ import annotations


class CorrelatorError(Exception):
    """The base of correlator's own errors; ``hint`` says what usually fixes it."""

    hint = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    def describe(self) -> str:
        """The message, and what to do on a second line when there is advice."""
        return f"{self}\n  what to do: {self.hint}" if self.hint else str(self)


class ConfigurationError(CorrelatorError, ValueError):
    hint = "correct the flag or CORRELATOR_* variable named above (`correlator COMMAND --help` lists them)"


class InputError(CorrelatorError, ValueError):
    hint = "check the paths, topics or offset ranges given"


class WarehouseError(CorrelatorError, RuntimeError):
    """ClickHouse could not be opened or answered with an error."""

    hint = "check that ClickHouse answers at the configured URL (CORRELATOR_CLICKHOUSE_URL) with these credentials"


class WarehouseTransientError(WarehouseError):
    """Worth retrying: the warehouse is unreachable, in use or overloaded now."""


class WarehousePermanentError(WarehouseError):
    """Retrying cannot help: the statement or the schema is wrong."""

    hint = "run `correlator migrate` against this database, or correct the query"


class KafkaError(CorrelatorError, RuntimeError):
    hint = "check CORRELATOR_KAFKA_BOOTSTRAP and the Kafka TLS/SASL settings, and that the broker answers"
