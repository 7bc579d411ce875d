"""Synthetic forest background: what a BME688 node under the canopy sees with no fire.

Normal data only (it never fakes fires): a diurnal temperature cycle with
day-to-day weather drift, humidity that moves against temperature, rain
showers (cooler, near-saturated air), a metal-oxide gas resistance with a
slow baseline drift that also falls in humid air, and sensor noise. Real
measured data stays the reference for anomalies; this adds the many quiet
node-days that real indoor recordings lack.
"""

from __future__ import annotations

import numpy as np

from edge_node.core.features import GAS_SIGN_RESISTANCE
from training.recordings import Recording

DAY_S = 86400.0


def _ou_process(rng: np.random.Generator, n: int, dt_s: float, tau_s: float, sigma: float) -> np.ndarray:
    """Mean-reverting random walk (Ornstein-Uhlenbeck), for weather and sensor drift."""
    a = np.exp(-dt_s / tau_s)
    noise = rng.normal(0.0, sigma * np.sqrt(1 - a * a), n)
    out = np.empty(n)
    x = rng.normal(0.0, sigma)
    for i in range(n):
        x = a * x + noise[i]
        out[i] = x
    return out


def _rain_wetness(rng: np.random.Generator, t_s: np.ndarray, days: float) -> np.ndarray:
    """0..1 wetness: showers start at random, soak in over minutes, dry over hours."""
    wet = np.zeros(len(t_s))
    n_showers = rng.poisson(0.4 * days)
    for _ in range(n_showers):
        start = rng.uniform(t_s[0], t_s[-1])
        length = rng.uniform(0.5, 4.0) * 3600
        strength = rng.uniform(0.5, 1.0)
        rising = np.clip((t_s - start) / 900.0, 0, 1)
        drying = np.exp(-np.clip(t_s - start - length, 0, None) / (3 * 3600))
        wet = np.maximum(wet, strength * rising * np.where(t_s > start, drying, 0))
    return wet


def forest_node_days(seed: int, days: float = 1.0, interval_s: float = 30.0, name: str = "") -> Recording:
    """One node's quiet forest days, sampled every interval_s, BME688-like resistance in ohm."""
    rng = np.random.default_rng(seed)
    n = int(days * DAY_S / interval_s)
    t_s = np.arange(n) * interval_s + rng.uniform(0, DAY_S)
    day_phase = 2 * np.pi * (t_s % DAY_S - 15 * 3600) / DAY_S  # warmest mid-afternoon
    mean_c = rng.uniform(8, 26)
    swing_c = rng.uniform(3, 9)
    weather_c = _ou_process(rng, n, interval_s, 2 * DAY_S, 2.5)
    wet = _rain_wetness(rng, t_s, days)
    temp_c = mean_c + swing_c * np.cos(day_phase) + weather_c - 3.0 * wet
    # relative humidity falls as air warms (about 4 %RH per degC near saturation), rain saturates it
    rh_pct = rng.uniform(45, 75) - 3.5 * (temp_c - mean_c) + _ou_process(rng, n, interval_s, DAY_S / 2, 5.0)
    rh_pct = np.clip(rh_pct + wet * (98 - rh_pct), 8, 100)
    log_r0 = np.log(rng.uniform(40e3, 400e3))
    log_drift = _ou_process(rng, n, interval_s, 3 * DAY_S, 0.15)  # heater ageing, dust, pollen
    log_r = log_r0 + log_drift - 0.012 * (rh_pct - 50) - 0.01 * (temp_c - 20)
    log_r += _ou_process(rng, n, interval_s, 1800.0, 0.04)  # terpenes, passing air masses
    gas_ohm = np.exp(log_r + rng.normal(0, 0.01, n))
    temp_c = temp_c + rng.normal(0, 0.03, n)  # BME688 noise figures
    rh_pct = np.clip(rh_pct + rng.normal(0, 0.1, n), 0, 100)
    return Recording(name or f"forest_seed{seed}", t_s, np.round(temp_c, 2), np.round(rh_pct, 2),
                     np.round(gas_ohm), GAS_SIGN_RESISTANCE, np.zeros(n, dtype=np.int64),
                     provenance=f"training.synthetic.forest_node_days(seed={seed}, days={days})")


def forest_nodes(first_seed: int, n_nodes: int, days: float, interval_s: float) -> list[Recording]:
    return [forest_node_days(first_seed + i, days, interval_s) for i in range(n_nodes)]
