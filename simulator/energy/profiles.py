"""Component profiles (MCUs, sensors, radios, batteries, nodes, policies) from profiles.toml.

Everything is validated when the catalogue loads, and every problem is
reported at once, so a typo in the data file never surfaces as a wrong
battery life later.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from simulator.energy.lora import LoraChip, LorawanSettings
from simulator.energy.phases import Phase, phase_from_charge

PROFILES_FILE = "profiles.toml"
RUNTIMES = ("micropython", "native")
MCU_WAIT_MODES = ("light-sleep", "active", "cpu-idle")  # cpu-idle: polling the modem in sleep_ms
SENSOR_WAIT_MODES = ("light-sleep", "cpu-idle")  # cpu-idle: the firmware's sleep_ms, CPU awake
REGULATORS = ("ldo", "boost")


class ProfileError(ValueError):
    """A bad profile file or an unknown component name."""


def unknown_name_error(kind: str, name: str, valid: Mapping[str, Any] | list[str]) -> ProfileError:
    names = ", ".join(sorted(valid))
    return ProfileError(f"unknown {kind} {name!r}; valid {kind} names: {names}")


@dataclass(frozen=True, slots=True)
class Mcu:
    name: str
    description: str
    sleep_ua: float
    active_ma: float
    idle_ma: float
    boot: Phase
    shutdown: Phase | None
    nj_per_mac: float
    micropython_us_per_mac: float
    cpu_idle_ma: float = 0.0  # awake with nothing to do (MicroPython's sleep_ms): the heater wait


@dataclass(frozen=True, slots=True)
class Sensor:
    name: str
    description: str
    sleep_ua: float
    phases: tuple[Phase, ...]


@dataclass(frozen=True, slots=True)
class Radio:
    """A radio as seen by the model: "lora" (chip + SF, class A), "ble"
    (advertising) or "fixed" (a measured per-message exchange)."""

    name: str
    kind: str
    description: str
    sleep_ua: float
    max_payload_bytes: int
    includes_mcu: bool = False
    requires_mcu: tuple[str, ...] = ()
    lora_chip: LoraChip | None = None
    sf: int = 0
    fixed_phases: tuple[Phase, ...] = ()
    ble: Mapping[str, float] | None = None


@dataclass(frozen=True, slots=True)
class Battery:
    name: str
    description: str
    capacity_mah: float
    usable_fraction: float
    self_discharge_per_year: float
    nominal_v: float = 3.0
    regulator: str = "ldo"            # ldo: battery current = rail current; boost: rail power / efficiency
    regulator_efficiency: float = 1.0
    regulator_iq_ua: float = 0.0      # the regulator's own quiescent draw from the battery
    cold_derating: tuple = ((20.0, 1.0),)  # (temp_c, share of usable capacity deliverable), ascending temp

    def rail_to_battery(self, supply_v: float) -> float:
        """Battery charge per unit of rail charge: 1 through an LDO; V_rail / (V_batt x efficiency) boosted."""
        if self.regulator == "boost":
            return supply_v / (self.nominal_v * self.regulator_efficiency)
        return 1.0

    def capacity_fraction_at(self, temp_c: float) -> float:
        """Share of the usable capacity a cell delivers at temp_c (linear between the listed points)."""
        points = self.cold_derating
        if temp_c <= points[0][0]:
            return points[0][1]
        for (t0, f0), (t1, f1) in zip(points, points[1:]):
            if temp_c <= t1:
                return f0 + (f1 - f0) * (temp_c - t0) / (t1 - t0)
        return points[-1][1]


@dataclass(frozen=True, slots=True)
class Policy:
    """When a node talks. `heartbeat_interval_s == 0` means every sample is sent."""

    name: str
    runs_inference: bool
    payload_bytes: int
    heartbeat_interval_s: float
    alerts_per_day: float


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """Component names of a named node configuration (resolved by the catalogue)."""

    name: str
    description: str
    mcu: str
    sensor: str
    radio: str
    battery: str
    runtime: str
    macs_per_inference: int
    regulator_iq_ua: float
    mcu_wait: str
    sensor_wait: str = "light-sleep"
    divider_kohm: float = 0.0  # battery-voltage divider, top + bottom (draws V_batt / R all the time)
    confirmed_alerts: bool = False  # LoRa radios: alerts go as confirmed uplinks (ACK in RX1, retries)
    host_listen_s: float = 0.0      # the MCU stays awake this long after each send, listening for downlinks
    joins_per_battery: float = 0.0  # OTAA joins paid once per battery (not per day)


@dataclass(frozen=True, slots=True)
class Catalog:
    supply_v: float
    mcus: Mapping[str, Mcu]
    sensors: Mapping[str, Sensor]
    radios: Mapping[str, Radio]
    batteries: Mapping[str, Battery]
    nodes: Mapping[str, NodeSpec]
    policies: Mapping[str, Policy]
    lorawan: LorawanSettings

    def mcu(self, name: str) -> Mcu:
        return _pick(self.mcus, "mcu", name)

    def sensor(self, name: str) -> Sensor:
        return _pick(self.sensors, "sensor", name)

    def radio(self, name: str) -> Radio:
        return _pick(self.radios, "radio", name)

    def battery(self, name: str) -> Battery:
        return _pick(self.batteries, "battery", name)

    def node(self, name: str) -> NodeSpec:
        return _pick(self.nodes, "node", name)

    def policy(self, name: str) -> Policy:
        return _pick(self.policies, "policy", name)


def _pick(table: Mapping[str, Any], kind: str, name: str) -> Any:
    try:
        return table[name]
    except KeyError:
        raise unknown_name_error(kind, name, table) from None


_CATALOG: Catalog | None = None


def load_catalog() -> Catalog:
    """The packaged profiles (parsed once)."""
    global _CATALOG
    if _CATALOG is None:
        text = resources.files("simulator.energy").joinpath(PROFILES_FILE).read_text(encoding="utf-8")
        _CATALOG = parse_catalog(tomllib.loads(text))
    return _CATALOG


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    """Build a Catalog from parsed TOML; raises ProfileError listing every problem."""
    problems: list[str] = []
    reader = _Reader(problems)
    supply_v = reader.number(data, "supply_v", "top level", positive=True)
    lorawan = _parse_lorawan(data.get("lorawan", {}), reader)
    mcus = {n: _parse_mcu(n, t, reader) for n, t in data.get("mcu", {}).items()}
    sensors = {n: _parse_sensor(n, t, reader) for n, t in data.get("sensor", {}).items()}
    radios = _parse_radios(data, reader, lorawan_default=data.get("lorawan", {}).get("default_chip"))
    batteries = {n: _parse_battery(n, t, reader) for n, t in data.get("battery", {}).items()}
    policies = {n: _parse_policy(n, t, reader) for n, t in data.get("policy", {}).items()}
    nodes = {n: _parse_node(n, t, reader) for n, t in data.get("node", {}).items()}
    for node in nodes.values():
        for kind, table, value in (("mcu", mcus, node.mcu), ("sensor", sensors, node.sensor),
                                   ("radio", radios, node.radio), ("battery", batteries, node.battery)):
            if value not in table:
                problems.append(f"node.{node.name}: {unknown_name_error(kind, value, table)}")
    if problems:
        raise ProfileError("bad energy profiles:\n  " + "\n  ".join(problems))
    return Catalog(supply_v, mcus, sensors, radios, batteries, nodes, policies, lorawan)


class _Reader:
    """Reads typed values and collects problems instead of stopping at the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def number(self, table: Mapping[str, Any], key: str, where: str, default: float | None = None,
               positive: bool = False, at_most: float | None = None) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problems.append(f"{where}: {key} must be a number, got {value!r}")
            return 1.0 if positive else 0.0
        if value < 0 or (positive and value == 0) or (at_most is not None and value > at_most):
            bound = f" and <= {at_most}" if at_most is not None else ""
            self.problems.append(f"{where}: {key} must be {'> 0' if positive else '>= 0'}{bound}, got {value}")
        return float(value)

    def text(self, table: Mapping[str, Any], key: str, where: str, default: str | None = None,
             choices: tuple[str, ...] | None = None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            self.problems.append(f"{where}: {key} must be a string, got {value!r}")
            return ""
        if choices is not None and value not in choices:
            self.problems.append(f"{where}: {key} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def phases(self, table: Mapping[str, Any], where: str) -> tuple[Phase, ...]:
        out = []
        for item in table.get("phases", []):
            try:
                name, current_ma, duration_s = item
                out.append(Phase(str(name), float(current_ma), float(duration_s)))
            except (TypeError, ValueError) as exc:
                self.problems.append(f"{where}: phase {item!r} must be [name, current_ma, duration_s] ({exc})")
        return tuple(out)


def _parse_lorawan(t: Mapping[str, Any], r: _Reader) -> LorawanSettings:
    d = LorawanSettings()
    w = "lorawan"
    return LorawanSettings(
        overhead_bytes=int(r.number(t, "overhead_bytes", w, d.overhead_bytes)),
        bw_hz=r.number(t, "bw_hz", w, d.bw_hz, positive=True),
        coding_rate=int(r.number(t, "coding_rate", w, d.coding_rate, positive=True, at_most=4)),
        preamble_symbols=int(r.number(t, "preamble_symbols", w, d.preamble_symbols)),
        rx1_delay_s=r.number(t, "rx1_delay_s", w, d.rx1_delay_s),
        rx2_delay_s=r.number(t, "rx2_delay_s", w, d.rx2_delay_s),
        min_rx_symbols=int(r.number(t, "min_rx_symbols", w, d.min_rx_symbols, positive=True)),
        rx_error_ms=r.number(t, "rx_error_ms", w, d.rx_error_ms),
        rx2_sf=int(r.number(t, "rx2_sf", w, d.rx2_sf, positive=True, at_most=12)),
        join_accept_delay1_s=r.number(t, "join_accept_delay1_s", w, d.join_accept_delay1_s),
        join_request_bytes=int(r.number(t, "join_request_bytes", w, d.join_request_bytes, positive=True)),
        join_accept_bytes=int(r.number(t, "join_accept_bytes", w, d.join_accept_bytes, positive=True)),
        ack_frame_bytes=int(r.number(t, "ack_frame_bytes", w, d.ack_frame_bytes, positive=True)),
        confirmed_max_attempts=int(r.number(t, "confirmed_max_attempts", w, d.confirmed_max_attempts, positive=True)),
        packet_error_rate=r.number(t, "packet_error_rate", w, d.packet_error_rate, at_most=0.99),
        join_attempts=r.number(t, "join_attempts", w, d.join_attempts, positive=True),
        join_retry_interval_s=r.number(t, "join_retry_interval_s", w, d.join_retry_interval_s),
    )


def _parse_mcu(name: str, t: Mapping[str, Any], r: _Reader) -> Mcu:
    w = f"mcu.{name}"
    boot = phase_from_charge("boot", r.number(t, "boot_mc", w), r.number(t, "boot_s", w, positive=True))
    shutdown = None
    if "shutdown_s" in t:
        shutdown = phase_from_charge("shutdown", r.number(t, "shutdown_mc", w),
                                     r.number(t, "shutdown_s", w, positive=True))
    return Mcu(name, r.text(t, "description", w, ""), r.number(t, "sleep_ua", w),
               r.number(t, "active_ma", w, positive=True), r.number(t, "idle_ma", w), boot, shutdown,
               r.number(t, "nj_per_mac", w), r.number(t, "micropython_us_per_mac", w),
               r.number(t, "cpu_idle_ma", w, r.number(t, "idle_ma", w)))


def _parse_sensor(name: str, t: Mapping[str, Any], r: _Reader) -> Sensor:
    w = f"sensor.{name}"
    return Sensor(name, r.text(t, "description", w, ""), r.number(t, "sleep_ua", w), r.phases(t, w))


def _parse_radios(data: Mapping[str, Any], r: _Reader, lorawan_default: Any) -> dict[str, Radio]:
    radios: dict[str, Radio] = {}
    chips = data.get("lora_chip", {})
    for chip_name, t in chips.items():
        w = f"lora_chip.{chip_name}"
        chip = LoraChip(
            chip_name, r.number(t, "tx_ma", w, positive=True), r.number(t, "rx_ma", w, positive=True),
            r.number(t, "wait_ma", w, 0.0), r.number(t, "sleep_ua", w, 0.0),
            r.number(t, "prepare_ma", w, 0.0), r.number(t, "prepare_s", w, 0.0),
            r.number(t, "off_ma", w, 0.0), r.number(t, "off_s", w, 0.0),
            r.text(t, "prepare_mcu", w, "wait", choices=("wait", "active")))
        aliases = [chip_name] + (["lora"] if chip_name == lorawan_default else [])
        for sf in range(7, 13):
            for alias in aliases:
                radios[f"{alias}-sf{sf}"] = Radio(
                    f"{alias}-sf{sf}", "lora", f"LoRaWAN class A, {chip_name}, SF{sf}/125 kHz",
                    chip.sleep_ua, max_payload_bytes=_lorawan_eu868_max_payload(sf), lora_chip=chip, sf=sf)
    if lorawan_default is not None and lorawan_default not in chips:
        r.problems.append(f"lorawan.default_chip {lorawan_default!r} is not a lora_chip "
                          f"(have: {', '.join(sorted(chips))})")
    for name, t in data.get("radio", {}).items():
        w = f"radio.{name}"
        kind = r.text(t, "kind", w, choices=("fixed", "ble"))
        ble = None
        if kind == "ble":
            ble = {k: r.number(t, k, w) for k in ("tx_ma", "ramp_ma", "ramp_s", "overhead_bytes",
                                                   "bit_rate_bps", "channels", "events_per_message",
                                                   "event_cpu_s")}
            if ble["bit_rate_bps"] <= 0:
                r.problems.append(f"{w}: bit_rate_bps must be > 0")
        requires = t.get("requires_mcu", [])
        radios[name] = Radio(
            name, kind, r.text(t, "description", w, ""), r.number(t, "sleep_ua", w),
            int(r.number(t, "max_payload_bytes", w, positive=True)), bool(t.get("includes_mcu", False)),
            tuple(str(x) for x in requires), fixed_phases=r.phases(t, w), ble=ble)
    return radios


def _parse_battery(name: str, t: Mapping[str, Any], r: _Reader) -> Battery:
    w = f"battery.{name}"
    derating = []
    for item in t.get("cold_derating", [[20.0, 1.0]]):
        try:
            temp_c, share = item
            derating.append((float(temp_c), float(share)))
        except (TypeError, ValueError) as exc:
            r.problems.append(f"{w}: cold_derating point {item!r} must be [temp_c, share] ({exc})")
    if [p[0] for p in derating] != sorted(p[0] for p in derating) or not all(0 < p[1] <= 1 for p in derating):
        r.problems.append(f"{w}: cold_derating must ascend in temperature with shares in (0, 1]")
    return Battery(name, r.text(t, "description", w, ""), r.number(t, "capacity_mah", w, positive=True),
                   r.number(t, "usable_fraction", w, positive=True, at_most=1.0),
                   r.number(t, "self_discharge_per_year", w, at_most=1.0),
                   r.number(t, "nominal_v", w, 3.0, positive=True),
                   r.text(t, "regulator", w, "ldo", choices=REGULATORS),
                   r.number(t, "regulator_efficiency", w, 1.0, positive=True, at_most=1.0),
                   r.number(t, "regulator_iq_ua", w, 0.0), tuple(derating) or ((20.0, 1.0),))


def _parse_policy(name: str, t: Mapping[str, Any], r: _Reader) -> Policy:
    w = f"policy.{name}"
    return Policy(name, bool(t.get("runs_inference", False)), int(r.number(t, "payload_bytes", w)),
                  r.number(t, "heartbeat_interval_s", w), r.number(t, "alerts_per_day", w))


def _parse_node(name: str, t: Mapping[str, Any], r: _Reader) -> NodeSpec:
    w = f"node.{name}"
    return NodeSpec(
        name, r.text(t, "description", w, ""), r.text(t, "mcu", w), r.text(t, "sensor", w),
        r.text(t, "radio", w), r.text(t, "battery", w), r.text(t, "runtime", w, choices=RUNTIMES),
        int(r.number(t, "macs_per_inference", w)), r.number(t, "regulator_iq_ua", w, 0.0),
        r.text(t, "mcu_wait", w, "light-sleep", choices=MCU_WAIT_MODES),
        r.text(t, "sensor_wait", w, "light-sleep", choices=SENSOR_WAIT_MODES), r.number(t, "divider_kohm", w, 0.0),
        _flag(t, "confirmed_alerts", w, r), r.number(t, "host_listen_s", w, 0.0),
        r.number(t, "joins_per_battery", w, 0.0))


def _flag(t: Mapping[str, Any], key: str, where: str, r: _Reader) -> bool:
    value = t.get(key, False)
    if not isinstance(value, bool):
        r.problems.append(f"{where}: {key} must be true or false, got {value!r}")
        return False
    return value


def _lorawan_eu868_max_payload(sf: int) -> int:
    # LoRaWAN Regional Parameters EU868, maximum application payload N per data rate
    # (no repeater): DR0-2 (SF12-10) 51, DR3 (SF9) 115, DR4-5 (SF8-7) 222 bytes.
    return 51 if sf >= 10 else 115 if sf == 9 else 222
