"""`emberwatch firmware build` from a fresh checkout, and the .mpy it makes runs on MicroPython."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge_node import firmware_command
from tests.edge_node.mp import helper_files, require_micropython
from tests.harness.micropython import run_micropython

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Clone the committed tree (no build/, no config.json, no caches) and build there."""
    checkout = tmp_path_factory.mktemp("checkout") / "emberwatch"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(checkout)], check=True)
    done = subprocess.run([sys.executable, "-c", "import sys; from emberwatch.cli import main; "
                           "sys.exit(main(['firmware', 'build']))"],
                          cwd=checkout, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(checkout)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "built" in done.stdout
    return checkout / "build" / "firmware"


@pytest.mark.slow
def test_build_compiles_every_device_module_and_nothing_host_only(fresh_build: Path) -> None:
    mpy = sorted(p.relative_to(fresh_build).as_posix() for p in fresh_build.rglob("*.mpy"))
    sources = firmware_command.device_sources()
    assert len(mpy) == len(sources)
    assert "lib/edge_node/core/int8.mpy" in mpy and "lib/edge_node/wake.mpy" in mpy
    assert "lib/edge_node/drivers/bme688.mpy" in mpy
    assert not any("firmware_command" in p for p in mpy)
    assert (fresh_build / "main.py").read_text() == (ROOT / "edge_node" / "main.py").read_text()
    assert all((fresh_build / p).read_bytes()[:1] == b"M" for p in mpy)  # .mpy magic


@pytest.mark.slow
def test_compiled_firmware_runs_the_wake_scenario_on_micropython(fresh_build: Path) -> None:
    require_micropython()
    binaries = {"/" + p.relative_to(fresh_build).as_posix(): p.read_bytes() for p in fresh_build.rglob("*.mpy")}
    script = ("import edge_node.wake, edge_node.core.int8\n"
              "assert edge_node.core.int8.__file__.endswith('.mpy'), edge_node.core.int8.__file__\n"
              "import wake_scenario\nwake_scenario.run(print)\n")
    got = run_micropython(script, helper_files("fakes", "wake_scenario"), binary_files=binaries,
                          with_sources=False).splitlines()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import wake_scenario
    expected: list[str] = []
    wake_scenario.run(expected.append)
    assert got == expected


def test_deploy_refuses_a_config_the_node_would_reject(tmp_path: Path, capsys) -> None:
    import argparse
    bad = tmp_path / "config.json"
    bad.write_text('{"wifi_ssid": "ap", "site": "s", "node": "n 1"}')
    parser = argparse.ArgumentParser()
    firmware_command.add_arguments(parser)
    code = firmware_command.run(parser.parse_args(["deploy", "--dry-run", "--config", str(bad),
                                                   "--out", str(tmp_path / "fw")]))
    err = capsys.readouterr().err
    assert code == 1 and "broker_host is required" in err and "node must be 1-32" in err
    assert not (tmp_path / "fw").exists(), "nothing is built or copied for a bad config"


def test_deploy_dry_run_copies_firmware_and_config_with_mpremote(tmp_path: Path, capsys) -> None:
    import argparse
    cfg = tmp_path / "config.json"
    cfg.write_text((ROOT / "edge_node" / "config.example.json").read_text())
    parser = argparse.ArgumentParser()
    firmware_command.add_arguments(parser)
    code = firmware_command.run(parser.parse_args(["deploy", "--dry-run", "--port", "/dev/ttyUSB0",
                                                   "--config", str(cfg), "--out", str(tmp_path / "fw")]))
    out = capsys.readouterr().out
    assert code == 0
    line = next(text for text in out.splitlines() if "mpremote connect /dev/ttyUSB0" in text)
    assert f"fs cp -r {tmp_path / 'fw' / 'lib'} :" in line
    assert ":main.py" in line and f"{cfg} :config.json" in line and line.endswith("reset")
