"""Gateway wiring: MQTT source -> ingest -> batched sink writes (or the spool) -> acks.

Acks go to the broker only after the batch is durable (gateway/durability.py:
the store, or the local spool while the store is down). A crash before that
makes the broker redeliver, and the store's point identity (event time +
tags) makes a second write of the same event a no-op.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.config import GatewayConfig, MqttSettings, StoreSettings
from gateway.durability import Durability
from gateway.inbox import BoundedInbox
from gateway.ingest import Duplicate, Event, Ingest, Rejection
from gateway.liveness import Liveness
from gateway.logs import RateLimitedLog
from gateway.lorawan.settings import LorawanSettings
from gateway.metrics import Stats, render_prometheus
from gateway.mqtt_source import MessageSource, MqttSource, Received
from gateway.processors import EventProcessor
from gateway.receiver_process import ReceiverDied, ReceiverProcess
from gateway.sink import Sink
from gateway.spool import Spool

log = logging.getLogger("emberwatch.gateway")

LIVENESS_CHECK_S = 1.0
SPOOL_PROBE_S = 30.0  # how often an idle spool is checked for being writable (for /healthz)
DEAD_LETTER_FOLDER = "refused"  # inside the spool folder


def open_sink(settings: StoreSettings) -> Sink:
    if settings.kind == "sqlite":
        from gateway.sqlite_sink import SqliteSink

        return SqliteSink(settings.url)
    from gateway.influx_sink import open_influx_sink

    return open_influx_sink(settings)


def open_source(settings: MqttSettings, inbox: BoundedInbox,
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
    inbox: BoundedInbox = field(default_factory=BoundedInbox)
    stopping: threading.Event = field(default_factory=threading.Event)
    source: MessageSource | None = None  # injected (tests), else opened by run() from the config
    spool: Spool | None = None
    liveness: Liveness | None = None
    processors: list[EventProcessor] = field(default_factory=list)
    clock_s: Callable[[], float] = time.time
    durability: Durability | None = None
    health_port: int | None = None  # the bound port once the health server runs
    _next_liveness_check_s: float = 0.0
    _next_spool_probe_s: float = 0.0
    _rejections: RateLimitedLog = field(default_factory=lambda: RateLimitedLog(log))

    def __post_init__(self) -> None:
        if self.durability is None:
            self.durability = Durability(self.sink, self.stats, self.spool, clock_s=self.clock_s,
                                         chunk_size=self.config.batch_size)

    @property
    def store_available(self) -> bool:
        assert self.durability is not None
        return self.durability.store_available

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
        durability = self.durability
        assert durability is not None
        if self.spool is None and self.config.spool_dir:
            self.spool = durability.spool = Spool(self.config.spool_dir)
            durability.dead_letter = Spool(os.path.join(self.config.spool_dir, DEAD_LETTER_FOLDER))
            if len(self.spool):
                log.info("spool holds %d events from before; replaying them first", len(self.spool))
        if self.liveness is None:
            self.liveness = Liveness(self.config.liveness)
        health = self._start_health_server()
        durability.retry_dead_letter()
        if self.source is None:
            self.source = open_source(self.config.mqtt, self.inbox, self.config.lorawan)
        source = self.source
        source.start()
        try:
            while not self.stopping.is_set():
                if source.failed:  # unacked messages stay with the broker for the restarted gateway
                    raise ReceiverDied("the MQTT receiver process died; exiting so that a supervisor restarts the gateway")
                durability.replay_when_due(self.stopping)
                batch = self._next_batch()
                if batch:
                    self._process(batch, source)
                self._check_liveness_when_due()
                self._probe_spool_when_due()
        finally:
            self.inbox.closed.set()  # a receiver blocked on a full inbox gives up (unacked)
            source.stop()
            durability.close()
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
        return batch  # type: ignore[return-value]  # the inbox holds Received only

    def _process(self, batch: list[Received], source: MessageSource) -> None:
        events: list[tuple[Event, int]] = []
        now_ms = int(self.clock_s() * 1000)
        for item in batch:
            self.stats.received += 1
            outcome = self.ingest.accept(item.topic, item.payload, item.received_ms)
            if isinstance(outcome, Event):
                events.append((outcome, item.received_ms))
                back = self.liveness.observe(outcome, item.received_ms) if self.liveness else None
                if back is not None:
                    events.append((back, item.received_ms))
                    self._log_state_change(back)
            elif isinstance(outcome, Rejection):
                self._rejections.log(logging.WARNING, outcome.reason, "rejected message", {
                    "topic": outcome.topic, "reason": outcome.reason, "detail": outcome.detail})
            elif isinstance(outcome, Duplicate):
                log.debug("duplicate %s seq %d dropped", outcome.node, outcome.seq)
        if events:
            for processor in self.processors:
                events += [(derived, now_ms) for derived in processor.observe(events, now_ms)]
            self._store(events)
        source.ack_all(batch)

    def _store(self, events: list[tuple[Event, int]]) -> None:
        assert self.durability is not None
        self.durability.store(events, self.stopping)

    def _write(self, events: list[tuple[Event, int]]) -> None:
        assert self.durability is not None
        self.durability.write(events)

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

    def _probe_spool_when_due(self) -> None:
        """An idle spool can still be unwritable (full disk, read-only mount): /healthz should say so."""
        now_s = time.monotonic()
        if self.spool is None or now_s < self._next_spool_probe_s:
            return
        self._next_spool_probe_s = now_s + SPOOL_PROBE_S
        assert self.durability is not None
        self.durability.spool_writable = self.spool.probe()

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
        assert self.durability is not None
        dead = self.durability.dead_letter
        return {"received": self.stats.received, "stored": self.stats.stored, "spooled": self.stats.spooled,
                "replayed": self.stats.replayed, "duplicates": self.ingest.duplicates,
                "rejected": dict(self.ingest.rejected), "store_rejected": self.stats.store_rejected,
                "dead_letter_pending": len(dead) if dead is not None else 0,
                "clock_flagged": self.ingest.clock_flagged,
                "spool_pending": self.durability.pending()}

    def health(self) -> tuple[bool, dict]:
        """Healthy while the broker connection is up and a new batch can become durable.

        Degraded (503) when the broker is gone, when the store is down and no spool can hold the
        batch, or when the spool cannot be written (the safety net is gone even if the store is up).
        """
        assert self.durability is not None
        connected = self.source is not None and self.source.connected
        spool_ok = self.spool is None or self.durability.spool_writable
        durable = self.durability.can_hold()
        ok = connected and durable and spool_ok
        problems = [text for bad, text in ((not connected, "broker unreachable"),
                                           (not durable, "store down and nothing can hold new events"),
                                           (not spool_ok, "spool not writable")) if bad]
        return ok, {
            "status": "ok" if ok else "degraded",
            "problems": problems,
            "mqtt_connected": connected,
            "subscribed": self.source is not None and self.source.subscribed.is_set(),
            "store_available": self.durability.store_available,
            "spool_writable": spool_ok,
            "spool_pending": self.durability.pending(),
            "uptime_s": round(time.time() - self.stats.started_s, 1)}

    def metrics_text(self) -> str:
        assert self.durability is not None
        dead = self.durability.dead_letter
        gauges = {
            "mqtt_connected": float(self.source is not None and self.source.connected),
            "store_available": float(self.durability.store_available),
            "spool_writable": float(self.durability.spool_writable),
            "spool_pending_events": float(self.durability.pending()),
            "dead_letter_pending_events": float(len(dead) if dead is not None else 0),
            "inbox_messages": float(self.inbox.qsize()),
            "inbox_full_waits": float(self.inbox.waits),
            "nodes_known": float(self.liveness.node_count() if self.liveness else 0),
            "nodes_offline": float(self.liveness.offline_count() if self.liveness else 0),
            "dedupe_nodes": float(self.ingest.tracker.node_count()),
            "clock_flagged_events": float(self.ingest.clock_flagged),
        }
        torn = self.spool.torn_lines if self.spool is not None else 0
        return render_prometheus(self.stats, dict(self.ingest.rejected), self.ingest.duplicates, gauges, torn)
