"""The compose healthcheck commands, run against the real servers they probe (where this machine has them)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.harness import servers
from tests.harness.gateway_runner import env_for_gateway, running_gateway

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

pytestmark = pytest.mark.integration


def healthcheck_argv(service: str, port_in_file: int, port: int) -> list[str]:
    """The service's healthcheck as an argv, aimed at `port` instead of the container's."""
    test = SERVICES[service]["healthcheck"]["test"]
    argv = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])
    assert any(f":{port_in_file}" in a or f"-p {port_in_file}" in a for a in argv), argv
    return [a.replace(f":{port_in_file}", f":{port}").replace(f"-p {port_in_file}", f"-p {port}") for a in argv]


def _exit_code(argv: list[str]) -> int:
    if argv[0] == "python":
        argv = [sys.executable, *argv[1:]]  # the image's python; the same code runs here
    return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_influxdb_healthcheck_tells_up_from_down(influx_server) -> None:
    assert _exit_code(healthcheck_argv("influxdb", 8086, influx_server.port)) == 0
    assert _exit_code(healthcheck_argv("influxdb", 8086, servers.free_port())) != 0


def test_gateway_healthcheck_tells_up_from_down(mosquitto_server, influx_server) -> None:
    health_port = servers.free_port()
    env = env_for_gateway(mosquitto_server.port, influx_server.port, "deploy_health",
                          EMBERWATCH_HEALTH_PORT=str(health_port))
    argv = healthcheck_argv("gateway", 8080, health_port)
    with running_gateway(env):
        assert _exit_code(argv) == 0
    assert _exit_code(argv) != 0  # gateway gone: connection refused
