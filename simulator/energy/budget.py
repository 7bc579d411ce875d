"""A node's duty cycle as phases, and its charge and energy per wake, per message, per day.

One wake = boot, read the sensor, optionally run the autoencoder, go back to
sleep. A message = one radio exchange. A day = wakes + messages + sleep for
the rest of the time. Charge is attributed to five components: sleep, wake
(boot/shutdown), sensor (including the MCU idling while a heater runs),
compute (inference) and radio (including the MCU waiting on the radio).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.energy.lora import lorawan_uplink_phases
from simulator.energy.lorawan_exchanges import confirmed_alert_phases, otaa_join_phases
from simulator.energy.phases import (
    SECONDS_PER_DAY,
    Phase,
    charge_to_energy_mj,
    energy_to_charge_mc,
    mc_to_mah,
    total_charge_mc,
    total_duration_s,
)
from simulator.energy.profiles import (
    MCU_WAIT_MODES,
    RUNTIMES,
    Battery,
    Catalog,
    Mcu,
    Policy,
    ProfileError,
    Radio,
    Sensor,
    load_catalog,
    unknown_name_error,
)

COMPONENTS = ("sleep", "wake", "sensor", "compute", "radio")


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """A node with its components resolved; build one with `build_node`."""

    name: str
    mcu: Mcu
    sensor: Sensor
    radio: Radio
    battery: Battery
    runtime: str
    macs_per_inference: int
    regulator_iq_ua: float
    mcu_wait: str
    supply_v: float
    catalog: Catalog
    sensor_wait: str = "light-sleep"
    divider_kohm: float = 0.0
    confirmed_alerts: bool = False
    host_listen_s: float = 0.0
    joins_per_battery: float = 0.0
    retransmissions: float | None = None  # expected unacked attempts per confirmed alert; None: from the PER


def build_node(node: str = "default", *, mcu: str | None = None, sensor: str | None = None,
               radio: str | None = None, battery: str | None = None, runtime: str | None = None,
               macs_per_inference: int | None = None, mcu_wait: str | None = None,
               catalog: Catalog | None = None, retransmissions: float | None = None) -> NodeConfig:
    """A named node configuration from the profiles, with any component overridden by name."""
    cat = catalog or load_catalog()
    spec = cat.node(node)
    runtime = runtime or spec.runtime
    mcu_wait = mcu_wait or spec.mcu_wait
    if runtime not in RUNTIMES:
        raise unknown_name_error("runtime", runtime, list(RUNTIMES))
    if mcu_wait not in MCU_WAIT_MODES:
        raise unknown_name_error("mcu-wait mode", mcu_wait, list(MCU_WAIT_MODES))
    macs = spec.macs_per_inference if macs_per_inference is None else macs_per_inference
    if macs < 0:
        raise ProfileError(f"macs_per_inference must be >= 0, got {macs}")
    config = NodeConfig(spec.name, cat.mcu(mcu or spec.mcu), cat.sensor(sensor or spec.sensor),
                        cat.radio(radio or spec.radio), cat.battery(battery or spec.battery),
                        runtime, macs, spec.regulator_iq_ua, mcu_wait, cat.supply_v, cat, spec.sensor_wait,
                        spec.divider_kohm, spec.confirmed_alerts, spec.host_listen_s, spec.joins_per_battery,
                        retransmissions)
    if retransmissions is not None and retransmissions < 0:
        raise ProfileError(f"expected retransmissions must be >= 0, got {retransmissions}")
    if config.radio.requires_mcu and config.mcu.name not in config.radio.requires_mcu:
        raise ProfileError(f"radio {config.radio.name!r} needs mcu "
                           f"{' or '.join(config.radio.requires_mcu)}, got {config.mcu.name!r}")
    return config


def _mcu_wait_ma(node: NodeConfig) -> float:
    if node.mcu_wait == "cpu-idle":  # awake in MicroPython's sleep_ms, polling the modem's UART
        return node.mcu.cpu_idle_ma
    return node.mcu.active_ma if node.mcu_wait == "active" else node.mcu.idle_ma


def wake_phases(node: NodeConfig) -> list[Phase]:
    """Boot from sleep to user code, and the shutdown back to sleep if profiled."""
    return [node.mcu.boot] + ([node.mcu.shutdown] if node.mcu.shutdown else [])


def sensor_phases(node: NodeConfig) -> list[Phase]:
    """The sensor's reading phases, each with the MCU waiting alongside: in light sleep, or awake in
    MicroPython's sleep_ms as the shipped firmware waits for the BME688 heater (`cpu-idle`)."""
    idle_ma = node.mcu.cpu_idle_ma if node.sensor_wait == "cpu-idle" else node.mcu.idle_ma
    return [Phase(p.name, p.current_ma + idle_ma, p.duration_s) for p in node.sensor.phases]


def inference_phases(node: NodeConfig) -> list[Phase]:
    """One autoencoder pass: native MAC energy plus, on MicroPython, interpreter time at active current."""
    macs = node.macs_per_inference
    native_mc = energy_to_charge_mc(macs * node.mcu.nj_per_mac * 1e-6, node.supply_v)
    phases = [Phase("int8 MACs (native)", node.mcu.active_ma,
                    native_mc / node.mcu.active_ma)]
    if node.runtime == "micropython":
        phases.append(Phase("micropython interpreter", node.mcu.active_ma,
                            macs * node.mcu.micropython_us_per_mac * 1e-6))
    return [p for p in phases if p.duration_s > 0]


def message_phases(node: NodeConfig, payload_bytes: int) -> list[Phase]:
    """One uplink of `payload_bytes` application bytes, as phases (MCU draw included)."""
    radio = node.radio
    if not 0 <= payload_bytes <= radio.max_payload_bytes:
        raise ProfileError(f"radio {radio.name!r} carries 0..{radio.max_payload_bytes} payload bytes, "
                           f"got {payload_bytes}")
    wait_ma = 0.0 if radio.includes_mcu else _mcu_wait_ma(node)
    if radio.kind == "lora" and radio.lora_chip is not None:
        chip = radio.lora_chip
        prepare_ma = node.mcu.active_ma if chip.prepare_mcu == "active" else wait_ma
        return lorawan_uplink_phases(chip, radio.sf, payload_bytes, node.catalog.lorawan,
                                     wait_ma, prepare_ma) + _host_listen(node, wait_ma)
    if radio.kind == "ble" and radio.ble is not None:
        return _ble_message_phases(radio, payload_bytes, node.mcu.active_ma)
    return [Phase(p.name, p.current_ma + wait_ma, p.duration_s) for p in radio.fixed_phases]


def _host_listen(node: NodeConfig, wait_ma: float) -> list[Phase]:
    """The firmware's wait for downlink events after a send, the modem asleep meanwhile."""
    if node.host_listen_s <= 0 or node.radio.lora_chip is None:
        return []
    return [Phase("host listens for downlinks", wait_ma + node.radio.lora_chip.sleep_ua / 1000.0,
                  node.host_listen_s)]


def alert_phases(node: NodeConfig, payload_bytes: int) -> list[Phase]:
    """One alert: a confirmed LoRaWAN uplink with its ACK and expected retransmissions on a node
    that confirms alerts, otherwise the same exchange as any message."""
    radio = node.radio
    if not (node.confirmed_alerts and radio.kind == "lora" and radio.lora_chip is not None):
        return message_phases(node, payload_bytes)
    message_phases(node, payload_bytes)  # the same payload checks
    chip = radio.lora_chip
    wait_ma = _mcu_wait_ma(node)
    prepare_ma = node.mcu.active_ma if chip.prepare_mcu == "active" else wait_ma
    phases = confirmed_alert_phases(chip, radio.sf, payload_bytes, node.catalog.lorawan, wait_ma, prepare_ma,
                                    node.retransmissions)
    return phases + _host_listen(node, wait_ma)  # the firmware listens once, after the send that got through


def join_phases(node: NodeConfig) -> list[Phase]:
    """One OTAA join on a LoRa node that joins (joins_per_battery > 0), else nothing."""
    radio = node.radio
    if node.joins_per_battery <= 0 or radio.kind != "lora" or radio.lora_chip is None:
        return []
    chip = radio.lora_chip
    wait_ma = _mcu_wait_ma(node)
    prepare_ma = node.mcu.active_ma if chip.prepare_mcu == "active" else wait_ma
    return otaa_join_phases(chip, radio.sf, node.catalog.lorawan, wait_ma, prepare_ma)


def join_charge_per_battery_mc(node: NodeConfig) -> float:
    """Battery-side charge of the joins a battery pays for once (not per day)."""
    k = node.battery.rail_to_battery(node.supply_v)
    return k * node.joins_per_battery * total_charge_mc(join_phases(node))


def _ble_message_phases(radio: Radio, payload_bytes: int, cpu_ma: float) -> list[Phase]:
    b = radio.ble or {}
    events = b["events_per_message"]
    packet_s = (payload_bytes + b["overhead_bytes"]) * 8 / b["bit_rate_bps"]
    return [
        Phase("ble ramp-up", b["ramp_ma"], b["ramp_s"] * b["channels"] * events),
        Phase("ble advertising tx", b["tx_ma"], packet_s * b["channels"] * events),
        Phase("ble event cpu", cpu_ma, b["event_cpu_s"] * events),
    ]


def sleep_current_ua(node: NodeConfig) -> float:
    """Everything that draws from the rail while the node sleeps."""
    return node.mcu.sleep_ua + node.sensor.sleep_ua + node.radio.sleep_ua + node.regulator_iq_ua


def battery_side_ua(node: NodeConfig) -> float:
    """What draws straight from the battery, day and night: the voltage divider and the regulator's Iq."""
    divider_ua = node.battery.nominal_v / node.divider_kohm * 1000.0 if node.divider_kohm > 0 else 0.0
    return divider_ua + node.battery.regulator_iq_ua


def charge_per_wake_mc(node: NodeConfig, runs_inference: bool) -> dict[str, float]:
    """Charge of one sample (no message) by component: wake, sensor, compute."""
    return {
        "wake": total_charge_mc(wake_phases(node)),
        "sensor": total_charge_mc(sensor_phases(node)),
        "compute": total_charge_mc(inference_phases(node)) if runs_inference else 0.0,
    }


def charge_per_message_mc(node: NodeConfig, payload_bytes: int) -> float:
    return total_charge_mc(message_phases(node, payload_bytes))


def charge_per_alert_mc(node: NodeConfig, payload_bytes: int) -> float:
    return total_charge_mc(alert_phases(node, payload_bytes))


def charge_per_inference_mc(node: NodeConfig) -> float:
    return total_charge_mc(inference_phases(node))


def energy_per_message_mj(node: NodeConfig, payload_bytes: int) -> float:
    return charge_to_energy_mj(charge_per_message_mc(node, payload_bytes), node.supply_v)


def energy_per_inference_uj(node: NodeConfig) -> float:
    return charge_to_energy_mj(charge_per_inference_mc(node), node.supply_v) * 1000.0


def energy_per_wake_mj(node: NodeConfig, runs_inference: bool) -> float:
    return charge_to_energy_mj(sum(charge_per_wake_mc(node, runs_inference).values()), node.supply_v)


def messages_per_day(policy: Policy, interval_s: float) -> float:
    if policy.heartbeat_interval_s <= 0:
        return SECONDS_PER_DAY / interval_s
    return SECONDS_PER_DAY / policy.heartbeat_interval_s + policy.alerts_per_day


@dataclass(frozen=True, slots=True)
class DailyBudget:
    """Charge per day by component (mC) and what it took to get there."""

    node: str
    policy: str
    interval_s: float
    wakes_per_day: float
    messages_per_day: float
    awake_s_per_day: float
    charge_mc: dict[str, float]
    supply_v: float

    @property
    def total_charge_mc(self) -> float:
        return sum(self.charge_mc.values())

    @property
    def total_mah(self) -> float:
        return mc_to_mah(self.total_charge_mc)

    @property
    def energy_mj(self) -> dict[str, float]:
        return {k: charge_to_energy_mj(v, self.supply_v) for k, v in self.charge_mc.items()}

    @property
    def total_energy_mj(self) -> float:
        return charge_to_energy_mj(self.total_charge_mc, self.supply_v)

    @property
    def average_current_ua(self) -> float:
        return self.total_charge_mc / SECONDS_PER_DAY * 1000.0


def energy_per_day(node: NodeConfig, policy: Policy, interval_s: float) -> DailyBudget:
    """Charge/energy per day for `node` sampling every `interval_s` under `policy`."""
    if interval_s <= 0:
        raise ValueError(f"sampling interval must be > 0 s, got {interval_s}")
    wakes = SECONDS_PER_DAY / interval_s
    messages = messages_per_day(policy, interval_s)
    per_wake = charge_per_wake_mc(node, policy.runs_inference)
    wake_s = (total_duration_s(wake_phases(node)) + total_duration_s(sensor_phases(node))
              + (total_duration_s(inference_phases(node)) if policy.runs_inference else 0.0))
    msg = message_phases(node, policy.payload_bytes)
    alerts = policy.alerts_per_day if policy.heartbeat_interval_s > 0 else 0.0
    alert = alert_phases(node, policy.payload_bytes)
    others = messages - alerts
    awake_s = wakes * wake_s + others * total_duration_s(msg) + alerts * total_duration_s(alert)
    if awake_s >= SECONDS_PER_DAY:
        raise ValueError(
            f"node {node.name!r} would be awake {awake_s:.0f} s per day (> 86400 s): interval {interval_s} s "
            f"is shorter than one wake ({wake_s:.3f} s) plus its messages; lengthen the interval")
    # Charge from the battery: rail charge through the regulator (a boost converter takes more than
    # it gives), plus what hangs on the battery directly (divider, regulator Iq) all day long.
    k = node.battery.rail_to_battery(node.supply_v)
    charge = {
        "sleep": k * sleep_current_ua(node) / 1000.0 * (SECONDS_PER_DAY - awake_s)
        + battery_side_ua(node) / 1000.0 * SECONDS_PER_DAY,
        "wake": k * wakes * per_wake["wake"],
        "sensor": k * wakes * per_wake["sensor"],
        "compute": k * wakes * per_wake["compute"],
        "radio": k * (others * total_charge_mc(msg) + alerts * total_charge_mc(alert)),
    }
    return DailyBudget(node.name, policy.name, interval_s, wakes, messages, awake_s, charge, node.supply_v)
