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
        self.sender: dict[int, int] = {}  # heap order -> node index that sent it over the radio model
        if self._wants("sender") and hasattr(publish, "link"):
            publish.link = link  # type: ignore[union-attr]  # the publisher reads the radio model's link budget

    def _wants(self, attribute: str) -> bool:
        return self.publish is not None and hasattr(self.publish, attribute)

    def post(self, deliver_ms: int, message: Message) -> None:
        """A message that skips the radio model (retained status: a LoRaWAN network server has no
        such message, and simulator/lorawan_uplinks.py drops it)."""
        self.order += 1
        heapq.heappush(self.heap, (deliver_ms, self.order, message))

    def flush(self, until_ms: int | None) -> None:
        """Publish everything delivered before until_ms (None: everything left)."""
        released = self.link.release(until_ms if until_ms is not None else 1 << 62)
        # A publisher that wants to know who sent a frame (simulator/lorawan_uplinks.py: the
        # gateways' rxInfo) has a `sender` attribute; links that model radio name each frame's node.
        senders = getattr(self.link, "released_nodes", None) if self._wants("sender") else None
        for i, (deliver_ms, message) in enumerate(released):
            if self.on_delivered is not None:
                self.on_delivered(deliver_ms, message)
            self.post(deliver_ms, message)
            if senders is not None and i < len(senders):
                self.sender[self.order] = senders[i]
        heap, publish = self.heap, self.publish
        # A publisher that needs the delivery time (simulator/lorawan_uplinks.py: the network
        # server's receive time) says so with a `deliver_ms` attribute; it is set before each call.
        wants_time = self._wants("deliver_ms")
        wants_sender = self._wants("sender")
        while heap and (until_ms is None or heap[0][0] < until_ms):
            deliver_ms, order, (topic, encode, args, retain) = heapq.heappop(heap)
            self.published += 1
            if publish is not None:
                if wants_time:
                    publish.deliver_ms = deliver_ms  # type: ignore[attr-defined]
                if wants_sender:
                    publish.sender = self.sender.pop(order, None)  # type: ignore[attr-defined]
                publish(topic, encode(*args), retain)
