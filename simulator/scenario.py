"""A whole simulated deployment: config in, time-ordered MQTT messages and a result out.

    from simulator.scenario import ScenarioConfig, run_scenario
    result = run_scenario(ScenarioConfig(n_nodes=25, days=1.0, ignitions=1, seed=1, site="demo"),
                          publish=lambda topic, payload, retain: ...)

Every node samples once per interval at its own phase, runs the real pipeline
(or its numpy replica), and publishes alerts and hourly heartbeats with one
seq counter, encoded by edge_node.core.schema with simulated event times.
Everything random comes from the seed, so a run repeats exactly.
"""

import math
import time
from collections.abc import Callable

import numpy as np

from edge_node.core import battery_state, policy, schema
from edge_node.core.features import GAS_SIGN_RESISTANCE
from edge_node.core.pipeline import NodePipeline, default_pipeline
from simulator import fixed_point
from simulator.battery_ledger import BatteryLedger
from simulator.clock import EPOCH_MS
from simulator.engines import make_engine
from simulator.fire import Fire
from simulator.fuel_map import FuelMapError
from simulator.links import IdealLink
from simulator.outbox import Outbox, Publish
from simulator.placement import (
    PlacementError,
    csv_placement,
    grid_placement,
    random_placement,
)
from simulator.plume import smoke_and_heat
from simulator.results import (
    TRUE_ALERT_WINDOW_MS,
    AlertRecord,
    Ignition,
    ScenarioResult,
)
from simulator.scenario_config import ScenarioConfig, ScenarioConfigError, model_sample_interval_s
from simulator.sensors import (
    FAULT_DEAD_SENSOR,
    FAULT_NAMES,
    FAULT_NONE,
    FAULT_STUCK,
    FAULT_WET,
    SensorBank,
)
from simulator.terrain import make_terrain
from simulator.weather import Weather

SITE_LAT_E6, SITE_LON_E6 = 41_900_000, -6_800_000  # Montesinho natural park, Portugal
M_PER_DEG_LAT = 111_320.0
EXPOSED_PPM = 1.0        # CO above background that counts as "this node smells a fire"
EXPOSED_HEAT_C = 1.0
PERIMETER_EVERY_S = 900
WEATHER_STATION = "wx0"  # the site's weather station: wind and rain every WEATHER_EVERY_S (schema kind weather)
WEATHER_EVERY_S = 600
RAIN_WINDOW_S = 2 * 3600  # false alerts this soon after rain starts or stops are blamed on the rain


def _place(config: ScenarioConfig, rng: np.random.Generator):
    if config.positions_csv:  # problems() already insists on a file when placement is csv
        return csv_placement(config.positions_csv)
    if config.placement == "random":
        return random_placement(config.n_nodes, config.spacing_m, rng)
    return grid_placement(config.n_nodes, config.spacing_m)


def _draw_faults(rng: np.random.Generator, n: int, sim_s: float, config: ScenarioConfig):
    """Per node: sensor fault kind and time, and battery failure time (inf = never)."""
    month_s = 30 * 86400
    kind = np.full(n, FAULT_NONE, dtype=np.int64)
    at_s = np.full(n, np.inf)
    for fault, rate in ((FAULT_STUCK, config.stuck_per_node_month),
                        (FAULT_DEAD_SENSOR, config.dead_sensor_per_node_month),
                        (FAULT_WET, config.wet_sensor_per_node_month)):
        t = rng.exponential(month_s / rate, n) if rate > 0 else np.full(n, np.inf)
        hit = (t < sim_s) & (t < at_s)
        kind[hit], at_s[hit] = fault, t[hit]
    rate = config.dead_battery_per_node_month
    battery_dies_s = rng.exponential(month_s / rate, n) if rate > 0 else np.full(n, np.inf)
    return kind, at_s, battery_dies_s


def _plan_ignitions(config: ScenarioConfig, rng: np.random.Generator, bounds, sim_s: float) -> list[Ignition]:
    if config.ignition_plan is not None:
        plan = sorted(config.ignition_plan)
    else:
        x0, y0, x1, y1 = bounds
        # fires start inside the forest, early enough that there is time to see them
        plan = sorted((float(rng.uniform(0.1, 0.7) * sim_s), float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1)))
                      for _ in range(config.ignitions))
    return [Ignition(i, EPOCH_MS + int(t_s * 1000), x, y) for i, (t_s, x, y) in enumerate(plan)]


def run_scenario(config: ScenarioConfig, publish: Publish | None = None,
                 progress: Callable[[float], None] | None = None,
                 make_pipeline: Callable[[], NodePipeline] = default_pipeline) -> ScenarioResult:
    """Simulate `config`; hand every delivered message to publish(topic, payload, retain) in time order.

    make_pipeline builds one node's pipeline (default: the committed model); progress gets the
    finished fraction about every 1 %.
    """
    problems = config.problems()
    if problems:
        raise ScenarioConfigError("bad scenario: " + "; ".join(problems))
    wall_start = time.perf_counter()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(7)]
    rng_place, rng_terrain, rng_weather, rng_ignite, rng_fault, rng_sensor, rng_radio = streams
    try:
        placement = _place(config, rng_place)
    except PlacementError as exc:
        raise ScenarioConfigError(str(exc)) from exc
    n = len(placement)
    dt_s = config.sample_interval_s or model_sample_interval_s()
    n_steps = max(1, round(config.days * 86400 / dt_s))
    sim_s = n_steps * dt_s
    x_m, y_m, ids = placement.x_m, placement.y_m, placement.node_ids
    result = ScenarioResult(config, ids, x_m, y_m)
    try:
        terrain = make_terrain(placement.bounds_m(), rng_terrain, fuel=config.fuel)
    except FuelMapError as exc:
        raise ScenarioConfigError(str(exc)) from exc
    weather = Weather(rng_weather, sim_s / 86400, config.weather)
    result.ignitions = _plan_ignitions(config, rng_ignite, placement.bounds_m(), sim_s)
    fires = [Fire(i.index, (i.time_ms - EPOCH_MS) / 1000.0, i.x_m, i.y_m) for i in result.ignitions]
    result.fires = fires
    fault_kind, fault_at_s, battery_dies_s = _draw_faults(rng_fault, n, sim_s, config)
    sensors = SensorBank(rng_sensor, terrain.elevation_at(x_m, y_m), fault_kind, fault_at_s, sim_s, config.sensors)
    result.nuisance_events = len(sensors.nuisances)
    nz = sensors.nuisances
    result.nuisance_windows = [(ids[node], EPOCH_MS + int(start * 1000), EPOCH_MS + int(end * 1000),
                                "sun fleck" if sun else "exhaust")
                               for node, start, end, sun in zip(nz.node.tolist(), nz.start_s.tolist(),
                                                                nz.end_s.tolist(), nz.kind_sun.tolist())]
    phase_ms = rng_sensor.integers(0, dt_s * 1000, n)  # nodes are not synchronised
    hb_steps = max(1, config.heartbeat_s // dt_s)
    hb_offset = rng_sensor.integers(0, hb_steps, n)
    # Nodes booted at different times before the run: each one's last heartbeat puts its next one
    # hb_offset steps in; from then on edge_node.core.policy decides, as on the node.
    last_beat_ms = EPOCH_MS + phase_ms - (hb_steps - hb_offset) * dt_s * 1000
    link, sf = _make_link(config, rng_radio, x_m, y_m, n)
    ledger = BatteryLedger(sf, rng_fault.uniform(0.9, 1.0, n))
    engine = make_engine(config.engine, n, make_pipeline)
    result.engine = engine.name
    result.scorer = type(engine.scorer).__name__ if hasattr(engine, "scorer") else type(
        engine.pipelines[0].scorer).__name__
    lat_e6 = (SITE_LAT_E6 + np.rint(y_m / M_PER_DEG_LAT * 1e6)).astype(np.int64)
    lon_e6 = (SITE_LON_E6 + np.rint(x_m / (M_PER_DEG_LAT * math.cos(math.radians(SITE_LAT_E6 / 1e6))) * 1e6)
              ).astype(np.int64)

    records_by_key: dict[tuple[str, int], AlertRecord] = {}

    def note_delivery(deliver_ms: int, message) -> None:
        if message[1] is schema.encode_alert:  # args start with node, seq
            record = records_by_key.pop((message[2][0], message[2][1]), None)
            if record is not None:
                record.delivered_ms = deliver_ms

    outbox = Outbox(link, publish, note_delivery)
    # validate each id once through the schema, then reuse the prefix for every kind
    prefixes = [schema.topic(config.site, node, "status")[:-len("status")] for node in ids]
    topics = {kind: [prefix + kind for prefix in prefixes] for kind in ("alert", "heartbeat", "status")}
    for i, node in enumerate(ids):
        outbox.post(EPOCH_MS, (topics["status"][i], schema.encode_status, (node, "online"), True))
    result.fault_kinds = {ids[i]: FAULT_NAMES[int(k)] for i, k in enumerate(fault_kind) if k != FAULT_NONE}
    alive = np.ones(n, dtype=bool)
    seq = np.zeros(n, dtype=np.int64)
    last_exposed_ms = np.full(n, -(1 << 62), dtype=np.int64)
    last_nuisance_ms = np.full(n, -(1 << 62), dtype=np.int64)
    exposure_fire = np.full(n, -1, dtype=np.int64)
    first_smoke_ms = np.full(n, -1, dtype=np.int64)
    first_true_alert_ms: dict[int, int] = {}
    weather_topic = schema.topic(config.site, WEATHER_STATION, "weather")
    rain_um = 0.0
    next_report = 0.0
    for step in range(n_steps):
        t_s = step * dt_s
        step_ms = EPOCH_MS + t_s * 1000
        t_ms = step_ms + phase_ms
        wx = weather.step(t_s, dt_s)
        rain_um += wx.rain_mm_h * dt_s / 3.6
        if t_s % WEATHER_EVERY_S < dt_s:  # a station on mains or solar: its own link, not the nodes' radio
            outbox.post(int(step_ms), (weather_topic, schema.encode_weather, (
                WEATHER_STATION, result.weather_messages, int(step_ms), min(10000, round(wx.wind_ms * 100)),
                round(270 - math.degrees(wx.wind_to_rad)) % 360, min(1_000_000, round(rain_um))), False))
            result.weather_messages += 1
            rain_um = 0.0
        if t_s % PERIMETER_EVERY_S < dt_s:  # for the map's wind arrows
            result.wind_log.append((float(t_s), float(wx.wind_ms), float(wx.wind_to_rad)))
        for fire in fires:
            seen_ms = first_true_alert_ms.get(fire.index)
            if (config.suppression_delay_s is not None and seen_ms is not None and not fire.out_reason
                    and step_ms - seen_ms >= config.suppression_delay_s * 1000):
                fire.extinguish("suppressed")
            fire.advance(t_s, dt_s, wx, terrain)
            if fire.active and t_s % PERIMETER_EVERY_S < dt_s:
                fire.record_perimeter(t_s)
        fuel = [terrain.fuel_at(*f.marker_xy()) for f in fires]
        co_ppm, heat_c, burned, dominant = smoke_and_heat(fires, fuel, x_m, y_m, wx)
        temp_cc, rh_cp, gas_ohm = sensors.read(t_s, dt_s, wx, co_ppm, heat_c)
        gas_q8 = fixed_point.gas_index_q8(gas_ohm, GAS_SIGN_RESISTANCE)
        last_nuisance_ms[sensors.nuisances.nodes_now] = t_ms[sensors.nuisances.nodes_now]
        exposed = (co_ppm > EXPOSED_PPM) | (heat_c > EXPOSED_HEAT_C)
        last_exposed_ms = np.where(exposed, t_ms, last_exposed_ms)
        first_smoke_ms = np.where(exposed & (first_smoke_ms < 0), t_ms, first_smoke_ms)
        exposure_fire = np.where(exposed, dominant, exposure_fire)
        # deaths: fire over the node, battery cell failure, battery empty
        dying = alive & (burned | (battery_dies_s <= t_s) | ledger.empty())
        for i in np.flatnonzero(dying).tolist():
            reason = "burned" if burned[i] else "battery"
            result.dead_nodes[ids[i]] = (int(t_ms[i]), reason)
            outbox.post(int(t_ms[i]), (topics["status"][i], schema.encode_status, (ids[i], "offline"), True))
        alive &= ~dying
        ledger.weather(wx.temp_c)
        ledger.tick(dt_s, alive)
        # a sensor that did not answer gives the node nothing to run its pipeline on (as in the firmware)
        alerts, scores = engine.step(t_ms, dt_s, temp_cc, rh_cp, gas_q8, alive & ~sensors.no_reading)
        result.node_steps += int(alive.sum())
        alerting = np.flatnonzero(alerts)
        if alerting.size:
            rain_change = any(0 <= t_s - edge < RAIN_WINDOW_S for start, end, _ in weather.rain_spells
                              for edge in (start, end))
            before = len(result.alert_records)
            _record_alerts(result, alerting, t_ms, seq, scores, exposure_fire, last_exposed_ms, fault_kind,
                           fault_at_s <= t_s, last_nuisance_ms, rain_change, first_true_alert_ms, alerts)
            for record in result.alert_records[before:]:
                records_by_key[(record.node, record.seq)] = record
            items = [(topics["alert"][i], schema.encode_alert,
                      (ids[i], s, t, sc, thr) + _alert_readings(f, tc, rh, g, gq) + (mv, lv, SIM_BOOT, f), False)
                     for i, s, t, sc, thr, tc, rh, g, gq, mv, lv, f in zip(
                         alerting.tolist(), seq[alerting].tolist(), t_ms[alerting].tolist(),
                         scores[alerting].tolist(), engine.thresholds[alerting].tolist(),
                         temp_cc[alerting].tolist(), rh_cp[alerting].tolist(),
                         gas_ohm[alerting].tolist(), gas_q8[alerting].tolist(), ledger.voltage_mv(alerting).tolist(),
                         alerts[alerting].tolist(), engine.faults[alerting].tolist())]
            seq[alerting] += 1
            ledger.messages(alerting)
            link.send(t_ms[alerting], alerting, items)
        # alerts went to the link first: policy.send_order puts a node's alert before its heartbeat
        beating = np.flatnonzero(alive & policy.heartbeat_due(last_beat_ms, t_ms, config.heartbeat_s, dt_s))
        if beating.size:
            last_beat_ms[beating] = t_ms[beating]
            queued = link.queued(int(step_ms))[beating]
            volts = ledger.voltage_mv(beating).tolist()
            silent = sensors.no_reading[beating].tolist()  # a sensor that did not answer: no readings, bus fault
            hb_items = [(topics["heartbeat"][i], schema.encode_heartbeat,
                         (ids[i], s, t, mv) + ((None, None, None) if quiet else _beat_readings(f, tc, rh, gq))
                         + (q, la, lo, SIM_BOOT, f | (schema.FAULT_SENSOR_BUS if quiet else 0),
                            _battery_pct(mv, ledger.battery.name)), False)
                        for i, s, t, mv, tc, rh, gq, q, la, lo, f, quiet in zip(
                            beating.tolist(), seq[beating].tolist(), t_ms[beating].tolist(), volts,
                            temp_cc[beating].tolist(), rh_cp[beating].tolist(), gas_q8[beating].tolist(),
                            queued.tolist(), lat_e6[beating].tolist(), lon_e6[beating].tolist(),
                            engine.faults[beating].tolist(), silent)]
            seq[beating] += 1
            result.heartbeats += int(beating.size)
            ledger.messages(beating)
            link.send(t_ms[beating], beating, hb_items)
        outbox.flush(step_ms + dt_s * 1000)
        if progress is not None and (step + 1) / n_steps >= next_report:
            progress((step + 1) / n_steps)
            next_report += 0.01
    outbox.flush(None)
    result.messages_published = outbox.published
    for fire in fires:
        if fire.active:
            fire.record_perimeter(sim_s)
    result.first_smoke_ms = {ids[i]: int(first_smoke_ms[i]) for i in np.flatnonzero(first_smoke_ms >= 0).tolist()}
    result.steps = n_steps
    result.sim_s = float(sim_s)
    result.radio = link.stats()
    result.battery = ledger.summary(sim_s, alive)
    result.battery_life_days = ledger.projected_life_days(sim_s)[alive]
    result.wall_s = time.perf_counter() - wall_start
    return result


SIM_BOOT = 1  # simulated nodes boot once, at the start of the run


def _beat_readings(faults: int, temp_cc: int, rh_cp: int, gas_q8: int) -> tuple:
    """(temp_cc, rh_cp, gas_q8) of a heartbeat, a faulty channel's left out as the node does."""
    temp, rh, _gas, gq = _alert_readings(faults, temp_cc, rh_cp, 0, gas_q8)
    return temp, rh, gq


def _battery_pct(mv: int, chemistry: str) -> int | None:
    """bat_pct as the node computes it (edge_node.core.battery_state), for a chemistry it knows."""
    return battery_state.percent(mv, chemistry) if chemistry in battery_state.CHEMISTRIES else None


def _alert_readings(faults: int, temp_cc: int, rh_cp: int, gas: int, gas_q8: int) -> tuple:
    """The readings an alert carries: a faulty channel's are left out (its bit is in `flt`)."""
    bad_gas = faults & schema.FAULT_GAS
    return (None if faults & schema.FAULT_TEMP else temp_cc, None if faults & schema.FAULT_RH else rh_cp,
            None if bad_gas else gas, None if bad_gas else gas_q8)


def _record_alerts(result: ScenarioResult, alerting: np.ndarray, t_ms: np.ndarray, seq: np.ndarray,
                   scores: np.ndarray, exposure_fire: np.ndarray, last_exposed_ms: np.ndarray, fault_kind: np.ndarray,
                   failed: np.ndarray, last_nuisance_ms: np.ndarray, rain_change: bool,
                   first_true_alert_ms: dict[int, int], levels: np.ndarray) -> None:
    """Keep each alert with its ground truth: the fire the node smelt in the last 30 min (or -1),
    and for false alerts the likeliest cause the simulator knows of."""
    for i in alerting.tolist():
        node, t_i = result.node_ids[i], int(t_ms[i])
        true_fire = int(exposure_fire[i]) if t_i - int(last_exposed_ms[i]) <= TRUE_ALERT_WINDOW_MS else -1
        if true_fire >= 0:
            first_true_alert_ms.setdefault(true_fire, t_i)
        fault = FAULT_NAMES[int(fault_kind[i])] if failed[i] else "none"
        if true_fire >= 0:
            cause = "fire"
        elif fault != "none":
            cause = "sensor_fault"
        elif t_i - int(last_nuisance_ms[i]) <= TRUE_ALERT_WINDOW_MS:
            cause = "nuisance"
        else:
            cause = "rain" if rain_change else "other"
        result.alert_records.append(AlertRecord(node, int(seq[i]), t_i, int(scores[i]), true_fire, fault, cause,
                                                int(levels[i])))
        result.first_alert_ms.setdefault(node, t_i)


def _make_link(config: ScenarioConfig, rng: np.random.Generator, x_m: np.ndarray, y_m: np.ndarray, n: int):
    """The radio between nodes and gateway, and each node's spreading factor."""
    if not config.radio:
        return IdealLink(n), np.full(n, 9, dtype=np.int64)
    from simulator.radio import LoRaChannel

    channel = LoRaChannel.for_site(x_m, y_m, rng, config.radio_settings)
    return channel, channel.sf
