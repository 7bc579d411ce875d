"""`emberwatch demo`: a small simulated forest, end to end, with nothing to install.

Virtual nodes run the real edge_node core, publish over MQTT to an in-process
broker, the real gateway stores what arrives in an embedded SQLite store, and
the summary is read back from that store, not from the simulator's memory.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HELP = "Run a small simulated forest end to end (in-process broker, real gateway, embedded store)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nodes", type=int, default=25, help="virtual nodes (default 25)")
    parser.add_argument("--ignitions", type=int, default=1, help="fires to start (default 1)")
    parser.add_argument("--days", type=float, default=1.0, help="simulated days (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the simulated forest (default 1)")
    parser.add_argument("--store", type=Path, help="SQLite file to keep (default: a temporary one)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fmt_time(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def run(args: argparse.Namespace) -> int:
    if args.nodes < 1 or args.ignitions < 0 or args.days <= 0:
        print("emberwatch demo: error: --nodes must be >= 1, --ignitions >= 0 and --days > 0", file=sys.stderr)
        return 2
    from emberwatch.extras import need

    problem = need("emberwatch demo", "amqtt")
    if problem:
        print(f"emberwatch demo: error: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    with tempfile.TemporaryDirectory(prefix="emberwatch-demo-") as tmp:
        store = args.store or Path(tmp) / "demo.sqlite"
        return _run_demo(args, store)


def _run_demo(args: argparse.Namespace, store_path: Path) -> int:
    import paho.mqtt.client as mqtt

    from gateway.config import GatewayConfig
    from gateway.embedded_broker import EmbeddedBroker
    from gateway.incidents.processor import gateway_processors
    from gateway.incidents.store import SqliteIncidentStore
    from gateway.service import GatewayService
    from gateway.sqlite_sink import SqliteSink
    from simulator.scenario import ScenarioConfig, run_scenario

    broker = EmbeddedBroker(_free_port())
    broker.start()
    print(f"[demo] in-process MQTT broker on {broker.url}")
    sink = SqliteSink(str(store_path))
    env = {"EMBERWATCH_MQTT_URL": broker.url, "EMBERWATCH_SQLITE_PATH": str(store_path),
           "EMBERWATCH_MQTT_CLIENT_ID": "emberwatch-demo-gateway"}
    config = GatewayConfig.from_env(env)
    gateway = GatewayService(config, sink, processors=gateway_processors(config, env))
    gateway_thread = threading.Thread(target=gateway.run, name="gateway", daemon=True)
    gateway_thread.start()
    try:
        if not gateway.wait_subscribed(15):
            print("error: the gateway could not subscribe to the embedded broker")
            return 1
        print(f"[demo] gateway subscribed; storing to {store_path}")
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="emberwatch-demo-nodes")
        publisher.connect(broker.host, broker.port)
        publisher.loop_start()
        sent: list = []

        def publish(topic: str, payload: bytes, retain: bool = False) -> None:
            sent.append(publisher.publish(topic, payload, qos=1, retain=retain))

        print(f"[demo] simulating {args.nodes} nodes for {args.days:g} day(s), "
              f"{args.ignitions} ignition(s), seed {args.seed} ...")
        started = time.monotonic()
        result = run_scenario(ScenarioConfig(n_nodes=args.nodes, days=args.days, ignitions=args.ignitions,
                                             seed=args.seed, site="demo"), publish=publish)
        for info in sent:
            info.wait_for_publish(timeout=30)
        deadline = time.monotonic() + 60
        while gateway.stats.received < len(sent) and time.monotonic() < deadline:
            time.sleep(0.05)
        while not gateway.inbox.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(config.flush_interval_s * 3)
        elapsed_s = time.monotonic() - started
        publisher.disconnect()
        publisher.loop_stop()
    finally:
        gateway.stop()
        gateway_thread.join(timeout=15)
        broker.stop()

    stored = SqliteSink(str(store_path))
    try:
        alerts = stored.alerts_since(0, site="demo")
    finally:
        stored.close()
    incidents = [r for r in SqliteIncidentStore(str(store_path)).latest_incidents(0) if r["site"] == "demo"]
    _print_summary(result, alerts, len(sent), gateway, elapsed_s)
    print_incidents(result, incidents)
    return 0


def _print_summary(result, alerts: list[dict], n_sent: int, gateway, elapsed_s: float) -> None:
    print()
    print("=== Emberwatch demo ===")
    print(f"messages published: {n_sent}; gateway received {gateway.stats.received}, "
          f"stored {gateway.stats.stored}, rejected {sum(gateway.ingest.rejected.values())}; "
          f"node alerts stored: {len(alerts)} from {len({a['node'] for a in alerts})} node(s); wall time "
          f"{elapsed_s:.1f} s")


def print_incidents(result, incidents: list[dict]) -> None:
    """What an operator is told: each incident the gateway raised, read back from its store (where, since
    when, how sure), and which true ignition it was (the simulator's ground truth, by its evidence)."""
    from simulator.incident_score import M_PER_DEG_LAT, alerts_by_node, truth_of
    from simulator.scenario import SITE_LAT_E6, SITE_LON_E6

    lat0, lon0 = SITE_LAT_E6 / 1e6, SITE_LON_E6 / 1e6
    by_node = alerts_by_node(result)
    print(f"incidents: {len(incidents)} ({sum(1 for r in incidents if r['level'] >= 2)} confirmed)")
    found: set[int] = set()
    for r in sorted(incidents, key=lambda r: r["first_evidence_ms"]):
        x = (r["lon"] - lon0) * M_PER_DEG_LAT * math.cos(math.radians(lat0))
        y = (r["lat"] - lat0) * M_PER_DEG_LAT
        level = "CONFIRMED FIRE" if r["level"] >= 2 else "suspected"
        state = r["state"] if r["state"] in ("resolved", "merged") else "open"
        print(f"- {r['incident']} {level} ({state}): at {r['lat']:.5f}, {r['lon']:.5f} = ({x:.0f} m, {y:.0f} m) "
              f"+- {r['radius_m']:.0f} m, {r['nodes']} node(s), {r['confidence']:.0%} sure, since "
              f"{_fmt_time(r['first_evidence_ms'])}"
              + (f", confirmed {_fmt_time(r['confirmed_ms'])}" if r.get("confirmed_ms") else ""))
        ignition, cause, fire_first_ms = truth_of(by_node, json.loads(r["members"] or "[]"))
        if ignition < 0:
            print(f"    truth: no fire there ({cause})")
            continue
        ign = result.ignitions[ignition]
        found.add(ignition)
        opened_ms = max(r["first_evidence_ms"], fire_first_ms)
        confirmed = (f", confirmed {(max(r['confirmed_ms'], fire_first_ms) - ign.t_ms) / 60000:.1f} min after it"
                     if r.get("confirmed_ms") else "")
        print(f"    truth: ignition {ignition} at {_fmt_time(ign.t_ms)} ({ign.x_m:.0f} m, {ign.y_m:.0f} m): opened "
              f"{(opened_ms - ign.t_ms) / 60000:.1f} min after it{confirmed}; estimate "
              f"{math.hypot(ign.x_m - x, ign.y_m - y):.0f} m from where it started")
    for ign in result.ignitions:
        if ign.index not in found:
            print(f"- ignition {ign.index} at {_fmt_time(ign.t_ms)} ({ign.x_m:.0f} m, {ign.y_m:.0f} m): no incident")
