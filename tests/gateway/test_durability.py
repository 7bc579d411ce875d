"""The durability unit without servers: an outage loses nothing, refused writes are held, a full spool is survived.

The store and the message source are in-memory stand-ins with the same interfaces
as the real ones (gateway.sink.Sink, gateway.mqtt_source.MessageSource); the spool
is the real one on disk.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from edge_node.core import schema
from gateway.config import GatewayConfig
from gateway.durability import Backoff, Durability
from gateway.ingest import Event
from gateway.metrics import Stats
from gateway.mqtt_source import Received
from gateway.service import GatewayService
from gateway.sink import SinkRejected, SinkUnavailable
from gateway.spool import Spool
from tests.harness.servers import wait_until


class MemoryStore:
    """A store that can be taken down, or made to refuse the events of one node."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], Event] = {}  # (node, seq) -> event: a rewrite is a no-op
        self.down = False
        self.refuse_node: str | None = None
        self.writes = 0

    def write(self, events: list[tuple[Event, int]]) -> None:
        self.writes += 1
        if self.down:
            raise SinkUnavailable("store down")
        refused = [e for e, _ in events if e.node == self.refuse_node]
        for event, _ in events:
            if event.node != self.refuse_node and event.seq is not None:
                self.rows[(event.node, event.seq)] = event
        if refused:
            raise SinkRejected(f"partial write: max-values-per-tag limit exceeded dropped={len(refused)}",
                               len(refused))

    def close(self) -> None:
        pass


class MemorySource:
    """A broker stand-in: messages go to the service's inbox; acks are recorded."""

    def __init__(self) -> None:
        self.connected = True
        self.connection = 1
        self.failed = False
        self.subscribed = threading.Event()
        self.acked: list[int] = []
        self.inbox = None

    def start(self) -> None:
        self.subscribed.set()

    def stop(self) -> None:
        pass

    def ack_all(self, items: list[Received]) -> None:
        self.acked += [item.mid for item in items if item.qos > 0]


def alert(seq: int, node: str = "n01") -> tuple[Event, int]:
    fields = {"score": 9, "thr": 5, "lvl": 2, "boot": 0, "bat_mv": 3700}
    return Event("alert", "ridge", node, seq, 1_782_864_000_000 + seq, fields), 1_782_864_000_500 + seq


def fast_durability(store: MemoryStore, spool: Spool | None, **kw) -> Durability:
    return Durability(store, Stats(), spool, backoff=Backoff(0.01, 0.02), **kw)


def test_backoff_doubles_to_its_ceiling_and_resets() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next_delay_s() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay_s() == 0.5


def test_an_outage_spools_everything_and_replay_stores_it_in_order(tmp_path: Path) -> None:
    store = MemoryStore()
    durability = fast_durability(store, Spool(str(tmp_path)))
    never = threading.Event()
    durability.store([alert(1)], never)
    store.down = True
    for seq in range(2, 50):
        durability.store([alert(seq)], never)  # returns: durable on disk, so the caller may ack
    assert not durability.store_available and durability.pending() == 48 and durability.can_hold()
    store.down = False
    wait_until(lambda: (durability.replay_when_due(never), durability.pending() == 0)[1], 5, "replay")
    durability.store([alert(50)], never)
    assert sorted(store.rows) == [("n01", s) for s in range(1, 51)]
    assert durability.stats.spooled == 48 == durability.stats.replayed and durability.store_available


def test_without_a_spool_the_batch_is_held_until_stopped_and_never_acked() -> None:
    store = MemoryStore()
    store.down = True
    durability = fast_durability(store, None)
    stopping = threading.Event()
    threading.Timer(0.1, stopping.set).start()
    with pytest.raises(SinkUnavailable):  # the caller does not ack: the broker keeps the messages
        durability.store([alert(1)], stopping)
    assert not durability.can_hold() and store.writes >= 3


def test_a_refused_write_is_counted_right_and_held_then_retried(tmp_path: Path) -> None:
    store = MemoryStore()
    store.refuse_node = "n99"
    durability = fast_durability(store, Spool(str(tmp_path / "spool")), dead_letter=Spool(str(tmp_path / "refused")))
    durability.store([alert(1), alert(2), alert(1, "n99")], threading.Event())
    assert durability.stats.stored == 2 and durability.stats.store_rejected == 1
    assert durability.stats.dead_lettered == 3 and len(durability.dead_letter or []) == 3
    durability.close()
    # The operator raised the limit and restarted the gateway: the held batch is offered again.
    store.refuse_node = None
    again = fast_durability(store, Spool(str(tmp_path / "spool")), dead_letter=Spool(str(tmp_path / "refused")))
    again.retry_dead_letter()
    assert ("n99", 1) in store.rows and len(again.dead_letter or []) == 0 and again.stats.dead_lettered == 0


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), ValueError("write to closed file")])
def test_a_spool_that_cannot_write_holds_the_batch_unacked_without_crashing(tmp_path: Path, error) -> None:
    store = MemoryStore()
    store.down = True
    spool = Spool(str(tmp_path))
    durability = fast_durability(store, spool)

    def broken_append(events) -> None:
        raise error

    spool.append = broken_append  # type: ignore[method-assign]
    stopping = threading.Event()
    threading.Timer(0.1, stopping.set).start()
    with pytest.raises(SinkUnavailable):
        durability.store([alert(1)], stopping)
    assert not durability.spool_writable and not durability.can_hold() and durability.stats.spool_failures >= 1


def test_the_service_with_an_injected_source_loses_nothing_it_acked_through_an_outage(tmp_path: Path) -> None:
    config = GatewayConfig.from_env({"EMBERWATCH_SQLITE_PATH": str(tmp_path / "unused.db"),
                                     "EMBERWATCH_SPOOL_DIR": str(tmp_path / "spool")})
    store, source = MemoryStore(), MemorySource()
    service = GatewayService(config, store, source=source)  # type: ignore[arg-type]
    service.durability.backoff = Backoff(0.01, 0.05)  # type: ignore[union-attr]
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    topic = schema.topic("ridge", "n01", "alert")

    def deliver(seq: int) -> None:
        payload = schema.encode_alert("n01", seq, 1_782_864_000_000 + seq, 900, 500, 2500, 3000, 1000, -3000, 3700)
        service.inbox.put(Received(topic, payload, seq, 1, int(time.time() * 1000), 1))

    for seq in range(1, 101):
        deliver(seq)
        if seq == 30:
            wait_until(lambda: len(source.acked) == 30, 5, "first 30 acked")
            store.down = True
        if seq == 70:
            wait_until(lambda: len(source.acked) == 70, 5, "outage batches acked (spooled)")
            assert service.stats.spooled > 0 and len(store.rows) == 30
            store.down = False
    wait_until(lambda: len(store.rows) == 100, 10, "all stored after the outage")
    service.stop()
    thread.join(10)
    assert sorted(source.acked) == list(range(1, 101))
    assert sorted(store.rows) == [("n01", s) for s in range(1, 101)]
