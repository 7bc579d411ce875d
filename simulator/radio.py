"""LoRa uplinks from nodes to gateways: airtime, duty cycle, collisions, capture.

- Path loss: Okumura-Hata (suburban, 868 MHz, gateway mast 15 m, node 1.5 m)
  plus a foliage loss, with fixed log-normal shadowing per node-gateway pair.
- Each node gets the lowest spreading factor whose link margin holds (ADR-like).
- Time on air from simulator.energy.lora_time_on_air_s for the compact binary
  frame a node sends (the gateway bridge turns it into the JSON on MQTT).
- Nodes add 0-2 s of random jitter before transmitting (periodic heartbeats
  of two nodes with the same phase would otherwise collide every time).
- EU868 1 % duty cycle: after a frame of T seconds a node stays silent 99 T;
  later messages queue at the node (and are dropped if they would wait > 1 h).
- Two frames collide when they overlap on the same channel and SF; at each
  gateway the stronger survives if it is >= 6 dB above every overlapping frame
  (capture effect). A frame arrives if any gateway decodes it.
"""

import bisect
import math

import numpy as np

from simulator.battery_ledger import MESSAGE_PAYLOAD_BYTES
from simulator.energy import lora_time_on_air_s

LORAWAN_OVERHEAD_BYTES = 13
TX_POWER_DBM = 14.0
FOLIAGE_LOSS_DB = 10.0
SHADOWING_SIGMA_DB = 4.0
LINK_MARGIN_DB = 5.0
CAPTURE_DB = 6.0
DUTY_CYCLE = 0.01
MAX_QUEUE_WAIT_MS = 3600 * 1000
TX_JITTER_MS = 2000
CHANNELS_HZ = (868_100_000, 868_300_000, 868_500_000)
GATEWAY_SPACING_M = 4000.0
# SX1276 datasheet receiver sensitivity at 125 kHz, dBm
SENSITIVITY_DBM = {7: -123.0, 8: -126.0, 9: -129.0, 10: -132.0, 11: -134.5, 12: -137.0}


def path_loss_db(distance_m: np.ndarray) -> np.ndarray:
    """Okumura-Hata suburban at 868 MHz (h_gw 15 m, h_node 1.5 m) plus foliage."""
    d_km = np.maximum(np.asarray(distance_m, dtype=np.float64), 20.0) / 1000.0
    f, hb, hm = 868.0, 15.0, 1.5
    a_hm = (1.1 * math.log10(f) - 0.7) * hm - (1.56 * math.log10(f) - 0.8)
    urban = 69.55 + 26.16 * math.log10(f) - 13.82 * math.log10(hb) - a_hm + (44.9 - 6.55 * math.log10(hb)) * np.log10(d_km)
    suburban = urban - 2 * math.log10(f / 28) ** 2 - 5.4
    return suburban + FOLIAGE_LOSS_DB


def gateway_positions(x_m: np.ndarray, y_m: np.ndarray, spacing_m: float = GATEWAY_SPACING_M):
    """Gateways on a grid covering the nodes, at least one, centred on the network."""
    x0, x1, y0, y1 = float(x_m.min()), float(x_m.max()), float(y_m.min()), float(y_m.max())
    nx, ny = max(1, math.ceil((x1 - x0) / spacing_m)), max(1, math.ceil((y1 - y0) / spacing_m))
    gx = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    gy = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    xx, yy = np.meshgrid(gx, gy)
    return xx.ravel(), yy.ravel()


class _Frame:
    __slots__ = ("channel", "end_ms", "item", "node", "sf", "start_ms")

    def __init__(self, start_ms: int, end_ms: int, node: int, sf: int, channel: int, item) -> None:
        self.start_ms, self.end_ms, self.node, self.sf, self.channel, self.item = start_ms, end_ms, node, sf, channel, item


class LoRaChannel:
    def __init__(self, rssi_dbm: np.ndarray, rng: np.random.Generator, gateways_xy) -> None:
        """rssi_dbm: (nodes, gateways) received power of each node at each gateway."""
        self.rssi_dbm = rssi_dbm
        self.rng = rng
        self.gateways_xy = gateways_xy
        best = rssi_dbm.max(axis=1)
        self.sf = np.full(len(best), 12, dtype=np.int64)
        for sf in range(12, 6, -1):  # lowest SF with margin wins
            self.sf = np.where(best >= SENSITIVITY_DBM[sf] + LINK_MARGIN_DB, sf, self.sf)
        self.sensitivity = np.array([SENSITIVITY_DBM[int(s)] for s in self.sf])
        self.toa_ms = {sf: round(lora_time_on_air_s(MESSAGE_PAYLOAD_BYTES + LORAWAN_OVERHEAD_BYTES, sf) * 1000)
                       for sf in range(7, 13)}
        self.free_at_ms = np.zeros(len(best), dtype=np.int64)
        self.waiting_until: list[list[int]] = [[] for _ in range(len(best))]
        self.frames: list[_Frame] = []   # scheduled and recent frames, sorted by start
        self.starts: list[int] = []
        self.counts = {"sent": 0, "delivered": 0, "lost_collision": 0, "lost_out_of_range": 0,
                       "dropped_duty_cycle": 0}
        self.airtime_ms = np.zeros(len(best), dtype=np.int64)
        self.max_toa_ms = max(self.toa_ms.values())

    @classmethod
    def for_site(cls, x_m: np.ndarray, y_m: np.ndarray, rng: np.random.Generator) -> "LoRaChannel":
        gx, gy = gateway_positions(x_m, y_m)
        dist = np.hypot(x_m[:, None] - gx[None, :], y_m[:, None] - gy[None, :])
        shadow = rng.normal(0.0, SHADOWING_SIGMA_DB, dist.shape)
        return cls(TX_POWER_DBM - path_loss_db(dist) - shadow, rng, (gx, gy))

    def queued(self, node: int) -> int:
        return len(self.waiting_until[node])

    def send(self, t_ms: int, node: int, n_bytes: int, item) -> None:
        self.counts["sent"] += 1
        start = max(t_ms + int(self.rng.integers(TX_JITTER_MS)), int(self.free_at_ms[node]))
        if start - t_ms > MAX_QUEUE_WAIT_MS + TX_JITTER_MS:
            self.counts["dropped_duty_cycle"] += 1
            return
        sf = int(self.sf[node])
        toa = self.toa_ms[sf]
        self.free_at_ms[node] = start + int(toa / DUTY_CYCLE)
        self.airtime_ms[node] += toa
        waiting = self.waiting_until[node]
        waiting[:] = [w for w in waiting if w > t_ms]
        if start > t_ms + TX_JITTER_MS:
            waiting.append(start)
        frame = _Frame(start, start + toa, node, sf, int(self.rng.integers(len(CHANNELS_HZ))), item)
        i = bisect.bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.frames.insert(i, frame)

    def _decoded(self, f: _Frame, lo: int) -> bool:
        rssi = self.rssi_dbm[f.node]
        ok = rssi >= self.sensitivity[f.node]
        if not ok.any():
            self.counts["lost_out_of_range"] += 1
            return False
        # frames that start before f ends, and end after f starts (start >= f.start - max airtime)
        hi = bisect.bisect_left(self.starts, f.end_ms)
        for j in range(lo, hi):
            g = self.frames[j]
            if g is f or g.sf != f.sf or g.channel != f.channel or g.end_ms <= f.start_ms:
                continue
            ok &= rssi - self.rssi_dbm[g.node] >= CAPTURE_DB
            if not ok.any():
                self.counts["lost_collision"] += 1
                return False
        return True

    def release(self, until_ms: int) -> list[tuple[int, object]]:
        """Frames that ended before until_ms (no later frame can still overlap them)."""
        out = []
        settled = [f for f in self.frames if f.end_ms < until_ms and f.item is not None]
        for f in settled:
            lo = bisect.bisect_left(self.starts, f.start_ms - self.max_toa_ms)
            if self._decoded(f, lo):
                self.counts["delivered"] += 1
                out.append((f.end_ms, f.item))
            f.item = None  # settled; kept a while so it can still collide with later neighbours
        keep_from = bisect.bisect_left(self.starts, until_ms - 2 * self.max_toa_ms)
        # a frame is only needed while an unsettled frame might overlap it
        first_open = next((j for j, f in enumerate(self.frames) if f.item is not None), len(self.frames))
        cut = min(keep_from, first_open)
        del self.frames[:cut]
        del self.starts[:cut]
        out.sort(key=lambda p: p[0])
        return out

    def stats(self) -> dict:
        lost = self.counts["lost_collision"] + self.counts["lost_out_of_range"] + self.counts["dropped_duty_cycle"]
        sf_counts = {f"sf{s}": int((self.sf == s).sum()) for s in range(7, 13) if (self.sf == s).any()}
        return {"model": "lora-eu868", "gateways": len(self.gateways_xy[0]), **self.counts, "lost": lost,
                "loss_rate": lost / self.counts["sent"] if self.counts["sent"] else 0.0, "nodes_per_sf": sf_counts,
                "airtime_s_total": float(self.airtime_ms.sum() / 1000.0)}
