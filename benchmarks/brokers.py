"""The broker a benchmark runs against: tansu (the devkit's, by default) or Apache Kafka (the tests' fixture).

The two answer fetches differently (how long a fetch with few records is held), so a
figure that depends on fetching is worth measuring on both.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from correlator.devkit.broker import LocalBroker
from tests.apache_kafka import ApacheKafka

Broker = LocalBroker | ApacheKafka


def add_broker_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", choices=("tansu", "apache"), default="tansu")


def local_broker(kind: str, work: Path) -> Broker:
    """A broker of this kind, not started yet (enter it); Apache Kafka keeps its log under ``work``."""
    return ApacheKafka(work / "kafka") if kind == "apache" else LocalBroker()
