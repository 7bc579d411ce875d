"""The seam for what a gateway derives from the events it takes in (incidents, fire weather).

A processor sees every accepted event of a batch and may return derived events (an incident
opening, a day's fire-weather index); the service stores those with the batch, before the
broker is acked, so a derived event is as durable as the events it came from. `tick` runs about
once a second for what time alone decides (an incident going quiet). Processors are pure logic
with the clock passed in; they never do I/O themselves.
"""

from __future__ import annotations

from typing import Protocol

from gateway.ingest import Event


class EventProcessor(Protocol):
    def observe(self, events: list[tuple[Event, int]], now_ms: int) -> list[Event]:
        """Derived events caused by these (event, received_ms) pairs."""
        ...

    def tick(self, now_ms: int) -> list[Event]:
        """Derived events caused by the passing of time alone."""
        ...
