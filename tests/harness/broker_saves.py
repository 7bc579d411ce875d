"""What a test Mosquitto (servers.mosquitto) has saved to disk, for the kill -9 tests.

Mosquitto (2.0, src/persist_write.c and loop.c) writes each save to mosquitto.db.new, fsyncs it
and renames it over mosquitto.db, so the file read here is always one whole save, the last one
completed; a kill -9 during a save leaves it untouched. It saves in its single main loop, after
handling the packets of a loop turn, and it sends a PUBACK while handling the PUBLISH: so a
PUBACK can reach the node before the save holding that message has completed, and a kill -9 in
between loses the message. That window is what a broker cannot close and what these tests
measure instead of racing against it.

The file's mtime is the time of the save's last write, before its rename: a message whose PUBACK
the node received before that time was stored before that save started (the broker handles no
packet while saving), so the save holds it. Both clocks are the wall clock; the kernel's
coarse file times run behind it, never ahead, which errs on the side of "not yet saved".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.harness.servers import ManagedServer, wait_until


def saved_database(broker: ManagedServer) -> Path:
    """Where servers.mosquitto's broker saves (persistence_location workdir/data, default file name)."""
    return broker.workdir / "data" / "mosquitto.db"


def last_save_s(broker: ManagedServer) -> float | None:
    """Wall-clock time (s) of the last completed save's last write; None if it never saved."""
    try:
        return saved_database(broker).stat().st_mtime_ns / 1e9
    except FileNotFoundError:
        return None


def unsaved(broker: ManagedServer, payloads: Iterable[bytes]) -> list[bytes]:
    """The payloads the last completed save does not hold (Mosquitto stores payloads verbatim)."""
    try:
        saved = saved_database(broker).read_bytes()
    except FileNotFoundError:
        saved = b""
    return [payload for payload in payloads if payload not in saved]


def wait_saved(broker: ManagedServer, payloads: list[bytes], timeout_s: float) -> None:
    """Wait until the broker's last completed save holds every one of these payloads."""
    missing = payloads

    def all_saved() -> bool:
        nonlocal missing
        missing = unsaved(broker, missing)
        return not missing

    try:
        wait_until(all_saved, timeout_s, "the broker to save every acknowledged message")
    except TimeoutError:
        raise AssertionError(f"{timeout_s} s after its last PUBACK the broker's saved database still lacks "
                             f"{len(missing)} of the {len(payloads)} messages it acknowledged") from None
