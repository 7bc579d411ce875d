"""How node messages reach the gateway. `IdealLink` delivers everything at once;
`simulator.radio.LoRaChannel` (same interface) adds airtime, duty cycle and collisions.

Interface: send(t_ms array, node array, items) queues one message per item;
release(until_ms) returns [(deliver_ms, item)] for every message whose fate is
settled before until_ms, in delivery order; queued(now_ms) -> per-node count of
messages waiting; stats() -> dict of counters.
"""

import numpy as np


class IdealLink:
    def __init__(self, n_nodes: int) -> None:
        self.pending: list[tuple[int, int, object]] = []
        self.sent = 0
        self.n = n_nodes

    def send(self, t_ms: np.ndarray, nodes: np.ndarray, items: list) -> None:
        self.pending.extend(zip(t_ms.tolist(), nodes.tolist(), items))
        self.sent += len(items)

    def release(self, until_ms: int) -> list[tuple[int, object]]:
        ready = sorted((p for p in self.pending if p[0] < until_ms), key=lambda p: (p[0], p[1]))
        self.pending = [p for p in self.pending if p[0] >= until_ms]
        return [(t, item) for t, _, item in ready]

    def queued(self, now_ms: int) -> np.ndarray:
        return np.zeros(self.n, dtype=np.int64)

    def stats(self) -> dict:
        return {"model": "ideal", "sent": self.sent, "delivered": self.sent, "lost": 0}
