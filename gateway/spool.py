"""Local disk spool: validated events kept while the store is down, replayed in order later.

Append-only segment files of one record per line, `<crc32 hex> <json>\\n`,
fsync'd before the caller acks the broker. A crash can only tear the last
line of the newest segment; the checksum finds it and replay skips it with a
count (that line was never acked, so the broker still holds the message).
New appends after a restart go to a fresh segment, never after a torn line.
A segment is deleted only once all of it is stored, so a crash mid-replay
replays it again, which the store's point identity turns into a no-op.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from collections.abc import Generator
from pathlib import Path
from typing import BinaryIO

from gateway.ingest import Event

log = logging.getLogger("emberwatch.gateway.spool")

SEGMENT_GLOB = "segment-*.log"


def encode_record(event: Event, received_ms: int) -> bytes:
    body = json.dumps([event.kind, event.site, event.node, event.seq, event.t_ms, event.fields, received_ms],
                      separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def decode_record(line: bytes) -> tuple[Event, int] | None:
    """The (event, received_ms) a line holds, or None for a torn or corrupt line."""
    if not line.endswith(b"\n") or len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        kind, site, node, seq, t_ms, fields, received_ms = json.loads(body)
    except ValueError:
        return None
    return Event(kind, site, node, seq, t_ms, fields), received_ms


def spooled_events(folder: str | None, kind: str) -> list[Event]:
    """Every event of one kind still waiting in a spool folder, read without touching the spool.

    What a gateway derived while the store was down (incident transitions, fire-weather ratings)
    is not in the store yet; a restarted gateway must know it too. Unreadable segments are logged
    and skipped, torn lines ignored: this is a best-effort look, the spool itself stays intact.
    """
    if not folder or not os.path.isdir(folder):
        return []
    events = []
    for path in sorted(Path(folder).glob(SEGMENT_GLOB)):
        try:
            with open(path, "rb") as fh:
                for line in fh:
                    decoded = decode_record(line)
                    if decoded is not None and decoded[0].kind == kind and decoded[0].t_ms is not None:
                        events.append(decoded[0])
        except OSError as exc:
            log.warning("cannot read spool segment %s for %s: %s", path, kind, exc)
    return events


class Spool:
    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)  # made on the first append
        self.torn_lines = 0
        segments = self._segments()
        self._next_number = (int(segments[-1].stem.split("-")[1]) + 1) if segments else 1
        self._current: Path | None = None  # the segment appends go to (opened lazily)
        self._file: BinaryIO | None = None
        self._current_lines = 0  # records counted in the segment being appended to
        self.pending = sum(self._count_lines(p) for p in segments)

    def _segments(self) -> list[Path]:
        return sorted(self.folder.glob(SEGMENT_GLOB))

    @staticmethod
    def _count_lines(path: Path) -> int:
        with open(path, "rb") as f:
            return sum(1 for _ in f)

    def __len__(self) -> int:
        """Records waiting for replay (torn lines included until replay skips them)."""
        return max(0, self.pending)

    def append(self, events: list[tuple[Event, int]]) -> None:
        """Durable when this returns: written and fsync'd."""
        if self._file is None:
            self._current = self.folder / f"segment-{self._next_number:09d}.log"
            self._next_number += 1
            self._current_lines = 0
            self.folder.mkdir(exist_ok=True)
            self._file = open(self._current, "ab")  # noqa: SIM115 (kept open across appends, closed in _seal)
            try:
                _fsync_dir(self.folder)
            except OSError:
                self._seal()
                raise
        try:
            self._file.write(b"".join(encode_record(e, r) for e, r in events))
            self._file.flush()
            os.fsync(self._file.fileno())
        except (OSError, ValueError):
            # Disk full or failing: whatever part got written must stay the last bytes of its
            # segment (replay skips a torn line), so later appends start a new segment. The lines
            # that did get written will be replayed (never acked, so at worst written twice).
            self._seal()
            self._count_partial_append()
            raise
        self.pending += len(events)
        self._current_lines += len(events)

    def _count_partial_append(self) -> None:
        if self._current is None:
            return
        try:
            written = self._count_lines(self._current)
        except OSError:
            return
        self.pending += max(0, written - self._current_lines)
        self._current_lines = written

    def replay(self, chunk_size: int) -> Generator[list[tuple[Event, int]], None, None]:
        """Chunks in append order; the caller stores each before asking for the next.

        A segment is removed once the chunk after its last one is asked for, i.e.
        after the caller stored all of it. Breaking off leaves the rest in place.
        """
        self._seal()
        for path in self._segments():
            chunk: list[tuple[Event, int]] = []
            with open(path, "rb") as f:
                for line in f:
                    record = decode_record(line)
                    if record is None:
                        self.torn_lines += 1
                        self.pending -= 1
                        log.warning("skipping a torn or corrupt spool line in %s", path.name)
                        continue
                    chunk.append(record)
                    if len(chunk) >= chunk_size:
                        yield chunk
                        self.pending -= len(chunk)
                        chunk = []
            if chunk:
                yield chunk
                self.pending -= len(chunk)
            path.unlink()
            _fsync_dir(self.folder)

    def _seal(self) -> None:
        """Close the segment being appended to, so replay can delete it and appends start a new one."""
        if self._file is not None:
            try:
                self._file.close()  # flushes: on a full disk this fails too, yet the file is closed
            except (OSError, ValueError):
                pass
            finally:
                self._file = None

    def probe(self) -> bool:
        """Whether a small write to the spool folder succeeds now (for /healthz while idle)."""
        path = self.folder / ".probe"
        try:
            self.folder.mkdir(exist_ok=True)
            with open(path, "wb") as f:
                f.write(b"x" * 4096)
                f.flush()
                os.fsync(f.fileno())
            path.unlink()
            return True
        except OSError:
            try:
                path.unlink()
            except OSError:
                pass
            return False

    def close(self) -> None:
        self._seal()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
