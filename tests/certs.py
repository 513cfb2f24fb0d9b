"""Throwaway certificate authorities, server and client certificates for TLS tests."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# the client key is stored encrypted, as a mounted secret would be: this is its passphrase
CLIENT_KEY_PASSWORD = "client-Key-passphrase-93"


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path  # encrypted with CLIENT_KEY_PASSWORD


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
    )  # fmt: skip


def make_certificates(directory: Path, name: str = "test") -> Certificates:
    """A CA, a server certificate it signed for 127.0.0.1 and localhost, and a client certificate, as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = (
        _builder(f"{name} CA", _name(f"{name} CA"), ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        _builder("127.0.0.1", ca.subject, server_key)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    client = (
        _builder(f"{name}-client", ca.subject, client_key)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = Certificates(*(directory / f"{name}-{part}.pem" for part in ("ca", "cert", "key", "client-cert",
                                                                          "client-key")))  # fmt: skip
    for path, certificate in ((files.ca, ca), (files.cert, server), (files.client_cert, client)):
        path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    files.key.write_bytes(server_key.private_bytes(pem, pkcs8, serialization.NoEncryption()))
    encrypted = serialization.BestAvailableEncryption(CLIENT_KEY_PASSWORD.encode())
    files.client_key.write_bytes(client_key.private_bytes(pem, pkcs8, encrypted))
    return files
