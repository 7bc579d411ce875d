"""`emberwatch node config`: a bounded config downlink on the network server's MQTT API."""

from __future__ import annotations

import argparse
import base64
import json
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import uplink_codec as codec
from gateway.lorawan import node_command
from tests.gateway.lorawan_messages import CHIRPSTACK_APP, TTN_APP
from tests.harness.servers import wait_until

EUI = "70B3D57ED0000001"


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    node_command.add_arguments(parser)
    return parser.parse_args(["config", *argv])


def _env(tmp_path: Path, server: str, app: str, port: int = 1) -> dict[str, str]:
    registry = tmp_path / "devices.json"
    registry.write_text(json.dumps({"devices": [{"dev_eui": EUI, "site": "forest", "node": "n001",
                                                 "device_id": "eui-70b3d57ed0000001"}]}))
    return {"EMBERWATCH_LORAWAN_SERVER": server, "EMBERWATCH_LORAWAN_REGISTRY": str(registry),
            "EMBERWATCH_LORAWAN_APPLICATION": app, "EMBERWATCH_LORAWAN_MQTT_URL": f"mqtt://127.0.0.1:{port}"}


@pytest.mark.integration
def test_chirpstack_downlink_reaches_the_broker_and_decodes_on_the_node_side(mosquitto_server, tmp_path: Path) -> None:
    got: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="chirpstack-stand-in")
    client.on_message = lambda c, u, m: got.append((m.topic, bytes(m.payload)))
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect("127.0.0.1", mosquitto_server.port)
    client.subscribe("application/+/device/+/command/down", qos=1)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        code = node_command.run(_args("--site", "forest", "--node", "n001", "--threshold", "6000",
                                      "--heartbeat-interval", "7200"),
                                _env(tmp_path, "chirpstack", CHIRPSTACK_APP, mosquitto_server.port))
        assert code == 0
        wait_until(lambda: len(got) == 1, 10, "downlink on the broker")
    finally:
        client.loop_stop()
        client.disconnect()
    topic, payload = got[0]
    assert topic == f"application/{CHIRPSTACK_APP}/device/{EUI.lower()}/command/down"
    body = json.loads(payload)
    assert (body["devEui"], body["fPort"], body["confirmed"]) == (EUI.lower(), 10, True)
    assert codec.decode_config(base64.b64decode(body["data"])) == {
        "thr": 6000, "sample_interval_s": None, "heartbeat_interval_s": 7200, "ask_status": False}


def test_ttn_downlink_uses_the_push_topic_and_device_id(tmp_path: Path, capsys) -> None:
    code = node_command.run(_args("--site", "forest", "--node", "n001", "--ask-status", "--dry-run"),
                            _env(tmp_path, "ttn", TTN_APP))
    topic, payload = capsys.readouterr().out.splitlines()
    assert code == 0 and topic == f"v3/{TTN_APP}/devices/eui-70b3d57ed0000001/down/push"
    down = json.loads(payload)["downlinks"][0]
    assert (down["f_port"], down["confirmed"], base64.b64decode(down["frm_payload"])) == (10, True, b"\x41")


@pytest.mark.parametrize("argv,message", [
    (("--threshold", "0"), "threshold must be an integer in 1..65535"),
    (("--sample-interval", "5"), "sample_interval_s must be an integer in 10..86400"),
    (("--sample-interval", "600", "--heartbeat-interval", "300"), "heartbeat interval must be >= sample interval"),
    ((), "needs at least one setting"),
])
def test_out_of_bounds_settings_are_refused_before_anything_is_sent(tmp_path: Path, capsys, argv, message) -> None:
    code = node_command.run(_args("--site", "forest", "--node", "n001", *argv), _env(tmp_path, "chirpstack", "app"))
    assert code == 2 and message in capsys.readouterr().err


def test_unknown_node_is_refused(tmp_path: Path, capsys) -> None:
    code = node_command.run(_args("--site", "forest", "--node", "n404", "--threshold", "10"),
                            _env(tmp_path, "chirpstack", "app"))
    assert code == 2 and "n404 is not in" in capsys.readouterr().err
