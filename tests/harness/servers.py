"""Start and stop real Mosquitto and InfluxDB 1.x servers for tests and benchmarks.

Each server gets a free loopback port and a throwaway data dir, and can be
stopped and started again on the same port and data (for outage tests).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _find(binary: str, *extra: str) -> str:
    path = shutil.which(binary) or next((p for p in extra if os.path.exists(p)), None)
    if path is None:
        raise RuntimeError(f"{binary} not found: run `make test` (it installs Debian's package)")
    return path


def wait_until(predicate, timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class ManagedServer:
    name: str
    argv: list[str]
    port: int
    workdir: Path
    proc: subprocess.Popen | None = field(default=None, init=False)

    def start(self, timeout_s: float = 30.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        log = open(self.workdir / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.workdir, start_new_session=True)
        log.close()
        try:
            wait_until(self.ready, timeout_s, f"{self.name} on port {self.port}")
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.name} did not start; log:\n{self.log_tail()}")

    def ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
        return _port_open(self.port)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, n_chars: int = 3000) -> str:
        path = self.workdir / f"{self.name}.log"
        return path.read_text(errors="replace")[-n_chars:] if path.exists() else ""


@contextlib.contextmanager
def running(server: ManagedServer) -> Iterator[ManagedServer]:
    """The server started for a with-block and stopped after it, pass or fail."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def password_file(path: Path, logins: dict[str, str]) -> Path:
    """A Mosquitto password file with these user: password logins, hashed by mosquitto_passwd."""
    tool = _find("mosquitto_passwd", "/usr/bin/mosquitto_passwd")
    path.touch()
    for user, password in logins.items():
        subprocess.run([tool, "-b", str(path), user, password], check=True, capture_output=True)
    return path


SHIPPED_BROKER_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "mosquitto.conf"


def shipped_broker_lines(*keys: str) -> str:
    """The lines of deploy/mosquitto/mosquitto.conf setting these keys, so tests run what ships."""
    lines = [line for line in SHIPPED_BROKER_CONF.read_text().splitlines()
             if line.strip() and not line.startswith("#") and line.split()[0] in keys]
    return "\n".join(lines) + "\n"


# How often the broker saves its database (sessions, queued messages). What ships (a save per
# change, measured against a kill -9 in bench/bench_broker_durability.py) caps a broker on this
# kind of machine near 130 messages/s, so the session-wide test broker saves once a second and
# the kill -9 tests ask for the shipped lines.
DURABLE_PERSISTENCE = shipped_broker_lines("autosave_interval", "autosave_on_changes")
FAST_PERSISTENCE = "autosave_interval 1\n"


def mosquitto(workdir: Path, port: int | None = None, extra_conf: str = "",
              persistence_conf: str = FAST_PERSISTENCE) -> ManagedServer:
    """Mosquitto with persistence (so QoS 1 sessions survive a restart), anonymous unless extra_conf says otherwise."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)
    conf = workdir / "mosquitto.conf"
    auth = extra_conf if extra_conf else "allow_anonymous true\n"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        # Started as root, Mosquitto drops to user `mosquitto`, which cannot write the
        # persistence file in a root-owned temp dir (sessions then vanish on restart).
        f"user {getpass.getuser()}\n"
        f"persistence true\npersistence_location {workdir / 'data'}/\n"
        + persistence_conf + "max_queued_messages 1000000\nmax_inflight_messages 1000\n"
        "log_dest stdout\nlog_type error\nlog_type warning\n" + auth
    )
    return ManagedServer("mosquitto", [_find("mosquitto", "/usr/sbin/mosquitto"), "-c", str(conf)], port, workdir)


# The tag limits docker-compose.yml sets (INFLUXDB_DATA_MAX_VALUES_PER_TAG / _MAX_SERIES_PER_DATABASE):
# InfluxDB's default of 100,000 values per tag refuses the 100,001st node id.
MAX_VALUES_PER_TAG = 1_000_000
MAX_SERIES_PER_DATABASE = 10_000_000


def influxdb(workdir: Path, port: int | None = None, max_values_per_tag: int = MAX_VALUES_PER_TAG) -> ManagedServer:
    """InfluxDB 1.x with every listener but HTTP off and all state under workdir."""
    port = port or free_port()
    rpc_port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "influxdb.conf"
    conf.write_text(
        f'reporting-enabled = false\nbind-address = "127.0.0.1:{rpc_port}"\n'
        f'[meta]\n  dir = "{workdir}/meta"\n'
        f'[data]\n  dir = "{workdir}/data"\n  wal-dir = "{workdir}/wal"\n  query-log-enabled = false\n'
        f'  max-values-per-tag = {max_values_per_tag}\n  max-series-per-database = {MAX_SERIES_PER_DATABASE}\n'
        f'[monitor]\n  store-enabled = false\n'
        f'[http]\n  enabled = true\n  bind-address = "127.0.0.1:{port}"\n  log-enabled = false\n'
        f'[logging]\n  level = "warn"\n  suppress-logo = true\n'
    )
    server = ManagedServer("influxdb", [_find("influxd"), "-config", str(conf)], port, workdir)
    server.ready = lambda: _port_open(port) and _influx_pings(port)  # type: ignore[method-assign]
    return server


def _influx_pings(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as resp:
            return resp.status == 204
    except OSError:
        return False
