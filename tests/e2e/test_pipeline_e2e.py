"""Simulated nodes -> real Mosquitto -> gateway -> real InfluxDB 1.6.7, counting what arrives."""

from __future__ import annotations

import json

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import schema
from edge_node.core.features import GAS_SIGN_RESISTANCE, gas_index_q8
from edge_node.core.pipeline import default_pipeline
from tests.harness.gateway_runner import running_gateway
from tests.harness.influx_query import influxql
from tests.harness.servers import wait_until

pytestmark = pytest.mark.integration

T0_MS = 1_782_864_000_000  # 2026-07-01T00:00Z
SAMPLE_S = 60


def node_messages(site: str, node: str, fire_at_step: int | None, steps: int) -> list[tuple[str, bytes]]:
    """Run the real core on a synthetic trace; a fire ramps temperature up and gas resistance down."""
    pipeline = default_pipeline()
    out: list[tuple[str, bytes]] = []
    seq = 0
    for step in range(steps):
        t_ms = T0_MS + step * SAMPLE_S * 1000
        heat = 0 if fire_at_step is None or step < fire_at_step else (step - fire_at_step)
        temp_cc = 1800 + (step % 7) * 3 + heat * 150
        rh_cp = 5500 - heat * 200 if heat * 200 < 5000 else 500
        gas_ohm = max(2_000, 80_000 - heat * 12_000)
        gas_q8 = gas_index_q8(gas_ohm, GAS_SIGN_RESISTANCE)
        alert, score, _ = pipeline.step(t_ms, SAMPLE_S, temp_cc, rh_cp, gas_q8)
        if alert:
            seq += 1
            out.append((schema.topic(site, node, "alert"), schema.encode_alert(
                node, seq, t_ms, score, pipeline.scorer.threshold, temp_cc, rh_cp, gas_ohm, gas_q8, 3700)))
        if step % 30 == 0:
            seq += 1
            out.append((schema.topic(site, node, "heartbeat"), schema.encode_heartbeat(
                node, seq, t_ms, 3700, temp_cc, rh_cp, gas_q8, 0, 45_000_000 + step, 7_000_000)))
    return out


def publish_all(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="e2e-nodes")
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(timeout=30)
    client.disconnect()
    client.loop_stop()


def test_alerts_published_equal_alerts_stored_and_bad_input_is_counted(
        gateway_env: dict[str, str], mosquitto_server, influx_server) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    messages: list[tuple[str, bytes]] = []
    for i in range(8):
        messages += node_messages(site, f"n{i:02d}", fire_at_step=100 + 10 * i if i % 2 == 0 else None, steps=240)
    alerts = {(json.loads(p)["node"], json.loads(p)["seq"]) for t, p in messages if t.endswith("/alert")}
    assert len(alerts) >= 4, "the synthetic fires should make several nodes alert"

    good_alert = messages[0][1]
    bad = [
        (schema.topic(site, "n00", "alert"), b"{not json"),
        (schema.topic(site, "n00", "alert"), b"x" * (schema.MAX_PAYLOAD_BYTES + 1)),
        (schema.topic(site, "n00", "alert"), good_alert.replace(b'"v":2', b'"v":9')),
        (schema.topic(site, "intruder", "alert"), good_alert),
        (f"emberwatch/v1/{site}/n00/alert/extra", good_alert),
    ]
    with running_gateway(gateway_env) as gateway:
        publish_all(mosquitto_server.port, messages[: len(messages) // 2] + bad + messages[len(messages) // 2:])
        wait_until(lambda: gateway.stats.stored >= len(messages), 60, "all messages stored")
        rejected = dict(gateway.ingest.rejected)

    stored = {(r["node"], r["seq"]) for r in influxql(influx_server.port, "SELECT seq, node FROM alert", db)}
    assert stored == alerts
    assert rejected == {"malformed": 1, "oversized": 1, "bad_version": 1, "node_mismatch": 1}
    heartbeats = influxql(influx_server.port, "SELECT count(seq) FROM heartbeat", db)
    assert heartbeats[0]["count"] == len(messages) - len(alerts)

