"""A deployment-shaped pipeline for the dashboard tests.

Scripted field nodes log in to a real Mosquitto configured with the committed
deploy/mosquitto/mosquitto.conf and the logins/ACL that credentials.py writes,
publish wire-schema v1 messages, and the real gateway stores them in the
session's real InfluxDB 1.6.7. The fleet is small and every value is known, so
the tests can say exactly which rows each dashboard query must return.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import schema
from gateway.fire_weather import FireWeatherProcessor
from gateway.influx_rollups import InfluxAdmin, apply_rollups, backfill
from gateway.ingest import Event
from tests.harness import servers
from tests.harness.gateway_runner import env_for_gateway, running_gateway
from tests.harness.influx_query import stored_rows

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS_TOOL = ROOT / "deploy" / "mosquitto" / "credentials.py"
BROKER_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
GATEWAY_PASSWORD = "gw-test-password"
DB = "deploy_dashboards"
HEARTBEAT_EVERY_MS = 30 * 60_000
DAY_MS = 86_400_000


def broker_conf_for_test(auth_dir: Path) -> str:
    """The committed broker config minus what the harness sets (listener, persistence, logs)."""
    harness_owned = ("listener", "persistence", "persistence_location", "autosave_interval", "log_dest")
    kept = [line for line in BROKER_CONF.read_text().splitlines()
            if line.strip() and not line.startswith("#") and line.split()[0] not in harness_owned]
    # The harness runs the broker as the current user, so it can read the 0644 auth files.
    return "\n".join(kept).replace("/mosquitto/auth/", f"{auth_dir}/") + "\n"


@pytest.fixture(scope="session")
def deploy_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[servers.ManagedServer, Path]]:
    """Mosquitto with the deployment's auth: only logins from credentials.py get in."""
    work = tmp_path_factory.mktemp("deploy-broker")
    auth = work / "auth"
    env_file = work / ".env"
    env_file.write_text(f"MQTT_GATEWAY_PASSWORD={GATEWAY_PASSWORD}\nMQTT_SIMULATOR_PASSWORD=sim-test-password\n")
    subprocess.run([sys.executable, str(CREDENTIALS_TOOL), "--auth-dir", str(auth), "init", "--env-file",
                    str(env_file)], check=True, capture_output=True)
    with servers.running(servers.mosquitto(work, extra_conf=broker_conf_for_test(auth))) as server:
        yield server, auth


@dataclass
class FleetNode:
    site: str
    node: str
    drain_mv_per_day: float
    lat_e6: int | None
    lon_e6: int | None
    alert_offsets_ms: list[int]  # before the fleet's end time
    dies: bool = False  # drops off the network without a goodbye: the broker sends its last will


FLEET = [
    FleetNode("ridge", "r1", 20.0, 45_101_000, 6_101_000, []),
    FleetNode("ridge", "r2", 40.0, 45_102_000, 6_102_000, [100 * 60_000, 61 * 60_000, 20 * 60_000, 2 * 60_000]),
    FleetNode("ridge", "r3", 0.0, 45_103_000, 6_103_000, [], dies=True),
    FleetNode("valley", "v1", 30.0, 45_201_000, 6_201_000, [DAY_MS + 5 * 60_000, DAY_MS]),
    FleetNode("valley", "v2", 10.0, None, None, []),  # a node without a GPS fix
]
# One weather station per site (schema v2 `weather`): wind at noon UTC, one morning shower on ridge.
STATIONS = [FleetNode("ridge", "ws1", 0.0, None, None, []), FleetNode("valley", "ws2", 0.0, None, None, [])]


@dataclass
class Published:
    """What the fleet sent, in human units, for computing expected rows."""

    t0_ms: int
    end_ms: int
    heartbeats: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    alerts: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    last_state: dict[tuple[str, str], str] = field(default_factory=dict)
    states: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # every status, in order
    # What the gateway's FireWeatherProcessor saw, in order, and the daily ratings it must have stored.
    fwi_inputs: list[tuple[Event, int]] = field(default_factory=list)
    fire_weather: list[Event] = field(default_factory=list)
    db: str = DB


def _messages(n: FleetNode, t0_ms: int, end_ms: int, pub: Published) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    events: list[tuple[int, str]] = [(t, "heartbeat") for t in range(t0_ms, end_ms + 1, HEARTBEAT_EVERY_MS)]
    events += [(end_ms - off, "alert") for off in n.alert_offsets_ms]
    hbs, alerts = pub.heartbeats.setdefault((n.site, n.node), []), pub.alerts.setdefault((n.site, n.node), [])
    for seq, (t_ms, kind) in enumerate(sorted(events), start=1):
        bat_mv = round(4100 - n.drain_mv_per_day * (t_ms - t0_ms) / DAY_MS)
        bat_pct = round(90 - n.drain_mv_per_day / 4 * (t_ms - t0_ms) / DAY_MS)  # 1 % per 4 mV
        temp_cc, rh_cp, gas_q8 = 1850 + seq % 5, 4200, -1800
        if kind == "heartbeat":
            pub.fwi_inputs.append((Event("heartbeat", n.site, n.node, seq, t_ms, {"temp_cc": temp_cc, "rh_cp": rh_cp}), t_ms))
            out.append((schema.topic(n.site, n.node, kind), schema.encode_heartbeat(
                n.node, seq, t_ms, bat_mv, temp_cc, rh_cp, gas_q8, seq % 3, n.lat_e6, n.lon_e6, bat_pct=bat_pct)))
            hbs.append({"time": t_ms, "seq": seq, "battery_mv": bat_mv, "battery_pct": bat_pct, "temp_c": temp_cc / 100,
                        "queued": seq % 3, "lat": n.lat_e6 and n.lat_e6 / 1e6, "lon": n.lon_e6 and n.lon_e6 / 1e6})
        else:
            temp_cc, rh_cp, gas, gas_q8, score = 6200 + seq, 1500, 9000 + seq, -3300, 900 + seq
            out.append((schema.topic(n.site, n.node, kind), schema.encode_alert(
                n.node, seq, t_ms, score, 500, temp_cc, rh_cp, gas, gas_q8, bat_mv)))
            alerts.append({"time": t_ms, "seq": seq, "score": score, "threshold": 500, "temp_c": temp_cc / 100,
                           "rh_pct": rh_cp / 100, "gas": gas, "gas_index": gas_q8 / 256, "battery_mv": bat_mv})
    return out


def _weather(st: FleetNode, t0_ms: int, end_ms: int, pub: Published) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    seq = 0
    for day in range(t0_ms // DAY_MS, end_ms // DAY_MS + 1):
        shower = (day * DAY_MS + 6 * 3_600_000, 0, 2500 if st.site == "ridge" else 0)
        noon = (day * DAY_MS + 12 * 3_600_000, 500 + 100 * (day % 3), 0)
        for t_ms, wind_cms, rain_um in (shower, noon):
            if t0_ms <= t_ms <= end_ms:
                seq += 1
                out.append((schema.topic(st.site, st.node, "weather"),
                            schema.encode_weather(st.node, seq, t_ms, wind_cms, 250, rain_um)))
                pub.fwi_inputs.append((Event("weather", st.site, st.node, seq, t_ms, {
                    "wind_cms": wind_cms, "wdir_deg": 250, "rain_um": rain_um}), t_ms))
    return out


def _password(n: FleetNode) -> str:
    return f"pw-{n.site}-{n.node}"


def _add_login(auth_dir: Path, n: FleetNode) -> None:
    subprocess.run([sys.executable, str(CREDENTIALS_TOOL), "--auth-dir", str(auth_dir), "add-node", n.site,
                    n.node, "--password", _password(n)], check=True, capture_output=True)


def _connect_node(port: int, n: FleetNode) -> mqtt.Client:
    """Log in the way a field node does: its own login and a retained last will."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{n.site}.{n.node}")
    client.username_pw_set(f"{n.site}.{n.node}", _password(n))
    client.will_set(schema.topic(n.site, n.node, "status"), schema.encode_status(n.node, "offline"), 1, True)
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    # Until the broker has reloaded its password file it refuses us; paho retries meanwhile.
    servers.wait_until(client.is_connected, 15, f"login of {n.site}.{n.node}")
    return client


@pytest.fixture(scope="session")
def filled_influx(deploy_broker: tuple[servers.ManagedServer, Path],
                  influx_server: servers.ManagedServer) -> Published:
    broker, auth_dir = deploy_broker
    end_ms = (int(time.time() * 1000) // 60_000) * 60_000 - 5 * 60_000
    pub = Published(t0_ms=end_ms - 2 * DAY_MS, end_ms=end_ms)
    env = env_for_gateway(broker.port, influx_server.port, DB, EMBERWATCH_MQTT_USERNAME="gateway",
                          EMBERWATCH_MQTT_PASSWORD=GATEWAY_PASSWORD, EMBERWATCH_SITE="+",
                          # The fleet backfills two days in seconds; a liveness timeout that long keeps the
                          # gateway from calling that history "missed heartbeats" while it streams in.
                          EMBERWATCH_HEARTBEAT_INTERVAL_S=str(DAY_MS // 1000))
    for n in FLEET + STATIONS:  # every node's login first, then one reload, as an operator would
        _add_login(auth_dir, n)
    assert broker.proc is not None
    broker.proc.send_signal(signal.SIGHUP)  # what `docker compose kill -s SIGHUP mosquitto` sends
    with running_gateway(env, processors=[FireWeatherProcessor()]) as gateway:  # as `emberwatch gateway` runs it
        clients = {}
        expected = 0
        for n in FLEET:
            clients[n.node] = client = _connect_node(broker.port, n)
            client.publish(schema.topic(n.site, n.node, "status"), schema.encode_status(n.node, "online"), 1, True)
            pub.last_state[(n.site, n.node)] = "online"
            pub.states[(n.site, n.node)] = ["online"]
            infos = [client.publish(t, p, qos=1) for t, p in _messages(n, pub.t0_ms, end_ms, pub)]
            for info in infos:
                info.wait_for_publish(timeout=30)
            expected += len(infos) + 1
        for st in STATIONS:  # after the nodes, so each noon window is complete when its wind arrives
            client = _connect_node(broker.port, st)
            infos = [client.publish(t, p, qos=1) for t, p in _weather(st, pub.t0_ms, end_ms, pub)]
            for info in infos:
                info.wait_for_publish(timeout=30)
            expected += len(infos)
            client.disconnect()
            client.loop_stop()
        servers.wait_until(lambda: gateway.stats.stored >= expected, 60, f"{expected} messages stored")
        pub.fire_weather = FireWeatherProcessor().observe(pub.fwi_inputs, int(time.time() * 1000))

        servers.wait_until(lambda: len(stored_rows(influx_server.port, 'SELECT "fwi" FROM "fire_weather"', DB))
                           == len(pub.fire_weather), 30, "the fire-weather ratings")
        for n in FLEET:
            client = clients[n.node]
            if n.dies:
                # Close the socket without DISCONNECT: the broker must publish the last will.
                client.loop_stop()
                sock = client.socket()
                assert sock is not None
                sock.close()
                pub.last_state[(n.site, n.node)] = "offline"
                pub.states[(n.site, n.node)].append("offline")
                expected += 1
            else:
                client.disconnect()
                client.loop_stop()
        servers.wait_until(lambda: gateway.stats.stored >= expected, 30, "the last will stored")
        # The store count also holds the gateway's own points (fire weather), so it can pass before the
        # broker has published a will: wait for each dead node's stored state itself (a CI run under load
        # read r3 still online).
        dead = {(n.site, n.node) for n in FLEET if n.dies}

        def wills_stored() -> bool:
            rows = stored_rows(influx_server.port, 'SELECT last("online") AS "online" FROM "node_state" '
                                                   'GROUP BY "site", "node"', DB)
            return dead <= {(r["site"], r["node"]) for r in rows if r["online"] == 0}
        servers.wait_until(wills_stored, 30, "the dead nodes' last wills in InfluxDB")
        assert dict(gateway.ingest.rejected) == {}
    # What `emberwatch influx-setup --backfill` does: the rollups the dashboards read, over this history.
    admin = InfluxAdmin(f"http://127.0.0.1:{influx_server.port}")
    apply_rollups(admin, DB)
    backfill(admin, DB, pub.t0_ms - DAY_MS, end_ms + 60_000)
    return pub
