"""Per-node battery ledger: charge drawn by sleep, samples and messages, from simulator.energy.

The per-sample and per-message charges come from the battery-model functions
for the reference node (`node.default`: ESP32 + BME688 + SX1262 on 2 x AA)
at each node's spreading factor; the ledger only counts events. Terminal
voltage follows a simple alkaline curve (assumed: 1.5 V/cell fresh, the
node's 1.15 V/cell cut-off when the usable charge is gone).
"""

import numpy as np

from edge_node.core.uplink_codec import FRAME_BYTES
from simulator.energy import (
    battery_side_ua,
    build_node,
    charge_per_message_mc,
    charge_per_wake_mc,
    self_discharge_mah_per_day,
    sleep_current_ua,
    usable_capacity_mah,
)
from simulator.energy.phases import MC_PER_MAH

MESSAGE_PAYLOAD_BYTES = FRAME_BYTES  # the uplink_codec frame a LoRa node sends (11 bytes)
FRESH_MV, CUTOFF_MV = 3000, 2300


class BatteryLedger:
    def __init__(self, sf: np.ndarray, start_fraction: np.ndarray, node_profile: str = "default") -> None:
        sf = np.asarray(sf, dtype=np.int64)
        per_sf = {int(s): build_node(node_profile, radio=f"lora-sf{int(s)}") for s in np.unique(sf)}
        any_node = next(iter(per_sf.values()))
        self.battery = any_node.battery
        self.usable_mc = usable_capacity_mah(self.battery) * MC_PER_MAH
        k = self.battery.rail_to_battery(any_node.supply_v)  # through the boost converter or LDO
        self.sleep_ma = (k * sleep_current_ua(any_node) + battery_side_ua(any_node)) / 1000.0
        self.self_discharge_ma = self_discharge_mah_per_day(self.battery) * MC_PER_MAH / 86400.0
        self.wake_mc = k * sum(charge_per_wake_mc(any_node, runs_inference=True).values())
        mc_by_sf = {s: k * charge_per_message_mc(node, MESSAGE_PAYLOAD_BYTES) for s, node in per_sf.items()}
        self.message_mc = np.array([mc_by_sf[s] for s in sf.tolist()])
        self.remaining_mc = self.usable_mc * np.asarray(start_fraction, dtype=np.float64)
        self.start_mc = self.remaining_mc.copy()
        self.used_mc = {"sleep": np.zeros(len(sf)), "sample": np.zeros(len(sf)), "radio": np.zeros(len(sf))}
        self.cold_share = 1.0  # share of the usable charge the cells deliver at the site's temperature now

    def tick(self, dt_s: float, sampled: np.ndarray) -> None:
        """One interval: sleep and self-discharge for all, one wake for the nodes that sampled."""
        sleep = (self.sleep_ma + self.self_discharge_ma) * dt_s
        self.used_mc["sleep"] += sleep
        self.used_mc["sample"] += np.where(sampled, self.wake_mc, 0.0)
        self.remaining_mc -= sleep + np.where(sampled, self.wake_mc, 0.0)

    def messages(self, nodes: np.ndarray) -> None:
        """One uplink for each listed node (each node at most once per call)."""
        self.used_mc["radio"][nodes] += self.message_mc[nodes]
        self.remaining_mc[nodes] -= self.message_mc[nodes]

    def weather(self, temp_c: float) -> None:
        """The site's air temperature now: cold cells deliver less of what they hold (profiles.toml)."""
        self.cold_share = self.battery.capacity_fraction_at(float(temp_c))

    def empty(self) -> np.ndarray:
        """Empty, or what is left is locked in by the cold (a node dies on a frosty night first)."""
        return self.remaining_mc <= self.usable_mc * (1.0 - self.cold_share)

    def voltage_mv(self, nodes: np.ndarray) -> np.ndarray:
        soc = np.clip(self.remaining_mc[nodes] / self.usable_mc, 0.0, 1.0)
        return np.rint(CUTOFF_MV + (FRESH_MV - CUTOFF_MV) * soc ** 0.7).astype(np.int64)

    def projected_life_days(self, elapsed_s: float) -> np.ndarray:
        """Days from the start until empty at the average drain seen so far."""
        drawn = self.start_mc - self.remaining_mc
        per_day = drawn / max(elapsed_s, 1.0) * 86400.0
        return np.where(per_day > 0, self.start_mc / np.maximum(per_day, 1e-12), np.inf)

    def summary(self, elapsed_s: float, alive: np.ndarray) -> dict:
        """Totals for all nodes; life projections for the nodes still alive at the end."""
        life = self.projected_life_days(elapsed_s)[alive]
        if life.size == 0:
            life = np.array([0.0])
        used = {k: float(v.sum() / MC_PER_MAH) for k, v in self.used_mc.items()}
        return {"battery": self.battery.name, "usable_mah": round(self.usable_mc / MC_PER_MAH, 1),
                "used_mah_total_by_part": {k: round(v, 3) for k, v in used.items()},
                "projected_life_days_min": float(np.min(life)), "projected_life_days_median": float(np.median(life)),
                "projected_life_days_max": float(np.max(life)),
                "message_mc_by_node_min_max": [float(self.message_mc.min()), float(self.message_mc.max())]}
