"""Node liveness: which nodes have gone quiet, and which have come back. Pure, no clock inside.

A node is last seen at the event time of its newest heartbeat or alert (the
node's clock, so a late-delivered backlog does not look fresh), but never later
than the gateway received it: a node clock running ahead cannot keep it
"online" after it went quiet. It is offline
once the gateway clock passes that time by (allowed_misses + 1) heartbeat
intervals, i.e. it missed more heartbeats than allowed. Each change of state
becomes a `status` Event with a reason, stored as a `node_state` point.
Retained status messages (`online`, or the broker's last-will `offline`) also
set the state, so the gateway does not report an offline node twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.config import LivenessSettings
from gateway.ingest import Event

REASON_MISSED = "heartbeat_missed"
REASON_RESUMED = "heartbeat_resumed"


@dataclass
class _NodeState:
    last_seen_ms: int
    online: bool = True


@dataclass
class Liveness:
    settings: LivenessSettings
    _nodes: dict[tuple[str, str], _NodeState] = field(default_factory=dict)

    @property
    def timeout_ms(self) -> int:
        return self.settings.heartbeat_interval_s * 1000 * (self.settings.allowed_misses + 1)

    def observe(self, event: Event, now_ms: int) -> Event | None:
        """Record an event received at now_ms; return a node_state 'online' event when a silent node is back."""
        key = (event.site, event.node)
        state = self._nodes.get(key)
        if event.kind == "status":
            # The node (or its last will) said so itself; that event is stored as it is.
            seen_ms = state.last_seen_ms if state else now_ms
            self._nodes[key] = _NodeState(seen_ms, event.fields.get("state") == "online")
            return None
        t_ms = min(event.t_ms, now_ms) if event.t_ms is not None else now_ms
        if state is None:
            self._nodes[key] = _NodeState(t_ms)
            return None
        state.last_seen_ms = max(state.last_seen_ms, t_ms)
        if not state.online and now_ms - state.last_seen_ms <= self.timeout_ms:
            state.online = True
            return _state_event(event.site, event.node, "online", REASON_RESUMED, t_ms)
        return None

    def check(self, now_ms: int) -> list[Event]:
        """node_state 'offline' events for online nodes that missed too many heartbeats by now_ms."""
        out = []
        for (site, node), state in self._nodes.items():
            deadline_ms = state.last_seen_ms + self.timeout_ms
            if state.online and now_ms > deadline_ms:
                state.online = False
                out.append(_state_event(site, node, "offline", REASON_MISSED, deadline_ms))
        return out

    def offline_count(self) -> int:
        return sum(1 for s in self._nodes.values() if not s.online)

    def node_count(self) -> int:
        return len(self._nodes)


def _state_event(site: str, node: str, state: str, reason: str, t_ms: int) -> Event:
    return Event("status", site, node, None, t_ms, {"state": state, "reason": reason})
