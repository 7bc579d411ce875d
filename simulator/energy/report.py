"""Battery life for a named node configuration: the figures the CLI and the docs print."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from simulator.energy.battery import battery_life_days, days_to_years
from simulator.energy.budget import (
    DailyBudget,
    NodeConfig,
    build_node,
    charge_per_alert_mc,
    charge_per_inference_mc,
    energy_per_day,
    join_charge_per_battery_mc,
    messages_per_day,
)
from simulator.energy.lora import lora_time_on_air_s
from simulator.energy.phases import SECONDS_PER_DAY, mc_to_mah
from simulator.energy.profiles import Policy, load_catalog


@dataclass(frozen=True, slots=True)
class NodeLife:
    """Daily budget and the battery life that follows, for one node under one policy."""

    budget: DailyBudget
    life_days: float
    battery: str

    @property
    def life_years(self) -> float:
        return days_to_years(self.life_days)


def node_life(node: NodeConfig, policy: Policy, interval_s: float, temp_c: float | None = None) -> NodeLife:
    """Budget and life; temp_c: a steady air temperature (cold cells deliver less, profiles.toml)."""
    budget = energy_per_day(node, policy, interval_s)
    once_mah = mc_to_mah(join_charge_per_battery_mc(node))
    return NodeLife(budget, battery_life_days(node.battery, budget.total_mah, temp_c, once_mah), node.battery.name)


def life_for_node(node: str = "default", policy: str = "alert-only", interval_s: float = 60.0,
                  *, mcu: str | None = None, sensor: str | None = None, radio: str | None = None,
                  battery: str | None = None) -> NodeLife:
    """Battery life of a named node configuration; mcu/sensor/radio/battery overridable by name."""
    config = build_node(node, mcu=mcu, sensor=sensor, radio=radio, battery=battery)
    return node_life(config, load_catalog().policy(policy), interval_s)


def life_vs_interval(node: NodeConfig, policy: Policy, intervals_s: Iterable[float]) -> list[float]:
    """Life in days for each sampling interval (the curve in the plot)."""
    return [node_life(node, policy, s).life_days for s in intervals_s]


def radio_to_compute_ratio(node: NodeConfig, payload_bytes: int) -> float:
    """How many inferences cost as much as sending one alert."""
    return charge_per_alert_mc(node, payload_bytes) / charge_per_inference_mc(node)


def lora_duty_cycle(node: NodeConfig, policy: Policy, interval_s: float) -> float | None:
    """Share of time on air for a LoRa node (None for other radios); EU868 allows 1 %."""
    radio = node.radio
    if radio.kind != "lora":
        return None
    settings = node.catalog.lorawan
    toa_s = lora_time_on_air_s(policy.payload_bytes + settings.overhead_bytes, radio.sf, settings.bw_hz,
                               settings.coding_rate, settings.preamble_symbols)
    return messages_per_day(policy, interval_s) * toa_s / SECONDS_PER_DAY
