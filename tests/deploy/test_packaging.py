"""The base install is what the gateway image runs: no plotting, no embedded broker, a build backend that works."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_gateway_dependencies_leave_out_the_demo_extras() -> None:
    base = _names(PYPROJECT["project"]["dependencies"])
    demo = _names(PYPROJECT["project"]["optional-dependencies"]["demo"])
    assert {"amqtt", "matplotlib"} <= demo and not {"amqtt", "matplotlib"} & base
    assert "emberwatch[demo]" in PYPROJECT["project"]["optional-dependencies"]["dev"]
    assert "'.[demo]'" in (ROOT / "Makefile").read_text()  # make demo installs what the demo needs


def test_build_backend_is_one_that_reads_the_spdx_license() -> None:
    # `license = "MIT"` (PEP 639) needs setuptools 77; 68 and 76 refuse the project (measured, see the comment).
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]


def test_the_image_commands_import_neither_plotting_nor_the_embedded_broker() -> None:
    code = ("import sys, gateway.command, gateway.service, gateway.influx_setup_command, gateway.fire_weather, "
            "simulator.simulate_command, emberwatch.cli; "
            "print(sorted(m for m in ('matplotlib', 'amqtt') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
