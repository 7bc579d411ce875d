"""Rothermel (1972) surface fire spread with Albini's (1976) refinements, as BehavePlus computes it.

    bed = FuelBed(fuel_model("GR2"), Moisture(dead_1h=0.06))
    bed.spread_rate_ms(midflame_wind_ms=2.0, slope_tan=0.0)

Equations in English units, as published (Rothermel 1972, INT-115; Albini
1976, INT-30; Andrews 2018, RMRS-GTR-371 collects them); results converted to
SI. Particle classes: dead 1-h, 10-h, 100-h (+ cured herb for dynamic models),
live herb and live woody. Net loads are weighted by Albini's size subclasses;
the wind factor is not capped by the old wind limit (Andrews, Cruz & Rothermel
2013 recommend against it) but the spread rate is, at the effective wind speed.
"""

import math

import numpy as np

from simulator.fuel_models import SAV_10H, SAV_100H, TONS_PER_ACRE_TO_LB_FT2, FuelModel

PARTICLE_DENSITY_LB_FT3 = 32.0
TOTAL_MINERAL = 0.0555
EFFECTIVE_MINERAL = 0.010
FT_MIN_TO_M_S = 0.3048 / 60.0
BTU_FT2_MIN_TO_KW_M2 = 1.055056 / 0.09290304 / 60.0
BTU_FT_S_TO_KW_M = 1.055056 / 0.3048
_SUBCLASS_SAV = (1200.0, 192.0, 96.0, 48.0, 16.0)


class Moisture:
    """Fuel moisture as fractions of dry weight."""

    def __init__(self, dead_1h: float, dead_10h: float | None = None, dead_100h: float | None = None,
                 live_herb: float = 0.9, live_woody: float = 1.2) -> None:
        self.dead_1h = dead_1h
        self.dead_10h = dead_1h + 0.01 if dead_10h is None else dead_10h
        self.dead_100h = dead_1h + 0.02 if dead_100h is None else dead_100h
        self.live_herb = live_herb
        self.live_woody = live_woody


def _subclass(sav: float) -> int:
    return next((k for k, edge in enumerate(_SUBCLASS_SAV) if sav >= edge), len(_SUBCLASS_SAV))


def _category(loads, savs, moistures, mx):
    """Per category (dead or live): weights and weighted properties of its particles."""
    area = [w * s / PARTICLE_DENSITY_LB_FT3 for w, s in zip(loads, savs)]
    total = sum(area)
    if total <= 0:
        return None
    f = [a / total for a in area]
    # Albini: net load weighted by the share of surface area in each size subclass
    share: dict[int, float] = {}
    for fj, s in zip(f, savs):
        share[_subclass(s)] = share.get(_subclass(s), 0.0) + fj
    g = [share[_subclass(s)] for s in savs]
    return {"area": total, "f": f, "sav": sum(fj * s for fj, s in zip(f, savs)),
            "net_load": sum(gj * w * (1 - TOTAL_MINERAL) for gj, w in zip(g, loads)),
            "moisture": sum(fj * m for fj, m in zip(f, moistures)), "mx": mx,
            "heat_sink": sum(fj * math.exp(-138.0 / s) * (250.0 + 1116.0 * m) for fj, s, m in zip(f, savs, moistures))}


def _damping(moisture: float, mx: float) -> float:
    r = moisture / mx if mx > 0 else 1.0
    if r >= 1.0:  # the cubic is 0 at r = 1 only up to rounding
        return 0.0
    return max(0.0, 1 - 2.59 * r + 5.11 * r * r - 3.52 * r ** 3)


class FuelBed:
    """One fuel model at one moisture: the no-wind spread rate and the wind and slope factors."""

    def __init__(self, model: FuelModel, moisture: Moisture) -> None:
        self.model = model
        k = TONS_PER_ACRE_TO_LB_FT2
        w1, w10, w100, w_herb, w_woody = (x * k for x in model.loads_t_ac)
        cured = 0.0
        if model.dynamic and w_herb > 0:
            cured = min(1.0, max(0.0, (1.20 - moisture.live_herb) / 0.90))  # cured at <= 30 %, green at >= 120 %
        dead_loads = [w1, w10, w100, w_herb * cured]
        dead_savs = [model.sav_1h, SAV_10H, SAV_100H, model.sav_herb]
        dead_moist = [moisture.dead_1h, moisture.dead_10h, moisture.dead_100h, moisture.dead_1h]
        live_loads = [w_herb * (1 - cured), w_woody]
        live_savs = [model.sav_herb, model.sav_woody]
        live_moist = [moisture.live_herb, moisture.live_woody]
        mx_dead = model.mx_dead_pct / 100.0
        # live fuel moisture of extinction (Albini 1976), from the fine dead to fine live load ratio
        fine_dead = sum(w * math.exp(-138.0 / s) for w, s in zip(dead_loads, dead_savs))
        fine_live = sum(w * math.exp(-500.0 / s) for w, s in zip(live_loads, live_savs))
        mx_live = mx_dead
        if fine_live > 0:
            fine_dead_moist = sum(w * m * math.exp(-138.0 / s)
                                  for w, m, s in zip(dead_loads, dead_moist, dead_savs)) / fine_dead
            mx_live = max(mx_dead, 2.9 * (fine_dead / fine_live) * (1 - fine_dead_moist / mx_dead) - 0.226)
        cats = [c for c in (_category(dead_loads, dead_savs, dead_moist, mx_dead),
                            _category(live_loads, live_savs, live_moist, mx_live)) if c is not None]
        total_area = sum(c["area"] for c in cats)
        sigma = sum(c["area"] / total_area * c["sav"] for c in cats)  # characteristic SAV, 1/ft
        bulk_density = (w1 + w10 + w100 + w_herb + w_woody) / model.depth_ft
        beta = bulk_density / PARTICLE_DENSITY_LB_FT3
        beta_op = 3.348 * sigma ** -0.8189
        ratio = beta / beta_op
        a = 133.0 * sigma ** -0.7913
        gamma_max = sigma ** 1.5 / (495.0 + 0.0594 * sigma ** 1.5)
        gamma = gamma_max * ratio ** a * math.exp(a * (1 - ratio))
        mineral_damping = min(1.0, 0.174 * EFFECTIVE_MINERAL ** -0.19)
        self.reaction_intensity_btu = gamma * model.heat_btu_lb * mineral_damping * sum(
            c["net_load"] * _damping(c["moisture"], c["mx"]) for c in cats)
        xi = math.exp((0.792 + 0.681 * sigma ** 0.5) * (beta + 0.1)) / (192.0 + 0.2595 * sigma)
        heat_sink = bulk_density * sum(c["area"] / total_area * c["heat_sink"] for c in cats)
        self.r0_ft_min = self.reaction_intensity_btu * xi / heat_sink if heat_sink > 0 else 0.0
        self.wind_c = 7.47 * math.exp(-0.133 * sigma ** 0.55)
        self.wind_b = 0.02526 * sigma ** 0.54
        self.wind_e = 0.715 * math.exp(-3.59e-4 * sigma)
        self.ratio = ratio
        self.beta = beta
        self.residence_min = 384.0 / sigma

    @property
    def reaction_intensity_kw_m2(self) -> float:
        return self.reaction_intensity_btu * BTU_FT2_MIN_TO_KW_M2

    def wind_factor(self, midflame_wind_ms):
        u_ft_min = np.asarray(midflame_wind_ms, dtype=np.float64) / FT_MIN_TO_M_S
        return self.wind_c * u_ft_min ** self.wind_b * self.ratio ** -self.wind_e

    def slope_factor(self, slope_tan):
        return 5.275 * self.beta ** -0.3 * np.asarray(slope_tan, dtype=np.float64) ** 2

    def effective_wind_ms(self, phi):
        """The midflame wind that alone would give the combined wind-and-slope factor phi."""
        phi = np.maximum(np.asarray(phi, dtype=np.float64), 0.0)
        return (phi * self.ratio ** self.wind_e / self.wind_c) ** (1 / self.wind_b) * FT_MIN_TO_M_S

    def head_rate_ms(self, phi):
        """Spread rate for a combined factor phi, capped at the effective wind speed (Andrews et al. 2013)."""
        rate = self.r0_ft_min * (1 + np.asarray(phi, dtype=np.float64)) * FT_MIN_TO_M_S
        return np.minimum(rate, np.maximum(self.effective_wind_ms(phi), self.r0_ft_min * FT_MIN_TO_M_S))

    def spread_rate_ms(self, midflame_wind_ms: float = 0.0, slope_tan: float = 0.0):
        """Head fire rate with wind straight upslope."""
        return self.head_rate_ms(self.wind_factor(midflame_wind_ms) + self.slope_factor(slope_tan))

    def fireline_intensity_kw_m(self, rate_ms):
        """Byram's intensity: heat per unit area (I_R x residence time) times the spread rate."""
        heat_per_area_btu_ft2 = self.reaction_intensity_btu * self.residence_min
        return heat_per_area_btu_ft2 * np.asarray(rate_ms) / 0.3048 * BTU_FT_S_TO_KW_M

    def flame_length_m(self, rate_ms):
        """Byram (1959): L = 0.45 I^0.46 (ft, Btu/ft/s), here in SI: 0.0775 I^0.46 (m, kW/m)."""
        return 0.0775 * np.maximum(self.fireline_intensity_kw_m(rate_ms), 0.0) ** 0.46
