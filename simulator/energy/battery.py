"""Battery life from a daily charge budget.

Life = usable charge / (daily load + daily self-discharge). Self-discharge is
taken as a constant share of rated capacity per year, which is how cell
datasheets state it; the usable fraction covers what stays in the cell below
the node's cut-off voltage.
"""

from __future__ import annotations

from simulator.energy.phases import DAYS_PER_YEAR
from simulator.energy.profiles import Battery


def usable_capacity_mah(battery: Battery, temp_c: float | None = None) -> float:
    """Usable charge; at temp_c (the simulator's weather) the cold-derated share of it."""
    share = 1.0 if temp_c is None else battery.capacity_fraction_at(temp_c)
    return battery.capacity_mah * battery.usable_fraction * share


def self_discharge_mah_per_day(battery: Battery) -> float:
    return battery.capacity_mah * battery.self_discharge_per_year / DAYS_PER_YEAR


def battery_life_days(battery: Battery, load_mah_per_day: float, temp_c: float | None = None,
                      once_mah: float = 0.0) -> float:
    """Days until the usable charge is gone (at a steady temp_c: the cold-derated share of it);
    once_mah is paid once per battery (a LoRaWAN join); infinite only for a lossless battery and no load."""
    if load_mah_per_day < 0 or once_mah < 0:
        raise ValueError(f"daily load and one-off charge must be >= 0 mAh, got {load_mah_per_day}, {once_mah}")
    drain = load_mah_per_day + self_discharge_mah_per_day(battery)
    left = max(usable_capacity_mah(battery, temp_c) - once_mah, 0.0)
    return float("inf") if drain == 0 else left / drain


def days_to_years(days: float) -> float:
    return days / DAYS_PER_YEAR
