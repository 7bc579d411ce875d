"""A fire incident survives a kill -9 of the gateway: same id, nothing duplicated or reopened.

Real Mosquitto, real InfluxDB 1.6.7 and the real `emberwatch gateway` process.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edge_node.core import schema
from tests.harness import servers
from tests.harness.gateway_process import GatewayProcess
from tests.harness.influx_query import stored_rows
from tests.harness.node_publisher import StreamPublisher
from tests.harness.servers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MIN_MS = 60_000
# Event times close to the gateway's clock: an hour without evidence would resolve the incident.
T0_MS = (int(time.time() * 1000) // MIN_MS - 10) * MIN_MS
# Three nodes 200 m apart on a north-south line (lat, lon in micro-degrees).
NODES = {"a1": (41_900_000, -6_800_000), "a2": (41_901_797, -6_800_000), "a3": (41_903_594, -6_800_000)}


def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    StreamPublisher(port, messages, client_id="incident-test-nodes").start().join(30)


def fire_alert(site: str, node: str, seq: int, t_ms: int) -> tuple[str, bytes]:
    return schema.topic(site, node, "alert"), schema.encode_alert(
        node, seq, t_ms, 9000 + seq, 5000, 2600 + seq, 3100, 30_000 + seq, -3700 - seq, 3000, lvl=schema.LEVEL_FIRE,
        boot=1)


def incident_rows(port: int, db: str) -> list[dict]:
    return stored_rows(port, 'SELECT "state", "nodes", "lat", "lon", "radius_m" FROM "incident" GROUP BY "incident"', db)


def suspect_alert(site: str, node: str, seq: int, t_ms: int) -> tuple[str, bytes]:
    return schema.topic(site, node, "alert"), schema.encode_alert(
        node, seq, t_ms, 700, 400, 2100, 4000, 60_000, -4000, 3000, lvl=schema.LEVEL_SUSPECT, boot=1)


def node_heartbeats(site: str) -> list[tuple[str, bytes]]:
    return [(schema.topic(site, n, "heartbeat"), schema.encode_heartbeat(
        n, 1, T0_MS, 3000, 2000, 4000, -3900, lat_e6=lat, lon_e6=lon, boot=1)) for n, (lat, lon) in NODES.items()]


def test_incident_survives_kill_9_with_its_id(tmp_path: Path, gateway_env: dict[str, str],
                                              mosquitto_server: servers.ManagedServer,
                                              influx_server: servers.ManagedServer) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    with GatewayProcess(tmp_path, gateway_env, EMBERWATCH_MQTT_RECEIVER="process") as gateway:
        publish(mosquitto_server.port, node_heartbeats(site) + [fire_alert(site, "a1", 2, T0_MS + MIN_MS)])
        wait_until(lambda: incident_rows(influx_server.port, db), 30, "incident opened and stored", interval_s=0.2)
        (opened,) = incident_rows(influx_server.port, db)
        assert opened["state"] == "opened"

        gateway.kill_9()  # no chance to save anything
        gateway.start("restarted gateway subscribed")
        publish(mosquitto_server.port, [fire_alert(site, "a2", 2, T0_MS + 3 * MIN_MS),
                                        fire_alert(site, "a3", 2, T0_MS + 5 * MIN_MS)])
        wait_until(lambda: len(incident_rows(influx_server.port, db)) >= 3, 30, "evidence after the restart stored",
                   interval_s=0.2)
        rows = incident_rows(influx_server.port, db)
        assert {r["incident"] for r in rows} == {opened["incident"]}, "one incident, under its first id"
        assert [r["state"] for r in rows] == ["opened", "confirmed", "updated"]
        assert rows[-1]["nodes"] == 3
        assert "resumed 1 open incident" in gateway.log_path.read_text()
        assert gateway.stop() == 0


def test_a_pending_suspect_survives_kill_9_and_opens_the_incident_with_its_neighbour(
        tmp_path: Path, gateway_env: dict[str, str], mosquitto_server: servers.ManagedServer,
        influx_server: servers.ManagedServer) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    with GatewayProcess(tmp_path, gateway_env, EMBERWATCH_MQTT_RECEIVER="process") as gateway:
        publish(mosquitto_server.port, node_heartbeats(site) + [suspect_alert(site, "a1", 2, T0_MS + MIN_MS)])
        wait_until(lambda: stored_rows(influx_server.port, 'SELECT "level" FROM "alert"', db), 30, "suspect stored",
                   interval_s=0.2)
        assert incident_rows(influx_server.port, db) == []  # one suspect alone opens nothing

        gateway.kill_9()
        gateway.start("restarted gateway subscribed")
        publish(mosquitto_server.port, [suspect_alert(site, "a2", 2, T0_MS + 3 * MIN_MS)])
        wait_until(lambda: incident_rows(influx_server.port, db), 30, "incident opened by the two suspects",
                   interval_s=0.2)
        (opened,) = incident_rows(influx_server.port, db)
        assert opened["state"] == "opened" and opened["nodes"] == 2
        assert gateway.stop() == 0
