"""`emberwatch simulate`: a simulated forest of nodes, to MQTT or to an event log, with a report."""

import argparse
import shlex
import sys
import time
from collections.abc import Callable

HELP = "Simulate a forest of sensor nodes (weather, fire, smoke, radio, battery) and publish or log their messages"


# Scenario fields a command-line flag sets: errors name the flag the user typed, not the field.
_FLAG_OF_FIELD = {"n_nodes": "--nodes", "days": "--days", "ignitions": "--ignitions", "site": "--site",
                  "placement": "--placement", "spacing_m": "--spacing-m", "engine": "--engine"}


def _flag_named(problem: str) -> str:
    field, _, rest = problem.partition(" ")
    return f"{_FLAG_OF_FIELD[field]} {rest}" if field in _FLAG_OF_FIELD else problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nodes", type=int, default=1000, help="number of nodes (default 1000)")
    parser.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    parser.add_argument("--ignitions", type=int, default=3, help="random ignitions (default 3)")
    parser.add_argument("--ignite", action="append", metavar="HOURS,X_M,Y_M", default=[],
                        help="scripted ignition (repeatable); replaces random ignitions")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the scenario (default 1)")
    parser.add_argument("--site", default="sim", help="site id in MQTT topics (default sim)")
    parser.add_argument("--placement", choices=("grid", "random"), default="grid", help="node layout (default grid)")
    parser.add_argument("--positions", metavar="CSV", help="node positions file with columns node,x_m,y_m")
    parser.add_argument("--spacing-m", type=float, default=200.0, help="grid spacing / density (default 200 m)")
    parser.add_argument("--engine", choices=("fleet", "reference"), default="fleet",
                        help="fleet: numpy, fast; reference: one edge_node.core pipeline per node")
    parser.add_argument("--scorer", choices=("model", "rise-rule"), default="model",
                        help="model: the committed int8 autoencoder (default); rise-rule: the static baseline")
    parser.add_argument("--no-radio", action="store_true", help="ideal links instead of the LoRa model")
    parser.add_argument("--suppress-after-h", type=float, default=3.0,
                        help="fire crews put a fire out this long after its first alert (default 3; <0: never)")
    parser.add_argument("--mqtt", metavar="URL", help="publish to this broker, e.g. mqtt://localhost:1883 (QoS 1)")
    parser.add_argument("--lorawan", choices=("chirpstack",),
                        help="publish what the LoRa nodes send as a LoRaWAN network server does: ChirpStack v4 "
                             "`up` events (11-byte frames of edge_node/core/uplink_codec) for the gateway's "
                             "LoRaWAN source")
    parser.add_argument("--lorawan-registry", metavar="FILE",
                        help="with --lorawan: write the DevEUI -> node registry the gateway reads here")
    parser.add_argument("--lorawan-application", metavar="ID", default=None,
                        help="with --lorawan: ChirpStack application id in the topics (default: a fixed UUID)")
    parser.add_argument("--event-log", metavar="FILE", help="write messages as JSON lines (its folder must exist)")
    parser.add_argument("--report", metavar="DIR", help="write summary.json/.md, alerts.csv and PNG figures here")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--scenario", metavar="FILE.json",
                        help="settings from a scenario file (options given here that differ from their defaults win)")
    parser.add_argument("--radio", action="append", metavar="KEY=VALUE", default=[],
                        help="radio setting (repeatable): sf (7-12 or adr), bw_hz, coding_rate, payload_bytes, "
                             "channels, duty_cycle, capture_db, preamble_grace_symbols, path_loss (hata or "
                             "log-distance), shadowing_db, tx_power_dbm, gateway_spacing_m, ...")
    parser.add_argument("--fuel", metavar="MODEL|FILE",
                        help="fuel: a standard fuel model code for the whole site (e.g. GR2, SH5, TL3, FM8) or a "
                             "GeoJSON / .npy fuel map")
    _DEFAULTS.update({action.dest: action.default for action in parser._actions})


_DEFAULTS: dict = {}


def _parse_ignitions(specs: list[str]) -> list[tuple[float, float, float]]:
    plan = []
    for spec in specs:
        parts = spec.split(",")
        try:
            hours, x, y = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"--ignite wants HOURS,X_M,Y_M (e.g. 13.5,400,400), got {spec!r}") from None
        plan.append((hours * 3600.0, x, y))
    return plan


def _pipeline_factory(scorer: str):
    from edge_node.core.detector import Detector
    from edge_node.core.pipeline import NodePipeline, default_pipeline
    from edge_node.core.scoring import RiseRule

    if scorer == "model":
        return default_pipeline

    def rise_rule_pipeline() -> NodePipeline:
        rule = RiseRule()  # the same debounce the fallback in default_pipeline() uses
        return NodePipeline(rule, Detector(rule.threshold, 2, 3, 600))
    return rise_rule_pipeline


def _merge_scenario_file(args: argparse.Namespace) -> dict:
    """Fill options left at their defaults from --scenario; return its sections (radio, weather, ...)."""
    from simulator.scenario_file import SECTIONS, ScenarioFileError, read_scenario_file

    if not args.scenario:
        return {}
    data = read_scenario_file(args.scenario)
    unknown = sorted(k for k in data if k not in SECTIONS and (k not in _DEFAULTS or k == "scenario"))
    if unknown:
        raise ScenarioFileError(f"{args.scenario}: unknown setting(s) {', '.join(unknown)}")
    for key, value in data.items():
        if key not in SECTIONS and getattr(args, key) == _DEFAULTS.get(key):
            setattr(args, key, value)
    return {k: data[k] for k in SECTIONS if k in data}


def build_config(args: argparse.Namespace):
    """The ScenarioConfig the options (and scenario file) describe; ScenarioFileError/ValueError when bad."""
    from simulator.fuel_map import FuelConfig
    from simulator.radio_config import RadioConfig
    from simulator.scenario import ScenarioConfig
    from simulator.scenario_file import build_section, parse_setting
    from simulator.sensors import SensorConfig
    from simulator.weather import WeatherConfig

    sections = _merge_scenario_file(args)
    radio = dict(sections.get("radio", {}))
    radio.update(parse_setting(text) for text in args.radio)
    fuel = dict(sections.get("fuel", {}))
    if args.fuel:
        fuel["model" if "." not in args.fuel else "map_path"] = args.fuel
    plan = _parse_ignitions(args.ignite) if args.ignite else None
    return ScenarioConfig(n_nodes=args.nodes, days=args.days, ignitions=args.ignitions, seed=args.seed,
                          site=args.site, placement="csv" if args.positions else args.placement,
                          spacing_m=args.spacing_m, positions_csv=args.positions, engine=args.engine,
                          ignition_plan=plan, radio=not args.no_radio,
                          suppression_delay_s=args.suppress_after_h * 3600 if args.suppress_after_h >= 0 else None,
                          radio_settings=build_section(RadioConfig, radio, "radio"),
                          weather=build_section(WeatherConfig, sections.get("weather", {}), "weather"),
                          sensors=build_section(SensorConfig, sections.get("sensors", {}), "sensors"),
                          fuel=build_section(FuelConfig, fuel, "fuel"))


def run(args: argparse.Namespace) -> int:
    from simulator.clock import EPOCH_MS
    from simulator.publishers import EventLog, MqttPublisher, PublishError
    from simulator.scenario import ScenarioConfigError, run_scenario

    try:
        config = build_config(args)
    except ValueError as exc:  # ScenarioFileError, bad --ignite, bad fuel
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems = [_flag_named(p) for p in config.problems()]
    if args.report:
        from emberwatch.extras import need

        plotting = need("--report (its figures)", "matplotlib")
        if plotting:
            problems.append(plotting)
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 2
    sinks: list[EventLog | MqttPublisher] = []
    try:
        if args.event_log:
            try:
                sinks.append(EventLog(args.event_log))
            except PublishError as exc:
                raise PublishError(f"--event-log: {exc}") from exc
        if args.mqtt:
            sinks.append(MqttPublisher(args.mqtt))
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for sink in sinks:
            sink.close()
        return 1
    replay = None
    if args.report:  # the gateway's incident engine takes what the radio delivered, as a gateway would
        from simulator.incident_score import IncidentReplay

        replay = IncidentReplay()
        sinks.append(replay)  # type: ignore[arg-type]

    def publish_all(topic: str, payload: bytes, retain: bool) -> None:
        for sink in sinks:
            sink(topic, payload, retain)

    publish: Callable[[str, bytes, bool], None] = publish_all
    if args.lorawan:
        from simulator.lorawan_uplinks import DEFAULT_APPLICATION, ChirpStackUplinks

        publish = ChirpStackUplinks(publish_all, args.lorawan_application or DEFAULT_APPLICATION,
                                    args.lorawan_registry)

    started = time.monotonic()
    interactive = sys.stderr.isatty()
    shown = [-1]

    def progress(fraction: float) -> None:
        # a live bar on a terminal; one line per 10 % in logs
        if args.quiet or (not interactive and int(fraction * 10) == shown[0]):
            return
        shown[0] = int(fraction * 10)
        bar = "#" * int(fraction * 30)
        print(f"{chr(13) if interactive else ''}[simulate] [{bar:<30}] {fraction:6.1%}  "
              f"{fraction * args.days:6.2f} of {args.days:g} days  {time.monotonic() - started:6.1f} s",
              end="" if interactive else "\n", file=sys.stderr, flush=True)

    try:
        result = run_scenario(config, publish=publish if sinks else None, progress=progress,
                              make_pipeline=_pipeline_factory(args.scorer))
        for sink in sinks:
            sink.close()
    except ScenarioConfigError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    except PublishError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    if not args.quiet and interactive:
        print(file=sys.stderr)
    command = "emberwatch simulate " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if len(sys.argv) > 2 else ""
    summary = result.summary()
    if args.report:
        from simulator.report import write_report

        write_report(result, args.report, command)
        from simulator.incident_score import write_incident_report

        assert replay is not None
        replay.finish(EPOCH_MS + int(result.sim_s * 1000))
        summary["incidents"] = write_incident_report(result, replay, args.report)
    _print_summary(summary, args)
    return 0


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def _print_summary(s: dict, args: argparse.Namespace) -> None:
    print(f"{s['nodes']} nodes, {s['days']:g} days, seed {s['seed']}, engine {s['engine']} ({s['scorer']}): "
          f"{s['node_steps']:,} node-steps in {s['wall_s']:.1f} s ({s['speedup_vs_real_time']}x real time)")
    for ign in s["ignitions"]:
        latency = "not detected" if ign["latency_s"] is None else f"first alert after {ign['latency_s'] / 60:.1f} min"
        if ign["latency_at_gateway_s"] is not None and ign["latency_s"] is not None:
            latency += f" (at the gateway {ign['latency_at_gateway_s'] / 60:.1f} min)"
        print(f"  ignition {ign['index']} at ({ign['x_m']:.0f}, {ign['y_m']:.0f}) m: {latency}; "
              f"burned {ign['burned_area_ha']} ha ({ign['out_reason'] or 'still burning'})")
    print(f"  alerts {s['alerts']} ({s['false_alerts']} false: {s['false_alerts_per_node_month']:.4f} per node-month, "
          f"{s['false_alerts_per_node_month_healthy']:.4f} on healthy sensors; by cause {s['false_alerts_by_cause']})")
    radio = s["radio"]
    print(f"  messages {s['messages_published']} published; radio sent {radio['sent']}, lost {radio['lost']}")
    b = s["battery"]
    print(f"  battery life projection (days): min {b['projected_life_days_min']:.0f}, "
          f"median {b['projected_life_days_median']:.0f}")
    if args.report:
        i = s["incidents"]
        print(f"  incidents: {i['confirmed']} of {i['ignitions']} ignitions confirmed; median to open "
              f"{_minutes(i['open_after_s_median'])}, to confirmed {_minutes(i['confirmed_after_s_median'])}; median "
              f"location error {i['error_at_confirm_m_median']} m; false: {i['false_incidents']} opened, "
              f"{i['false_confirmed_incidents']} confirmed ({i['false_confirmed_per_1000_node_months']} per 1,000 "
              "node-months)")
        print(f"  report: {args.report}/summary.md, {args.report}/incidents.md")
    if args.event_log:
        print(f"  event log: {args.event_log}")
