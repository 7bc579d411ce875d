"""Helpers for running edge-node code on real MicroPython next to CPython in tests."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

from tests.harness.micropython import run_micropython, unavailable_reason

HERE = Path(__file__).resolve().parent


def require_micropython() -> None:
    """Skip with the reason when MicroPython cannot run here; in CI that is a failure instead."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail("MicroPython runner unavailable in CI: " + reason)
    pytest.skip("MicroPython runner unavailable: " + reason)


def helper_files(*names: str) -> dict[str, str]:
    """tests/edge_node helper modules, placed in MicroPython's /lib under their bare names."""
    return {"/lib/" + name + ".py": (HERE / (name + ".py")).read_text() for name in names}


def module_from_source(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, name + ".py", "exec"), module.__dict__)
    return module


def run_on_micropython(script: str, files: dict[str, str]) -> list[str]:
    return run_micropython(script, files).splitlines()
