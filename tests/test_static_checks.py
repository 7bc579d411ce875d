"""Lint and type-check the CPython packages as part of the suite (device code has its own mypy test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    result = run_tool("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_cpython_packages() -> None:
    result = run_tool("mypy", "--ignore-missing-imports", "gateway", "simulator", "training", "emberwatch")
    assert result.returncode == 0, result.stdout + result.stderr
