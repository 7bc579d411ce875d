"""Gateway counters and their Prometheus text rendering (prometheus-client).

Only the service loop writes these; the health server thread reads them
(plain ints under the GIL, so a scrape sees each counter consistently).
"""

from __future__ import annotations

import bisect
import collections
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

PREFIX = "emberwatch_gateway_"

# Publish (node event time) -> stored, seconds. Wide because a node may queue alerts while offline.
LAG_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
RECENT_LAGS = 100_000


@dataclass
class LagHistogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(LAG_BUCKETS_S) + 1))
    total: int = 0
    sum_s: float = 0.0
    # The newest samples in ms, for benchmarks that want exact percentiles.
    recent_ms: collections.deque[int] = field(default_factory=lambda: collections.deque(maxlen=RECENT_LAGS))

    def observe_ms(self, lag_ms: int) -> None:
        lag_s = max(lag_ms, 0) / 1000.0
        self.counts[bisect.bisect_left(LAG_BUCKETS_S, lag_s)] += 1  # le= buckets: lag_s <= bound
        self.total += 1
        self.sum_s += lag_s
        self.recent_ms.append(lag_ms)


@dataclass
class Stats:
    received: int = 0  # MQTT messages taken from the broker
    stored: int = 0  # events written to the store (live or replayed from the spool)
    store_rejected: int = 0  # events the store refused outright (logged one by one)
    write_failures: int = 0  # failed write attempts (store unavailable)
    spooled: int = 0  # events written to the local spool while the store was down
    replayed: int = 0  # events stored from the spool
    spool_failures: int = 0  # spool appends that failed (disk full, I/O error)
    dead_lettered: int = 0  # events of refused writes kept in the dead-letter spool
    node_state_changes: collections.Counter[str] = field(default_factory=collections.Counter)
    lag: LagHistogram = field(default_factory=LagHistogram)
    started_s: float = field(default_factory=time.time)


def render_prometheus(stats: Stats, rejected: Mapping[str, int], duplicates: int,
                      gauges: Mapping[str, float], spool_torn_lines: int = 0) -> str:
    """Prometheus text exposition format 0.0.4, rendered by prometheus-client.

    The counters stay plain ints on the hot path (a prometheus-client Counter takes a lock per
    inc()); a collector reads them when /metrics is scraped. The receiver child needs no
    multiprocess mode: what it counts reaches the parent through its pipe.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(stats, rejected, duplicates, gauges, spool_torn_lines))
    return generate_latest(registry).decode()


class _Snapshot(Collector):
    def __init__(self, stats: Stats, rejected: Mapping[str, int], duplicates: int,
                 gauges: Mapping[str, float], spool_torn_lines: int) -> None:
        self.stats, self.rejected, self.duplicates = stats, rejected, duplicates
        self.gauges, self.torn = gauges, spool_torn_lines

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        for name, help_text, value in (
                ("received", "MQTT messages received.", stats.received),
                ("stored", "Events written to the store.", stats.stored),
                ("duplicates", "Redelivered (node, boot, seq) messages dropped.", self.duplicates),
                ("spooled", "Events spooled to disk while the store was down.", stats.spooled),
                ("replayed", "Events stored from the spool.", stats.replayed),
                ("spool_failures", "Spool appends that failed.", stats.spool_failures),
                ("spool_torn_lines", "Torn or corrupt spool lines skipped on replay.", self.torn),
                ("store_rejected", "Events the store refused.", stats.store_rejected),
                ("dead_lettered", "Events of refused writes held in the dead-letter spool.", stats.dead_lettered),
                ("store_write_failures", "Failed write attempts.", stats.write_failures)):
            yield CounterMetricFamily(f"{PREFIX}{name}", help_text, value=value)
        by_reason = CounterMetricFamily(f"{PREFIX}rejected", "Messages rejected by ingest, by reason.",
                                        labels=["reason"])
        for reason, n in sorted(self.rejected.items()):
            by_reason.add_metric([reason], n)
        yield by_reason
        changes = CounterMetricFamily(f"{PREFIX}node_state_changes", "Liveness verdicts written, by new state.",
                                      labels=["state"])
        for state, n in sorted(stats.node_state_changes.items()):
            changes.add_metric([state], n)
        yield changes
        for name, gauge in sorted(self.gauges.items()):
            yield GaugeMetricFamily(f"{PREFIX}{name}", name.replace("_", " ") + ".", value=gauge)
        cumulative = 0
        buckets: list[tuple[str, float]] = []
        for bound, count in zip(LAG_BUCKETS_S, stats.lag.counts):
            cumulative += count
            buckets.append((repr(bound), cumulative))
        buckets.append(("+Inf", stats.lag.total))
        yield HistogramMetricFamily(f"{PREFIX}lag_seconds", "Node event time to stored in the store, seconds.",
                                    buckets=buckets, sum_value=stats.lag.sum_s)
