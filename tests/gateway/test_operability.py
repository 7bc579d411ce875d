"""What an operator sees when things break (issue #14 row 8), on real Mosquitto and InfluxDB.

/healthz tells the truth, an unreachable broker is logged (with back-off, not once a
second), and a password in a URL never reaches a message.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.gateway_process import ROOT
from tests.harness.gateway_runner import own_broker, own_influx, running_gateway
from tests.harness.influx_query import wait_all_stored
from tests.harness.node_publisher import StreamPublisher, alert_keys, alert_messages
from tests.harness.servers import wait_until

pytestmark = pytest.mark.integration


def test_health_is_degraded_while_the_store_is_down_and_nothing_can_hold_the_batch(
        tmp_path: Path, gateway_env: dict[str, str], mosquitto_server) -> None:
    """Before: /healthz said ok while InfluxDB was down and no spool was set."""
    messages = alert_messages(gateway_env["EMBERWATCH_SITE"], nodes=2, per_node=5)
    with own_influx(gateway_env, tmp_path / "influxdb") as (influx, env):  # no spool
        with running_gateway(env) as gateway:
            assert gateway.health()[0]
            influx.stop()
            StreamPublisher(mosquitto_server.port, messages).start().join(30)
            wait_until(lambda: not gateway.health()[0], 15, "degraded")
            assert gateway.health()[1]["problems"] == ["store down and nothing can hold new events"]
            influx.start()
            wait_all_stored(influx.port, env["EMBERWATCH_INFLUX_DB"], alert_keys(messages), 30)  # held unacked
            wait_until(lambda: gateway.health()[0], 10, "healthy again")


def test_an_unreachable_broker_is_degraded_health_and_logged_with_back_off(
        tmp_path: Path, gateway_env: dict[str, str], influx_server, caplog) -> None:
    """Before: an unreachable broker logged nothing, even at DEBUG."""
    thread_env = {**gateway_env, "EMBERWATCH_MQTT_RECEIVER": "thread"}
    with own_broker(thread_env, tmp_path / "mosquitto") as (broker, env):
        with caplog.at_level(logging.INFO, logger="emberwatch.gateway"), running_gateway(env) as gateway:
            broker.stop()
            wait_until(lambda: gateway.health()[1]["problems"] == ["broker unreachable"], 10, "degraded")

            def attempts_logged() -> list[str]:
                return [r.getMessage() for r in caplog.records if "cannot reach the MQTT broker" in r.getMessage()]

            wait_until(lambda: len(attempts_logged()) >= 2, 20, "failed attempts logged")
            assert "attempt 1)" in attempts_logged()[0] and "attempt 2)" in attempts_logged()[1]
            broker.start()
            wait_until(lambda: gateway.health()[0], 40, "healthy again")
            assert any("broker reachable again" in r.getMessage() for r in caplog.records)


def test_a_password_in_a_url_never_reaches_the_output(tmp_path: Path) -> None:
    """Before: a config error printed EMBERWATCH_MQTT_URL with its user:password@."""
    env = {**os.environ, "EMBERWATCH_MQTT_URL": "mqtt://gateway:hunter2-secret@broker:99999",
           "EMBERWATCH_INFLUX_URL": "http://writer:influx-secret@127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-m", "emberwatch.cli", "gateway"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "EMBERWATCH_MQTT_URL" in result.stderr and "gateway:***@broker" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout and "influx-secret" not in result.stderr + result.stdout
    # A store that does not answer: the retry log quotes its URL, redacted.
    env["EMBERWATCH_MQTT_URL"] = "mqtt://127.0.0.1:1"
    log_path = tmp_path / "gateway.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "emberwatch.cli", "gateway"], env=env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "store not reachable yet" in log_path.read_text(), 30, "the store retry logged")
    finally:
        proc.terminate()
        proc.wait(20)
    out = log_path.read_text()
    assert "writer:***@127.0.0.1" in out and "influx-secret" not in out
