"""Session fixtures: real Mosquitto and InfluxDB on private ports with throwaway data dirs.

They start on first use and stop at the end of the session, pass or fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import servers

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sensor data not found at {SHARED_DATA} (put the shared/ folder beside the project)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mosquitto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ManagedServer]:
    server = servers.mosquitto(tmp_path_factory.mktemp("mosquitto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ManagedServer]:
    server = servers.influxdb(tmp_path_factory.mktemp("influxdb"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gateway_env(mosquitto_server: servers.ManagedServer, influx_server: servers.ManagedServer,
                request: pytest.FixtureRequest) -> dict[str, str]:
    """Environment for a gateway writing to a database of its own (one per test)."""
    db = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[-28:]
    return {
        "EMBERWATCH_MQTT_URL": f"mqtt://127.0.0.1:{mosquitto_server.port}",
        "EMBERWATCH_INFLUX_URL": f"http://127.0.0.1:{influx_server.port}",
        "EMBERWATCH_INFLUX_DB": db,
        "EMBERWATCH_MQTT_CLIENT_ID": "gw-" + db,
        "EMBERWATCH_SITE": db,
        "PATH": os.environ.get("PATH", ""),
    }
