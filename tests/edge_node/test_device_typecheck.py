"""Device code type-checks against MicroPython's ESP32 stubs (not CPython's standard library).

Installs `micropython-esp32-stubs` into ./typings (git-ignored) on first run,
then runs mypy with mypy-micropython.ini.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TYPINGS = ROOT / "typings"
CONFIG = ROOT / "mypy-micropython.ini"


def ensure_stubs() -> None:
    if (TYPINGS / "machine.pyi").exists():
        return
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(TYPINGS),
                           "micropython-esp32-stubs"], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail("could not install micropython-esp32-stubs: " + done.stderr[-1000:])


def run_mypy(*args: str) -> subprocess.CompletedProcess:
    ensure_stubs()
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(CONFIG), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_device_code_type_checks_against_micropython_stubs() -> None:
    done = run_mypy()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


@pytest.mark.slow
def test_the_check_uses_micropython_stubs_and_catches_cpython_only_calls(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import time\nimport machine\n\n\ndef f() -> float:\n    machine.deepsleep('soon')\n"
                     "    return time.monotonic()\n")
    done = run_mypy(str(probe))
    assert done.returncode != 0
    assert 'Module has no attribute "monotonic"' in done.stdout
    assert "deepsleep" in done.stdout
