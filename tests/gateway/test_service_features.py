"""Service features on the real broker and InfluxDB: shared subscriptions, liveness verdicts, metrics."""

from __future__ import annotations

import time
import urllib.request
from contextlib import ExitStack

import pytest

from edge_node.core import schema
from tests.harness.gateway_runner import running_gateway
from tests.harness.influx_query import stored_rows
from tests.harness.node_publisher import StreamPublisher, alert_keys, alert_messages
from tests.harness.servers import free_port, wait_until

pytestmark = pytest.mark.integration


def test_two_gateways_in_a_share_group_split_the_load_and_store_everything(
        gateway_env: dict[str, str], mosquitto_server, influx_server) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=100)
    with ExitStack() as stack:
        gateways = [stack.enter_context(running_gateway({
            **gateway_env, "EMBERWATCH_MQTT_SHARE_GROUP": "gateways",
            "EMBERWATCH_MQTT_CLIENT_ID": f"{gateway_env['EMBERWATCH_MQTT_CLIENT_ID']}-{i}",
            "EMBERWATCH_BATCH_SIZE": "50"})) for i in range(2)]  # each subscribed to the share group
        StreamPublisher(mosquitto_server.port, messages, rate_per_s=2000).start().join()
        wait_until(lambda: sum(g.stats.received for g in gateways) >= len(messages), 30, "all delivered")
        wait_until(lambda: {(r["node"], r["seq"]) for r in stored_rows(
            influx_server.port, "SELECT seq, node FROM alert", db)} == alert_keys(messages), 30, "all stored")
        received = [g.stats.received for g in gateways]
    assert sum(received) == len(messages)  # each message went to exactly one of them
    assert min(received) > len(messages) // 10, received  # and both took a real share


def test_a_silent_node_is_marked_offline_then_online_with_metrics(
        gateway_env: dict[str, str], mosquitto_server, influx_server) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    health_port = free_port()
    env = {**gateway_env, "EMBERWATCH_HEARTBEAT_INTERVAL_S": "1", "EMBERWATCH_HEARTBEAT_ALLOWED_MISSES": "1",
           "EMBERWATCH_HEALTH_PORT": str(health_port)}

    def heartbeat(seq: int) -> tuple[str, bytes]:
        return schema.topic(site, "n01", "heartbeat"), schema.encode_heartbeat(
            "n01", seq, int(time.time() * 1000), 3700, 2100, 4000, -3000)

    def states() -> list[tuple[str, str]]:
        return [(r["state"], r["reason"]) for r in stored_rows(
            influx_server.port, "SELECT state, reason FROM node_state", db)]

    with running_gateway(env):
        StreamPublisher(mosquitto_server.port, [heartbeat(1)]).start().join()
        wait_until(lambda: states() == [("offline", "heartbeat_missed")], 10, "offline verdict after 2 s of silence")
        StreamPublisher(mosquitto_server.port, [heartbeat(2)]).start().join()
        wait_until(lambda: len(states()) == 2, 10, "online verdict")
        assert states()[1] == ("online", "heartbeat_resumed")
        with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
    from tests.gateway.test_health_metrics import parse

    samples = parse(metrics)
    assert samples['emberwatch_gateway_node_state_changes_total{state="offline"}'] == 1
    assert samples['emberwatch_gateway_node_state_changes_total{state="online"}'] == 1
    assert samples["emberwatch_gateway_received_total"] == 2
    assert samples["emberwatch_gateway_nodes_offline"] == 0
