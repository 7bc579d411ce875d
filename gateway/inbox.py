"""The hand-over from the MQTT receiver to the service loop, with a ceiling.

A flood (QoS 0 above all, which the broker does not pace by in-flight acks)
must not grow the gateway without bound. Once `limit` messages wait, the
receiver's thread blocks in put(): paho then stops reading its socket, TCP
pushes back, and the broker keeps (or, for QoS 0, drops by its own limits)
what the gateway cannot take yet. Nothing the gateway acked is lost that way.
"""

from __future__ import annotations

import queue
import threading
import time

DEFAULT_LIMIT = 10_000  # messages; at the schema's 512-byte cap at most a few MB


class BoundedInbox:
    """A SimpleQueue (C, fast) whose put() waits while `limit` items are queued."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = threading.Event()  # set on stop: a blocked put() gives up (that message is not acked)
        self.waits = 0  # times a put() had to wait for room (backpressure episodes)
        self.high_water = 0  # most messages ever waiting at once

    def put(self, item: object) -> None:
        if self._queue.qsize() >= self.limit:
            self.waits += 1
            while self._queue.qsize() >= self.limit and not self.closed.is_set():
                time.sleep(0.002)
        self._queue.put(item)
        size = self._queue.qsize()
        if size > self.high_water:
            self.high_water = size

    def put_many(self, items: list) -> None:
        """One room check for a whole forwarded batch (the receiver child's, at most 1,000)."""
        if self._queue.qsize() >= self.limit:
            self.waits += 1
            while self._queue.qsize() >= self.limit and not self.closed.is_set():
                time.sleep(0.002)
        put = self._queue.put
        for item in items:
            put(item)
        size = self._queue.qsize()
        if size > self.high_water:
            self.high_water = size

    def get(self, timeout: float | None = None) -> object:
        return self._queue.get(timeout=timeout)

    def empty(self) -> bool:
        return self._queue.empty()

    def qsize(self) -> int:
        return self._queue.qsize()
