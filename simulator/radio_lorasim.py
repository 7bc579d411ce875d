"""LoRaSim's reference experiment, run through this simulator's collision and capture code.

LoRaSim (Bor, Roedig, Voigt, Alonso: "Do LoRa Low-Power Wide-Area Networks
Scale?", MSWiM 2016) places N nodes uniformly in a disc around one gateway,
sized so the farthest node is just in range at SF12 (log-distance path loss,
no shadowing); every node waits an exponential time (mean `avg_send_s`), sends
a 20-byte frame at SF12/BW125/CR4/8 on one channel, waits for it to end, and
repeats. Its full collision check is the capture effect (6 dB) plus the rule
that an overlap within the later frame's first 3 preamble symbols is survived.
Its data-extraction rate for 1 gateway is the yardstick `delivered_fraction` is
compared with in the tests.
"""

import math

import numpy as np

from simulator.energy import lora_time_on_air_s
from simulator.radio import LinkBudget, decoded_frames
from simulator.radio_config import RadioConfig

LORASIM_SENSITIVITY_SF12_DBM = -132.25  # the table value LoRaSim sizes its disc with


def lorasim_positions(n_nodes: int, rng: np.random.Generator, config: RadioConfig) -> tuple[np.ndarray, np.ndarray]:
    """Uniform in the disc where SF12 still reaches the gateway at (0, 0)."""
    max_loss_db = config.tx_power_dbm - LORASIM_SENSITIVITY_SF12_DBM
    # LoRaSim's radius formula (natural exponent) gives a disc well inside the log10 range limit
    max_dist_m = config.log_distance_d0_m * math.exp((max_loss_db - config.log_distance_pl_d0_db)
                                                    / (10 * config.log_distance_gamma))
    r = max_dist_m * np.sqrt(rng.random(n_nodes))
    theta = rng.uniform(0, 2 * math.pi, n_nodes)
    return r * np.cos(theta), r * np.sin(theta)


def delivered_fraction(n_nodes: int, sim_s: float, seed: int = 1, avg_send_s: float = 1000.0,
                       config: RadioConfig | None = None) -> float:
    """Fraction of frames a single gateway decodes in LoRaSim's experiment."""
    config = config or RadioConfig.lorasim()
    rng = np.random.default_rng(seed)
    x, y = lorasim_positions(n_nodes, rng, config)
    budget = LinkBudget(x, y, np.zeros(1), np.zeros(1), config, seed)
    toa_ms = lora_time_on_air_s(config.payload_bytes, int(config.sf), config.bw_hz, config.coding_rate,
                                config.preamble_symbols) * 1000.0
    per_node = int(sim_s / (avg_send_s + toa_ms / 1000.0) * 1.2) + 20
    gaps_ms = rng.exponential(avg_send_s * 1000.0, (n_nodes, per_node)) + toa_ms
    starts = np.cumsum(gaps_ms, axis=1) - toa_ms
    node = np.broadcast_to(np.arange(n_nodes)[:, None], starts.shape)
    inside = starts + toa_ms <= sim_s * 1000.0
    start, node = starts[inside], node[inside]
    sf = np.full(n_nodes, int(config.sf), dtype=np.int64)
    decoded, _ = decoded_frames(start, start + toa_ms, node, np.zeros(len(start), dtype=np.int64), sf, budget, config)
    return float(decoded.mean())
