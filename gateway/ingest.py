"""Pure ingest: MQTT topic + payload -> a validated Event, a duplicate, or a Rejection.

No I/O here. Decoding is the core schema's (one source of truth); this module
adds what only a gateway can know: which (node, seq) pairs it has already seen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from edge_node.core import schema

# Seqs remembered per node epoch below its highest one: nodes flush their offline queue
# alerts-first, so seqs arrive out of order within a wake, but never hundreds apart.
WINDOW = 256
_WINDOW_MASK = (1 << WINDOW) - 1
# A node without a boot counter (schema v1, weather stations) is taken to have restarted its
# count when a seq at or below its highest comes after this much silence, or it is seq 1.
V1_NEW_EPOCH_SILENCE_MS = 10 * 60 * 1000
MAX_TRACKED_NODES = 200_000  # beyond this the longest-known node is forgotten (its next seq is new)

# InfluxDB keeps int64 nanoseconds: nothing after 2262-04-11. A node clock more than a day
# ahead of the gateway's, or before 2001, is wrong (no RTC, a bad sync): such readings are
# stored at the gateway's receive time with the node's claimed time kept beside them.
STORE_MAX_T_MS = 9_223_372_036_853
MAX_AHEAD_MS = 86_400_000
MIN_T_MS = 978_307_200_000  # 2001-01-01
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


class _Epoch:
    """One boot's window: the highest seq and a bitmap of the WINDOW seqs at or below it."""

    __slots__ = ("boot", "highest", "bits")

    def __init__(self, boot: int | None, seq: int) -> None:
        self.boot, self.highest, self.bits = boot, seq, 1  # bit i: highest - i was seen

    def offer(self, seq: int) -> str:
        """'new', 'duplicate' or 'far_below' (out of the window; not recorded)."""
        if seq > self.highest:
            shift = seq - self.highest
            self.bits = ((self.bits << shift) | 1) & _WINDOW_MASK if shift < WINDOW else 1
            self.highest = seq
            return "new"
        offset = self.highest - seq
        if offset >= WINDOW:
            return "far_below"
        if self.bits >> offset & 1:
            return "duplicate"
        self.bits |= 1 << offset
        return "new"


class _NodeSeqs:
    __slots__ = ("current", "previous", "last_ms", "last_t_ms")

    def __init__(self, epoch: _Epoch, now_ms: int) -> None:
        self.current: _Epoch = epoch
        self.previous: _Epoch | None = None
        self.last_ms = now_ms
        self.last_t_ms = -1  # event time of the node's newest message

    def rotate(self, boot: int | None, seq: int) -> None:
        self.previous, self.current = self.current, _Epoch(boot, seq)


@dataclass
class SeqTracker:
    """Drops redelivered (node, boot, seq) messages with a few hundred bytes per node.

    Keyed by node and boot: a restarted node (new boot counter) is heard at once, and the
    previous boot's window is kept for its late redeliveries. A seq far below the window, or
    a v1 node's count restarting, opens a new epoch instead of muting the node, so one bogus
    seq (2^53) cannot poison it: an old message let through that way is written over itself
    in the store (same point identity), never lost and never duplicated there.
    """

    max_nodes: int = MAX_TRACKED_NODES
    _nodes: dict[tuple[str, str], _NodeSeqs] = field(default_factory=dict)
    new_epochs: int = 0  # restarts and resets noticed (boot changes included)

    def classify(self, site: str, node: str, seq: int, boot: int | None = None, now_ms: int = 0) -> str:
        """'new' or 'duplicate'; records the seq when new."""
        key = (site, node)
        state = self._nodes.get(key)
        if state is None:
            if len(self._nodes) >= self.max_nodes:
                del self._nodes[next(iter(self._nodes))]
            self._nodes[key] = _NodeSeqs(_Epoch(boot, seq), now_ms)
            return "new"
        silent_ms, state.last_ms = now_ms - state.last_ms, now_ms
        epoch = state.current
        if boot is not None and boot != epoch.boot:
            previous = state.previous
            if previous is not None and previous.boot == boot:  # a late redelivery from the boot before
                return "duplicate" if previous.offer(seq) == "duplicate" else "new"
            self.new_epochs += 1
            state.rotate(boot, seq)
            return "new"
        if boot is None and seq <= epoch.highest and (seq == 1 or silent_ms >= V1_NEW_EPOCH_SILENCE_MS):
            self.new_epochs += 1
            state.rotate(boot, seq)
            return "new"
        verdict = epoch.offer(seq)
        if verdict == "far_below":
            self.new_epochs += 1
            state.rotate(boot, seq)
            return "new"
        return verdict

    def same_ms_as_before(self, site: str, node: str, t_ms: int) -> bool:
        """Records t_ms as the node's newest event time; True if its previous one had it too."""
        state = self._nodes.get((site, node))
        if state is None:
            return False
        same, state.last_t_ms = state.last_t_ms == t_ms, t_ms
        return same

    def node_count(self) -> int:
        return len(self._nodes)


@dataclass
class Ingest:
    """Stateful front door: decode, validate, de-duplicate, and count every outcome."""

    tracker: SeqTracker = field(default_factory=SeqTracker)
    rejected: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    clock_flagged: int = 0  # events whose node time was unusable (stored at receive time, flagged)

    def accept(self, topic: str, payload: bytes, received_ms: int = 0) -> Event | Rejection | Duplicate:
        """received_ms: the gateway's clock at receipt (checks the node's clock; 0 skips that)."""
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
        if self.tracker.classify(site, node, seq, msg.get("boot"), received_ms) == "duplicate":
            self.duplicates += 1
            return Duplicate(node, seq)
        self.accepted[kind] += 1
        t_ms = msg.pop("t_ms")
        if received_ms and not MIN_T_MS <= t_ms <= min(received_ms + MAX_AHEAD_MS, STORE_MAX_T_MS):
            self.clock_flagged += 1
            msg["t_node_ms"], msg["clock_bad"] = t_ms, 1
            t_ms = received_ms
        if self.tracker.same_ms_as_before(site, node, t_ms):
            # Two messages of one node in one millisecond stay two points: a few microseconds
            # apart, derived from the seq so that a redelivery lands on the same point.
            msg["t_sub_us"] = 1 + seq % 999
        return Event(kind, site, node, seq, t_ms, msg)
