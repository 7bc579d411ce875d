"""Alerts published == alerts stored (by node and seq) across real outages.

Each test that stops a server starts its own (tests/harness/servers.py), so the
session-wide Mosquitto and InfluxDB stay up for everyone else.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gateway.mqtt_source import MqttSource
from tests.harness import servers
from tests.harness.gateway_runner import running_gateway
from tests.harness.influx_query import influxql
from tests.harness.node_publisher import StreamPublisher, alert_keys, alert_messages
from tests.harness.servers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
INFLUX_OUTAGE_S = 30.0


def stored_keys(influx_port: int, db: str) -> set[tuple[str, int]]:
    try:
        rows = influxql(influx_port, "SELECT seq, node FROM alert", db)
    except RuntimeError as exc:  # database not created yet
        if "database not found" in str(exc):
            return set()
        raise
    return {(r["node"], r["seq"]) for r in rows}


def wait_all_stored(influx_port: int, db: str, expected: set[tuple[str, int]], timeout_s: float) -> None:
    last: set[tuple[str, int]] = set()

    def done() -> bool:
        nonlocal last
        last = stored_keys(influx_port, db)
        return last == expected

    try:
        wait_until(done, timeout_s, "every alert stored", interval_s=0.5)
    except TimeoutError:
        raise AssertionError(f"{len(expected - last)} alerts missing, {len(last - expected)} unexpected, "
                             f"e.g. missing {sorted(expected - last)[:5]}") from None


def test_broker_restart_mid_stream_loses_nothing(tmp_path: Path, gateway_env: dict[str, str],
                                                 influx_server: servers.ManagedServer) -> None:
    broker = servers.mosquitto(tmp_path / "mosquitto")
    broker.start()
    env = {**gateway_env, "EMBERWATCH_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}"}
    site, db = env["EMBERWATCH_SITE"], env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=200)
    try:
        with running_gateway(env) as gateway:
            assert gateway.wait_subscribed(15), "gateway subscription"
            publisher = StreamPublisher(broker.port, messages, rate_per_s=500).start()
            wait_until(lambda: publisher.sent >= 600, 20, "first part of the stream")
            broker.stop()  # SIGTERM: Mosquitto saves the gateway's queued session to disk
            time.sleep(1.0)
            broker.start()
            publisher.join()
            wait_all_stored(influx_server.port, db, alert_keys(messages), 60)
            assert gateway.source is not None and gateway.source.connection >= 2  # it did reconnect
    finally:
        broker.stop()


def test_influx_outage_spools_to_disk_then_replays_in_order(tmp_path: Path, gateway_env: dict[str, str],
                                                            mosquitto_server: servers.ManagedServer) -> None:
    influx = servers.influxdb(tmp_path / "influxdb")
    influx.start()
    spool_dir = tmp_path / "spool"
    env = {**gateway_env, "EMBERWATCH_INFLUX_URL": f"http://127.0.0.1:{influx.port}",
           "EMBERWATCH_SPOOL_DIR": str(spool_dir)}
    site, db = env["EMBERWATCH_SITE"], env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=300)
    try:
        with running_gateway(env) as gateway:
            assert gateway.wait_subscribed(15), "gateway subscription"
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
    finally:
        influx.stop()


def health(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return json.load(resp)
    except OSError:
        return {}


def process_env(tmp_path: Path, gateway_env: dict[str, str], **extra: str) -> tuple[dict[str, str], int]:
    """Environment for an `emberwatch gateway` process with a spool and a health port, and that port."""
    health_port = servers.free_port()
    return {**os.environ, **gateway_env, "EMBERWATCH_SPOOL_DIR": str(tmp_path / "spool"),
            "EMBERWATCH_HEALTH_PORT": str(health_port), **extra}, health_port


def start_gateway_process(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "emberwatch.cli", "gateway"], env=env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)


def children_of(pid: int) -> list[int]:
    """Every process whose parent is pid (the receiver child and multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def receiver_child(pid: int) -> int:
    for child in children_of(pid):
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
            return child
    raise AssertionError(f"gateway {pid} has no receiver process")


@pytest.mark.parametrize("victim", ["gateway", "receiver"])
def test_killed_with_sigkill_mid_stream_then_restarted_loses_nothing(
        victim: str, tmp_path: Path, gateway_env: dict[str, str], mosquitto_server: servers.ManagedServer,
        influx_server: servers.ManagedServer) -> None:
    """SIGKILL of the gateway process, or of its MQTT receiver child (then the gateway exits 1)."""
    env, health_port = process_env(tmp_path, gateway_env, EMBERWATCH_MQTT_RECEIVER="process")
    site, db = env["EMBERWATCH_SITE"], env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=300)
    log_path = tmp_path / "gateway.log"
    proc = start_gateway_process(env, log_path)
    try:
        wait_until(lambda: health(health_port).get("subscribed"), 30, "gateway process subscribed")
        publisher = StreamPublisher(mosquitto_server.port, messages, rate_per_s=1000).start()
        wait_until(lambda: len(stored_keys(influx_server.port, db)) >= 300, 30, "first alerts stored",
                   interval_s=0.1)
        children = children_of(proc.pid)
        receiver = receiver_child(proc.pid)
        if victim == "gateway":
            proc.kill()
            proc.wait(10)
            # No orphan keeps the broker session or takes messages nobody will store.
            wait_until(lambda: not any(is_alive(child) for child in children), 10, "the gateway's children exited")
        else:
            os.kill(receiver, signal.SIGKILL)
            assert proc.wait(15) == 1  # for its supervisor (compose, systemd) to restart it
            assert "MQTT receiver process died" in log_path.read_text()
        assert publisher.sent < len(messages), "the kill should land mid-stream"
        proc = start_gateway_process(env, log_path)
        wait_until(lambda: health(health_port).get("subscribed"), 30, "restarted gateway subscribed")
        publisher.join()
        wait_all_stored(influx_server.port, db, alert_keys(messages), 60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    last = json.loads(log_path.read_text().strip().splitlines()[-1])
    assert last["msg"] == "gateway stopped" and last["spool_pending"] == 0


def test_gateway_killed_while_spooling_then_restarted_with_the_store_back(
        tmp_path: Path, gateway_env: dict[str, str], mosquitto_server: servers.ManagedServer) -> None:
    influx = servers.influxdb(tmp_path / "influxdb")
    influx.start()
    env, health_port = process_env(tmp_path, gateway_env, EMBERWATCH_INFLUX_URL=f"http://127.0.0.1:{influx.port}")
    site, db = env["EMBERWATCH_SITE"], env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=200)
    log_path = tmp_path / "gateway.log"
    proc = start_gateway_process(env, log_path)
    try:
        wait_until(lambda: health(health_port).get("subscribed"), 30, "gateway process subscribed")
        influx.stop()
        publisher = StreamPublisher(mosquitto_server.port, messages, rate_per_s=1000).start()
        wait_until(lambda: health(health_port).get("spool_pending", 0) >= 500, 30, "spooling under way",
                   interval_s=0.05)
        proc.kill()  # mid-spool: fsync'd records were acked, the rest is still the broker's
        proc.wait(10)
        assert publisher.sent < len(messages), "the kill should land mid-stream"
        influx.start()
        proc = start_gateway_process(env, log_path)
        publisher.join()
        wait_all_stored(influx.port, db, alert_keys(messages), 60)
        wait_until(lambda: health(health_port).get("spool_pending") == 0, 10, "spool drained")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        influx.stop()


def test_single_process_receiver_stores_every_alert(
        gateway_env: dict[str, str], mosquitto_server: servers.ManagedServer,
        influx_server: servers.ManagedServer) -> None:
    """EMBERWATCH_MQTT_RECEIVER=thread (for single-core hosts): the same service, paho on a thread."""
    env = {**gateway_env, "EMBERWATCH_MQTT_RECEIVER": "thread"}
    messages = alert_messages(env["EMBERWATCH_SITE"], nodes=10, per_node=100)
    with running_gateway(env) as gateway:
        assert gateway.wait_subscribed(15)
        assert isinstance(gateway.source, MqttSource)
        StreamPublisher(mosquitto_server.port, messages, rate_per_s=2000).start().join()
        wait_all_stored(influx_server.port, env["EMBERWATCH_INFLUX_DB"], alert_keys(messages), 30)
