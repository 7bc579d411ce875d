"""Run `emberwatch gateway` as a child process (for kill -9 tests), and look at it from outside.

Watched through its /healthz and /proc, as an operator's supervisor would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.harness import servers

ROOT = Path(__file__).resolve().parents[2]


class GatewayProcess:
    """`emberwatch gateway` as a child process with a spool and a health port, logging to
    <tmp_path>/gateway.log; a with-block kills whatever still runs at its end, pass or fail.

    preexec_fn runs in the child only (e.g. a file size limit that must not hit the test)."""

    def __init__(self, tmp_path: Path, gateway_env: dict[str, str],
                 preexec_fn: Callable[[], None] | None = None, **extra: str) -> None:
        self.health_port = servers.free_port()
        self.env = {**os.environ, **gateway_env, "EMBERWATCH_SPOOL_DIR": str(tmp_path / "spool"),
                    "EMBERWATCH_HEALTH_PORT": str(self.health_port), **extra}
        self.log_path = tmp_path / "gateway.log"
        self.preexec_fn = preexec_fn
        self.proc: subprocess.Popen | None = None

    def start(self, what: str = "gateway process subscribed") -> GatewayProcess:
        """Start it (again) and wait until /healthz says it is subscribed."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "emberwatch.cli", "gateway"], env=self.env,
                                         cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=self.preexec_fn)
        servers.wait_until(lambda: self.health().get("subscribed"), 30, what)
        return self

    def health(self) -> dict:
        return health(self.health_port)

    def kill_9(self) -> None:
        """SIGKILL, then wait until its children are gone too (no orphan keeps the broker session)."""
        assert self.proc is not None
        children = children_of(self.proc.pid)
        self.proc.kill()
        self.proc.wait(10)
        servers.wait_until(lambda: not any(is_alive(child) for child in children), 10, "the gateway's children exited")

    def stop(self, timeout_s: float = 20.0) -> int:
        """SIGTERM, as compose or systemd stop it; its exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)

    def __enter__(self) -> GatewayProcess:
        try:
            return self.start()
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def health(port: int) -> dict:
    """/healthz's answer, or {} while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return json.load(resp)
    except OSError:
        return {}


def children_of(pid: int) -> list[int]:
    """Every process whose parent is pid (the receiver child and multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def receiver_child(pid: int) -> int:
    for child in children_of(pid):
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
            return child
    raise AssertionError(f"gateway {pid} has no receiver process")
