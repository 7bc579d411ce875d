"""MQTT receive in a child process, so paho and the gateway's decode + write use two cores.

In one process the gateway is CPU-bound in Python: paho's packet handling
(about 60 us a message) and the ingest thread's decode, line protocol and HTTP
write share one GIL. Here the child runs only the paho client (`MqttSource`)
and forwards what it receives in pickled batches; the parent sends back the
(mid, qos, connection) of each durable batch for the child to PUBACK. The child
exits when the parent asks, or when the parent's end of the pipe closes (the
parent was killed), so it never outlives its gateway.

The parent side has the same surface as `MqttSource` (start, stop, ack_all,
connected, subscribed), so the service does not care which one it runs.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from gateway.config import MqttSettings
from gateway.inbox import BoundedInbox
from gateway.mqtt_source import MqttSource, Received, delivery_ids

log = logging.getLogger("emberwatch.gateway.mqtt")

MAX_FORWARD_BATCH = 1000  # messages per pickled batch
# Messages the child holds before paho's thread waits (stops reading the socket): with the
# parent's bounded inbox and the pipe between them, a flood cannot grow either process.
MAX_CHILD_BACKLOG = 5000
# How often the child forwards what it received (and its connection status): the latency it
# adds, against the wake-ups of an idle child. Every 2 ms while messages come; after a second
# without any, every 50 ms (an idle child then costs about 0.4 % of a core instead of 3 %,
# and only the first message after a quiet spell waits longer).
FORWARD_INTERVAL_S = 0.002
IDLE_FORWARD_INTERVAL_S = 0.05
QUIET_AFTER_S = 1.0


class ReceiverDied(RuntimeError):
    """The receiver process exited on its own; the gateway exits too, so its supervisor restarts both."""


class ReceiverProcess:
    def __init__(self, settings: MqttSettings, inbox: BoundedInbox) -> None:
        self.inbox = inbox
        self.connected = False
        self.connection = 0  # how many times the child has connected (reconnects show here)
        self.subscribed = threading.Event()
        self.failed = False  # the child died without being asked to stop
        ctx = multiprocessing.get_context("spawn")  # fork would copy the parent's threads' locks
        self._from_child, child_out = ctx.Pipe(duplex=False)
        child_acks, self._to_child = ctx.Pipe(duplex=False)
        self._child_ends = (child_out, child_acks)
        level = logging.getLogger("emberwatch").getEffectiveLevel()
        self._process = ctx.Process(target=receive_forever, args=(settings, child_out, child_acks, level),
                                    name="emberwatch-mqtt-receiver", daemon=True)
        self._reader = threading.Thread(target=self._read_from_child, name="mqtt-receiver-reader", daemon=True)
        self._stopping = False

    def start(self) -> None:
        self._process.start()
        for end in self._child_ends:  # the child holds its own copies; ours would hide its exit
            end.close()
        self._reader.start()

    def stop(self) -> None:
        self._stopping = True
        self._send(None)
        self._process.join(10)
        if self._process.is_alive():
            log.warning("MQTT receiver process did not stop in 10 s; terminating it")
            self._process.terminate()
            self._process.join(5)
        self._reader.join(5)
        self._to_child.close()

    def ack_all(self, items: list[Received]) -> None:
        deliveries = delivery_ids(items)
        if deliveries:
            self._send(deliveries)

    def _send(self, message: list[tuple[int, int, int]] | None) -> None:
        """Only the service's thread sends (acks, then the final None), so no lock."""
        try:
            self._to_child.send(message)
        except OSError:  # the child is gone: the broker redelivers whatever was not acked
            pass

    def _read_from_child(self) -> None:
        put_many = self.inbox.put_many
        while True:
            try:
                kind, body = self._from_child.recv()
            except (EOFError, OSError):
                break
            if kind == "batch":
                put_many(body)
            elif kind == "status":
                self.connected, subscribed, self.connection = body
                if subscribed:
                    self.subscribed.set()
                else:
                    self.subscribed.clear()
            elif kind == "log":
                name, level, message, fields = body
                logging.getLogger(name).log(level, message, extra={"fields": fields})
        self.connected = False
        self.subscribed.clear()
        if not self._stopping:
            self.failed = True
            log.error("MQTT receiver process exited unexpectedly (exit code %s)", self._process.exitcode)


class _PipeLogHandler(logging.Handler):
    """Sends the child's log records to the parent, which logs them with its own handlers."""

    def __init__(self, send: Callable[[tuple[str, Any]], None]) -> None:
        super().__init__()
        self._send_to_parent = send

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "fields", None)
        try:
            self._send_to_parent(("log", (record.name, record.levelno, record.getMessage(),
                                          fields if isinstance(fields, dict) else None)))
        except OSError:
            pass


def receive_forever(settings: MqttSettings, to_parent: Connection, acks: Connection, log_level: int) -> None:
    """The child: run paho, forward batches and connection status, apply acks until told to stop.

    paho's thread only appends to a deque; this thread wakes every FORWARD_INTERVAL_S (longer
    while nothing comes) to send what piled up. A queue that woke a consumer per message would make the two threads trade
    the GIL on every message, which costs more than paho's own work.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):  # the parent stops us after its last ack
        signal.signal(sig, signal.SIG_IGN)
    send_lock = threading.Lock()

    def send(message: tuple[str, Any]) -> None:
        with send_lock:
            to_parent.send(message)

    root = logging.getLogger()
    root.handlers[:] = [_PipeLogHandler(send)]
    root.setLevel(log_level)
    received: collections.deque[Received] = collections.deque()
    stopping = threading.Event()

    def deliver(item: Received) -> None:  # on paho's thread
        while len(received) >= MAX_CHILD_BACKLOG and not stopping.is_set():
            time.sleep(0.002)
        received.append(item)

    source = MqttSource(settings, deliver)
    threading.Thread(target=_apply_acks, args=(source, acks, stopping), name="acks", daemon=True).start()
    source.start()
    status: tuple[bool, bool, int] | None = None
    take = received.popleft
    interval_s, last_message_s = FORWARD_INTERVAL_S, time.monotonic()
    try:
        while not stopping.wait(interval_s):
            now = (source.connected, source.subscribed.is_set(), source.connection)
            if now != status:
                send(("status", now))
                status = now
            if received:
                interval_s, last_message_s = FORWARD_INTERVAL_S, time.monotonic()
            elif time.monotonic() - last_message_s > QUIET_AFTER_S:
                interval_s = IDLE_FORWARD_INTERVAL_S
            while received:
                send(("batch", [take() for _ in range(min(len(received), MAX_FORWARD_BATCH))]))
    except OSError:
        pass  # the parent is gone; unacked messages stay with the broker
    finally:
        stopping.set()  # frees paho's thread if it waits for room
        source.stop()


def _apply_acks(source: MqttSource, acks: Connection, stopping: threading.Event) -> None:
    while True:
        try:
            deliveries = acks.recv()
        except (EOFError, OSError):
            deliveries = None
        if deliveries is None:
            stopping.set()
            return
        source.ack_deliveries(deliveries)
