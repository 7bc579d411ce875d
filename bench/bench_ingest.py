"""CPU per alert of the gateway's pure steps, no servers: schema decode, ingest, line protocol.

These run in the gateway's main process for every message (the receiver child only
receives), so they bound what one gateway process can store per second.

    .venv/bin/python bench/bench_ingest.py
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge_node.core import schema
from gateway.ingest import Ingest
from gateway.points import event_to_line
from tests.harness.node_publisher import alert_messages

ALERTS = 20_000  # 100 nodes x 200 seqs, as a gateway hears them
REPEATS = 7


def us_per_item(step: Callable[[], object]) -> tuple[float, float]:
    """(best, median) of REPEATS passes over ALERTS items, in us per item; the best is the least disturbed."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times) / ALERTS * 1e6, statistics.median(times) / ALERTS * 1e6


def main() -> int:
    messages = alert_messages("ridge", nodes=100, per_node=ALERTS // 100)
    events = [Ingest().accept(topic, payload) for topic, payload in messages]

    def decode_all() -> None:
        for topic, payload in messages:
            schema.decode(topic, payload)

    def ingest_all() -> None:
        ingest = Ingest()  # fresh, so every alert is new (none is a duplicate)
        for topic, payload in messages:
            ingest.accept(topic, payload)

    def lines_all() -> None:
        for event in events:
            event_to_line(event, 0)

    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python {platform.python_version()}, "
          f"{ALERTS} alerts, best / median of {REPEATS} passes")
    for name, step in (("schema.decode", decode_all), ("Ingest.accept (decode + dedupe + Event)", ingest_all),
                       ("event_to_line", lines_all)):
        best, median = us_per_item(step)
        print(f"{name}: {best:.1f} us / {median:.1f} us per alert")
    return 0


if __name__ == "__main__":
    sys.exit(main())
