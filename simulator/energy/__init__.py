"""Battery-life model: pure functions from a node's duty cycle to energy per day and life.

No clock and no I/O (apart from reading the packaged profiles.toml once).
The simulator's battery ledger and the `emberwatch battery` command both call
this API:

    node = build_node("default", radio="lora-sf12")
    policy = load_catalog().policy("alert-only")
    day = energy_per_day(node, policy, interval_s=60)
    life_days = battery_life_days(node.battery, day.total_mah)
"""

from simulator.energy.battery import (
    battery_life_days,
    days_to_years,
    self_discharge_mah_per_day,
    usable_capacity_mah,
)
from simulator.energy.budget import (
    COMPONENTS,
    DailyBudget,
    NodeConfig,
    alert_phases,
    battery_side_ua,
    build_node,
    charge_per_alert_mc,
    charge_per_inference_mc,
    charge_per_message_mc,
    charge_per_wake_mc,
    energy_per_day,
    energy_per_inference_uj,
    energy_per_message_mj,
    energy_per_wake_mj,
    inference_phases,
    join_charge_per_battery_mc,
    join_phases,
    message_phases,
    messages_per_day,
    sensor_phases,
    sleep_current_ua,
    wake_phases,
)
from simulator.energy.lora import (
    LoraChip,
    LorawanSettings,
    lora_rx_window_s,
    lora_symbol_time_s,
    lora_time_on_air_s,
    lorawan_uplink_phases,
)
from simulator.energy.lorawan_exchanges import (
    confirmed_alert_phases,
    downlink_time_on_air_s,
    expected_failed_attempts,
    otaa_join_phases,
)
from simulator.energy.phases import (
    Phase,
    charge_to_energy_mj,
    mah_to_mc,
    mc_to_mah,
    phase_from_charge,
    total_charge_mc,
)
from simulator.energy.profiles import (
    Battery,
    Catalog,
    Mcu,
    Policy,
    ProfileError,
    Radio,
    Sensor,
    load_catalog,
)
from simulator.energy.report import NodeLife, life_for_node, life_vs_interval

__all__ = [
    "COMPONENTS", "Battery", "alert_phases", "charge_per_alert_mc", "confirmed_alert_phases",
    "downlink_time_on_air_s", "expected_failed_attempts", "join_charge_per_battery_mc", "join_phases",
    "lora_rx_window_s", "otaa_join_phases", "Catalog", "DailyBudget", "LoraChip", "LorawanSettings", "Mcu",
    "NodeConfig", "NodeLife", "Phase", "Policy", "ProfileError", "Radio", "Sensor",
    "battery_life_days", "battery_side_ua", "build_node", "charge_per_inference_mc", "charge_per_message_mc",
    "charge_per_wake_mc", "charge_to_energy_mj", "days_to_years", "energy_per_day",
    "energy_per_inference_uj", "energy_per_message_mj", "energy_per_wake_mj", "inference_phases",
    "life_for_node", "life_vs_interval", "load_catalog", "lora_symbol_time_s", "lora_time_on_air_s",
    "lorawan_uplink_phases", "mah_to_mc", "mc_to_mah", "message_phases", "messages_per_day",
    "phase_from_charge", "self_discharge_mah_per_day", "sensor_phases", "sleep_current_ua",
    "total_charge_mc", "usable_capacity_mah", "wake_phases",
]
