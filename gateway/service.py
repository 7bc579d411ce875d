"""Gateway wiring: MQTT source -> ingest -> batched sink writes (or the spool) -> acks.

Acks go to the broker only after the batch is durable: written to the store,
or fsync'd to the local spool while the store is down. A crash before that
makes the broker redeliver, and the store's point identity (event time +
tags) makes a second write of the same event a no-op.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.config import GatewayConfig, MqttSettings, StoreSettings
from gateway.ingest import Duplicate, Event, Ingest, Rejection
from gateway.liveness import Liveness
from gateway.lorawan.settings import LorawanSettings
from gateway.metrics import Stats, render_prometheus
from gateway.mqtt_source import MessageSource, MqttSource, Received
from gateway.processors import EventProcessor
from gateway.receiver_process import ReceiverDied, ReceiverProcess
from gateway.sink import Sink, SinkRejected, SinkUnavailable
from gateway.spool import Spool

log = logging.getLogger("emberwatch.gateway")

MAX_BACKOFF_S = 10.0
LIVENESS_CHECK_S = 1.0


def open_sink(settings: StoreSettings) -> Sink:
    if settings.kind == "sqlite":
        from gateway.sqlite_sink import SqliteSink

        return SqliteSink(settings.url)
    from gateway.influx_sink import open_influx_sink

    return open_influx_sink(settings)


def open_source(settings: MqttSettings, inbox: queue.SimpleQueue[Received],
                lorawan: LorawanSettings | None = None) -> MessageSource:
    source: MessageSource = (MqttSource(settings, inbox.put) if settings.receiver == "thread"
                             else ReceiverProcess(settings, inbox))
    if lorawan is None:
        return source
    from gateway.lorawan.source import CombinedSource, LorawanSource

    return CombinedSource(source, LorawanSource(lorawan, inbox.put))  # type: ignore[return-value]


@dataclass
class GatewayService:
    config: GatewayConfig
    sink: Sink
    ingest: Ingest = field(default_factory=Ingest)
    stats: Stats = field(default_factory=Stats)
    inbox: queue.SimpleQueue[Received] = field(default_factory=queue.SimpleQueue)
    stopping: threading.Event = field(default_factory=threading.Event)
    source: MessageSource | None = None
    spool: Spool | None = None
    liveness: Liveness | None = None
    processors: list[EventProcessor] = field(default_factory=list)
    clock_s: Callable[[], float] = time.time
    store_available: bool = True
    health_port: int | None = None  # the bound port once the health server runs
    _retry_store_at_s: float = 0.0
    _store_backoff_s: float = 0.5
    _next_liveness_check_s: float = 0.0

    def wait_subscribed(self, timeout_s: float) -> bool:
        """True once the broker has granted the subscription (for tests and health checks)."""
        deadline = time.monotonic() + timeout_s
        while self.source is None:  # run() has not started the source yet
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return self.source.subscribed.wait(max(0.0, deadline - time.monotonic()))

    def run(self) -> None:
        """Consume until stop() is called; the current batch is finished and acked first."""
        if self.spool is None and self.config.spool_dir:
            self.spool = Spool(self.config.spool_dir)
            if len(self.spool):
                log.info("spool holds %d events from before; replaying them first", len(self.spool))
        if self.liveness is None:
            self.liveness = Liveness(self.config.liveness)
        health = self._start_health_server()
        source = self.source = open_source(self.config.mqtt, self.inbox, self.config.lorawan)
        source.start()
        try:
            while not self.stopping.is_set():
                if source.failed:  # unacked messages stay with the broker for the restarted gateway
                    raise ReceiverDied("the MQTT receiver process died; exiting so that a supervisor restarts the gateway")
                self._replay_spool_when_due()
                batch = self._next_batch()
                if batch:
                    self._process(batch, source)
                self._check_liveness_when_due()
        finally:
            source.stop()
            if self.spool is not None:
                self.spool.close()
            self.sink.close()
            if health is not None:
                health.stop()
            log.info("gateway stopped", extra={"fields": self.counters()})

    def stop(self) -> None:
        self.stopping.set()

    def _next_batch(self) -> list[Received]:
        try:
            batch = [self.inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.config.flush_interval_s
        while len(batch) < self.config.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=min(remaining, self.config.flush_idle_s)))
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[Received], source: MessageSource) -> None:
        events: list[tuple[Event, int]] = []
        now_ms = int(self.clock_s() * 1000)
        for item in batch:
            self.stats.received += 1
            outcome = self.ingest.accept(item.topic, item.payload)
            if isinstance(outcome, Event):
                events.append((outcome, item.received_ms))
                back = self.liveness.observe(outcome, now_ms) if self.liveness else None
                if back is not None:
                    events.append((back, item.received_ms))
                    self._log_state_change(back)
            elif isinstance(outcome, Rejection):
                log.warning("rejected message", extra={"fields": {
                    "topic": outcome.topic, "reason": outcome.reason, "detail": outcome.detail}})
            elif isinstance(outcome, Duplicate):
                log.debug("duplicate %s seq %d dropped", outcome.node, outcome.seq)
        if events:
            for processor in self.processors:
                events += [(derived, now_ms) for derived in processor.observe(events, now_ms)]
            self._store(events)
        source.ack_all(batch)

    def _store(self, events: list[tuple[Event, int]]) -> None:
        """Make events durable: the store, else the spool; without a spool, retry until stopped."""
        behind = self.spool is not None and (not self.store_available or len(self.spool) > 0)
        if behind and self._spool(events):  # behind a backlog (or during an outage): keep the order
            return
        backoff_s = 0.5
        while True:
            try:
                self._write(events)
                return
            except SinkUnavailable as exc:
                self.stats.write_failures += 1
                if self.spool is not None:
                    self._mark_store_down(exc)
                    if self._spool(events):
                        return
                log.warning("store unavailable (%s); retrying in %.1fs", exc, backoff_s)
                if self.stopping.wait(backoff_s):
                    raise  # unacked: the broker keeps the messages for the next run
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)

    def _write(self, events: list[tuple[Event, int]]) -> None:
        """One sink write; refused data is logged event by event so nothing vanishes silently."""
        try:
            self.sink.write(events)
        except SinkRejected as exc:
            self.stats.store_rejected += len(events)
            log.error("store refused %d events: %s; events: %s", len(events), exc, events)
            return
        self.stats.stored += len(events)
        stored_ms = int(self.clock_s() * 1000)
        for event, _ in events:
            if event.t_ms is not None and event.kind != "status":
                self.stats.lag.observe_ms(stored_ms - event.t_ms)

    def _spool(self, events: list[tuple[Event, int]]) -> bool:
        """True once the events are on disk; False if the spool cannot take them (then they wait unacked)."""
        assert self.spool is not None
        try:
            self.spool.append(events)
        except OSError as exc:
            self.stats.spool_failures += 1
            log.error("cannot write the spool in %s: %s; holding %d events unacked",
                      self.config.spool_dir, exc, len(events))
            return False
        self.stats.spooled += len(events)
        return True

    def _mark_store_down(self, exc: Exception) -> None:
        if self.store_available:
            log.warning("store unavailable, spooling to %s: %s", self.config.spool_dir, exc)
        self.store_available = False
        self._retry_store_at_s = time.monotonic() + self._store_backoff_s
        self._store_backoff_s = min(self._store_backoff_s * 2, MAX_BACKOFF_S / 2)

    def _replay_spool_when_due(self) -> None:
        """Drain the spool in append order once the store answers again; stop at the first failure."""
        if self.spool is None or not len(self.spool) or time.monotonic() < self._retry_store_at_s:
            return
        replayed = 0
        chunks = self.spool.replay(self.config.batch_size)
        try:
            for chunk in chunks:
                try:
                    self._write(chunk)
                except SinkUnavailable as exc:
                    self.stats.write_failures += 1
                    self._mark_store_down(exc)
                    return
                self.stats.replayed += len(chunk)
                replayed += len(chunk)
                if self.stopping.is_set():
                    return
        finally:
            chunks.close()
            if replayed:
                log.info("replayed %d events from the spool", replayed,
                         extra={"fields": {"replayed": replayed, "spool_pending": len(self.spool)}})
        if not self.store_available:
            log.info("store available again; spool drained")
        self.store_available = True
        self._store_backoff_s = 0.5

    def _check_liveness_when_due(self) -> None:
        now_s = self.clock_s()
        if self.liveness is None or now_s < self._next_liveness_check_s:
            return
        self._next_liveness_check_s = now_s + LIVENESS_CHECK_S
        now_ms = int(now_s * 1000)
        verdicts = [(event, now_ms) for event in self.liveness.check(now_ms)]
        for event, _ in verdicts:
            self._log_state_change(event)
        for processor in self.processors:
            verdicts += [(derived, now_ms) for derived in processor.tick(now_ms)]
        if verdicts:
            self._store(verdicts)

    def _log_state_change(self, event: Event) -> None:
        state = str(event.fields["state"])
        self.stats.node_state_changes[state] += 1
        log.info("node %s/%s is %s", event.site, event.node, state,
                 extra={"fields": {"site": event.site, "node": event.node, "state": state,
                                   "reason": event.fields.get("reason")}})

    def _start_health_server(self):  # -> HealthServer | None
        if self.config.health_port is None:
            return None
        from gateway.health_server import HealthServer

        server = HealthServer(self.config.health_host, self.config.health_port, self.health, self.metrics_text)
        self.health_port = server.port
        server.start()
        return server

    def counters(self) -> dict[str, object]:
        return {"received": self.stats.received, "stored": self.stats.stored, "spooled": self.stats.spooled,
                "replayed": self.stats.replayed, "duplicates": self.ingest.duplicates,
                "rejected": dict(self.ingest.rejected), "store_rejected": self.stats.store_rejected,
                "spool_pending": len(self.spool) if self.spool is not None else 0}

    def health(self) -> tuple[bool, dict]:
        """Healthy while the broker connection is up and events become durable (store or spool)."""
        connected = self.source is not None and self.source.connected
        durable = self.store_available or self.spool is not None
        return connected and durable, {
            "status": "ok" if connected and durable else "unhealthy",
            "mqtt_connected": connected,
            "subscribed": self.source is not None and self.source.subscribed.is_set(),
            "store_available": self.store_available,
            "spool_pending": len(self.spool) if self.spool is not None else 0,
            "uptime_s": round(time.time() - self.stats.started_s, 1)}

    def metrics_text(self) -> str:
        gauges = {
            "mqtt_connected": float(self.source is not None and self.source.connected),
            "store_available": float(self.store_available),
            "spool_pending_events": float(len(self.spool) if self.spool is not None else 0),
            "inbox_messages": float(self.inbox.qsize()),
            "nodes_known": float(self.liveness.node_count() if self.liveness else 0),
            "nodes_offline": float(self.liveness.offline_count() if self.liveness else 0),
        }
        torn = self.spool.torn_lines if self.spool is not None else 0
        return render_prometheus(self.stats, dict(self.ingest.rejected), self.ingest.duplicates, gauges, torn)
