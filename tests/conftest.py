"""Session fixtures: real Mosquitto and InfluxDB on private ports with throwaway data dirs.

They start on first use and stop at the end of the session, pass or fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import servers
from tests.harness.gateway_runner import env_for_gateway

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sensor data not found at {SHARED_DATA} (put the shared/ folder beside the project)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mosquitto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ManagedServer]:
    with servers.running(servers.mosquitto(tmp_path_factory.mktemp("mosquitto"))) as server:
        yield server


@pytest.fixture(scope="session")
def influx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ManagedServer]:
    with servers.running(servers.influxdb(tmp_path_factory.mktemp("influxdb"))) as server:
        yield server


@pytest.fixture
def gateway_env(mosquitto_server: servers.ManagedServer, influx_server: servers.ManagedServer,
                request: pytest.FixtureRequest) -> dict[str, str]:
    """Environment for a gateway writing to a database of its own (one per test)."""
    db = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[-28:]
    return env_for_gateway(mosquitto_server.port, influx_server.port, db, PATH=os.environ.get("PATH", ""))
