"""De-duplication keyed by node and boot, in a bounded window per node."""

from __future__ import annotations

import tracemalloc

from gateway.ingest import V1_NEW_EPOCH_SILENCE_MS, WINDOW, SeqTracker


def verdicts(tracker: SeqTracker, seqs, boot=None, now_ms: int = 0) -> list[str]:
    return [tracker.classify("ridge", "n01", s, boot, now_ms) for s in seqs]


def test_redeliveries_inside_the_window_are_duplicates_in_any_order() -> None:
    tracker = SeqTracker()
    assert verdicts(tracker, [5, 3, 4, 1, 2], boot=1) == ["new"] * 5
    assert verdicts(tracker, [1, 2, 3, 4, 5], boot=1) == ["duplicate"] * 5
    assert verdicts(tracker, [5 + WINDOW - 1, 6], boot=1) == ["new", "new"]  # 6 is still inside the window


def test_a_restarted_node_is_heard_at_once_and_late_redeliveries_of_its_last_boot_are_still_dropped() -> None:
    tracker = SeqTracker()
    assert verdicts(tracker, range(1, 51), boot=7) == ["new"] * 50
    assert verdicts(tracker, range(1, 51), boot=8) == ["new"] * 50  # erased flash: seq restarts, boot moves
    assert verdicts(tracker, [50, 49], boot=7) == ["duplicate", "duplicate"]  # the broker resends the old boot's
    assert verdicts(tracker, [1], boot=0) == ["new"]  # boot counter lost too: a different boot is a new epoch


def test_one_huge_seq_cannot_poison_a_node() -> None:
    tracker = SeqTracker()
    assert verdicts(tracker, [1, 2 ** 53], boot=3) == ["new", "new"]
    assert verdicts(tracker, range(3, 103), boot=3) == ["new"] * 100
    assert verdicts(tracker, [50], boot=3) == ["duplicate"]


def test_a_v1_node_without_a_boot_counter_restarting_its_count() -> None:
    tracker = SeqTracker()
    assert verdicts(tracker, range(1, 51), now_ms=1000) == ["new"] * 50
    assert verdicts(tracker, [40], now_ms=2000) == ["duplicate"]  # a redelivery moments later
    assert verdicts(tracker, range(1, 51), now_ms=3000) == ["new"] * 50  # seq 1 again: a new count
    # A count that restarts where seq 1 was missed: heard after a long silence.
    assert verdicts(tracker, [40], now_ms=3000 + V1_NEW_EPOCH_SILENCE_MS) == ["new"]
    assert tracker.new_epochs == 2


def test_memory_is_a_few_hundred_bytes_per_node_and_the_node_count_is_capped() -> None:
    tracker = SeqTracker()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(500):
        node = f"node{i:05d}"
        for seq in range(1, 400, 3):  # a long-lived node: its window is full
            tracker.classify("ridge", node, seq + 1_000_000, 5, seq)
        tracker.classify("ridge", node, 1, 6, 500)  # and it restarted once: two epochs kept
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    per_node = sum(s.size_diff for s in after.compare_to(before, "filename")) / 500
    assert per_node < 600, per_node  # the old per-node set of up to 8,192 seqs cost 0.125-0.5 MiB
    capped = SeqTracker(max_nodes=100)
    for i in range(1000):
        capped.classify("ridge", f"n{i}", 1, 0, 0)
    assert capped.node_count() == 100
