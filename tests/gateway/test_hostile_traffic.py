"""Nodes that restart, lie about their seq, or flood (issue #14 rows 2 and 7), on real Mosquitto and InfluxDB."""

from __future__ import annotations

import logging
import time

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import schema
from gateway.config import GatewayConfig
from gateway.inbox import BoundedInbox
from gateway.service import GatewayService, open_sink
from tests.harness.node_publisher import StreamPublisher
from tests.harness.servers import wait_until

pytestmark = pytest.mark.integration

T0_MS = 1_782_864_000_000


def alert(site: str, node: str, seq: int, t_ms: int, boot: int | None) -> tuple[str, bytes]:
    if boot is None:  # a schema v1 node: no boot counter
        payload = (f'{{"v":1,"k":"alert","node":"{node}","seq":{seq},"t_ms":{t_ms},"score":900,"thr":500,"temp_cc":2500,'
                   f'"rh_cp":3000,"gas":1000,"gas_q8":-3000,"bat_mv":3700}}').encode()
        return schema.topic(site, node, "alert"), payload
    return schema.topic(site, node, "alert"), schema.encode_alert(
        node, seq, t_ms, 900, 500, 2500, 3000, 1000, -3000, 3700, boot=boot)


def test_a_restarted_node_is_heard_at_once_and_a_huge_seq_cannot_mute_a_node(
        gateway_env: dict[str, str], mosquitto_server, influx_server) -> None:
    """Before: 50 of 50 alerts after a seq restart were dropped, and one seq = 2^53 muted the next 100."""
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    messages = [alert(site, "n01", seq, T0_MS + seq * 1000, boot=1) for seq in range(1, 51)]
    messages += [alert(site, "n01", seq, T0_MS + 100_000 + seq * 1000, boot=2) for seq in range(1, 51)]  # new board
    messages += [alert(site, "v1node", seq, T0_MS + seq * 1000, boot=None) for seq in range(1, 51)]
    messages += [alert(site, "v1node", seq, T0_MS + 100_000 + seq * 1000, boot=None) for seq in range(1, 51)]
    messages.append(alert(site, "n02", 2 ** 53, T0_MS, boot=1))
    messages += [alert(site, "n02", seq, T0_MS + seq * 1000, boot=1) for seq in range(1, 101)]
    with GatewayRun(gateway_env) as gateway:
        StreamPublisher(mosquitto_server.port, messages, rate_per_s=2000).start().join(60)
        wait_until(lambda: gateway.stats.received >= len(messages), 20, "every message received")
        assert gateway.ingest.duplicates == 0
    stored = {}
    from tests.harness.influx_query import influxql

    for row in influxql(influx_server.port, "SELECT seq, boot, node FROM alert", db):
        stored[row["node"]] = stored.get(row["node"], 0) + 1
    assert stored == {"n01": 100, "v1node": 100, "n02": 101}


class GatewayRun:
    """A gateway service on a thread, built here so a test can shrink its inbox or slow its store."""

    def __init__(self, env: dict[str, str], inbox_limit: int | None = None, store_delay_s: float = 0.0) -> None:
        import threading

        config = GatewayConfig.from_env({**env, "EMBERWATCH_MQTT_RECEIVER": "thread"})
        sink = open_sink(config.store)
        if store_delay_s:
            real_write = sink.write

            def slow_write(events):  # a store that takes its time: the inbox fills up
                time.sleep(store_delay_s)
                real_write(events)

            sink.write = slow_write  # type: ignore[method-assign]
        inbox = BoundedInbox(inbox_limit) if inbox_limit else BoundedInbox()
        self.service = GatewayService(config, sink, inbox=inbox)
        self.thread = threading.Thread(target=self.service.run, daemon=True)

    def __enter__(self) -> GatewayService:
        self.thread.start()
        assert self.service.wait_subscribed(15)
        return self.service

    def __exit__(self, *exc: object) -> None:
        self.service.stop()
        self.thread.join(30)


def test_a_qos0_flood_stays_bounded_and_rejections_are_counted_not_logged_one_by_one(
        gateway_env: dict[str, str], mosquitto_server, influx_server, caplog) -> None:
    """Before: a QoS 0 flood queued 62,649 messages (+43 MB) and every rejection wrote a log line."""
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    good = [alert(site, f"n{i % 20:02d}", i // 20 + 1, T0_MS + i, boot=1) for i in range(4000)]
    bad = [(schema.topic(site, "n01", "alert"), b"{not json") for _ in range(2000)]
    flood = client = None
    with caplog.at_level(logging.WARNING, logger="emberwatch.gateway"), \
            GatewayRun(gateway_env, inbox_limit=200, store_delay_s=0.05) as gateway:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="flooder")
        client.connect("127.0.0.1", mosquitto_server.port)
        client.loop_start()
        for i, (topic, payload) in enumerate(good):
            client.publish(topic, payload, qos=0)
            if i % 2 == 0:
                client.publish(*bad[i // 2], qos=0)
        flood = time.monotonic()
        # QoS 0 may be dropped by the broker under pressure; what the gateway took, it stored.
        wait_until(lambda: gateway.inbox.qsize() == 0 and time.monotonic() - flood > 2, 60, "flood drained")
        wait_until(lambda: alert_rows(influx_server.port, db) == gateway.ingest.accepted["alert"], 30,
                   "every accepted alert stored")
        client.disconnect()
        client.loop_stop()
        assert gateway.inbox.high_water <= 200 and gateway.inbox.waits > 0  # backpressure, not a growing queue
        rejected = gateway.ingest.rejected["malformed"]
        assert rejected > 100
    lines = [r for r in caplog.records if r.getMessage().startswith("rejected message")]
    assert 1 <= len(lines) <= 3, len(lines)  # one line per reason per 10 s, with the held-back count
    assert gateway.stats.received > 1000


def alert_rows(port: int, db: str) -> int:
    from tests.harness.influx_query import influxql

    try:
        rows = influxql(port, "SELECT count(seq) FROM alert", db)
    except RuntimeError:
        return 0
    return int(rows[0]["count"]) if rows else 0
