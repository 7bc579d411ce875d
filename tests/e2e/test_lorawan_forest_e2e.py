"""A simulated LoRaWAN forest -> ChirpStack v4 `up` events on the real Mosquitto -> the gateway's
LoRaWAN source -> the real InfluxDB: every alert the radio delivered is stored, once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge_node.core import schema
from simulator.lorawan_uplinks import DEFAULT_APPLICATION
from tests.harness.gateway_runner import running_gateway
from tests.harness.influx_query import influxql, stored_rows
from tests.harness.servers import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _count(port: int, measurement: str, db: str) -> int:
    rows = stored_rows(port, f"SELECT count(seq) FROM {measurement}", db)
    return int(rows[0]["count"]) if rows else 0


def test_simulated_lorawan_forest_through_chirpstack_format_stores_every_alert(
        gateway_env: dict[str, str], mosquitto_server, influx_server, tmp_path: Path) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    registry = tmp_path / "devices.json"
    registry.write_text('{"devices": []}')  # the simulator fills it in as its nodes first speak
    events = tmp_path / "uplinks.jsonl"
    env = {**gateway_env, "EMBERWATCH_LORAWAN_SERVER": "chirpstack", "EMBERWATCH_LORAWAN_APPLICATION":
           DEFAULT_APPLICATION, "EMBERWATCH_LORAWAN_REGISTRY": str(registry), "EMBERWATCH_MQTT_RECEIVER": "thread"}
    with running_gateway(env) as gateway:
        done = subprocess.run(
            [sys.executable, "-m", "emberwatch.cli", "simulate", "--nodes", "25", "--days", "0.5", "--ignitions", "0",
             "--ignite", "2,400,400", "--seed", "3", "--site", site, "--quiet",
             "--mqtt", f"mqtt://127.0.0.1:{mosquitto_server.port}", "--lorawan", "chirpstack",
             "--lorawan-registry", str(registry), "--event-log", str(events)],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        uplinks = [json.loads(json.loads(line)["payload"]) for line in events.read_text().splitlines()]
        alerts = sum(1 for u in uplinks if u.get("confirmed"))
        beats = len(uplinks) - alerts
        # the ignition inside the grid was detected (the v2 detector's cooldown sends a node's alert once
        # per level, not once per wake: a handful of alerts, not dozens)
        assert alerts >= 1, done.stdout
        wait_until(lambda: _count(influx_server.port, "alert", db) == alerts, 30, f"{alerts} alerts stored")
        wait_until(lambda: _count(influx_server.port, "heartbeat", db) == beats, 30, f"{beats} heartbeats stored")
        rejected = dict(gateway.source.lorawan.rejected)
        duplicates = gateway.ingest.duplicates
    assert rejected == {} and duplicates == 0
    levels = {int(r["level"]) for r in influxql(influx_server.port, "SELECT level, seq FROM alert", db)}
    assert levels and levels <= {schema.LEVEL_SUSPECT, schema.LEVEL_FIRE}  # the level survived the 11-byte frame
    # the radio model's metadata (rxInfo/txInfo) reached InfluxDB with every heartbeat
    rows = influxql(influx_server.port, "SELECT count(rssi_dbm) AS rssi, count(snr_db) AS snr, count(sf) AS sf "
                                        "FROM heartbeat", db)
    assert (rows[0]["rssi"], rows[0]["snr"], rows[0]["sf"]) == (beats, beats, beats)
    nodes = {r["node"] for r in influxql(influx_server.port, "SELECT seq, node FROM alert", db)}
    assert nodes <= {d["node"] for d in json.loads(registry.read_text())["devices"]}
