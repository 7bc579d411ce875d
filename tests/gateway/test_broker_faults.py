"""The broker under attack and failure (issue #14 rows 1 and 6), on a real Mosquitto with the shipped settings.

- kill -9 of the broker, with the gateway away (everything queued for its session) and
  with it consuming: nothing the broker acknowledged to a node and then saved is lost; only
  alerts acked after its last completed save may be, and the test prints how many were;
- a node login connecting with the gateway's client id does not kick the gateway off.

Mosquitto sends a PUBACK before the save that holds the message (tests/harness/broker_saves.py),
so a kill right after an ack can lose that alert: asserting 0 lost failed that way in about half
the runs on the 2-core machine. The tests read the broker's saved database instead of racing
that window.
"""

from __future__ import annotations

import shutil
import signal
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import schema
from tests.harness import servers
from tests.harness.broker_saves import last_save_s, unsaved, wait_saved
from tests.harness.gateway_runner import own_broker, running_gateway
from tests.harness.influx_query import wait_all_stored, wait_stored_but_for
from tests.harness.node_publisher import StreamPublisher, alert_key, alert_keys, alert_messages
from tests.harness.servers import shipped_broker_lines, wait_until

pytestmark = pytest.mark.integration

# The shipped broker saves after every loop turn that changed anything: within milliseconds of a
# PUBACK (SAVED_WITHIN_S), and while alerts stream in its last completed save is never older than
# one save (LAST_SAVE_WITHIN_S before a kill). Both leave room for a loaded machine and still fail
# a broker saving on a timer (`autosave_interval 60` never saved within either).
SAVED_WITHIN_S = 10.0
LAST_SAVE_WITHIN_S = 2.0


def test_broker_kill9_with_the_gateway_away_loses_nothing_saved(tmp_path: Path, gateway_env: dict[str, str],
                                                                influx_server: servers.ManagedServer) -> None:
    """Before: with `autosave_interval 60`, 5,000 of 5,000 queued alerts were lost."""
    messages = alert_messages(gateway_env["EMBERWATCH_SITE"], nodes=10, per_node=50)
    payloads = [payload for _, payload in messages]
    with own_broker(gateway_env, tmp_path / "mosquitto", persistence_conf=servers.DURABLE_PERSISTENCE) as (broker, env):
        with running_gateway(env):  # creates the gateway's persistent session, then goes away
            pass
        publisher = StreamPublisher(broker.port, messages, client_id="nodes").start()
        publisher.join(60)  # every alert acknowledged by the broker: the nodes consider them delivered
        unsaved_at_last_ack = len(unsaved(broker, payloads))
        wait_saved(broker, payloads, SAVED_WITHIN_S)  # the broker saved, then crashed
        broker.stop(signal.SIGKILL)
        broker.start()
        with running_gateway(env):
            wait_all_stored(influx_server.port, env["EMBERWATCH_INFLUX_DB"], alert_keys(messages), 30)
    print(f"gateway away: {unsaved_at_last_ack} of {len(messages)} acked alerts not yet in the broker's saved "
          f"database right after the last PUBACK; killed once all were: 0 lost")


def test_broker_kill9_mid_stream_loses_nothing_saved(tmp_path: Path, gateway_env: dict[str, str],
                                                     influx_server: servers.ManagedServer) -> None:
    """Before: 3,500 of 10,000 lost (the broker came back without the gateway's session)."""
    messages = alert_messages(gateway_env["EMBERWATCH_SITE"], nodes=10, per_node=100)
    with own_broker(gateway_env, tmp_path / "mosquitto", persistence_conf=servers.DURABLE_PERSISTENCE) as (broker, env):
        with running_gateway(env):
            # Nodes resend what the broker did not acknowledge (as the firmware's outbox does).
            publisher = StreamPublisher(broker.port, messages, rate_per_s=400, resend_after_s=2).start()
            wait_until(lambda: publisher.sent >= 300, 20, "first part of the stream")
            connection = publisher.connections
            killed_at_s = time.time()
            broker.stop(signal.SIGKILL)
            saved_at_s = last_save_s(broker)  # the save the broker restarts from
            assert saved_at_s is not None, "the broker never saved before the kill"
            assert killed_at_s - saved_at_s < LAST_SAVE_WITHIN_S, \
                f"the broker's last save was {killed_at_s - saved_at_s:.1f} s before the kill"
            time.sleep(0.5)
            broker.start()
            publisher.join(120)
            # Acked at or after the last save's last write, by the broker that was killed.
            may_lose = {alert_key(messages[i]) for i in publisher.acked_since(saved_at_s, connection)}
            lost = wait_stored_but_for(influx_server.port, env["EMBERWATCH_INFLUX_DB"], alert_keys(messages),
                                       may_lose, 60)
    print(f"mid-stream: last save {1000 * (killed_at_s - saved_at_s):.0f} ms before the kill, "
          f"{len(may_lose)} alerts acked since, {len(lost)} of them lost (of {len(messages)})")


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None and not Path("/usr/bin/mosquitto_passwd").exists(),
                    reason="mosquitto_passwd not installed")
def test_a_node_login_cannot_take_the_gateways_client_id(tmp_path: Path, gateway_env: dict[str, str],
                                                         influx_server: servers.ManagedServer) -> None:
    """Before: a node login connecting as `emberwatch-gateway` kicked the gateway off (135-144 of 160 lost)."""
    passwords = {"gateway": "gw-secret", "ridge.n01": "n01-secret", "ridge.n02": "n02-secret"}
    password_file = servers.password_file(tmp_path / "passwd", passwords)
    acl = Path(__file__).with_name("mosquitto_test.acl")
    broker_conf = (f"allow_anonymous false\npassword_file {password_file}\nacl_file {acl}\n"
                   + shipped_broker_lines("use_username_as_clientid"))
    login_env = {**gateway_env, "EMBERWATCH_SITE": "ridge", "EMBERWATCH_MQTT_USERNAME": "gateway",
                 "EMBERWATCH_MQTT_PASSWORD": passwords["gateway"]}
    login_env.pop("EMBERWATCH_MQTT_CLIENT_ID")  # the default: the login itself
    messages = [(schema.topic("ridge", "n02", "alert"), schema.encode_alert(
        "n02", seq, 1_782_864_000_000 + seq * 1000, 900, 500, 2500, 3000, 1000, -3000, 3700)) for seq in range(1, 161)]
    stop = threading.Event()
    takeovers: list[str] = []

    def steal() -> None:  # what a stolen node key tries: every id the gateway might use
        ids = ["emberwatch-gateway", "gateway", gateway_env["EMBERWATCH_MQTT_CLIENT_ID"]]
        while not stop.is_set():
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=ids[len(takeovers) % len(ids)])
            client.username_pw_set("ridge.n01", passwords["ridge.n01"])
            try:
                client.connect("127.0.0.1", broker.port)
                client.loop(0.2)
                takeovers.append(str(client._client_id))
                client.disconnect()
            except OSError:
                pass

    try:
        with own_broker(login_env, tmp_path / "mosquitto", extra_conf=broker_conf) as (broker, env), \
                running_gateway(env) as gateway:
            assert gateway.config.mqtt.client_id == "gateway"
            thief = threading.Thread(target=steal, daemon=True)
            thief.start()
            StreamPublisher(broker.port, messages, rate_per_s=80, client_id="node-n02",
                            username="ridge.n02", password=passwords["ridge.n02"]).start().join(60)
            stop.set()
            thief.join(5)
            wait_all_stored(influx_server.port, env["EMBERWATCH_INFLUX_DB"], {("n02", s) for s in range(1, 161)}, 20)
            assert len(takeovers) >= 10  # the thief kept trying the whole time
            assert gateway.source is not None and gateway.source.connection == 1  # never kicked off
    finally:
        stop.set()
