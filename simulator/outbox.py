"""Messages on their way out of the simulation, released in simulated-time order.

Payloads are encoded only when somebody listens (a publish callable was given):
a benchmark or an offline statistics run skips the JSON work entirely.
"""

import heapq
from collections.abc import Callable

Publish = Callable[[str, bytes, bool], None]
# a message not yet encoded: (topic, encoder, encoder args, retain)
Message = tuple[str, Callable[..., bytes], tuple, bool]


class Outbox:
    def __init__(self, link, publish: Publish | None,
                 on_delivered: Callable[[int, Message], None] | None = None) -> None:
        self.link = link
        self.publish = publish
        self.on_delivered = on_delivered  # told of every message the radio delivered, with its time
        self.heap: list[tuple[int, int, Message]] = []
        self.order = 0
        self.published = 0

    def post(self, deliver_ms: int, message: Message) -> None:
        """A message that skips the radio model (retained status: a LoRaWAN network server has no
        such message, and simulator/lorawan_uplinks.py drops it)."""
        self.order += 1
        heapq.heappush(self.heap, (deliver_ms, self.order, message))

    def flush(self, until_ms: int | None) -> None:
        """Publish everything delivered before until_ms (None: everything left)."""
        for deliver_ms, message in self.link.release(until_ms if until_ms is not None else 1 << 62):
            if self.on_delivered is not None:
                self.on_delivered(deliver_ms, message)
            self.post(deliver_ms, message)
        heap, publish = self.heap, self.publish
        # A publisher that needs the delivery time (simulator/lorawan_uplinks.py: the network
        # server's receive time) says so with a `deliver_ms` attribute; it is set before each call.
        wants_time = publish is not None and hasattr(publish, "deliver_ms")
        while heap and (until_ms is None or heap[0][0] < until_ms):
            deliver_ms, _, (topic, encode, args, retain) = heapq.heappop(heap)
            self.published += 1
            if publish is not None:
                if wants_time:
                    publish.deliver_ms = deliver_ms  # type: ignore[attr-defined]
                publish(topic, encode(*args), retain)
