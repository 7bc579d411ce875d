"""MQTT adapter (paho-mqtt 2.x): a persistent QoS 1 subscription with manual acks.

Messages are handed over with their message id; the service acks them only
after the batch is durable, so a crash before that makes the broker deliver
them again (clean_session=False + stable client id keeps them queued).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

import paho.mqtt.client as mqtt

from edge_node.core.schema import TOPIC_PREFIX
from gateway.config import MqttSettings

log = logging.getLogger("emberwatch.gateway.mqtt")


class Received(NamedTuple):  # a tuple: it crosses from the receiver process in pickled batches
    topic: str
    payload: bytes
    mid: int
    qos: int
    received_ms: int
    connection: int = 0  # which connection delivered it: a packet id means nothing on another


class MessageSource(Protocol):
    """What the service needs of a receiver: `MqttSource` here, or `ReceiverProcess` in a child."""

    connected: bool
    connection: int  # connections made so far; a redelivery comes on a later one
    failed: bool  # the receiver died on its own (only a child process can)
    subscribed: threading.Event

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def ack_all(self, items: list[Received]) -> None: ...


def delivery_ids(items: list[Received]) -> list[tuple[int, int, int]]:
    """What a PUBACK needs of each QoS > 0 item: (mid, qos, connection)."""
    return [(i.mid, i.qos, i.connection) for i in items if i.qos > 0]


def subscription_topic(settings: MqttSettings) -> str:
    topic = f"{TOPIC_PREFIX}/{settings.site}/+/+"
    return f"$share/{settings.share_group}/{topic}" if settings.share_group else topic


class MqttSource:
    def __init__(self, settings: MqttSettings, deliver: Callable[[Received], object]) -> None:
        self.settings = settings
        self.deliver = deliver  # called on paho's thread for every message
        self.connected = False
        self.failed = False  # never set here; ReceiverProcess sets it when its child dies on its own
        self.connection = 0
        self.subscribed = threading.Event()  # set once the broker has granted the subscription
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=settings.client_id,
                                  clean_session=False, protocol=mqtt.MQTTv311, manual_ack=True)
        if settings.username:
            self.client.username_pw_set(settings.username, settings.password)
        if settings.tls:
            self.client.tls_set(ca_certs=settings.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect_fail = self._on_connect_fail
        self.failed_attempts = 0  # connection attempts that failed since the last success
        self._log_attempt = 1  # the failed attempt that gets the next log line (then doubles)

    def start(self) -> None:
        self.client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def ack_all(self, items: list[Received]) -> None:
        """PUBACK every item of a durable batch."""
        self.ack_deliveries(delivery_ids(items))

    def ack_deliveries(self, deliveries: list[tuple[int, int, int]]) -> None:
        """PUBACK (mid, qos, connection) deliveries.

        After a reconnect the broker resends what was not acked (same data, new
        delivery); acking an old packet id could ack a different, newer message,
        so only this connection's deliveries are acked.
        """
        acks = [(mid, qos) for mid, qos, connection in deliveries if connection == self.connection]
        # paho wakes its network thread with one socketpair write per queued packet; for a batch of
        # acks that is a syscall and a thread switch each (about a fifth of the gateway's CPU at full
        # load). Queue them with the wake-up muted, then wake it once. Falls back to plain acks if
        # a paho release renames the attribute.
        wake = getattr(self.client, "_sockpairW", None)
        if wake is None or len(acks) < 2:
            for mid, qos in acks:
                self.client.ack(mid, qos)
            return
        self.client._sockpairW = None
        try:
            for mid, qos in acks:
                self.client.ack(mid, qos)
        finally:
            self.client._sockpairW = wake
        try:
            wake.send(b"0")
        except BlockingIOError:
            pass  # a wake-up is already pending

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        if reason_code.is_failure:
            log.error("MQTT connect refused: %s", reason_code)
            return
        self.connected = True
        self.connection += 1
        if self.failed_attempts:
            log.info("broker reachable again after %d failed connection attempts", self.failed_attempts)
        self.failed_attempts, self._log_attempt = 0, 1
        topic = subscription_topic(self.settings)
        client.subscribe(topic, qos=1)
        log.info("connected to %s:%d, subscribed to %s (session present: %s)",
                 self.settings.host, self.settings.port, topic, flags.session_present)

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        """paho retries on its own (1 s doubling to 30 s); log attempts 1, 2, 4, 8, ... so an
        unreachable broker is visible without a line per second."""
        self.failed_attempts += 1
        if self.failed_attempts >= self._log_attempt:
            self._log_attempt *= 2
            log.warning("cannot reach the MQTT broker at %s:%d (attempt %d); retrying with back-off up to 30 s",
                        self.settings.host, self.settings.port, self.failed_attempts,
                        extra={"fields": {"failed_attempts": self.failed_attempts}})

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reason_codes: list[mqtt.ReasonCode], properties: object) -> None:
        if all(not rc.is_failure for rc in reason_codes):
            self.subscribed.set()
        else:
            log.error("subscription refused: %s", reason_codes)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason_code: mqtt.ReasonCode, properties: object) -> None:
        self.connected = False
        self.subscribed.clear()
        if reason_code.is_failure:
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:  # ingest rejects it with a reason instead of crashing here
            topic = bytes(msg._topic).decode("utf-8", "replace")
        self.deliver(Received(topic, bytes(msg.payload), msg.mid, msg.qos, int(time.time() * 1000), self.connection))
