"""Pure ingest: MQTT topic + payload -> a validated Event, a duplicate, or a Rejection.

No I/O here. Decoding is the core schema's (one source of truth); this module
adds what only a gateway can know: which (node, seq) pairs it has already seen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from edge_node.core import schema

# How far below a node's highest seq a message may arrive and still be new.
# Nodes flush their offline queue alerts-first, so seqs arrive out of order within a wake.
REPLAY_WINDOW = 4096


@dataclass(slots=True)  # not frozen: built for every message, and a frozen __init__ costs 2-3 us
class Event:
    kind: str  # alert, heartbeat or status
    site: str
    node: str
    seq: int | None  # status messages carry no seq
    t_ms: int | None
    fields: dict[str, int | str]


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    detail: str
    topic: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    node: str
    seq: int


@dataclass
class SeqTracker:
    """Remembers recent (node, seq) pairs to drop redeliveries and flag replays."""

    window: int = REPLAY_WINDOW
    _highest: dict[tuple[str, str], int] = field(default_factory=dict)
    _seen: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    def classify(self, site: str, node: str, seq: int) -> str:
        """'new', 'duplicate' or 'replayed'; records the seq when new."""
        key = (site, node)
        highest = self._highest.get(key)
        if highest is not None and seq <= highest - self.window:
            return "replayed"
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = set()
        elif seq in seen:
            return "duplicate"
        seen.add(seq)
        if highest is None or seq > highest:
            self._highest[key] = seq
            if len(seen) > 2 * self.window:
                floor = seq - self.window
                self._seen[key] = {s for s in seen if s > floor}
        return "new"


@dataclass
class Ingest:
    """Stateful front door: decode, validate, de-duplicate, and count every outcome."""

    tracker: SeqTracker = field(default_factory=SeqTracker)
    rejected: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0

    def accept(self, topic: str, payload: bytes) -> Event | Rejection | Duplicate:
        try:
            msg = schema.decode(topic, payload)
        except schema.SchemaError as exc:
            self.rejected[exc.reason] += 1
            return Rejection(exc.reason, exc.detail, topic[:200])
        site, node, kind = msg.pop("site"), msg.pop("node"), msg.pop("k")
        msg.pop("v")
        if kind == schema.KIND_STATUS:
            self.accepted[kind] += 1
            return Event(kind, site, node, None, None, {"state": msg["state"]})
        seq = msg.pop("seq")
        verdict = self.tracker.classify(site, node, seq)
        if verdict == "duplicate":
            self.duplicates += 1
            return Duplicate(node, seq)
        if verdict == "replayed":
            self.rejected["replayed"] += 1
            return Rejection("replayed", f"seq {seq} is far below what {node} already sent", topic[:200])
        self.accepted[kind] += 1
        t_ms = msg.pop("t_ms")
        return Event(kind, site, node, seq, t_ms, msg)
