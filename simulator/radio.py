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


class LoRaChannel:
    """Frames live in numpy arrays (start, end, node, sf, channel) so a step's collisions are one
    vectorized overlap test; only the rare overlapping pairs are checked gateway by gateway."""

    def __init__(self, rssi_dbm: np.ndarray, rng: np.random.Generator, gateways_xy) -> None:
        """rssi_dbm: (nodes, gateways) received power of each node at each gateway."""
        self.rssi_dbm = rssi_dbm
        self.rng = rng
        self.gateways_xy = gateways_xy
        n = len(rssi_dbm)
        best = rssi_dbm.max(axis=1)
        self.sf = np.full(n, 12, dtype=np.int64)
        for sf in range(12, 6, -1):  # lowest SF with margin wins
            self.sf = np.where(best >= SENSITIVITY_DBM[sf] + LINK_MARGIN_DB, sf, self.sf)
        sensitivity = np.array([SENSITIVITY_DBM[int(s)] for s in self.sf])
        self.audible = rssi_dbm >= sensitivity[:, None]  # (nodes, gateways)
        toa_by_sf = {sf: round(lora_time_on_air_s(MESSAGE_PAYLOAD_BYTES + LORAWAN_OVERHEAD_BYTES, sf) * 1000)
                     for sf in range(7, 13)}
        self.toa_ms = np.array([toa_by_sf[int(s)] for s in self.sf], dtype=np.int64)
        self.max_toa_ms = max(toa_by_sf.values())
        self.free_at_ms = np.zeros(n, dtype=np.int64)
        self.n = n
        empty = np.zeros(0, dtype=np.int64)
        self.start, self.end, self.node, self.channel = empty, empty, empty, empty
        self.open = np.zeros(0, dtype=bool)
        self.items: list = []
        self.counts = {"sent": 0, "delivered": 0, "lost_collision": 0, "lost_out_of_range": 0,
                       "dropped_duty_cycle": 0}
        self.airtime_ms = np.zeros(n, dtype=np.int64)

    @classmethod
    def for_site(cls, x_m: np.ndarray, y_m: np.ndarray, rng: np.random.Generator) -> "LoRaChannel":
        gx, gy = gateway_positions(x_m, y_m)
        dist = np.hypot(x_m[:, None] - gx[None, :], y_m[:, None] - gy[None, :])
        shadow = rng.normal(0.0, SHADOWING_SIGMA_DB, dist.shape)
        return cls(TX_POWER_DBM - path_loss_db(dist) - shadow, rng, (gx, gy))

    def queued(self, now_ms: int) -> np.ndarray:
        """Per node: frames still waiting for the duty cycle to allow them."""
        waiting = self.open & (self.start > now_ms + TX_JITTER_MS)
        return np.bincount(self.node[waiting], minlength=self.n)

    def send(self, t_ms: np.ndarray, nodes: np.ndarray, items: list) -> None:
        """Queue one frame per (t_ms, node, item); each node at most once per call."""
        k = len(items)
        if k == 0:
            return
        if np.unique(nodes).size != k:
            raise ValueError("send() takes each node at most once per call")
        self.counts["sent"] += k
        jitter = self.rng.integers(0, TX_JITTER_MS, k)
        channel = self.rng.integers(0, len(CHANNELS_HZ), k)
        toa = self.toa_ms[nodes]
        starts = np.maximum(t_ms + jitter, self.free_at_ms[nodes])
        keep = starts - t_ms <= MAX_QUEUE_WAIT_MS + TX_JITTER_MS
        self.counts["dropped_duty_cycle"] += int(k - keep.sum())
        nodes, starts, toa = nodes[keep], starts[keep], toa[keep]
        self.free_at_ms[nodes] = starts + (toa * round(1 / DUTY_CYCLE))
        self.airtime_ms[nodes] += toa
        self.start = np.concatenate([self.start, starts])
        self.end = np.concatenate([self.end, starts + toa])
        self.node = np.concatenate([self.node, nodes])
        self.channel = np.concatenate([self.channel, channel[keep]])
        self.open = np.concatenate([self.open, np.ones(len(nodes), dtype=bool)])
        self.items.extend(item for item, kept in zip(items, keep.tolist()) if kept)

    def _overlapped(self) -> np.ndarray:
        """Per stored frame: does another frame on the same SF and channel overlap it in time?

        Frames with the same SF last equally long, so sorted by start within one
        (SF, channel) an overlap always shows between neighbours.
        """
        key = self.sf[self.node] * len(CHANNELS_HZ) + self.channel
        order = np.lexsort((self.start, key))
        k, start, end = key[order], self.start[order], self.end[order]
        pair = (k[1:] == k[:-1]) & (start[1:] < end[:-1])
        hit = np.zeros(len(order), dtype=bool)
        hit[:-1] |= pair
        hit[1:] |= pair
        out = np.empty_like(hit)
        out[order] = hit
        return out

    def release(self, until_ms: int) -> list[tuple[int, object]]:
        """Frames that ended before until_ms (no frame sent later can still overlap them)."""
        settle = np.flatnonzero(self.open & (self.end < until_ms))
        out = []
        if settle.size:
            s_node = self.node[settle]
            overlapped = self._overlapped()[settle]
            in_range = self.audible[s_node].any(axis=1)
            decoded = np.array(in_range, dtype=bool)
            self.counts["lost_out_of_range"] += int((~in_range).sum())
            for row in np.flatnonzero(in_range & overlapped).tolist():
                f, node = int(settle[row]), int(s_node[row])
                others = self.node[(self.start < self.end[f]) & (self.end > self.start[f])
                                   & (self.sf[self.node] == self.sf[node]) & (self.channel == self.channel[f])]
                others = others[others != node]
                # capture: decoded at a gateway only if >= 6 dB above every overlapping frame there
                margin = self.rssi_dbm[node][None, :] - self.rssi_dbm[others]
                if not (self.audible[node] & (margin >= CAPTURE_DB).all(axis=0)).any():
                    self.counts["lost_collision"] += 1
                    decoded[row] = False
            self.counts["delivered"] += int(decoded.sum())
            items = self.items
            out = [(end, items[f]) for f, end in zip(settle[decoded].tolist(), self.end[settle[decoded]].tolist())]
            self.open[settle] = False
            for f in settle.tolist():
                self.items[f] = None
        # forget settled frames that can no longer overlap an open or future one
        keep = self.open | (self.end >= until_ms - self.max_toa_ms)
        if not keep.all():
            self.start, self.end, self.node = self.start[keep], self.end[keep], self.node[keep]
            self.channel, self.open = self.channel[keep], self.open[keep]
            self.items = [item for item, kept in zip(self.items, keep.tolist()) if kept]
        out.sort(key=lambda p: p[0])
        return out

    def stats(self) -> dict:
        lost = self.counts["lost_collision"] + self.counts["lost_out_of_range"] + self.counts["dropped_duty_cycle"]
        sf_counts = {f"sf{s}": int((self.sf == s).sum()) for s in range(7, 13) if (self.sf == s).any()}
        # counts and the in-range check are per frame; a gateway decodes it when in range and captured
        return {"model": "lora-eu868", "gateways": len(self.gateways_xy[0]), **self.counts, "lost": lost,
                "loss_rate": lost / self.counts["sent"] if self.counts["sent"] else 0.0, "nodes_per_sf": sf_counts,
                "airtime_s_total": float(self.airtime_ms.sum() / 1000.0)}
