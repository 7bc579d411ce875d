"""Bounded queue of unsent messages, kept across deep sleep while the radio is down.

Alerts matter more than heartbeats: when full, the oldest heartbeat goes
first, and an alert is dropped only when no heartbeat is left to drop.
Alerts also leave first (oldest first), then heartbeats, so a short radio
window carries the news that matters. The rules live in edge_node/core/policy.py,
which the simulator shares. Runs on MicroPython and CPython.
"""

from edge_node.core import policy
from edge_node.core.policy import KIND_ALERT, KIND_HEARTBEAT


class Outbox:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("outbox capacity must be >= 1")
        self.capacity = capacity
        self.entries: list = []  # [kind, payload bytes], oldest first
        self.dropped_alerts = 0
        self.dropped_heartbeats = 0

    def __len__(self) -> int:
        return len(self.entries)

    def push(self, kind: str, payload: bytes) -> None:
        if kind not in (KIND_ALERT, KIND_HEARTBEAT):
            raise ValueError("outbox holds alerts and heartbeats only")
        self.entries.append([kind, payload])
        while len(self.entries) > self.capacity:
            self.drop_one()

    def drop_one(self) -> None:
        """Make room: the oldest heartbeat if any, else the oldest alert (policy.drop_index)."""
        i = policy.drop_index([e[0] for e in self.entries])
        if i < 0:
            return
        if self.entries[i][0] == KIND_HEARTBEAT:
            self.dropped_heartbeats += 1
        else:
            self.dropped_alerts += 1
        del self.entries[i]

    def in_send_order(self) -> list:
        """Alerts (oldest first), then heartbeats (oldest first): policy.send_order."""
        return [self.entries[i] for i in policy.send_order([e[0] for e in self.entries])]

    def remove(self, entry) -> None:
        """Forget one entry once the broker has acknowledged it."""
        for i in range(len(self.entries)):
            if self.entries[i] is entry:
                del self.entries[i]
                return

    def has_alert(self) -> bool:
        for entry in self.entries:
            if entry[0] == KIND_ALERT:
                return True
        return False

    def to_list(self) -> list:
        # Payloads are ASCII JSON (schema.encode_*), so they travel as text.
        return [self.dropped_alerts, self.dropped_heartbeats,
                [[e[0], e[1].decode()] for e in self.entries]]

    def restore(self, values) -> None:
        """Load what to_list saved; anything malformed raises ValueError (caller starts empty)."""
        if not isinstance(values, list) or len(values) != 3 or not isinstance(values[2], list):
            raise ValueError("outbox state malformed")
        entries = []
        for item in values[2]:
            if (not isinstance(item, list) or len(item) != 2
                    or item[0] not in (KIND_ALERT, KIND_HEARTBEAT) or not isinstance(item[1], str)):
                raise ValueError("outbox entry malformed")
            entries.append([item[0], item[1].encode()])
        self.dropped_alerts = int(values[0])
        self.dropped_heartbeats = int(values[1])
        self.entries = entries
        while len(self.entries) > self.capacity:
            self.drop_one()
