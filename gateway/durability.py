"""Making a batch durable before its ack: the store, else the spool, else hold it unacked.

This is the gateway's one answer to "where does an event go when the store is
down": a batch is durable once the store took it, or once the local spool
fsync'd it; only then may the broker get its PUBACK. Events the store refuses
outright (a partial write over a tag limit, a field type conflict) go to a
dead-letter spool instead of vanishing, and are offered to the store again on
the next start (after the operator raised the limit). One back-off policy paces
every retry. The store and spool are injected, so "an outage loses nothing" is
tested here without servers (tests/gateway/test_durability.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.ingest import Event
from gateway.metrics import Stats
from gateway.sink import Sink, SinkRejected, SinkUnavailable
from gateway.spool import Spool

log = logging.getLogger("emberwatch.gateway")

Batch = list[tuple[Event, int]]  # (event, received_ms)


@dataclass
class Backoff:
    """Doubling delays from first_s up to max_s; reset() after a success."""

    first_s: float = 0.5
    max_s: float = 10.0
    _next_s: float = 0.0

    def next_delay_s(self) -> float:
        delay = self._next_s or self.first_s
        self._next_s = min(delay * 2, self.max_s)
        return delay

    def reset(self) -> None:
        self._next_s = 0.0


@dataclass
class Durability:
    sink: Sink
    stats: Stats
    spool: Spool | None = None
    dead_letter: Spool | None = None  # refused events; None: they are logged one by one
    backoff: Backoff = field(default_factory=Backoff)
    monotonic: Callable[[], float] = time.monotonic
    clock_s: Callable[[], float] = time.time
    chunk_size: int = 1000  # events per replayed store write
    store_available: bool = True
    spool_writable: bool = True  # False after an append failed, until one succeeds again
    _retry_store_at_s: float = 0.0

    def can_hold(self) -> bool:
        """Whether a new batch can become durable now (what /healthz reports)."""
        return self.store_available or (self.spool is not None and self.spool_writable)

    def pending(self) -> int:
        return len(self.spool) if self.spool is not None else 0

    def store(self, events: Batch, stopping: threading.Event) -> None:
        """Return once the events are durable. Raises SinkUnavailable if stopped first (nothing acked)."""
        behind = self.spool is not None and (not self.store_available or len(self.spool) > 0)
        if behind and self._spool(events):  # behind a backlog (or during an outage): keep the order
            return
        while True:
            try:
                self.write(events)
                self.store_available = True
                return
            except SinkUnavailable as exc:
                self.stats.write_failures += 1
                delay_s = self._mark_store_down(exc)
                if self.spool is not None and self._spool(events):
                    return
                log.warning("store unavailable and nothing can hold the batch (%s); holding %d events "
                            "unacked, retrying in %.1fs", exc, len(events), delay_s)
                if stopping.wait(delay_s):
                    raise  # unacked: the broker keeps the messages for the next run

    def write(self, events: Batch) -> None:
        """One store write; refused events are held in the dead-letter spool (or logged), never dropped."""
        try:
            self.sink.write(events)
        except SinkRejected as exc:
            refused = len(events) if exc.refused is None else min(exc.refused, len(events))
            self.stats.store_rejected += refused
            self.stats.stored += len(events) - refused
            self._hold_refused(events, exc)
            return
        self.stats.stored += len(events)
        stored_ms = int(self.clock_s() * 1000)
        for event, _ in events:
            if event.t_ms is not None and event.kind != "status":
                self.stats.lag.observe_ms(stored_ms - event.t_ms)

    def _hold_refused(self, events: Batch, exc: SinkRejected) -> None:
        # A partial write does not say which points went in, so the whole batch is kept: writing
        # the stored ones again later is a no-op (same point identity).
        if self.dead_letter is not None:
            try:
                self.dead_letter.append(events)
                self.stats.dead_lettered += len(events)
                log.error("store refused a write (%s); kept its %d events in %s for a retry on the next "
                          "start", exc, len(events), self.dead_letter.folder)
                return
            except (OSError, ValueError) as spool_exc:
                log.error("cannot write the dead-letter spool: %s", spool_exc)
        log.error("store refused %d events: %s; events: %s", len(events), exc, events)

    def retry_dead_letter(self, chunk_size: int = 1000) -> None:
        """Offer held refused events to the store again (at start, after an operator fixed the cause).

        What is refused again goes to a new dead-letter segment; a segment read here is removed
        only once all of it was written or re-held, so a crash part-way reads it again (a no-op
        for what was stored).
        """
        if self.dead_letter is None or not len(self.dead_letter):
            return
        log.info("retrying %d events the store refused before", len(self.dead_letter))
        before, offered = self.stats.dead_lettered, 0
        chunks = self.dead_letter.replay(chunk_size)
        try:
            for chunk in chunks:
                self.write(chunk)
                offered += len(chunk)
        except SinkUnavailable as exc:
            log.warning("store unavailable while retrying refused events (%s); they stay held", exc)
        finally:
            chunks.close()
        log.info("dead-letter retry: %d of %d events refused again", self.stats.dead_lettered - before, offered)

    def _spool(self, events: Batch) -> bool:
        """True once the events are on disk; False if the spool cannot take them (then they wait unacked)."""
        assert self.spool is not None
        try:
            self.spool.append(events)
        except (OSError, ValueError) as exc:
            self.stats.spool_failures += 1
            if self.spool_writable:
                log.error("cannot write the spool in %s: %s; holding %d events unacked",
                          self.spool.folder, exc, len(events))
            self.spool_writable = False
            return False
        if not self.spool_writable:
            log.info("spool writable again")
        self.spool_writable = True
        self.stats.spooled += len(events)
        return True

    def _mark_store_down(self, exc: Exception) -> float:
        """The delay before the store is tried again (the spool is replayed no sooner)."""
        if self.store_available:
            log.warning("store unavailable: %s", exc)
        self.store_available = False
        delay_s = self.backoff.next_delay_s()
        self._retry_store_at_s = self.monotonic() + delay_s
        return delay_s

    def replay_when_due(self, stopping: threading.Event) -> None:
        """Drain the spool in append order once the store answers again; stop at the first failure."""
        if self.spool is None or not len(self.spool) or self.monotonic() < self._retry_store_at_s:
            return
        replayed = 0
        chunks = self.spool.replay(self.chunk_size)
        try:
            for chunk in chunks:
                try:
                    self.write(chunk)
                except SinkUnavailable as exc:
                    self.stats.write_failures += 1
                    self._mark_store_down(exc)
                    return
                self.stats.replayed += len(chunk)
                replayed += len(chunk)
                if stopping.is_set():
                    return
        finally:
            chunks.close()
            if replayed:
                log.info("replayed %d events from the spool", replayed,
                         extra={"fields": {"replayed": replayed, "spool_pending": len(self.spool)}})
        if not self.store_available:
            log.info("store available again; spool drained")
        self.store_available = True
        self.backoff.reset()

    def close(self) -> None:
        for spool in (self.spool, self.dead_letter):
            if spool is not None:
                spool.close()
