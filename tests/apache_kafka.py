"""Apache Kafka itself for the tests: one KRaft node (broker and controller) on loopback.

tansu, the demo's broker, keeps nothing across a restart and ignores ``read_committed``; the
reliability tests need the real broker. Its jars come from Maven Central by name
(``tests/kafka/fetch_kafka.sh`` puts them in ``.kafka/lib``); this module formats a log
directory, starts the broker on free ports, waits until it answers, and can stop and start
it again on the same directory, as a restarted broker would be.

Besides its PLAINTEXT listener it has a SASL_PLAINTEXT one (``sasl_bootstrap``) where
``SASL_USER`` logs in with SCRAM-SHA-512 (the credential made by Kafka's own storage tool
when formatting) or PLAIN (the broker's JAAS list): real logins that succeed, and fail.
Two TLS listeners serve a certificate of a test CA made when the broker is created (PEM
stores, which Kafka reads as they are): ``tls_bootstrap`` asks for no client certificate,
``mtls_bootstrap`` requires one signed by that CA (``certificates.client_cert``).
"""

from __future__ import annotations

import base64
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType

from correlator.devkit.broker import end_process, free_port
from tests.certs import make_certificates

LIB = Path(__file__).resolve().parents[1] / ".kafka" / "lib"
FETCH = "tests/kafka/fetch_kafka.sh"
JAVA_OPTIONS = ("-Xmx512m", "-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true")
# small for one node: every internal topic on one replica, no wait before a group's first rebalance
SETTINGS = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": (
        "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,MTLS:SSL,CONTROLLER:PLAINTEXT"
    ),
    "ssl.keystore.type": "PEM",
    "ssl.truststore.type": "PEM",
    "listener.name.mtls.ssl.client.auth": "required",
    "sasl.enabled.mechanisms": "SCRAM-SHA-512,PLAIN",
    "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": (
        "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    ),
    "num.partitions": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "4",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "4",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "auto.create.topics.enable": "true",
    "log.flush.interval.messages": "9223372036854775807",
    # the log cleaner looks for compactable topics four times a second, not every 15 s
    "log.cleaner.backoff.ms": "250",
}


# the SASL listener's one user: a throwaway credential of the test broker
SASL_USER, SASL_PASSWORD = "correlator", "apache-kafka-test-Secret-7"


class KafkaNotFetched(RuntimeError):
    """The broker's jars are not in .kafka/lib: the test command fetches them first."""


def _cluster_id() -> str:
    """A random cluster id in Kafka's form: 16 bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


class ApacheKafka:
    """A KRaft broker+controller in ``directory``; ``advertised_port`` is where clients are sent (a proxy)."""

    def __init__(
        self,
        directory: Path,
        advertised_port: int | None = None,
        quorum: dict[int, int] | None = None,
        node_id: int = 1,
        cluster_id: str | None = None,
        **overrides: str,
    ) -> None:
        """``overrides``: broker settings by name with ``_`` for ``.`` (``auto_create_topics_enable="false"``).

        ``quorum`` (node id → controller port), ``node_id`` and ``cluster_id``: this node's place in a
        cluster of several (:class:`ApacheKafkaCluster`); by default a cluster of one.
        """
        if not any(LIB.glob("kafka_2.13-*.jar")):
            raise KafkaNotFetched(f"Apache Kafka's jars are not in {LIB}: run {FETCH} first")
        self.directory = directory
        self.port = free_port()
        self.sasl_port = free_port()
        self.tls_port, self.mtls_port = free_port(), free_port()
        self.node_id, self.cluster_id = node_id, cluster_id or _cluster_id()
        self.quorum = quorum or {node_id: free_port()}
        self.controller_port = self.quorum[node_id]
        self.advertised_port = advertised_port or self.port
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.sasl_bootstrap = f"127.0.0.1:{self.sasl_port}"
        self.tls_bootstrap = f"127.0.0.1:{self.tls_port}"
        self.mtls_bootstrap = f"127.0.0.1:{self.mtls_port}"
        self.certificates = make_certificates(directory / "tls", "broker")
        self._overrides = {name.replace("_", "."): value for name, value in overrides.items()}
        self.log_path = directory / "broker.log"
        self._config = directory / "server.properties"
        self._process: subprocess.Popen[bytes] | None = None
        self._began = 0
        self._write_config()
        self._format()

    def _write_config(self) -> None:
        keystore = self.directory / "tls" / "broker-keystore.pem"  # Kafka's PEM key store: the key, then the chain
        keystore.write_bytes(self.certificates.key.read_bytes() + self.certificates.cert.read_bytes())
        listeners = {"PLAINTEXT": self.advertised_port, "SASL_PLAINTEXT": self.sasl_port, "SSL": self.tls_port,
                     "MTLS": self.mtls_port}  # fmt: skip
        settings = {
            **SETTINGS,
            "node.id": str(self.node_id),
            "controller.quorum.voters": ",".join(f"{node}@127.0.0.1:{port}" for node, port in self.quorum.items()),
            "listeners": ",".join(f"{name}://127.0.0.1:{port}" for name, port in
                                  {**listeners, "PLAINTEXT": self.port, "CONTROLLER": self.controller_port}.items()),
            "advertised.listeners": ",".join(f"{name}://127.0.0.1:{port}" for name, port in listeners.items()),
            "listener.name.sasl_plaintext.plain.sasl.jaas.config": "org.apache.kafka.common.security.plain."
            f'PlainLoginModule required user_{SASL_USER}="{SASL_PASSWORD}";',
            "ssl.keystore.location": str(keystore),
            "ssl.truststore.location": str(self.certificates.ca),
            "log.dirs": str(self.directory / "data"),
            **self._overrides,
        }  # fmt: skip
        self._config.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))

    def _java(self, main: str, *arguments: str) -> list[str]:
        return ["java", *JAVA_OPTIONS, "-cp", f"{LIB}/*", main, *arguments]

    def _format(self) -> None:
        scram = f"SCRAM-SHA-512=[name={SASL_USER},password={SASL_PASSWORD}]"
        command = self._java(
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={self.cluster_id}",
            "-c",
            str(self._config),
            "--add-scram",
            scram,
        )
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"formatting {self.directory} failed: {(done.stdout + done.stderr).decode()[-2000:]}")

    def start(self, timeout: float = 90.0) -> ApacheKafka:
        """Start on the log directory as it is (formatted once, kept across restarts); return when it answers."""
        self.launch()
        return self.wait_started(timeout)

    def launch(self) -> None:
        """Start the process only: the nodes of a quorum come up together, so each is launched before any waits."""
        log = self.log_path.open("ab")
        self._began = log.tell()  # this start's lines: the log file is kept across restarts
        self._process = subprocess.Popen(self._java("kafka.Kafka", str(self._config)), stdout=log, stderr=log)
        log.close()

    def wait_started(self, timeout: float = 90.0) -> ApacheKafka:
        assert self._process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Apache Kafka exited with {self._process.returncode}: {self.log_tail()}")
            if b"Kafka Server started" in self.log_path.read_bytes()[self._began :]:
                self._wait_listening(deadline)
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Apache Kafka did not start within {timeout}s: {self.log_tail()}")

    def _wait_listening(self, deadline: float) -> None:
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def log_tail(self, characters: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:] if self.log_path.exists() else ""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self, timeout: float = 60.0) -> None:
        """A clean shutdown (SIGTERM): the broker closes its logs and leaves the quorum as an operator's stop does."""
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """A crash (SIGKILL): the log directory is left as a power cut would leave it."""
        self._end(signal.SIGKILL, 30.0)

    def restart(self) -> ApacheKafka:
        """Stop and start again on the same ports and log directory."""
        self.stop()
        return self.start()

    def _end(self, how: signal.Signals, timeout: float) -> None:
        if self._process is not None:
            end_process(self._process, how, timeout)
        self._process = None

    def __enter__(self) -> ApacheKafka:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()


# every partition on all three nodes, and a write acknowledged only once two hold it
REPLICATED = {"default_replication_factor": "3", "min_insync_replicas": "2", "offsets_topic_replication_factor": "3",
              "transaction_state_log_replication_factor": "3", "transaction_state_log_min_isr": "2"}  # fmt: skip


class ApacheKafkaCluster:
    """Three KRaft nodes, each broker and controller (a quorum of three voters), in ``directory``/node-N."""

    def __init__(self, directory: Path, size: int = 3) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        quorum = {node: free_port() for node in range(1, size + 1)}
        cluster_id = _cluster_id()
        self.nodes = {
            node: ApacheKafka(directory / f"node-{node}", quorum=quorum, node_id=node, cluster_id=cluster_id,
                              **REPLICATED)
            for node in quorum
        }  # fmt: skip
        self.bootstrap = ",".join(node.bootstrap for node in self.nodes.values())

    def __enter__(self) -> ApacheKafkaCluster:
        for node in self.nodes.values():
            node.launch()
        try:
            for node in self.nodes.values():
                node.wait_started(timeout=180)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()
