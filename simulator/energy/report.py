"""Battery life for a named node configuration: the figures the CLI and the docs print."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from simulator.energy.battery import battery_life_days, days_to_years
from simulator.energy.budget import (
    DailyBudget,
    NodeConfig,
    build_node,
    charge_per_inference_mc,
    charge_per_message_mc,
    energy_per_day,
)
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


def node_life(node: NodeConfig, policy: Policy, interval_s: float) -> NodeLife:
    budget = energy_per_day(node, policy, interval_s)
    return NodeLife(budget, battery_life_days(node.battery, budget.total_mah), node.battery.name)


def life_for_node(node: str = "default", policy: str = "alert-only", interval_s: float = 60.0,
                  **components: str) -> NodeLife:
    """Battery life of a named node configuration (components overridable by name)."""
    config = build_node(node, **components)
    return node_life(config, load_catalog().policy(policy), interval_s)


def life_vs_interval(node: NodeConfig, policy: Policy, intervals_s: Iterable[float]) -> list[float]:
    """Life in days for each sampling interval (the curve in the plot)."""
    return [node_life(node, policy, s).life_days for s in intervals_s]


def radio_to_compute_ratio(node: NodeConfig, payload_bytes: int) -> float:
    """How many inferences cost as much as sending one alert."""
    return charge_per_message_mc(node, payload_bytes) / charge_per_inference_mc(node)
