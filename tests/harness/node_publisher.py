"""Publish node messages to a real broker at a steady rate, riding out broker restarts.

A message counts as published only when the broker acked it (QoS 1); anything
not acked in time is sent again, which the gateway's (node, seq) de-duplication
absorbs. Each message's first PUBACK is timed (wall clock, and which connection
brought it), so a kill -9 test can tell which acks its broker may still lose.
Used by the gateway's outage tests and its benchmark.
"""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt

from edge_node.core import schema

T0_MS = 1_782_864_000_000  # 2026-07-01T00:00Z


def alert_messages(site: str, nodes: int, per_node: int, t0_ms: int = T0_MS) -> list[tuple[str, bytes]]:
    """Alerts interleaved across nodes; each (node, seq) has its own event time, as real ones do."""
    out = []
    for seq in range(1, per_node + 1):
        for i in range(nodes):
            node = f"n{i:03d}"
            out.append((schema.topic(site, node, "alert"), schema.encode_alert(
                node, seq, t0_ms + seq * 1000 + i, 700 + seq % 50, 500, 2500, 3000, 40_000, -3900, 3700)))
    return out


def alert_key(message: tuple[str, bytes]) -> tuple[str, int]:
    """(node, seq) of one (topic, payload) alert."""
    msg = schema.decode(*message)
    return msg["node"], msg["seq"]


def alert_keys(messages: list[tuple[str, bytes]]) -> set[tuple[str, int]]:
    return {alert_key(message) for message in messages}


class StreamPublisher:
    """Publishes on its own thread at rate_per_s (None: as fast as the broker takes them)."""

    def __init__(self, port: int, messages: list[tuple[str, bytes]], rate_per_s: float | None = None,
                 client_id: str = "test-nodes", resend_after_s: float = 5.0,
                 username: str | None = None, password: str | None = None) -> None:
        self.port = port
        self.messages = messages
        self.rate_per_s = rate_per_s
        self.resend_after_s = resend_after_s
        self.sent = 0  # handed to paho
        self.resent = 0
        self.error: BaseException | None = None
        self.connections = 0  # CONNACKs so far: 1 on the first connection, 2 after a reconnect, ...
        # index of a message in messages -> (wall-clock s, connection) of its first PUBACK
        self.first_ack: dict[int, tuple[float, int]] = {}
        self._ack_of: dict[mqtt.MQTTMessageInfo, tuple[float, int]] = {}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        if username:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=1)
        self.client.max_inflight_messages_set(100)
        self._thread = threading.Thread(target=self._run, name="node-publisher", daemon=True)

    def start(self) -> StreamPublisher:
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        self._thread.start()
        return self

    def join(self, timeout_s: float = 120.0) -> None:
        self._thread.join(timeout_s)
        self.client.disconnect()
        self.client.loop_stop()
        if self._thread.is_alive():
            raise TimeoutError("publisher did not finish")
        if self.error is not None:
            raise self.error

    def acked_since(self, since_s: float, up_to_connection: int) -> set[int]:
        """Indexes of the messages first acked at or after since_s on connections up to this one."""
        return {i for i, (at_s, connection) in self.first_ack.items()
                if at_s >= since_s and connection <= up_to_connection}

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                    properties: object) -> None:
        self.connections += 1

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object,
                    properties: object) -> None:
        # paho calls this on its network thread before it marks the message's info published
        # and drops it from _out_messages, so the info is still there and the time is recorded
        # before _confirm can see the message as acked. Callbacks and CONNACKs come in order
        # on that thread, so `connections` is the connection this PUBACK came on.
        self._ack_of[client._out_messages[mid].info] = (time.time(), self.connections)

    def _run(self) -> None:
        try:
            start = time.monotonic()
            pending = []
            for i, (topic, payload) in enumerate(self.messages):
                if self.rate_per_s:
                    delay = start + i / self.rate_per_s - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                pending.append((i, [self.client.publish(topic, payload, qos=1)], time.monotonic()))
                self.sent += 1
                # Scan every 2,000 sends, not on every send once 2,000 are open: a backlog publisher
                # outruns the acks, and a scan per send made queueing 40,000 messages quadratic.
                if self.sent % 2000 == 0:
                    pending = self._confirm(pending, final=False)
            while pending:
                pending = self._confirm(pending, final=True)
        except Exception as exc:  # surfaced by join()
            self.error = exc

    def _confirm(self, pending: list, final: bool) -> list:
        """Drop acked messages; resend those unacked for too long. Returns what is still open."""
        still = []
        for i, infos, sent_at in pending:
            acked = [info for info in infos if _acked(info)]
            if acked:
                acks = [self._ack_of.pop(info) for info in acked if info in self._ack_of]
                if acks:
                    self.first_ack[i] = min(acks)
                continue
            if time.monotonic() - sent_at > self.resend_after_s:
                self.resent += 1
                topic, payload = self.messages[i]
                # The earlier copies stay watched: paho sends them again after a reconnect.
                still.append((i, infos + [self.client.publish(topic, payload, qos=1)], time.monotonic()))
            else:
                still.append((i, infos, sent_at))
        if final and still:
            time.sleep(0.05)
        return still


def _acked(info: mqtt.MQTTMessageInfo) -> bool:
    try:
        return info.is_published()
    except RuntimeError:  # published while disconnected: paho sends it after reconnecting
        return bool(info._published)
