"""Kafka over TLS and SASL, ClickHouse over HTTPS, and credentials that never leak.

What is real here: TLS is the daemon's own TLS client against a TLS endpoint in front of
the real broker (tansu 0.6's own TLS options cannot be combined: ``--cert`` conflicts with
``--key``); SASL is SCRAM against the real broker with authentication on. tansu's memory
storage cannot hold a user created before authentication is switched on, and creating
one afterwards needs authentication, so only the refusal is seen end to end; PLAIN is not
offered by tansu at all. ClickHouse over HTTPS is clickhouse-connect against a local
HTTPS endpoint that records what it was sent: no ClickHouse server runs here.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from aiokafka import AIOKafkaProducer
from clickhouse_connect.driver.client import Client

from correlator.config import KafkaSecurity, Settings, read_secret
from correlator.devkit.broker import LocalBroker, free_port
from correlator.devkit.demo import produce
from correlator.devkit.workload import mixed_workload
from correlator.runtime.daemon import KafkaUnavailable
from correlator.sources.kafka import KafkaSource, ensure_topics, security_options
from tests.apache_kafka import SASL_PASSWORD, SASL_USER, ApacheKafka
from tests.certs import CLIENT_KEY_PASSWORD, Certificates, make_certificates
from tests.conftest import rows
from tests.harness import run_daemon, stored_at_least
from tests.netproxy import TcpProxy

PASSWORD = "Pa55-w0rd-that-must-not-leak"


def test_settings_never_show_secrets():
    settings = Settings(
        clickhouse_url=f"https://daemon:{PASSWORD}@ch:8443/correlator",
        clickhouse_user="daemon",
        clickhouse_password=PASSWORD,
        kafka_security=KafkaSecurity("SASL_SSL", "SCRAM-SHA-512", "correlator", PASSWORD),
    )
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings.describe())
    assert settings.describe()["kafka_sasl_username"] == "correlator"
    assert settings.mask_secrets(f"auth failed for {PASSWORD} at https://u:{PASSWORD}@ch") == (
        "auth failed for *** at https://u:***@ch"
    )


def test_secrets_come_from_mounted_files(tmp_path: Path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    assert read_secret("", secret, "password") == PASSWORD
    with pytest.raises(ValueError, match="not both"):
        read_secret("x", secret, "password")
    with pytest.raises(ValueError, match="SASL username and password"):
        KafkaSecurity("SASL_PLAINTEXT", "PLAIN", "user", "")


async def _client_config(security: KafkaSecurity) -> dict[str, object]:
    source = KafkaSource("127.0.0.1:1", "g", ["t"], 6_000, security)
    return {key: value for key, value in vars(source.consumer._client).items() if "sasl" in key or "secur" in key}


def test_the_kafka_client_is_built_with_the_configured_security(tmp_path: Path):
    certs = make_certificates(tmp_path)
    for mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        config = asyncio.run(_client_config(KafkaSecurity("SASL_SSL", mechanism, "svc", PASSWORD, certs.ca)))
        assert config["_security_protocol"] == "SASL_SSL" and config["_sasl_mechanism"] == mechanism
        assert (config["_sasl_plain_username"], config["_sasl_plain_password"]) == ("svc", PASSWORD)
    context = security_options(KafkaSecurity("SSL", ssl_cafile=certs.ca))["ssl_context"]
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
    assert asyncio.run(_client_config(KafkaSecurity()))["_security_protocol"] == "PLAINTEXT"


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[str, Certificates]]:
    """The real broker, reachable only through a TLS endpoint that it advertises."""
    certs = make_certificates(tmp_path / "tls")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert, certs.key)
    proxy_port = free_port()
    with LocalBroker(advertised_port=proxy_port) as broker, TcpProxy(broker.port, proxy_port, tls=context):
        yield f"127.0.0.1:{proxy_port}", certs


def test_the_daemon_consumes_over_tls_and_refuses_an_untrusted_broker(
    tls_broker: tuple[str, Certificates], settings: Settings, warehouse: Client, tmp_path: Path
):
    bootstrap, certs = tls_broker
    security = KafkaSecurity("SSL", ssl_cafile=certs.ca)
    tls = replace(settings, kafka_bootstrap=bootstrap, kafka_security=security)
    workload = mixed_workload(40, seed=2)

    async def scenario() -> None:
        await ensure_topics(bootstrap, [tls.logs_topic, tls.metrics_topic], partitions=1, security=security)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **security_options(security))
        await producer.start()
        for value in workload.metrics:
            await producer.send(tls.metrics_topic, value)
        await producer.stop()
        await run_daemon(tls, warehouse, stored_at_least(len(workload.metrics)))

    asyncio.run(scenario())
    assert rows(warehouse, f"SELECT count() FROM {settings.database}.usage_metrics") == [(len(workload.metrics),)]

    untrusted = make_certificates(tmp_path / "other", name="other")
    with pytest.raises(KafkaUnavailable):
        asyncio.run(run_daemon(replace(tls, kafka_security=KafkaSecurity("SSL", ssl_cafile=untrusted.ca)),
                               warehouse, stored_at_least(1)))  # fmt: skip


def test_sasl_scram_is_spoken_and_a_refusal_leaks_no_password(tmp_path: Path):
    secret = tmp_path / "kafka-password"
    secret.write_text(PASSWORD)
    with LocalBroker(authentication=True) as broker:
        done = subprocess.run(
            [sys.executable, "-m", "correlator", "run"],
            env={**os.environ, "CORRELATOR_KAFKA_BOOTSTRAP": broker.bootstrap,
                 "CORRELATOR_DATA_DIR": str(tmp_path), "CORRELATOR_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                 "CORRELATOR_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "CORRELATOR_KAFKA_SASL_USERNAME": "correlator",
                 "CORRELATOR_KAFKA_SASL_PASSWORD_FILE": str(secret)},
            capture_output=True, timeout=120,
        )  # fmt: skip
    assert done.returncode != 0
    assert b"cannot join the consumer group" in done.stderr, done.stderr
    assert PASSWORD.encode() not in done.stdout + done.stderr


@pytest.mark.kafka
@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
def test_sasl_logins_to_apache_kafka_succeed_and_a_wrong_password_is_refused_without_leaking_it(
    settings: Settings, warehouse: Client, apache_kafka: ApacheKafka, tmp_path: Path, mechanism: str
):
    """The user exists on the broker (SCRAM made by Kafka's storage tool, PLAIN in its JAAS list): a real login."""
    metrics = mixed_workload(50, seed=13).metrics
    asyncio.run(produce(settings.kafka_bootstrap, settings.metrics_topic, metrics))
    security = KafkaSecurity("SASL_PLAINTEXT", mechanism, SASL_USER, SASL_PASSWORD)
    authenticated = replace(settings, kafka_bootstrap=apache_kafka.sasl_bootstrap, kafka_security=security)
    asyncio.run(run_daemon(authenticated, warehouse, stored_at_least(len(metrics))))
    assert rows(warehouse, f"SELECT count() FROM {settings.database}.usage_metrics") == [(len(metrics),)]

    wrong = "not-the-Password-42"
    secret = tmp_path / "kafka-password"
    secret.write_text(wrong)
    done = subprocess.run(
        [sys.executable, "-m", "correlator", "run"],
        env={**os.environ, "CORRELATOR_KAFKA_BOOTSTRAP": apache_kafka.sasl_bootstrap,
             "CORRELATOR_DATA_DIR": str(tmp_path), "CORRELATOR_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
             "CORRELATOR_KAFKA_SASL_MECHANISM": mechanism, "CORRELATOR_KAFKA_SASL_USERNAME": SASL_USER,
             "CORRELATOR_KAFKA_SASL_PASSWORD_FILE": str(secret), "CORRELATOR_HTTP_PORT": "0"},
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert b"cannot join the consumer group" in done.stderr, done.stderr
    assert wrong.encode() not in done.stdout + done.stderr and SASL_PASSWORD.encode() not in done.stderr


def _refused_run(environment: dict[str, str], data_dir: Path) -> subprocess.CompletedProcess[bytes]:
    """``correlator run`` as a pod runs it, configured by ``environment``; it is expected to give up."""
    env = {**os.environ, **environment, "CORRELATOR_DATA_DIR": str(data_dir), "CORRELATOR_HTTP_PORT": "0"}
    return subprocess.run([sys.executable, "-m", "correlator", "run"], env=env, capture_output=True, timeout=120)


@pytest.mark.kafka
def test_tls_and_mutual_tls_to_apache_kafka_succeed_and_an_untrusted_broker_is_refused_leaking_no_key_password(
    settings: Settings,
    warehouse: Client,
    apache_kafka: ApacheKafka,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
):
    """The broker's own TLS listeners (PEM stores of a test CA): one without, one requiring client certificates."""
    certs = apache_kafka.certificates
    metrics = mixed_workload(60, seed=17).metrics
    stored = f"SELECT count() FROM {settings.database}.usage_metrics"
    asyncio.run(produce(settings.kafka_bootstrap, settings.metrics_topic, metrics[:30]))
    tls = KafkaSecurity("SSL", ssl_cafile=certs.ca)
    asyncio.run(run_daemon(replace(settings, kafka_bootstrap=apache_kafka.tls_bootstrap, kafka_security=tls),
                           warehouse, stored_at_least(30)))  # fmt: skip
    assert rows(warehouse, stored) == [(30,)]

    caplog.set_level(logging.DEBUG)
    asyncio.run(produce(settings.kafka_bootstrap, settings.metrics_topic, metrics[30:]))
    mutual = replace(tls, ssl_certfile=certs.client_cert, ssl_keyfile=certs.client_key,
                     ssl_key_password=CLIENT_KEY_PASSWORD)  # fmt: skip
    asyncio.run(run_daemon(replace(settings, kafka_bootstrap=apache_kafka.mtls_bootstrap, kafka_security=mutual),
                           warehouse, stored_at_least(30)))  # fmt: skip
    assert rows(warehouse, stored) == [(60,)]  # the rest, through the listener that requires a client certificate
    captured = capfd.readouterr()
    logged = captured.out + captured.err + caplog.text  # the daemon's own lines, and aiokafka's down to DEBUG
    assert "daemon started" in logged and CLIENT_KEY_PASSWORD not in logged

    key_password = tmp_path / "key-password"
    key_password.write_text(CLIENT_KEY_PASSWORD)
    client = {"CORRELATOR_KAFKA_SECURITY_PROTOCOL": "SSL", "CORRELATOR_KAFKA_SSL_CERTFILE": str(certs.client_cert),
              "CORRELATOR_KAFKA_SSL_KEYFILE": str(certs.client_key),
              "CORRELATOR_KAFKA_SSL_KEY_PASSWORD_FILE": str(key_password)}  # fmt: skip
    untrusted = make_certificates(tmp_path / "other", name="other").ca  # not the CA that signed the broker
    done = _refused_run({**client, "CORRELATOR_KAFKA_BOOTSTRAP": apache_kafka.mtls_bootstrap,
                         "CORRELATOR_KAFKA_SSL_CAFILE": str(untrusted)}, tmp_path / "untrusted")  # fmt: skip
    assert done.returncode != 0
    assert b"CERTIFICATE_VERIFY_FAILED" in done.stderr and b"cannot join the consumer group" in done.stderr
    assert b"signed by the CA of --kafka-ssl-cafile" in done.stderr, done.stderr
    assert CLIENT_KEY_PASSWORD.encode() not in done.stdout + done.stderr

    del client["CORRELATOR_KAFKA_SSL_CERTFILE"], client["CORRELATOR_KAFKA_SSL_KEYFILE"]
    del client["CORRELATOR_KAFKA_SSL_KEY_PASSWORD_FILE"]
    done = _refused_run({**client, "CORRELATOR_KAFKA_BOOTSTRAP": apache_kafka.mtls_bootstrap,
                         "CORRELATOR_KAFKA_SSL_CAFILE": str(certs.ca)}, tmp_path / "no-client-cert")  # fmt: skip
    assert done.returncode != 0 and b"does the broker require a client certificate" in done.stderr, done.stderr


class _RecordingHandler(BaseHTTPRequestHandler):
    """Answers like a ClickHouse server refusing the credentials, and records what it was sent."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        self._refuse()

    def do_GET(self) -> None:
        self._refuse()

    def _refuse(self) -> None:
        self.seen.append(dict(self.headers))
        body = b"Code: 516. DB::Exception: daemon: Authentication failed: password is incorrect (AUTHENTICATION_FAILED)"
        self.send_response(401)
        self.send_header("X-ClickHouse-Exception-Code", "516")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_clickhouse_over_https_with_credentials_from_a_secret_file(tmp_path: Path):
    certs = make_certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert, certs.key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = tmp_path / "clickhouse-password"
    secret.write_text(PASSWORD + "\n")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "correlator", "migrate"],
            env={**os.environ, "CORRELATOR_CLICKHOUSE_URL": f"https://127.0.0.1:{server.server_port}/?ca_cert={certs.ca}",
                 "CORRELATOR_CLICKHOUSE_USER": "daemon", "CORRELATOR_CLICKHOUSE_PASSWORD_FILE": str(secret)},
            capture_output=True, timeout=120,
        )  # fmt: skip
    finally:
        server.shutdown()
    assert done.returncode != 0 and b"Authentication failed" in done.stderr, done.stderr
    assert PASSWORD.encode() not in done.stdout + done.stderr
    # the request went over TLS (the handler only answers TLS) carrying the file's credentials
    sent = _RecordingHandler.seen[-1]
    basic = sent.get("Authorization", "").removeprefix("Basic ")
    headers = f"{sent.get('X-ClickHouse-User')}:{sent.get('X-ClickHouse-Key')}"
    assert (base64.b64decode(basic).decode() if basic else headers) == f"daemon:{PASSWORD}"
