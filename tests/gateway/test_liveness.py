"""Liveness: offline after too many missed heartbeats (node event time vs gateway clock), online on return."""

from __future__ import annotations

from gateway.config import LivenessSettings
from gateway.ingest import Event
from gateway.liveness import REASON_MISSED, REASON_RESUMED, Liveness
from gateway.points import event_to_line

T0 = 1_782_864_000_000
INTERVAL_S = 60


def heartbeat(t_ms: int, node: str = "n01") -> Event:
    return Event("heartbeat", "ridge", node, 1, t_ms, {})


def test_offline_only_after_the_allowed_misses_then_online_when_heard_again() -> None:
    live = Liveness(LivenessSettings(INTERVAL_S, allowed_misses=2))
    assert live.observe(heartbeat(T0), now_ms=T0 + 50) is None
    deadline = T0 + 3 * INTERVAL_S * 1000
    assert live.check(deadline) == []  # two heartbeats missed: still allowed
    [offline] = live.check(deadline + 1)
    assert (offline.kind, offline.fields["state"], offline.fields["reason"]) == ("status", "offline", REASON_MISSED)
    assert offline.t_ms == deadline  # the moment it became overdue, so a rewrite is idempotent
    assert live.check(deadline + 10_000) == []  # reported once
    assert live.offline_count() == 1
    back = live.observe(heartbeat(deadline + 5_000), now_ms=deadline + 5_100)
    assert back is not None and back.fields == {"state": "online", "reason": REASON_RESUMED}
    assert back.t_ms == deadline + 5_000 and live.offline_count() == 0
    assert 'node_state,site=ridge,node=n01 state="online",online=1i,reason="heartbeat_resumed"' in \
        event_to_line(back, 0)


def test_a_late_backlog_with_old_event_times_does_not_bring_a_node_back() -> None:
    live = Liveness(LivenessSettings(INTERVAL_S, allowed_misses=0))
    live.observe(heartbeat(T0), T0)
    assert len(live.check(T0 + 61_000)) == 1
    # Queued messages from before the silence arrive now: the node's clock says they are old.
    assert live.observe(heartbeat(T0 + 30_000), now_ms=T0 + 600_000) is None
    assert live.offline_count() == 1


def test_status_messages_set_the_state_without_a_second_verdict() -> None:
    live = Liveness(LivenessSettings(INTERVAL_S, allowed_misses=1))
    live.observe(heartbeat(T0), T0)
    live.observe(Event("status", "ridge", "n01", None, None, {"state": "offline"}), T0 + 1000)
    assert live.check(T0 + 10 * 60_000) == []  # its last will already said so
    assert live.observe(heartbeat(T0 + 10 * 60_000), T0 + 10 * 60_000 + 10) is not None


def test_each_node_is_tracked_on_its_own() -> None:
    live = Liveness(LivenessSettings(INTERVAL_S, allowed_misses=0))
    live.observe(heartbeat(T0, "a"), T0)
    live.observe(heartbeat(T0 + 50_000, "b"), T0 + 50_000)
    assert [e.node for e in live.check(T0 + 70_000)] == ["a"]
    assert live.node_count() == 2


def test_a_clock_running_ahead_cannot_keep_a_quiet_node_online() -> None:
    live = Liveness(LivenessSettings(INTERVAL_S, allowed_misses=2))
    year_ms = 365 * 86_400_000
    live.observe(heartbeat(T0 + year_ms), now_ms=T0)  # stamped a year ahead, received at T0
    [offline] = live.check(T0 + 3 * INTERVAL_S * 1000 + 1)  # seen at most when received
    assert offline.fields["state"] == "offline"
