"""Spool: fsync'd appends, replay in order, torn last line skipped and counted, crash-safe segments."""

from __future__ import annotations

from pathlib import Path

from gateway.ingest import Event
from gateway.spool import Spool, decode_record, encode_record


def alert(seq: int) -> tuple[Event, int]:
    fields = {"score": 9, "thr": 5, "temp_cc": 2500, "rh_cp": 3000, "gas": 1000, "gas_q8": -2000, "bat_mv": 3700}
    return Event("alert", "ridge", "n01", seq, 1_782_864_000_000 + seq, fields), 1_782_864_000_500 + seq


def replay_all(spool: Spool, chunk: int = 3) -> list[tuple[Event, int]]:
    return [record for part in spool.replay(chunk) for record in part]


def test_record_round_trip_and_corruption_is_detected() -> None:
    line = encode_record(*alert(7))
    assert decode_record(line) == alert(7)
    assert decode_record(line[:-1]) is None  # torn: no newline
    assert decode_record(line[:20] + b"X" + line[21:]) is None  # flipped byte: checksum
    assert decode_record(b"zzzzzzzz {}\n") is None
    assert decode_record(b"\n") is None


def test_replay_returns_everything_in_order_and_empties_the_folder(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path))
    spool.append([alert(i) for i in range(5)])
    spool.append([alert(i) for i in range(5, 8)])
    assert len(spool) == 8
    assert replay_all(spool) == [alert(i) for i in range(8)]
    assert len(spool) == 0 and list(tmp_path.iterdir()) == []


def test_survives_a_restart_and_new_appends_go_after_the_old_ones(tmp_path: Path) -> None:
    first = Spool(str(tmp_path))
    first.append([alert(1), alert(2)])
    first.close()
    second = Spool(str(tmp_path))
    assert len(second) == 2
    second.append([alert(3)])
    assert [e.seq for e, _ in replay_all(second)] == [1, 2, 3]


def test_torn_last_line_is_skipped_with_a_count(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path))
    spool.append([alert(1), alert(2)])
    spool.close()
    segment = next(tmp_path.iterdir())
    with open(segment, "ab") as f:  # what a crash in the middle of a write leaves
        f.write(encode_record(*alert(3))[:25])
    reopened = Spool(str(tmp_path))
    reopened.append([alert(4)])  # goes to a new segment, not after the torn line
    assert [e.seq for e, _ in replay_all(reopened)] == [1, 2, 4]
    assert reopened.torn_lines == 1 and len(reopened) == 0


def test_breaking_off_a_replay_keeps_what_was_not_confirmed(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path))
    spool.append([alert(i) for i in range(10)])
    chunks = spool.replay(4)
    assert [e.seq for e, _ in next(chunks)] == [0, 1, 2, 3]
    chunks.close()  # the store went down again before the next chunk was stored
    # The whole segment stays: replaying the first chunk again is idempotent in the store.
    assert [e.seq for e, _ in replay_all(spool)] == list(range(10))


def test_a_failed_append_is_sealed_off_so_later_records_stay_readable(tmp_path: Path, monkeypatch) -> None:
    import os

    import pytest

    spool = Spool(str(tmp_path))
    spool.append([alert(1)])
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(OSError):
        spool.append([alert(2)])  # written but not known durable: the caller does not ack it
    monkeypatch.setattr(os, "fsync", real_fsync)
    spool.append([alert(3)])
    assert len(list(tmp_path.iterdir())) == 2  # the failed segment was closed; 3 went to a new one
    assert [e.seq for e, _ in replay_all(spool)] == [1, 2, 3]


def test_a_partly_written_append_is_counted_so_the_count_never_goes_negative(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path))
    spool.append([alert(1)])
    spool._file.write(encode_record(*alert(2)) + encode_record(*alert(3))[:30])  # what a full disk leaves
    spool._file.flush()
    spool._seal()
    spool._count_partial_append()
    assert len(spool) == 3  # 1, 2 and the torn start of 3
    assert [e.seq for e, _ in replay_all(spool)] == [1, 2] and len(spool) == 0 and spool.torn_lines == 1
