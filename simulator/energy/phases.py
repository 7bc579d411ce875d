"""Phases: a current drawn for a duration, and the charge and energy that follow.

Charge is the model's common currency because a battery is rated in mAh. A
phase of `current_ma` for `duration_s` moves `current_ma * duration_s` mC
(milliampere-seconds). Energy is charge times the supply voltage; the model
assumes a linear regulator (battery current = load current), so charge drawn
at the rail is charge drawn from the battery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MC_PER_MAH = 3600.0
SECONDS_PER_DAY = 86_400.0
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class Phase:
    """One step of a duty cycle: `current_ma` flowing for `duration_s`."""

    name: str
    current_ma: float
    duration_s: float

    def __post_init__(self) -> None:
        if self.current_ma < 0 or self.duration_s < 0:
            raise ValueError(f"phase {self.name!r}: current and duration must be >= 0, "
                             f"got {self.current_ma} mA for {self.duration_s} s")

    @property
    def charge_mc(self) -> float:
        return self.current_ma * self.duration_s


def phase_from_charge(name: str, charge_mc: float, duration_s: float) -> Phase:
    """A phase measured as total charge over a duration (e.g. a scope capture)."""
    if duration_s <= 0:
        raise ValueError(f"phase {name!r}: duration must be > 0 to derive a current")
    return Phase(name, charge_mc / duration_s, duration_s)


def total_charge_mc(phases: Iterable[Phase]) -> float:
    return sum(p.charge_mc for p in phases)


def total_duration_s(phases: Iterable[Phase]) -> float:
    return sum(p.duration_s for p in phases)


def mc_to_mah(charge_mc: float) -> float:
    return charge_mc / MC_PER_MAH


def mah_to_mc(charge_mah: float) -> float:
    return charge_mah * MC_PER_MAH


def charge_to_energy_mj(charge_mc: float, supply_v: float) -> float:
    """mC x V = mJ."""
    return charge_mc * supply_v


def energy_to_charge_mc(energy_mj: float, supply_v: float) -> float:
    return energy_mj / supply_v
