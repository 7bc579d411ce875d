"""BME688-like sensors on every node: what each node would read, in driver units.

Air at the node = site weather + the node's microclimate (elevation, canopy
offset, turbulence) + fire heat; humidity follows the same vapour at the
node's temperature. Gas is a metal-oxide resistance that falls in smoke
(power law in CO ppm) and a little in humid air. Then the sensor itself: a
first-order lag, noise, slow drift, and faults as a real BME688 shows them:
a dead sensor does not answer on I2C, so the firmware's driver raises and the
node gets no reading at all (`no_reading`; the node reports FAULT_SENSOR_BUS);
a stuck one repeats its last values to the count; a wet one (water in the
enclosure) rails humidity at the driver's 100.00 % clamp while condensate on
the metal-oxide layer drags its resistance down to a few kilo-ohm.
Nuisances that are not fires also happen: a sun fleck warming the enclosure
for a few minutes, a vehicle or a chimney puffing CO past a node. They are
what a detector's false alerts are made of.
Output: temp_cc, rh_cp, gas resistance in ohm (int64 arrays), as the firmware's
BME688 driver reports them.
"""

import math

import numpy as np

from simulator.terrain import LAPSE_RATE_C_PER_M
from simulator.weather import WeatherState, saturation_vapour_hpa

FAULT_NONE = 0
FAULT_STUCK = 1        # readings freeze at their last value (firmware keeps re-reading a latched register)
FAULT_DEAD_SENSOR = 2  # no answer on I2C: the driver raises, the node has no reading this wake
FAULT_WET = 3          # water ingress: RH rails at 100.00 %, gas resistance collapses
FAULT_NAMES = {FAULT_NONE: "none", FAULT_STUCK: "stuck", FAULT_DEAD_SENSOR: "dead_sensor", FAULT_WET: "wet"}
WET_GAS_OHM = 3_000.0      # a flooded MOX layer conducts through its water film
WET_RH_CP = 10_000         # the driver clamps humidity at 100.00 %

GAS_SMOKE_REF_PPM = 5.0    # CO at which the MOX resistance has fallen by 2**0.6
GAS_SMOKE_EXPONENT = 0.6
GAS_RH_PER_PCT = -0.006    # ln R per %RH: MOX resistance drops in humid air
TEMP_MIN_C, TEMP_MAX_C = -40.0, 85.0  # BME688 operating range; the driver saturates there
TAU_TEMP_S, TAU_RH_S, TAU_GAS_S = 90.0, 60.0, 30.0  # in a radiation shield


class SensorConfig:
    def __init__(self, temp_noise_c: float = 0.03, rh_noise_pct: float = 0.2, gas_noise_frac: float = 0.015,
                 gas_drift_per_sqrt_day: float = 0.03, turbulence_c: float = 0.15,
                 gas_baseline_ohm: float = 80_000.0, nuisances_per_node_month: float = 2.0) -> None:
        self.temp_noise_c = temp_noise_c
        self.rh_noise_pct = rh_noise_pct
        self.gas_noise_frac = gas_noise_frac
        self.gas_drift_per_sqrt_day = gas_drift_per_sqrt_day
        self.turbulence_c = turbulence_c
        self.gas_baseline_ohm = gas_baseline_ohm
        self.nuisances_per_node_month = nuisances_per_node_month


class Nuisances:
    """Short non-fire events per node (Poisson in time): sun flecks (heat) and passing exhaust (CO)."""

    def __init__(self, rng: np.random.Generator, n: int, per_node_month: float, horizon_s: float) -> None:
        count = rng.poisson(per_node_month * horizon_s / (30 * 86400.0) * n) if per_node_month > 0 else 0
        self.node = rng.integers(0, max(n, 1), count)
        self.start_s = rng.uniform(0, horizon_s, count)
        self.kind_sun = rng.random(count) < 0.5
        self.end_s = self.start_s + np.where(self.kind_sun, rng.uniform(300, 1200, count), rng.uniform(60, 240, count))
        self.heat_c = np.where(self.kind_sun, rng.uniform(2.0, 8.0, count), 0.0)
        self.co_ppm = np.where(self.kind_sun, 0.0, rng.uniform(2.0, 30.0, count))
        order = np.argsort(self.start_s)
        for name in ("node", "start_s", "kind_sun", "end_s", "heat_c", "co_ppm"):
            setattr(self, name, getattr(self, name)[order])
        self.max_len_s = float((self.end_s - self.start_s).max(initial=0.0))
        self.nodes_now = self.node[:0]  # nodes with a nuisance going on at the last `at` call

    def at(self, t_s: float, heat_c: np.ndarray, co_ppm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fire heat and CO plus whatever nuisance is going on at each node at t_s."""
        lo = np.searchsorted(self.start_s, t_s - self.max_len_s)
        hi = np.searchsorted(self.start_s, t_s, side="right")
        live = np.flatnonzero(self.end_s[lo:hi] > t_s) + lo
        self.nodes_now = self.node[live]
        if live.size == 0:
            return heat_c, co_ppm
        heat_c, co_ppm = heat_c.copy(), co_ppm.copy()
        np.add.at(heat_c, self.node[live], self.heat_c[live])
        np.add.at(co_ppm, self.node[live], self.co_ppm[live])
        return heat_c, co_ppm

    def __len__(self) -> int:
        return len(self.start_s)


class SensorBank:
    """State of all nodes' sensors; `read` advances them by one sample."""

    def __init__(self, rng: np.random.Generator, elevation_m: np.ndarray, fault_kind: np.ndarray,
                 fault_at_s: np.ndarray, horizon_s: float, config: SensorConfig | None = None) -> None:
        self.rng = rng
        self.config = c = config or SensorConfig()
        n = len(elevation_m)
        self.n = n
        self.elevation_offset_c = (elevation_m - float(np.median(elevation_m))) * LAPSE_RATE_C_PER_M
        self.canopy_offset_c = rng.normal(0.0, 0.5, n)
        self.ln_gas_base = math.log(c.gas_baseline_ohm) + rng.normal(0.0, 0.5, n)
        self.fault_kind = fault_kind
        self.fault_at_s = fault_at_s
        self.nuisances = Nuisances(rng, n, c.nuisances_per_node_month, horizon_s)
        self.turbulence = np.zeros(n)
        self.gas_drift = np.zeros(n)
        self.lagged: list[np.ndarray] | None = None  # temp_c, rh_pct, ln_gas after the sensor's lag
        self.last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # last readings, for stuck faults
        self.no_reading = np.zeros(n, dtype=bool)  # the sensor did not answer this sample

    def read(self, t_s: float, dt_s: float, weather: WeatherState, co_ppm: np.ndarray,
             heat_c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c, n = self.config, self.n
        keep = math.exp(-dt_s / 300.0)  # turbulence decorrelates over ~5 minutes
        z = self.rng.standard_normal((5, n))  # one draw per step: turbulence, drift, 3 x sensor noise
        self.turbulence = self.turbulence * keep + z[0] * (c.turbulence_c * math.sqrt(1 - keep * keep))
        self.gas_drift += z[1] * (c.gas_drift_per_sqrt_day * math.sqrt(dt_s / 86400.0))
        extra_heat_c, extra_co_ppm = self.nuisances.at(t_s, heat_c, co_ppm)
        temp_c = (weather.temp_c + self.elevation_offset_c + self.canopy_offset_c) + self.turbulence + extra_heat_c
        vapour_hpa = weather.rh_pct / 100.0 * float(saturation_vapour_hpa(weather.temp_c))
        rh_pct = np.clip(100.0 * vapour_hpa / saturation_vapour_hpa(np.minimum(temp_c, 150.0)), 0.0, 100.0)
        ln_gas = self.ln_gas_base + self.gas_drift + GAS_RH_PER_PCT * (rh_pct - 50.0)
        smoky = np.flatnonzero(extra_co_ppm)
        if smoky.size:
            ln_gas[smoky] -= GAS_SMOKE_EXPONENT * np.log1p(extra_co_ppm[smoky] / GAS_SMOKE_REF_PPM)
        if self.lagged is None:
            self.lagged = [temp_c, rh_pct, ln_gas]
        else:
            for k, (truth, tau_s) in enumerate(((temp_c, TAU_TEMP_S), (rh_pct, TAU_RH_S), (ln_gas, TAU_GAS_S))):
                self.lagged[k] = self.lagged[k] + (truth - self.lagged[k]) * (1.0 - math.exp(-dt_s / tau_s))
        noisy_t = self.lagged[0] + z[2] * c.temp_noise_c
        noisy_rh = self.lagged[1] + z[3] * c.rh_noise_pct
        noisy_gas = self.lagged[2] + z[4] * c.gas_noise_frac
        temp_cc = np.rint(np.clip(noisy_t, TEMP_MIN_C, TEMP_MAX_C) * 100).astype(np.int64)
        rh_cp = np.rint(np.clip(noisy_rh, 0.0, 100.0) * 100).astype(np.int64)
        gas_ohm = np.rint(np.exp(np.clip(noisy_gas, 0.0, 21.0))).astype(np.int64)
        failed = self.fault_at_s <= t_s
        if failed.any():
            if self.last is not None:
                stuck = failed & (self.fault_kind == FAULT_STUCK)
                temp_cc = np.where(stuck, self.last[0], temp_cc)
                rh_cp = np.where(stuck, self.last[1], rh_cp)
                gas_ohm = np.where(stuck, self.last[2], gas_ohm)
            wet = failed & (self.fault_kind == FAULT_WET)
            if wet.any():
                rh_cp = np.where(wet, WET_RH_CP, rh_cp)
                wet_gas = np.rint(WET_GAS_OHM * np.exp(z[4] * c.gas_noise_frac)).astype(np.int64)
                gas_ohm = np.where(wet, wet_gas, gas_ohm)
            self.no_reading = failed & (self.fault_kind == FAULT_DEAD_SENSOR)
            if self.no_reading.any() and self.last is not None:
                # nothing was read: keep the last values so nothing downstream sees a made-up number
                temp_cc = np.where(self.no_reading, self.last[0], temp_cc)
                rh_cp = np.where(self.no_reading, self.last[1], rh_cp)
                gas_ohm = np.where(self.no_reading, self.last[2], gas_ohm)
        self.last = (temp_cc, rh_cp, gas_ohm)
        return temp_cc, rh_cp, gas_ohm
