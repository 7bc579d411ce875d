"""The `lorawan` compose profile's configuration, checked without a Docker engine: ChirpStack's and
the Gateway Bridge's TOML, the secrets they expect, and - on the real Mosquitto with the committed
broker config and the logins credentials.py writes - that ChirpStack's uplink topic reaches the
gateway's LoRaWAN source and its config downlinks reach ChirpStack."""

from __future__ import annotations

import argparse
import base64
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml

from edge_node.core import uplink_codec as codec
from gateway.config import GatewayConfig
from gateway.lorawan import node_command
from tests.deploy.conftest import CREDENTIALS_TOOL, broker_conf_for_test
from tests.gateway.lorawan_messages import chirpstack_up
from tests.harness import servers
from tests.harness.gateway_runner import env_for_gateway, running_gateway
from tests.harness.influx_query import stored_rows
from tests.harness.servers import wait_until

ROOT = Path(__file__).resolve().parents[2]
CHIRPSTACK_DIR = ROOT / "deploy" / "chirpstack"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
APP = "9a7d4c57-3a55-4c40-8b2f-bf0b1b9c0e11"
EUI = "AC1F09FFFE000001"
PASSWORDS = {"MQTT_GATEWAY_PASSWORD": "gw-pw", "MQTT_SIMULATOR_PASSWORD": "sim-pw",
             "MQTT_CHIRPSTACK_PASSWORD": "cs-pw", "MQTT_GATEWAY_BRIDGE_PASSWORD": "gb-pw"}


def _mounted_tomls(service: str) -> dict[str, dict]:
    out = {}
    for mount in COMPOSE[service]["volumes"]:
        source, target = mount.split(":")[:2]
        if source.endswith(".toml"):
            out[target] = tomllib.loads((ROOT / source).read_text())
    return out


def _placeholders(service: str) -> set[str]:
    text = "".join((ROOT / m.split(":")[0]).read_text() for m in COMPOSE[service]["volumes"]
                   if m.split(":")[0].endswith(".toml"))
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return set(re.findall(r"\$([A-Z][A-Z0-9_]*)", code))


def test_chirpstack_config_parses_and_every_placeholder_is_in_its_environment() -> None:
    tomls = _mounted_tomls("chirpstack")
    main = tomls["/etc/chirpstack/chirpstack.toml"]
    regions = [r for t in tomls.values() for r in t.get("regions", [])]
    assert set(main["network"]["enabled_regions"]) == {r["id"] for r in regions}
    assert _placeholders("chirpstack") <= set(COMPOSE["chirpstack"]["environment"])
    mqtt_integration = main["integration"]["mqtt"]
    assert main["integration"]["enabled"] == ["mqtt"] and mqtt_integration["json"] is True
    assert mqtt_integration["qos"] == 1 and mqtt_integration["clean_session"] is False  # nothing lost while we restart
    assert mqtt_integration["server"].startswith("tcp://mosquitto:1883")
    assert "chirpstack-postgres" in main["postgresql"]["dsn"] and "chirpstack-redis" in main["redis"]["servers"][0]
    for service in ("chirpstack-postgres", "chirpstack-redis", "mosquitto"):
        assert service in COMPOSE["chirpstack"]["depends_on"]
    assert COMPOSE["chirpstack-postgres"]["environment"]["POSTGRES_USER"] in main["postgresql"]["dsn"]


def test_gateway_bridge_speaks_the_region_topics_chirpstack_listens_on() -> None:
    bridge = _mounted_tomls("chirpstack-gateway-bridge")[
        "/etc/chirpstack-gateway-bridge/chirpstack-gateway-bridge.toml"]["integration"]["mqtt"]["auth"]["generic"]
    region = tomllib.loads((CHIRPSTACK_DIR / "region_eu868.toml").read_text())["regions"][0]
    prefix = region["gateway"]["backend"]["mqtt"]["topic_prefix"]
    assert bridge["event_topic_template"].startswith(prefix + "/gateway/")
    assert bridge["command_topic_template"].startswith(prefix + "/gateway/")
    assert bridge["servers"] == ["tcp://mosquitto:1883"]
    assert "INTEGRATION__MQTT__AUTH__GENERIC__PASSWORD" in COMPOSE["chirpstack-gateway-bridge"]["environment"]


def test_images_are_pinned_to_exact_versions() -> None:
    for name in ("chirpstack", "chirpstack-gateway-bridge", "chirpstack-postgres", "chirpstack-redis"):
        tag = COMPOSE[name]["image"].rsplit(":", 1)[1]
        # PostgreSQL numbers its releases major.minor; the others major.minor.patch.
        exact = r"\d+\.\d+(-alpine)?" if name == "chirpstack-postgres" else r"\d+\.\d+\.\d+(-alpine)?"
        assert re.fullmatch(exact, tag), f"{name} image {tag} is not an exact version"


def test_the_compose_gateway_environment_builds_a_lorawan_source(tmp_path: Path) -> None:
    env = {k: str(v) for k, v in COMPOSE["gateway"]["environment"].items() if not str(v).startswith("${")}
    registry = tmp_path / "devices.json"
    registry.write_text((ROOT / "deploy" / "lorawan" / "devices.example.json").read_text())
    env.update({"EMBERWATCH_MQTT_URL": "mqtt://mosquitto:1883", "EMBERWATCH_INFLUX_URL": "http://influxdb:8086",
                "EMBERWATCH_LORAWAN_SERVER": "chirpstack", "EMBERWATCH_LORAWAN_APPLICATION": APP,
                "EMBERWATCH_LORAWAN_REGISTRY": str(registry), "EMBERWATCH_MQTT_USERNAME": "gateway",
                "EMBERWATCH_SPOOL_DIR": str(tmp_path / "spool")})
    config = GatewayConfig.from_env(env)
    assert config.lorawan is not None and config.lorawan.uplink_topic() == f"application/{APP}/device/+/event/up"
    assert config.lorawan.mqtt.host == "mosquitto" and config.lorawan.mqtt.username == "gateway"


@pytest.fixture
def lorawan_broker(tmp_path: Path) -> Iterator[servers.ManagedServer]:
    auth = tmp_path / "auth"
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in PASSWORDS.items()))
    subprocess.run([sys.executable, str(CREDENTIALS_TOOL), "--auth-dir", str(auth), "init", "--lorawan",
                    "--env-file", str(env_file)], check=True, capture_output=True)
    with servers.running(servers.mosquitto(tmp_path, extra_conf=broker_conf_for_test(auth))) as server:
        yield server


def _client(port: int, user: str, password: str, client_id: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.username_pw_set(user, password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_until(client.is_connected, 10, f"{user} login")
    return client


@pytest.mark.integration
def test_chirpstack_login_feeds_the_gateway_and_takes_its_downlinks(lorawan_broker, influx_server,
                                                                    tmp_path: Path) -> None:
    port = lorawan_broker.port
    registry = tmp_path / "devices.json"
    registry.write_text(json.dumps({"devices": [{"dev_eui": EUI, "site": "deploylw", "node": "n001"}]}))
    env = env_for_gateway(port, influx_server.port, "deploylw", EMBERWATCH_MQTT_USERNAME="gateway",
                          EMBERWATCH_MQTT_PASSWORD=PASSWORDS["MQTT_GATEWAY_PASSWORD"], EMBERWATCH_MQTT_RECEIVER="thread",
                          EMBERWATCH_SITE="+", EMBERWATCH_LORAWAN_SERVER="chirpstack", EMBERWATCH_LORAWAN_APPLICATION=APP,
                          EMBERWATCH_LORAWAN_REGISTRY=str(registry))
    downlinks: list[bytes] = []

    def stored() -> list[int]:
        return [r["seq"] for r in stored_rows(influx_server.port, "SELECT seq FROM alert", "deploylw")]

    chirpstack = _client(port, "chirpstack", PASSWORDS["MQTT_CHIRPSTACK_PASSWORD"], "chirpstack-integration")
    bridge = _client(port, "chirpstack-gateway-bridge", PASSWORDS["MQTT_GATEWAY_BRIDGE_PASSWORD"], "gw-bridge")
    chirpstack.on_message = lambda c, u, m: downlinks.append(bytes(m.payload))
    chirpstack.subscribe("application/+/device/+/command/down", qos=1)
    try:
        with running_gateway(env):
            frame = codec.encode_alert(1, 0, 9000, 5377, 2, 1, 3500, 4000, 2000, -3000)
            bridge.publish(*chirpstack_up(EUI, frame, "2026-07-01T00:00:00Z", app=APP), qos=1).wait_for_publish(10)
            chirpstack.publish(*chirpstack_up(EUI, codec.encode_alert(2, 0, 9000, 5377, 2, 1, 3500, 4000, 2000, -3000),
                                              "2026-07-01T00:01:00Z", app=APP), qos=1).wait_for_publish(10)
            wait_until(lambda: stored() == [2], 15, "ChirpStack's uplink stored")
            parser = argparse.ArgumentParser()
            node_command.add_arguments(parser)
            code = node_command.run(parser.parse_args(["config", "--site", "deploylw", "--node", "n001",
                                                       "--threshold", "6000"]), env)
            assert code == 0
            wait_until(lambda: len(downlinks) == 1, 10, "the downlink at ChirpStack")
        assert stored() == [2]  # the bridge's login may not speak for ChirpStack's application topics
        assert base64.b64decode(json.loads(downlinks[0])["data"]) == codec.encode_config(thr=6000)
    finally:
        for client in (chirpstack, bridge):
            client.disconnect()
            client.loop_stop()
