"""Alerts published == alerts stored (by node and seq) across real outages.

Each test that stops a server starts its own (tests/harness/servers.py), so the
session-wide Mosquitto and InfluxDB stay up for everyone else.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from gateway.mqtt_source import MqttSource
from tests.harness import servers
from tests.harness.gateway_process import GatewayProcess, receiver_child
from tests.harness.gateway_runner import own_broker, own_influx, running_gateway
from tests.harness.influx_query import stored_alert_keys, wait_all_stored
from tests.harness.node_publisher import StreamPublisher, alert_keys, alert_messages
from tests.harness.servers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INFLUX_OUTAGE_S = 30.0


def test_broker_restart_mid_stream_loses_nothing(tmp_path: Path, gateway_env: dict[str, str],
                                                 influx_server: servers.ManagedServer) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=200)
    with own_broker(gateway_env, tmp_path / "mosquitto") as (broker, env):
        with running_gateway(env) as gateway:
            publisher = StreamPublisher(broker.port, messages, rate_per_s=500).start()
            wait_until(lambda: publisher.sent >= 600, 20, "first part of the stream")
            broker.stop()  # SIGTERM: Mosquitto saves the gateway's queued session to disk
            time.sleep(1.0)
            broker.start()
            publisher.join()
            wait_all_stored(influx_server.port, db, alert_keys(messages), 60)
            assert gateway.source is not None and gateway.source.connection >= 2  # it did reconnect


def test_influx_outage_spools_to_disk_then_replays_in_order(tmp_path: Path, gateway_env: dict[str, str],
                                                            mosquitto_server: servers.ManagedServer) -> None:
    spool_dir = tmp_path / "spool"
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=300)
    with own_influx({**gateway_env, "EMBERWATCH_SPOOL_DIR": str(spool_dir)}, tmp_path / "influxdb") as (influx, env):
        with running_gateway(env) as gateway:
            publisher = StreamPublisher(mosquitto_server.port, messages, rate_per_s=80).start()
            wait_until(lambda: gateway.stats.stored >= 200, 20, "first alerts stored")
            influx.stop()
            stopped_at = time.monotonic()
            wait_until(lambda: gateway.stats.spooled > 0, 15, "spooling")
            time.sleep(max(0.0, INFLUX_OUTAGE_S - (time.monotonic() - stopped_at)))
            # Everything the broker delivered during the outage was made durable on disk and acked.
            assert not gateway.store_available and gateway.health()[0]
            assert gateway.stats.spooled >= 1500 and len(gateway.spool or []) == gateway.stats.spooled
            influx.start()
            publisher.join()
            wait_all_stored(influx.port, db, alert_keys(messages), 60)
            assert gateway.stats.replayed == gateway.stats.spooled
            assert gateway.store_available and len(gateway.spool or []) == 0
        assert list(spool_dir.iterdir()) == []


@pytest.mark.parametrize("victim", ["gateway", "receiver"])
def test_killed_with_sigkill_mid_stream_then_restarted_loses_nothing(
        victim: str, tmp_path: Path, gateway_env: dict[str, str], mosquitto_server: servers.ManagedServer,
        influx_server: servers.ManagedServer) -> None:
    """SIGKILL of the gateway process, or of its MQTT receiver child (then the gateway exits 1)."""
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=300)
    with GatewayProcess(tmp_path, gateway_env, EMBERWATCH_MQTT_RECEIVER="process") as gateway:
        publisher = StreamPublisher(mosquitto_server.port, messages, rate_per_s=1000).start()
        wait_until(lambda: len(stored_alert_keys(influx_server.port, db)) >= 300, 30, "first alerts stored",
                   interval_s=0.1)
        assert gateway.proc is not None
        receiver = receiver_child(gateway.proc.pid)
        if victim == "gateway":
            gateway.kill_9()
        else:
            os.kill(receiver, signal.SIGKILL)
            assert gateway.proc.wait(15) == 1  # for its supervisor (compose, systemd) to restart it
            assert "MQTT receiver process died" in gateway.log_path.read_text()
        assert publisher.sent < len(messages), "the kill should land mid-stream"
        gateway.start("restarted gateway subscribed")
        publisher.join()
        wait_all_stored(influx_server.port, db, alert_keys(messages), 60)
        assert gateway.stop() == 0
    last = json.loads(gateway.log_path.read_text().strip().splitlines()[-1])
    assert last["msg"] == "gateway stopped" and last["spool_pending"] == 0


def test_gateway_killed_while_spooling_then_restarted_with_the_store_back(
        tmp_path: Path, gateway_env: dict[str, str], mosquitto_server: servers.ManagedServer) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=200)
    with own_influx(gateway_env, tmp_path / "influxdb") as (influx, influx_env), \
            GatewayProcess(tmp_path, influx_env) as gateway:
        influx.stop()
        publisher = StreamPublisher(mosquitto_server.port, messages, rate_per_s=1000).start()
        wait_until(lambda: gateway.health().get("spool_pending", 0) >= 500, 30, "spooling under way",
                   interval_s=0.05)
        gateway.kill_9()  # mid-spool: fsync'd records were acked, the rest is still the broker's
        assert publisher.sent < len(messages), "the kill should land mid-stream"
        influx.start()
        gateway.start("restarted gateway subscribed")
        publisher.join()
        wait_all_stored(influx.port, db, alert_keys(messages), 60)
        wait_until(lambda: gateway.health().get("spool_pending") == 0, 10, "spool drained")


def test_single_process_receiver_stores_every_alert(
        gateway_env: dict[str, str], mosquitto_server: servers.ManagedServer,
        influx_server: servers.ManagedServer) -> None:
    """EMBERWATCH_MQTT_RECEIVER=thread (for single-core hosts): the same service, paho on a thread."""
    env = {**gateway_env, "EMBERWATCH_MQTT_RECEIVER": "thread"}
    messages = alert_messages(env["EMBERWATCH_SITE"], nodes=10, per_node=100)
    with running_gateway(env) as gateway:
        assert isinstance(gateway.source, MqttSource)
        StreamPublisher(mosquitto_server.port, messages, rate_per_s=2000).start().join()
        wait_all_stored(influx_server.port, env["EMBERWATCH_INFLUX_DB"], alert_keys(messages), 30)
