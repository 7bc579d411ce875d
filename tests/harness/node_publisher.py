"""Publish node messages to a real broker at a steady rate, riding out broker restarts.

A message counts as published only when the broker acked it (QoS 1); anything
not acked in time is sent again, which the gateway's (node, seq) de-duplication
absorbs. Used by the gateway's outage tests and its benchmark.
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


def alert_keys(messages: list[tuple[str, bytes]]) -> set[tuple[str, int]]:
    keys = set()
    for topic, payload in messages:
        msg = schema.decode(topic, payload)
        keys.add((msg["node"], msg["seq"]))
    return keys


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
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
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

    def _run(self) -> None:
        try:
            start = time.monotonic()
            pending = []
            for i, (topic, payload) in enumerate(self.messages):
                if self.rate_per_s:
                    delay = start + i / self.rate_per_s - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                pending.append((topic, payload, self.client.publish(topic, payload, qos=1), time.monotonic()))
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
        for topic, payload, info, sent_at in pending:
            if _acked(info):
                continue
            if time.monotonic() - sent_at > self.resend_after_s:
                self.resent += 1
                still.append((topic, payload, self.client.publish(topic, payload, qos=1), time.monotonic()))
            else:
                still.append((topic, payload, info, sent_at))
        if final and still:
            time.sleep(0.05)
        return still


def _acked(info: mqtt.MQTTMessageInfo) -> bool:
    try:
        return info.is_published()
    except RuntimeError:  # published while disconnected: paho sends it after reconnecting
        return bool(info._published)
