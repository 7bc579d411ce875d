"""The gateway's LoRaWAN source on the real Mosquitto and InfluxDB: documented ChirpStack v4 and
The Things Stack v3 uplinks in, Emberwatch alerts and heartbeats (with radio metadata) stored;
The Things Stack's QoS-0 gap filled from a local stand-in of its Storage Integration."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from edge_node.core import uplink_codec as codec
from gateway.lorawan.source import LorawanSource
from tests.gateway.lorawan_messages import CHIRPSTACK_APP, CHIRPSTACK_DOC, TTN_APP, TTN_DOC, chirpstack_up, ttn_result, ttn_up
from tests.harness.gateway_runner import running_gateway
from tests.harness.influx_query import stored_rows
from tests.harness.node_publisher import StreamPublisher
from tests.harness.servers import wait_until

pytestmark = pytest.mark.integration

EUIS = ["70B3D57ED0000001", "70B3D57ED0000002", "70B3D57ED0000003"]


def _registry(tmp_path: Path, site: str) -> str:
    path = tmp_path / "devices.json"
    path.write_text(json.dumps({"devices": [{"dev_eui": eui, "site": site, "node": f"n{i + 1:03d}"}
                                            for i, eui in enumerate(EUIS)]}))
    return str(path)


def _lorawan_source(gateway) -> LorawanSource:
    return gateway.source.lorawan


def test_chirpstack_uplinks_are_stored_with_radio_metadata_and_deduplicated_across_a_rejoin(
        gateway_env: dict[str, str], mosquitto_server, influx_server, tmp_path: Path) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    env = {**gateway_env, "EMBERWATCH_LORAWAN_SERVER": "chirpstack", "EMBERWATCH_LORAWAN_APPLICATION": CHIRPSTACK_APP,
           "EMBERWATCH_LORAWAN_REGISTRY": _registry(tmp_path, site), "EMBERWATCH_MQTT_RECEIVER": "thread"}
    messages = [(f"application/{CHIRPSTACK_APP}/device/0101010101010101/event/up", CHIRPSTACK_DOC)]  # as documented
    expected_alerts = set()
    for i, eui in enumerate(EUIS):
        node = f"n{i + 1:03d}"
        messages.append(chirpstack_up(eui, codec.encode_status(0, 40 + i, 5377, 30, 3600), "2026-07-01T00:00:00Z", 0))
        for seq in range(1, 6):
            frame = codec.encode_alert(seq, seq, 900 * seq, 5377, 2, 40 + i, 3600, 4000 + seq, 2000, -3000, 0)
            messages.append(chirpstack_up(eui, frame, f"2026-07-01T00:0{seq}:00Z", seq, rssi=-100 - i))
            expected_alerts.add((node, seq))
        # the node rejoined (frame counter back to 0) and resent alert 5, whose ack it had missed
        messages.append(chirpstack_up(eui, codec.encode_alert(5, 70, 4500, 5377, 2, 40 + i, 3600, 4005, 2000, -3000),
                                      "2026-07-01T00:06:10Z", 0))
        messages.append(chirpstack_up(eui, codec.encode_heartbeat(6, 0, 40 + i, 3010, bat_pct=80),
                                      "2026-07-01T00:07:00Z", 1))
    messages.append(chirpstack_up("70B3D57ED00000FF", codec.encode_heartbeat(1, 0, 0, 3000), "2026-07-01T00:07:00Z"))
    with running_gateway(env) as gateway:
        StreamPublisher(mosquitto_server.port, messages).start().join()
        wait_until(lambda: {(r["node"], r["seq"]) for r in stored_rows(
            influx_server.port, "SELECT seq, node FROM alert", db)} == expected_alerts, 20, "every alert stored")
        wait_until(lambda: len(stored_rows(influx_server.port, "SELECT * FROM heartbeat", db)) == 3, 10, "heartbeats")
        rejected = dict(_lorawan_source(gateway).rejected)
        duplicates = gateway.ingest.duplicates
    alerts = stored_rows(influx_server.port, "SELECT * FROM alert", db)
    assert len(alerts) == 15 and duplicates == 3
    assert {(r["node"], r["rssi_dbm"], r["sf"], r["gateways"]) for r in alerts if r["seq"] == 1} == {
        ("n001", -100, 11, 1), ("n002", -101, 11, 1), ("n003", -102, 11, 1)}
    assert all(r["boot"] == 40 + int(r["node"][1:]) - 1 and r["threshold"] == 256 for r in alerts)
    beats = stored_rows(influx_server.port, "SELECT * FROM heartbeat", db)
    assert {r["battery_pct"] for r in beats} == {80} and {r["fcnt"] for r in beats} == {1}
    assert rejected == {"unknown_device": 2}  # the documented example's device, and one never registered


class _StorageStandIn(BaseHTTPRequestHandler):
    """The Storage Integration's uplink_message endpoint, answering in its documented line format."""

    results: list[dict] = []
    requests: list[tuple[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).requests.append((self.path, self.headers.get("Authorization", "")))
        if self.headers.get("Authorization") != "Bearer NNSXS.TEST":
            self.send_response(401)
            self.end_headers()
            return
        body = b"".join(json.dumps({"result": r}).encode() + b"\n" for r in type(self).results)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def storage_server() -> Iterator[tuple[str, type[_StorageStandIn]]]:
    handler = type("Handler", (_StorageStandIn,), {"results": [], "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_ttn_uplinks_missed_while_the_gateway_was_down_come_back_from_the_storage_integration(
        gateway_env: dict[str, str], mosquitto_server, influx_server, tmp_path: Path, storage_server) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    url, handler = storage_server
    eui = EUIS[0]
    now_iso = "2026-07-01T00:0{}:00Z"
    frames = {seq: codec.encode_alert(seq, 0, 9000, 5377, 2, 1, 3500, 4000, 2000, -3000) for seq in range(1, 6)}
    # Alerts 1-3 were published on MQTT while the gateway was down (gone: QoS 0, no session); the
    # Storage Integration kept 1-5. Alerts 5 and 6 then arrive live.
    handler.results = [ttn_result(eui, "n001", frames[s], now_iso.format(s)) for s in range(1, 6)]
    env = {**gateway_env, "EMBERWATCH_LORAWAN_SERVER": "ttn", "EMBERWATCH_LORAWAN_APPLICATION": TTN_APP,
           "EMBERWATCH_LORAWAN_REGISTRY": _registry(tmp_path, site), "EMBERWATCH_MQTT_RECEIVER": "thread",
           "EMBERWATCH_TTN_API_URL": url, "EMBERWATCH_TTN_API_KEY": "NNSXS.TEST"}
    live = [(f"v3/{TTN_APP}/devices/dev1/up", TTN_DOC),  # the documented uplink: not one of ours
            ttn_up(eui, "n001", frames[5], now_iso.format(5)),
            ttn_up(eui, "n001", codec.encode_alert(6, 0, 9000, 5377, 2, 1, 3500, 4000, 2000, -3000),
                   now_iso.format(6))]
    with running_gateway(env) as gateway:
        wait_until(lambda: _lorawan_source(gateway).backfilled == 5, 10, "backfill on connect")
        StreamPublisher(mosquitto_server.port, live).start().join()
        wait_until(lambda: sorted(r["seq"] for r in stored_rows(influx_server.port, "SELECT seq FROM alert", db))
                   == [1, 2, 3, 4, 5, 6], 20, "alerts 1-6 stored once each")
        rejected = dict(_lorawan_source(gateway).rejected)
    path, auth = handler.requests[0]
    assert path.startswith("/api/v3/as/applications/app1/packages/storage/uplink_message?after=")
    assert auth == "Bearer NNSXS.TEST"
    assert rejected == {"unknown_device": 1}
