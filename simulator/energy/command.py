"""`emberwatch battery`: energy per day by component, battery life, and policies side by side."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import sys

from simulator.energy.budget import (
    COMPONENTS,
    NodeConfig,
    build_node,
    charge_per_alert_mc,
    charge_per_inference_mc,
    charge_per_message_mc,
    join_charge_per_battery_mc,
)
from simulator.energy.profiles import Policy, ProfileError, load_catalog
from simulator.energy.report import lora_duty_cycle, node_life, radio_to_compute_ratio

HELP = "Battery life of a node: energy per day by component and per policy (stream vs alert-only)."

LORA_DUTY_CYCLE_LIMIT = 0.01  # ETSI EN 300 220 g1 sub-band (EU868): 1 % per device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--node", default="default", help="named node configuration (default: default)")
    parser.add_argument("--mcu", help="override the node's MCU")
    parser.add_argument("--sensor", help="override the node's sensor")
    parser.add_argument("--radio", help="override the node's radio, e.g. lora-sf9, sx1276-sf12, wifi-mqtt")
    parser.add_argument("--battery", help="override the node's battery, e.g. 2xAA")
    parser.add_argument("--runtime", help="micropython or native")
    parser.add_argument("--mcu-wait", help="MCU state while the radio works: light-sleep or active")
    parser.add_argument("--interval", type=float, default=60.0, help="sampling interval in seconds (default 60)")
    parser.add_argument("--policy", default="alert-only", help="policy for the breakdown table (default alert-only)")
    parser.add_argument("--alerts-per-day", type=float, help="override alerts per day (alert-only policies)")
    parser.add_argument("--heartbeat", type=float, help="override the heartbeat interval in seconds")
    parser.add_argument("--payload-bytes", type=int, help="override the application payload size")
    parser.add_argument("--per", type=float,
                        help="LoRaWAN: share of confirmed attempts (uplink or ACK) lost, 0..0.99; sets the expected "
                             "retransmissions of each alert (default: profiles.toml, 0)")
    parser.add_argument("--retransmissions", type=float,
                        help="LoRaWAN: expected unacknowledged sends per confirmed alert, given directly (overrides --per)")
    parser.add_argument("--join-attempts", type=float, help="LoRaWAN: expected join-requests per OTAA join (default 1)")
    parser.add_argument("--radios", metavar="R1,R2,...",
                        help="also compare these radios on the same node (alert cost, ratio, life per policy)")
    parser.add_argument("--temp-c", type=float,
                        help="steady air temperature: cold cells deliver less of their charge (default: 20 C, "
                             "no derating; the simulator applies its own weather)")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="write a stacked-bar + life-curve plot (its folder must exist; needs the demo extra)")
    parser.add_argument("--format", choices=("text", "json", "csv"), default="text",
                        help="text for people (default); json (breakdown + every policy) or csv (one row per "
                             "policy) for tools")
    parser.add_argument("--list", action="store_true", help="list the valid component names and exit")


def _policies(args: argparse.Namespace) -> list[Policy]:
    """Every policy of the catalogue with the command-line overrides applied."""
    out = []
    for policy in load_catalog().policies.values():
        if args.payload_bytes is not None:
            policy = dataclasses.replace(policy, payload_bytes=args.payload_bytes)
        if policy.heartbeat_interval_s > 0 and args.alerts_per_day is not None:
            policy = dataclasses.replace(policy, alerts_per_day=args.alerts_per_day)
        if policy.heartbeat_interval_s > 0 and args.heartbeat is not None:
            policy = dataclasses.replace(policy, heartbeat_interval_s=args.heartbeat)
        out.append(policy)
    return out


def _check_numbers(args: argparse.Namespace) -> list[str]:
    problems = []
    if not args.interval > 0:
        problems.append(f"--interval must be > 0 s, got {args.interval:g}")
    if args.alerts_per_day is not None and args.alerts_per_day < 0:
        problems.append(f"--alerts-per-day must be >= 0, got {args.alerts_per_day:g}")
    if args.heartbeat is not None and not args.heartbeat > 0:
        problems.append(f"--heartbeat must be > 0 s, got {args.heartbeat:g}")
    if args.per is not None and not 0 <= args.per <= 0.99:
        problems.append(f"--per must be in 0..0.99, got {args.per:g}")
    if args.retransmissions is not None and args.retransmissions < 0:
        problems.append(f"--retransmissions must be >= 0, got {args.retransmissions:g}")
    if args.join_attempts is not None and args.join_attempts < 1:
        problems.append(f"--join-attempts must be >= 1, got {args.join_attempts:g}")
    if args.payload_bytes is not None and args.payload_bytes < 0:
        problems.append(f"--payload-bytes must be >= 0, got {args.payload_bytes}")
    if args.plot:
        folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(folder):  # no silent mkdir: a typo in the path should say so
            problems.append(f"--plot: folder {folder} does not exist")
        from emberwatch.extras import need

        plotting = need("--plot", "matplotlib")
        if plotting:
            problems.append(plotting)
    return problems


def _check_names(args: argparse.Namespace) -> list[str]:
    """Every unknown name at once, each with the valid ones."""
    cat = load_catalog()
    radios = [(cat.radio, r) for r in (args.radios.split(",") if args.radios else [])]
    lookups = radios + [(cat.node, args.node), (cat.mcu, args.mcu), (cat.sensor, args.sensor), (cat.radio, args.radio),
               (cat.battery, args.battery), (cat.policy, args.policy)]
    problems = []
    for lookup, name in lookups:
        if name is None:
            continue
        try:
            lookup(name)
        except ProfileError as exc:
            problems.append(str(exc))
    return problems


def _fail(problems: list[str]) -> int:
    for problem in problems:
        print(f"emberwatch battery: error: {problem}", file=sys.stderr)
    return 2


def _build(args: argparse.Namespace, radio: str | None = None) -> NodeConfig:
    """The node named on the command line with its overrides, LoRaWAN link settings included."""
    cat = load_catalog()
    link = cat.lorawan
    if args.per is not None:
        link = dataclasses.replace(link, packet_error_rate=args.per)
    if args.join_attempts is not None:
        link = dataclasses.replace(link, join_attempts=args.join_attempts)
    return build_node(args.node, mcu=args.mcu, sensor=args.sensor, radio=radio or args.radio, battery=args.battery,
                      runtime=args.runtime, mcu_wait=args.mcu_wait, catalog=dataclasses.replace(cat, lorawan=link),
                      retransmissions=args.retransmissions)


def at_temperature(node: NodeConfig, temp_c: float) -> NodeConfig:
    """The node with its battery's usable charge derated for a steady temp_c (profiles.toml cold_derating)."""
    b = node.battery
    share = b.capacity_fraction_at(temp_c)
    battery = dataclasses.replace(b, name=f"{b.name} at {temp_c:g} C ({100 * share:.0f} % of its charge)",
                                  usable_fraction=b.usable_fraction * share)
    return dataclasses.replace(node, battery=battery)


def list_components() -> str:
    cat = load_catalog()
    rows = [("nodes", cat.nodes), ("mcus", cat.mcus), ("sensors", cat.sensors), ("radios", cat.radios),
            ("batteries", cat.batteries), ("policies", cat.policies)]
    return "\n".join(f"{title}: {', '.join(sorted(table))}" for title, table in rows)


def render_breakdown(node: NodeConfig, policy: Policy, interval_s: float) -> str:
    life = node_life(node, policy, interval_s)
    b = life.budget
    lines = [(f"node {node.name}: {node.mcu.name} + {node.sensor.name} + {node.radio.name} on "
             f"{node.battery.name} ({node.runtime}, MCU {node.mcu_wait} while the radio works)"),
             (f"policy {policy.name}, sampling every {interval_s:g} s: {b.wakes_per_day:.0f} wakes/day, "
             f"{b.messages_per_day:.1f} messages/day of {policy.payload_bytes} bytes"),
             "",
             f"{'component':<10} {'mC/day':>12} {'mJ/day':>12} {'share':>7}"]
    total = b.total_charge_mc
    for component in COMPONENTS:
        mc = b.charge_mc[component]
        lines.append(f"{component:<10} {mc:>12.1f} {b.energy_mj[component]:>12.1f} {100 * mc / total:>6.1f}%")
    lines.append(f"{'total':<10} {total:>12.1f} {b.total_energy_mj:>12.1f} {100.0:>6.1f}%")
    lines.append(f"average current {b.average_current_ua:.1f} uA = {b.total_mah:.3f} mAh/day")
    join_mc = join_charge_per_battery_mc(node)
    if join_mc > 0:
        lines.append(f"OTAA join, once per battery: {join_mc:.1f} mC ({join_mc / total * 1440:.1f} minutes of this "
                     f"budget), taken from the battery before the daily load")
    lines.append(f"battery life: {life.life_days:.0f} days = {life.life_years:.2f} years")
    return "\n".join(lines)


def render_comparison(node: NodeConfig, policies: list[Policy], interval_s: float) -> str:
    lives = {p.name: node_life(node, p, interval_s) for p in policies}
    base = lives.get("stream")
    lines = [f"{'policy':<12} {'msgs/day':>9} {'mAh/day':>9} {'life days':>10} {'life years':>11}"
             + (f" {'vs stream':>10}" if base else "")]
    for name, life in lives.items():
        row = (f"{name:<12} {life.budget.messages_per_day:>9.1f} {life.budget.total_mah:>9.3f} "
               f"{life.life_days:>10.0f} {life.life_years:>11.2f}")
        if base:
            row += f" {life.life_days / base.life_days:>9.2f}x"
        lines.append(row)
    return "\n".join(lines)


def render_radio_comparison(args: argparse.Namespace, policies: list[Policy], payload_bytes: int) -> str:
    """One row per radio on the same node: what an alert costs and what each policy lives."""
    names = [p.name for p in policies]
    lines = [f"{'radio':<14} {'alert mJ':>9} {'infer uJ':>9} {'radio/compute':>14} "
             + " ".join(f"{n + ' y':>12}" for n in names)]
    for radio in args.radios.split(","):
        node = _build(args, radio)
        msg_mj = charge_per_alert_mc(node, payload_bytes) * node.supply_v
        inf_uj = charge_per_inference_mc(node) * node.supply_v * 1000
        ratio = f"{msg_mj * 1000 / inf_uj:>13.0f}x" if inf_uj > 0 else f"{'-':>14}"
        lives = " ".join(f"{node_life(node, p, args.interval).life_years:>12.2f}" for p in policies)
        lines.append(f"{radio:<14} {msg_mj:>9.2f} {inf_uj:>9.1f} {ratio} {lives}")
    return "\n".join(lines)


def render_headline(node: NodeConfig, policy: Policy) -> str:
    if node.macs_per_inference == 0:
        return "no inference on this node (macs_per_inference = 0)"
    alert_mc = charge_per_alert_mc(node, policy.payload_bytes)
    msg_mc = charge_per_message_mc(node, policy.payload_bytes)
    inf_mc = charge_per_inference_mc(node)
    ratio = radio_to_compute_ratio(node, policy.payload_bytes)
    confirmed = node.confirmed_alerts and node.radio.kind == "lora"
    head = (f"one alert over {node.radio.name}: {alert_mc * node.supply_v:.2f} mJ"
            + (f" (confirmed; a heartbeat, unconfirmed: {msg_mc * node.supply_v:.2f} mJ)" if confirmed else ""))
    return (f"{head}; one inference ({node.macs_per_inference} MACs, {node.runtime}): "
            f"{inf_mc * node.supply_v * 1000:.1f} uJ; radio/compute = {ratio:.0f}x")


def _policy_row(node: NodeConfig, policy: Policy, interval_s: float) -> dict:
    life = node_life(node, policy, interval_s)
    return {"policy": policy.name, "messages_per_day": round(life.budget.messages_per_day, 3),
            "mah_per_day": round(life.budget.total_mah, 5), "average_current_ua": round(life.budget.average_current_ua, 3),
            "life_days": round(life.life_days, 1), "life_years": round(life.life_years, 3)}


def _print_for_tools(fmt: str, node: NodeConfig, policy: Policy, policies: list[Policy], interval_s: float) -> int:
    """The same figures as the text report, for scripts (json) and spreadsheets (csv)."""
    rows = [_policy_row(node, p, interval_s) for p in policies]
    if fmt == "csv":
        out = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
        return 0
    b = node_life(node, policy, interval_s).budget
    print(json.dumps({
        "node": node.name, "mcu": node.mcu.name, "sensor": node.sensor.name, "radio": node.radio.name,
        "battery": node.battery.name, "runtime": node.runtime, "interval_s": interval_s,
        "join_mc_per_battery": round(join_charge_per_battery_mc(node), 3),
        "breakdown": {"policy": policy.name,
                      "charge_mc_per_day": {c: round(b.charge_mc[c], 3) for c in COMPONENTS},
                      "energy_mj_per_day": {c: round(b.energy_mj[c], 3) for c in COMPONENTS}},
        "policies": rows}, indent=1))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(list_components())
        return 0
    problems = _check_numbers(args) + _check_names(args)
    if problems:
        return _fail(problems)
    try:
        node = _build(args)
        policies = _policies(args)
        policy = load_catalog().policy(args.policy)
        policy = next(p for p in policies if p.name == policy.name)
    except ProfileError as exc:
        return _fail([str(exc)])
    if args.temp_c is not None:
        node = at_temperature(node, args.temp_c)
    if args.format != "text":
        return _print_for_tools(args.format, node, policy, policies, args.interval)
    try:
        text = "\n\n".join([render_breakdown(node, policy, args.interval),
                            render_comparison(node, policies, args.interval),
                            render_headline(node, policy)]
                           + ([render_radio_comparison(args, policies, policy.payload_bytes)] if args.radios else []))
    except (ProfileError, ValueError) as exc:
        return _fail([str(exc)])
    print(text)
    duty = lora_duty_cycle(node, policy, args.interval)
    if duty is not None and duty > LORA_DUTY_CYCLE_LIMIT:
        print(f"warning: {policy.name} uses {100 * duty:.2f} % LoRa airtime, over the EU868 1 % duty-cycle limit",
              file=sys.stderr)
    if args.plot:
        from simulator.energy.plot import write_battery_plot

        path = write_battery_plot(args.plot, node, policies, args.interval)
        print(f"\nplot written to {path}")
    return 0
