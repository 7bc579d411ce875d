"""How node messages reach the gateway. `IdealLink` delivers everything at once;
`simulator.radio.LoRaChannel` (same interface) adds airtime, duty cycle and collisions.

Interface: send(t_ms, node, n_bytes, item) queues a message; release(until_ms)
returns [(deliver_ms, item)] for every message whose fate is settled before
until_ms, in delivery order; queued(node) -> messages waiting at that node;
stats() -> dict of counters.
"""


class IdealLink:
    def __init__(self) -> None:
        self.pending: list[tuple[int, int, object]] = []
        self.sent = 0

    def send(self, t_ms: int, node: int, n_bytes: int, item) -> None:
        self.pending.append((t_ms, node, item))
        self.sent += 1

    def release(self, until_ms: int) -> list[tuple[int, object]]:
        ready = sorted((p for p in self.pending if p[0] < until_ms), key=lambda p: (p[0], p[1]))
        self.pending = [p for p in self.pending if p[0] >= until_ms]
        return [(t, item) for t, _, item in ready]

    def queued(self, node: int) -> int:
        return 0

    def stats(self) -> dict:
        return {"model": "ideal", "sent": self.sent, "delivered": self.sent, "lost": 0}
