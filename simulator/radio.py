"""LoRa uplinks from nodes to gateways: airtime, duty cycle, collisions, capture.

Every setting comes from `simulator.radio_config.RadioConfig`.
- Path loss: Okumura-Hata (suburban, gateway mast 15 m, node 1.5 m) plus a
  foliage loss, or LoRaSim's log-distance fit; fixed log-normal shadowing per
  node-gateway pair, drawn from a hash of (seed, node, gateway) so any pair's
  received power can be recomputed on demand. Each node remembers only its few
  nearest gateways: memory is linear in nodes however many gateways there are.
- Spreading factor fixed, or per node the lowest with link margin (ADR-like).
- Time on air from simulator.energy.lora_time_on_air_s for the configured frame.
- Nodes add random jitter before transmitting (periodic heartbeats of two nodes
  with the same phase would otherwise collide every time).
- Duty cycle d: after a frame of T seconds a node stays silent T (1/d - 1);
  later messages queue at the node (dropped if they would wait too long).
- Two frames on the same channel and SF interfere when they overlap, except
  when the overlap is confined to the later frame's first few preamble symbols
  (LoRaSim's rule: a receiver locks on with 5 of 8 preamble symbols). At each
  gateway a frame survives interference if it is >= capture_db above every
  interfering frame (capture effect). A frame arrives if any gateway decodes it.
"""

import math

import numpy as np

from simulator.energy import lora_time_on_air_s
from simulator.radio_config import RadioConfig

# SX1276 datasheet receiver sensitivity at 125 kHz, dBm; each doubling of bandwidth costs 3 dB
SENSITIVITY_125K_DBM = {7: -123.0, 8: -126.0, 9: -129.0, 10: -132.0, 11: -134.5, 12: -137.0}


def sensitivity_dbm(sf: np.ndarray | int, bw_hz: int) -> np.ndarray:
    table = np.array([np.nan] * 7 + [SENSITIVITY_125K_DBM[s] for s in range(7, 13)])
    return table[np.asarray(sf)] + 10 * math.log10(bw_hz / 125_000)


def path_loss_db(distance_m: np.ndarray, config: RadioConfig | None = None) -> np.ndarray:
    """Median path loss at 868 MHz for the configured model."""
    config = config or RadioConfig()
    d = np.asarray(distance_m, dtype=np.float64)
    if config.path_loss == "log-distance":
        d = np.maximum(d, 1.0)
        return config.log_distance_pl_d0_db + 10 * config.log_distance_gamma * np.log10(d / config.log_distance_d0_m)
    d_km = np.maximum(d, 20.0) / 1000.0
    f, hb, hm = 868.0, 15.0, 1.5
    a_hm = (1.1 * math.log10(f) - 0.7) * hm - (1.56 * math.log10(f) - 0.8)
    urban = 69.55 + 26.16 * math.log10(f) - 13.82 * math.log10(hb) - a_hm + (44.9 - 6.55 * math.log10(hb)) * np.log10(d_km)
    suburban = urban - 2 * math.log10(f / 28) ** 2 - 5.4
    return suburban + config.foliage_loss_db


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-spread 64-bit hash (uint64 arithmetic wraps, as intended)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shadowing_db(seed: int, node: np.ndarray, gateway: np.ndarray, sigma_db: float) -> np.ndarray:
    """Log-normal shadowing of each (node, gateway) pair: the same pair always gets the same value."""
    if sigma_db == 0:
        return np.zeros(np.broadcast(node, gateway).shape)
    key = (np.uint64(seed & 0xFFFFFFFF) << np.uint64(40)) ^ (np.asarray(node).astype(np.uint64) << np.uint64(16)) \
        ^ np.asarray(gateway).astype(np.uint64)
    h1 = _mix64(key * np.uint64(2) + np.uint64(1))
    h2 = _mix64(h1 + np.uint64(0x9E3779B97F4A7C15))
    u1 = ((h1 >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0 ** 53
    u2 = (h2 >> np.uint64(11)).astype(np.float64) / 2.0 ** 53
    return sigma_db * np.sqrt(-2 * np.log(u1)) * np.cos(2 * math.pi * u2)


def gateway_positions(x_m: np.ndarray, y_m: np.ndarray, spacing_m: float = 4000.0):
    """Gateways on a grid covering the nodes, at least one, centred on the network."""
    x0, x1, y0, y1 = float(x_m.min()), float(x_m.max()), float(y_m.min()), float(y_m.max())
    nx, ny = max(1, math.ceil((x1 - x0) / spacing_m)), max(1, math.ceil((y1 - y0) / spacing_m))
    gx = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    gy = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    xx, yy = np.meshgrid(gx, gy)
    return xx.ravel(), yy.ravel()


class LinkBudget:
    """Received power of any node at any gateway, and each node's nearest gateways kept in (n, k) arrays."""

    def __init__(self, x_m: np.ndarray, y_m: np.ndarray, gx_m: np.ndarray, gy_m: np.ndarray, config: RadioConfig,
                 seed: int) -> None:
        self.x_m, self.y_m = np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64)
        self.gx_m, self.gy_m = np.asarray(gx_m, dtype=np.float64), np.asarray(gy_m, dtype=np.float64)
        self.config, self.seed = config, seed
        n, k = len(self.x_m), min(config.near_gateways, len(self.gx_m))
        self.near = np.zeros((n, k), dtype=np.int64)
        chunk = max(1, 2_000_000 // max(1, len(self.gx_m)))  # bounded scratch memory for the distance search
        for lo in range(0, n, chunk):
            d = np.hypot(self.x_m[lo:lo + chunk, None] - self.gx_m[None, :], self.y_m[lo:lo + chunk, None] - self.gy_m)
            part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < d.shape[1] else np.argsort(d, axis=1)
            self.near[lo:lo + chunk] = part
        rows = np.arange(n)[:, None]
        self.near_rssi_dbm = self.rssi_dbm(np.broadcast_to(rows, self.near.shape), self.near)

    def rssi_dbm(self, node: np.ndarray, gateway: np.ndarray) -> np.ndarray:
        d = np.hypot(self.x_m[node] - self.gx_m[gateway], self.y_m[node] - self.gy_m[gateway])
        c = self.config
        return c.tx_power_dbm - path_loss_db(d, c) - shadowing_db(self.seed, node, gateway, c.shadowing_db)

    def best_rssi_dbm(self) -> np.ndarray:
        return self.near_rssi_dbm.max(axis=1)


def spreading_factors(budget: LinkBudget, config: RadioConfig) -> np.ndarray:
    n = len(budget.x_m)
    if config.sf != "adr":
        return np.full(n, int(config.sf), dtype=np.int64)
    best = budget.best_rssi_dbm()
    sf = np.full(n, 12, dtype=np.int64)
    for s in range(12, 6, -1):  # lowest SF with margin wins
        sf = np.where(best >= sensitivity_dbm(s, config.bw_hz) + config.link_margin_db, s, sf)
    return sf


def interfering_pairs(start_ms: np.ndarray, end_ms: np.ndarray, key: np.ndarray,
                      grace_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (earlier, later) of frames with the same key (SF and channel) that interfere.

    The later frame b hurts (and is hurt by) the earlier a when b starts more than its grace
    before a ends. Sorted by start within a key, offset k compares each frame with the k-th next;
    once no frame overlaps its k-th next, none overlaps any later one either.
    """
    order = np.lexsort((start_ms, key))
    s, e, k, g = start_ms[order], end_ms[order], key[order], grace_ms[order]
    first, second = [], []
    for off in range(1, len(order)):
        overlap = (k[off:] == k[:-off]) & (s[off:] < e[:-off])
        if not overlap.any():
            break
        hit = np.flatnonzero(overlap & (s[off:] + g[off:] < e[:-off]))
        first.append(order[hit])
        second.append(order[hit + off])
    if not first:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(first), np.concatenate(second)


def decoded_frames(start_ms: np.ndarray, end_ms: np.ndarray, node: np.ndarray, channel: np.ndarray,
                   sf: np.ndarray, budget: LinkBudget, config: RadioConfig,
                   judge: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per frame in `judge` (default all): (decoded by some gateway, within range of some gateway).

    sf is per node. Interference counts every frame given, judged or not.
    """
    judge = np.arange(len(start_ms)) if judge is None else judge
    frame_sf = sf[node]
    t_sym_ms = (2.0 ** frame_sf) / config.bw_hz * 1000.0
    a, b = interfering_pairs(start_ms, end_ms, frame_sf * config.channels + channel,
                             config.preamble_grace_symbols * t_sym_ms)
    victim = np.concatenate([a, b])
    other = np.concatenate([b, a])
    judged = np.zeros(len(start_ms), dtype=bool)
    judged[judge] = True
    keep = judged[victim]
    victim, other = victim[keep], other[keep]
    sens = sensitivity_dbm(frame_sf[judge], config.bw_hz)
    own = budget.near_rssi_dbm[node[judge]]  # (j, k)
    audible = own >= sens[:, None]
    slot_of = np.full(len(start_ms), -1, dtype=np.int64)
    slot_of[judge] = np.arange(len(judge))
    beaten = np.zeros(audible.shape, dtype=bool)
    if victim.size:
        row = slot_of[victim]
        for k in range(audible.shape[1]):
            gw = budget.near[node[victim], k]
            margin = budget.near_rssi_dbm[node[victim], k] - budget.rssi_dbm(node[other], gw)
            np.logical_or.at(beaten[:, k], row, margin < config.capture_db)
    return (audible & ~beaten).any(axis=1), audible.any(axis=1)


class LoRaChannel:
    """Frames live in numpy arrays (start, end, node, channel) so a step's collisions are a
    vectorized overlap test over the few frames that can still interfere."""

    def __init__(self, budget: LinkBudget, config: RadioConfig, rng: np.random.Generator) -> None:
        self.budget, self.config, self.rng = budget, config, rng
        self.gateways_xy = (budget.gx_m, budget.gy_m)
        self.sf = spreading_factors(budget, config)
        toa_by_sf = {s: round(lora_time_on_air_s(config.payload_bytes, s, config.bw_hz, config.coding_rate,
                                                 config.preamble_symbols) * 1000) for s in range(7, 13)}
        self.toa_ms = np.array([toa_by_sf[int(s)] for s in self.sf], dtype=np.int64)
        self.max_toa_ms = max(toa_by_sf.values())
        n = len(self.sf)
        self.n = n
        self.free_at_ms = np.zeros(n, dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        self.start, self.end, self.node, self.channel = empty, empty, empty, empty
        self.open = np.zeros(0, dtype=bool)
        self.items: list = []
        self.counts = {"sent": 0, "delivered": 0, "lost_collision": 0, "lost_out_of_range": 0,
                       "dropped_duty_cycle": 0}
        self.airtime_ms = np.zeros(n, dtype=np.int64)
        self.released_nodes: list[int] = []

    @classmethod
    def for_site(cls, x_m: np.ndarray, y_m: np.ndarray, rng: np.random.Generator,
                 config: RadioConfig | None = None) -> "LoRaChannel":
        config = config or RadioConfig()
        gx, gy = gateway_positions(x_m, y_m, config.gateway_spacing_m)
        seed = int(rng.integers(0, 2 ** 31))
        return cls(LinkBudget(x_m, y_m, gx, gy, config, seed), config, rng)

    def queued(self, now_ms: int) -> np.ndarray:
        """Per node: frames still waiting for the duty cycle to allow them."""
        waiting = self.open & (self.start > now_ms + self.config.tx_jitter_ms)
        return np.bincount(self.node[waiting], minlength=self.n)

    def send(self, t_ms: np.ndarray, nodes: np.ndarray, items: list) -> None:
        """Queue one frame per (t_ms, node, item); each node at most once per call."""
        k = len(items)
        if k == 0:
            return
        if np.unique(nodes).size != k:
            raise ValueError("send() takes each node at most once per call")
        c = self.config
        self.counts["sent"] += k
        jitter = self.rng.integers(0, c.tx_jitter_ms, k) if c.tx_jitter_ms >= 1 else np.zeros(k, dtype=np.int64)
        channel = self.rng.integers(0, c.channels, k)
        toa = self.toa_ms[nodes]
        starts = np.maximum(t_ms + jitter, self.free_at_ms[nodes])
        keep = starts - t_ms <= c.max_queue_wait_s * 1000 + c.tx_jitter_ms
        self.counts["dropped_duty_cycle"] += int(k - keep.sum())
        nodes, starts, toa = nodes[keep], starts[keep], toa[keep]
        self.free_at_ms[nodes] = starts + np.rint(toa / c.duty_cycle).astype(np.int64)
        self.airtime_ms[nodes] += toa
        self.start = np.concatenate([self.start, starts])
        self.end = np.concatenate([self.end, starts + toa])
        self.node = np.concatenate([self.node, nodes])
        self.channel = np.concatenate([self.channel, channel[keep]])
        self.open = np.concatenate([self.open, np.ones(len(nodes), dtype=bool)])
        self.items.extend(item for item, kept in zip(items, keep.tolist()) if kept)

    def release(self, until_ms: int) -> list[tuple[int, object]]:
        """Frames that ended before until_ms (no frame sent later can still overlap them)."""
        settle = np.flatnonzero(self.open & (self.end < until_ms))
        out = []
        if settle.size:
            decoded, in_range = decoded_frames(self.start, self.end, self.node, self.channel, self.sf, self.budget,
                                               self.config, settle)
            self.counts["lost_out_of_range"] += int((~in_range).sum())
            self.counts["lost_collision"] += int((in_range & ~decoded).sum())
            self.counts["delivered"] += int(decoded.sum())
            items, won = self.items, settle[decoded]
            out = [(end, items[f], node) for f, end, node in zip(won.tolist(), self.end[won].tolist(),
                                                                  self.node[won].tolist())]
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
        self.released_nodes = [node for _, _, node in out]  # who sent each released frame (rxInfo metadata)
        return [(end, item) for end, item, _ in out]

    def stats(self) -> dict:
        lost = self.counts["lost_collision"] + self.counts["lost_out_of_range"] + self.counts["dropped_duty_cycle"]
        sf_counts = {f"sf{s}": int((self.sf == s).sum()) for s in range(7, 13) if (self.sf == s).any()}
        return {"model": "lora-eu868", "gateways": len(self.gateways_xy[0]),
                "gateway_xy_m": [[round(float(x), 1), round(float(y), 1)] for x, y in zip(*self.gateways_xy)],
                **self.counts, "lost": lost,
                "loss_rate": lost / self.counts["sent"] if self.counts["sent"] else 0.0, "nodes_per_sf": sf_counts,
                "airtime_s_total": float(self.airtime_ms.sum() / 1000.0), "settings": self.config.to_dict()}
