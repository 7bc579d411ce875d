"""Run `emberwatch gateway` as a child process (for kill -9 tests), and look at it from outside.

Watched through its /healthz and /proc, as an operator's supervisor would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.harness import servers

ROOT = Path(__file__).resolve().parents[2]


def process_env(tmp_path: Path, gateway_env: dict[str, str], **extra: str) -> tuple[dict[str, str], int]:
    """Environment for an `emberwatch gateway` process with a spool and a health port, and that port."""
    health_port = servers.free_port()
    return {**os.environ, **gateway_env, "EMBERWATCH_SPOOL_DIR": str(tmp_path / "spool"),
            "EMBERWATCH_HEALTH_PORT": str(health_port), **extra}, health_port


def start_gateway_process(env: dict[str, str], log_path: Path,
                          preexec_fn: Callable[[], None] | None = None) -> subprocess.Popen:
    with open(log_path, "ab") as log:  # preexec_fn runs in the child only (e.g. a file size limit)
        return subprocess.Popen([sys.executable, "-m", "emberwatch.cli", "gateway"], env=env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)


def health(port: int) -> dict:
    """/healthz's answer, or {} while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return json.load(resp)
    except OSError:
        return {}


def wait_process_subscribed(health_port: int, what: str = "gateway process subscribed") -> None:
    servers.wait_until(lambda: health(health_port).get("subscribed"), 30, what)


def kill_if_running(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


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
