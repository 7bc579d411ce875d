"""The sink interface every store adapter implements, and its error types."""

from __future__ import annotations

from typing import Protocol

from gateway.ingest import Event


class SinkUnavailable(RuntimeError):
    """The store cannot take writes right now (down, timeout, 5xx): retry or spool."""


class SinkRejected(RuntimeError):
    """The store refused the data itself (4xx): retrying the same batch will not help.

    `refused` is how many events of the batch did not go in when the store says so (an
    InfluxDB partial write reports `dropped=N`); None means all of them.
    """

    def __init__(self, message: str, refused: int | None = None) -> None:
        super().__init__(message)
        self.refused = refused


class Sink(Protocol):
    def write(self, events: list[tuple[Event, int]]) -> None:
        """Store (event, received_ms) pairs durably, or raise SinkUnavailable / SinkRejected."""

    def close(self) -> None: ...
