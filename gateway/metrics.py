"""Gateway counters and their Prometheus text rendering.

Only the service loop writes these; the health server thread reads them
(plain ints under the GIL, so a scrape sees each counter consistently).
"""

from __future__ import annotations

import bisect
import collections
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

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
    """Prometheus text exposition format 0.0.4."""
    out: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP emberwatch_gateway_{name} {help_text}")
        out.append(f"# TYPE emberwatch_gateway_{name} {kind}")
        out.extend(f"emberwatch_gateway_{name}{labels} {_num(v)}" for labels, v in samples)

    metric("received_total", "counter", "MQTT messages received.", [("", stats.received)])
    metric("stored_total", "counter", "Events written to the store.", [("", stats.stored)])
    metric("rejected_total", "counter", "Messages rejected by ingest, by reason.",
           [(f'{{reason="{r}"}}', n) for r, n in sorted(rejected.items())])
    metric("duplicates_total", "counter", "Redelivered (node, seq) pairs dropped.", [("", duplicates)])
    metric("spooled_total", "counter", "Events spooled to disk while the store was down.", [("", stats.spooled)])
    metric("replayed_total", "counter", "Events stored from the spool.", [("", stats.replayed)])
    metric("spool_failures_total", "counter", "Spool appends that failed.", [("", stats.spool_failures)])
    metric("spool_torn_lines_total", "counter", "Torn or corrupt spool lines skipped on replay.",
           [("", spool_torn_lines)])
    metric("store_rejected_total", "counter", "Events the store refused.", [("", stats.store_rejected)])
    metric("dead_lettered_total", "counter", "Events of refused writes held in the dead-letter spool.",
           [("", stats.dead_lettered)])
    metric("store_write_failures_total", "counter", "Failed write attempts.", [("", stats.write_failures)])
    metric("node_state_changes_total", "counter", "Liveness verdicts written, by new state.",
           [(f'{{state="{s}"}}', n) for s, n in sorted(stats.node_state_changes.items())])
    for name, value in sorted(gauges.items()):
        metric(name, "gauge", name.replace("_", " ") + ".", [("", value)])
    name = "emberwatch_gateway_lag_seconds"
    out.append(f"# HELP {name} Node event time to stored in the store, seconds.")
    out.append(f"# TYPE {name} histogram")
    cumulative = 0
    for bound, count in zip(LAG_BUCKETS_S, stats.lag.counts):
        cumulative += count
        out.append(f'{name}_bucket{{le="{bound}"}} {cumulative}')
    out.append(f'{name}_bucket{{le="+Inf"}} {stats.lag.total}')
    out.append(f"{name}_sum {stats.lag.sum_s!r}")
    out.append(f"{name}_count {stats.lag.total}")
    return "\n".join(out) + "\n"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
