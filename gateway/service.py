"""Gateway wiring: MQTT source -> ingest -> batched sink writes -> acks.

Acks go to the broker only after the batch is durable, so a crash between
receive and store loses nothing: the broker redelivers, and the store's
point identity (event time + tags) makes the second write a no-op.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from gateway.config import GatewayConfig, StoreSettings
from gateway.ingest import Duplicate, Event, Ingest, Rejection
from gateway.mqtt_source import MqttSource, Received
from gateway.sink import Sink, SinkRejected, SinkUnavailable

log = logging.getLogger("emberwatch.gateway")

MAX_BACKOFF_S = 10.0


def open_sink(settings: StoreSettings) -> Sink:
    if settings.kind == "sqlite":
        from gateway.sqlite_sink import SqliteSink

        return SqliteSink(settings.url)
    from gateway.influx_sink import open_influx_sink

    return open_influx_sink(settings)


@dataclass
class Stats:
    received: int = 0
    stored: int = 0
    store_rejected: int = 0
    write_failures: int = 0


@dataclass
class GatewayService:
    config: GatewayConfig
    sink: Sink
    ingest: Ingest = field(default_factory=Ingest)
    stats: Stats = field(default_factory=Stats)
    inbox: "queue.Queue[Received]" = field(default_factory=queue.Queue)
    stopping: threading.Event = field(default_factory=threading.Event)
    source: MqttSource | None = None

    def wait_subscribed(self, timeout_s: float) -> bool:
        """True once the broker has granted the subscription (for tests and health checks)."""
        return self.source is not None and self.source.subscribed.wait(timeout_s)

    def run(self) -> None:
        """Consume until stop() is called; the current batch is finished first."""
        source = self.source = MqttSource(self.config.mqtt, self.inbox)
        source.start()
        try:
            while not self.stopping.is_set():
                batch = self._next_batch()
                if batch:
                    self._process(batch, source)
        finally:
            source.stop()
            self.sink.close()

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
                batch.append(self.inbox.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[Received], source: MqttSource) -> None:
        events: list[tuple[Event, int]] = []
        for item in batch:
            self.stats.received += 1
            outcome = self.ingest.accept(item.topic, item.payload)
            if isinstance(outcome, Event):
                events.append((outcome, item.received_ms))
            elif isinstance(outcome, Rejection):
                log.warning("rejected %s: %s (%s)", outcome.topic, outcome.reason, outcome.detail)
        if events:
            self._write_durably(events)
        for item in batch:
            source.ack(item)

    def _write_durably(self, events: list[tuple[Event, int]]) -> None:
        backoff_s = 0.5
        while True:
            try:
                self.sink.write(events)
                self.stats.stored += len(events)
                return
            except SinkRejected as exc:
                # Validated data the store still refuses: log every event so nothing is silently lost.
                self.stats.store_rejected += len(events)
                log.error("store refused %d events: %s; events: %s", len(events), exc, events)
                return
            except SinkUnavailable as exc:
                self.stats.write_failures += 1
                log.warning("store unavailable (%s); retrying in %.1fs", exc, backoff_s)
                if self.stopping.wait(backoff_s):
                    raise
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)
