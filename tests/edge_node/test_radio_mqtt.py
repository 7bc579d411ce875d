"""MqttRadio against a real Mosquitto: retained online, last will offline, QoS 1 delivery, errors.

The board runs umqtt.simple; here a paho-backed client with umqtt.simple's
method signatures stands in for it (umqtt needs MicroPython sockets), so the
radio's own logic meets a real broker.
"""

from __future__ import annotations

import queue
import socket

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import schema
from edge_node.radio import MqttRadio
from edge_node.wake import RadioError
from tests.edge_node.fakes import make_config

pytestmark = pytest.mark.integration


class PahoAsUmqtt:
    """umqtt.simple.MQTTClient's surface, on paho (blocking QoS 1 publish like umqtt's)."""

    def __init__(self, client_id, host, port, user, password, keepalive, timeout_s=5) -> None:
        self.host, self.port, self.keepalive = host, port, keepalive
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if user:
            self.client.username_pw_set(user, password)

    def set_last_will(self, topic, msg, retain=False, qos=0) -> None:
        self.client.will_set(topic, msg, qos, retain)

    def connect(self) -> None:
        self.client.connect(self.host, self.port, self.keepalive)  # raises OSError when refused
        self.client.loop_start()

    def publish(self, topic, msg, retain=False, qos=0) -> None:
        info = self.client.publish(topic, msg, qos, retain)
        info.wait_for_publish(5)
        if not info.is_published():
            raise OSError("no PUBACK")

    def disconnect(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def die(self) -> None:
        """Vanish without DISCONNECT, as a node whose battery dies mid-wake."""
        self.client.loop_stop()
        self.client.socket().close()


class FakeWlan:
    def __init__(self, joins: bool = True) -> None:
        self.joins = joins
        self.on = False
        self.joined = False

    def active(self, on=None):
        if on is not None:
            self.on = on
            self.joined = self.joined and on
        return self.on

    def isconnected(self) -> bool:
        return self.joined

    def connect(self, ssid, password) -> None:
        self.joined = self.joins


def _subscriber(port: int, topic: str) -> tuple[mqtt.Client, queue.Queue]:
    got: queue.Queue = queue.Queue()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_message = lambda c, u, m: got.put((m.topic, m.payload, m.retain))
    sub.connect("127.0.0.1", port)
    sub.subscribe(topic, qos=1)
    sub.loop_start()
    return sub, got


def _next(got: queue.Queue) -> tuple[str, bytes, bool]:
    return got.get(timeout=5)


def test_online_alert_and_last_will_reach_a_real_broker(mosquitto_server) -> None:
    cfg = make_config(broker_host="127.0.0.1", broker_port=mosquitto_server.port, node="radio1")
    clients: list[PahoAsUmqtt] = []

    def factory(*args):
        clients.append(PahoAsUmqtt(*args))
        return clients[-1]

    status = schema.topic(cfg.site, cfg.node, "status")
    sub, got = _subscriber(mosquitto_server.port, "emberwatch/v1/" + cfg.site + "/radio1/#")
    try:
        wlan = FakeWlan()
        radio = MqttRadio(cfg, wlan, factory)
        radio.connect()
        assert _next(got)[:2] == (status, schema.encode_status("radio1", "online"))
        alert = schema.encode_alert("radio1", 1, 1780000000000, 500, 100, 4000, 2000, 9000, -3000, 3700)
        radio.publish(schema.topic(cfg.site, cfg.node, "alert"), alert, False, 1)
        assert _next(got)[1] == alert
        radio.disconnect()
        assert wlan.on is False, "Wi-Fi must be off before deep sleep"

        radio.connect()
        assert _next(got)[1] == schema.encode_status("radio1", "online")
        clients[-1].die()
        topic, payload, _ = _next(got)
        assert (topic, schema.decode(topic, payload)["state"]) == (status, "offline")
    finally:
        sub.loop_stop()
        sub.disconnect()
    late, late_got = _subscriber(mosquitto_server.port, status)
    try:
        topic, payload, retained = _next(late_got)
        assert retained and schema.decode(topic, payload)["state"] == "offline"
    finally:
        late.loop_stop()
        late.disconnect()


def test_unreachable_broker_and_missing_wifi_raise_radio_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    cfg = make_config(broker_host="127.0.0.1", broker_port=closed_port, wifi_timeout_s=1)
    radio = MqttRadio(cfg, FakeWlan(), PahoAsUmqtt)
    with pytest.raises(RadioError, match="mqtt connect"):
        radio.connect()
    with pytest.raises(RadioError, match="not connected"):
        radio.publish("t", b"x", False, 1)
    wlan = FakeWlan(joins=False)
    with pytest.raises(RadioError, match="wifi: no connection"):
        MqttRadio(cfg, wlan, PahoAsUmqtt).connect()
    assert wlan.on is False
