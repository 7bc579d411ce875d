"""Outbox drop policy and the RTC state blob (checksum, corruption, seq reservation)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_node.outbox import KIND_ALERT, KIND_HEARTBEAT, Outbox
from edge_node.persist import (
    SEQ_BLOCK,
    FileStore,
    NodeState,
    RtcMemoryStore,
    adler32,
    load_state,
    next_seq,
    pack_state,
    unpack_state,
)
from tests.edge_node.fakes import MemoryStore


def test_full_outbox_drops_oldest_heartbeat_first() -> None:
    box = Outbox(3)
    box.push(KIND_HEARTBEAT, b"h1")
    box.push(KIND_ALERT, b"a1")
    box.push(KIND_HEARTBEAT, b"h2")
    box.push(KIND_ALERT, b"a2")
    assert [e[1] for e in box.entries] == [b"a1", b"h2", b"a2"]
    box.push(KIND_ALERT, b"a3")
    assert [e[1] for e in box.entries] == [b"a1", b"a2", b"a3"]
    box.push(KIND_ALERT, b"a4")  # only alerts left: the oldest alert goes
    assert [e[1] for e in box.entries] == [b"a2", b"a3", b"a4"]
    assert (box.dropped_heartbeats, box.dropped_alerts) == (2, 1)


def test_send_order_is_alerts_then_heartbeats_oldest_first() -> None:
    box = Outbox(5)
    for kind, payload in [(KIND_HEARTBEAT, b"h1"), (KIND_ALERT, b"a1"), (KIND_HEARTBEAT, b"h2"), (KIND_ALERT, b"a2")]:
        box.push(kind, payload)
    assert [e[1] for e in box.in_send_order()] == [b"a1", b"a2", b"h1", b"h2"]


@given(st.lists(st.booleans(), max_size=40), st.integers(1, 8))
def test_never_an_alert_dropped_while_a_heartbeat_remains(kinds: list[bool], capacity: int) -> None:
    box = Outbox(capacity)
    for i, is_alert in enumerate(kinds):
        before_heartbeats = sum(1 for e in box.entries if e[0] == KIND_HEARTBEAT)
        dropped_alerts = box.dropped_alerts
        box.push(KIND_ALERT if is_alert else KIND_HEARTBEAT, str(i).encode())
        assert len(box) <= capacity
        if box.dropped_alerts > dropped_alerts:
            assert before_heartbeats == 0 and all(e[0] == KIND_ALERT for e in box.entries)
    restored = Outbox(capacity)
    restored.restore(box.to_list())
    assert restored.entries == box.entries


def test_outbox_restore_rejects_malformed_state() -> None:
    for bad in (None, [0, 0], [0, 0, [["spam", "x"]]], [0, 0, [["alert", 5]]]):
        with pytest.raises(ValueError):
            Outbox(3).restore(bad)


def _state() -> NodeState:
    state = NodeState()
    state.seq, state.seq_reserved, state.last_sample_ms = 41, 64, 1780000000000
    state.features = list(range(9))
    state.detector = [5, -1, 0]
    state.outbox = [0, 1, [["alert", '{"v":1}']]]
    return state


def test_state_round_trips_through_a_blob() -> None:
    assert unpack_state(pack_state(_state())).to_list() == _state().to_list()


@pytest.mark.parametrize("damage", [
    lambda b: b[:-1],                          # truncated
    lambda b: b[:12] + bytes([b[12] ^ 1]) + b[13:],  # one bit flipped in the body
    lambda b: b"XX" + b[2:],                   # foreign header
    lambda b: b"",                             # empty RTC memory after power-on
    lambda b: bytes(len(b)),                   # zeroed
])
def test_damaged_blobs_are_refused(damage) -> None:
    with pytest.raises(ValueError):
        unpack_state(damage(pack_state(_state())))


def test_fresh_state_resumes_seq_above_every_reserved_number() -> None:
    rtc, flash = MemoryStore(2048), MemoryStore(0)
    state, why = load_state(rtc, flash)
    assert why and state.seq == 0
    used = [next_seq(state, flash) for _ in range(SEQ_BLOCK + 3)]
    assert used == list(range(1, SEQ_BLOCK + 4))
    assert flash.saves == 2  # one flash write per block of SEQ_BLOCK messages
    rtc.blob = b"garbage"  # RTC memory lost (battery swap) or corrupted
    state2, why2 = load_state(rtc, flash)
    assert why2 and next_seq(state2, flash) > max(used)


def test_rtc_store_refuses_oversized_blobs() -> None:
    class Rtc:
        data = b""

        def memory(self, data=None):
            if data is None:
                return self.data
            self.data = data

    store = RtcMemoryStore(Rtc(), capacity=16)
    store.save(b"0123456789")
    assert store.load() == b"0123456789"
    with pytest.raises(ValueError):
        store.save(bytes(17))


def test_file_store_replaces_atomically(tmp_path) -> None:
    store = FileStore(str(tmp_path / "seq_floor"))
    assert store.load() is None
    store.save(b"64")
    store.save(b"128")
    assert store.load() == b"128"
    assert not (tmp_path / "seq_floor.tmp").exists()


def test_adler32_matches_zlib() -> None:
    import zlib
    data = bytes(range(256)) * 9
    assert adler32(data) == zlib.adler32(data)
