"""Per-node credentials and ACL on the real Mosquitto: a node cannot publish as another node."""

from __future__ import annotations

from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import schema
from tests.harness import servers
from tests.harness.gateway_runner import running_gateway
from tests.harness.influx_query import influxql
from tests.harness.node_publisher import StreamPublisher
from tests.harness.servers import wait_until

pytestmark = pytest.mark.integration

ACL = Path(__file__).with_name("mosquitto_test.acl")
PASSWORDS = {"gateway": "gw-secret", "ridge.n01": "n01-secret", "ridge.n02": "n02-secret"}


def alert(node: str, seq: int, site: str = "ridge") -> tuple[str, bytes]:
    return schema.topic(site, node, "alert"), schema.encode_alert(
        node, seq, 1_782_864_000_000 + seq, 900, 500, 2500, 3000, 1000, -3000, 3700)


@pytest.fixture
def secured_broker(tmp_path: Path):
    password_file = servers.password_file(tmp_path / "passwd", PASSWORDS)
    with servers.running(servers.mosquitto(tmp_path / "mosquitto", extra_conf=(
            f"allow_anonymous false\npassword_file {password_file}\nacl_file {ACL}\n"))) as broker:
        yield broker


def connect_result(port: int, username: str | None, password: str | None) -> str:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{username}")
    if username:
        client.username_pw_set(username, password)
    result: list[str] = []
    client.on_connect = lambda c, u, f, rc, p: result.append(str(rc))
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_until(lambda: bool(result), 10, "CONNACK")
    client.disconnect()
    client.loop_stop()
    return result[0]


def test_a_node_cannot_publish_as_another_node(secured_broker, gateway_env: dict[str, str], influx_server) -> None:
    env = {**gateway_env, "EMBERWATCH_MQTT_URL": f"mqtt://127.0.0.1:{secured_broker.port}",
           "EMBERWATCH_SITE": "+", "EMBERWATCH_MQTT_USERNAME": "gateway",
           "EMBERWATCH_MQTT_PASSWORD": PASSWORDS["gateway"]}
    assert connect_result(secured_broker.port, None, None) == "Not authorized"
    assert connect_result(secured_broker.port, "ridge.n01", "wrong") == "Not authorized"
    own = [alert("n01", s) for s in (1, 2, 3)]
    forged = [alert("n02", 50), alert("n02", 51), alert("n01", 52, site="valley")]  # another node, another site
    with running_gateway(env) as gateway:
        StreamPublisher(secured_broker.port, own + forged, client_id="node-n01",
                        username="ridge.n01", password=PASSWORDS["ridge.n01"]).start().join()
        # n02's own alert comes after the forged ones, so once it is stored they had their chance.
        StreamPublisher(secured_broker.port, [alert("n02", 1)], client_id="node-n02",
                        username="ridge.n02", password=PASSWORDS["ridge.n02"]).start().join()
        port, db = influx_server.port, env["EMBERWATCH_INFLUX_DB"]

        def stored() -> set[tuple[str, str, int]]:
            try:
                return {(r["site"], r["node"], r["seq"])
                        for r in influxql(port, "SELECT seq FROM alert GROUP BY site, node", db)}
            except RuntimeError:  # database not created yet
                return set()

        wait_until(lambda: ("ridge", "n02", 1) in stored(), 15, "n02's own alert stored")
        assert stored() == {("ridge", "n01", 1), ("ridge", "n01", 2), ("ridge", "n01", 3), ("ridge", "n02", 1)}
        assert gateway.stats.received == 4  # the broker dropped the forged three; the gateway never saw them
