"""The incidents dashboard and the incident-keyed alert rule, on a real pipeline.

Scripted nodes publish through a real Mosquitto; a real gateway with the incident engine stores
into a real InfluxDB 1.6.7; an operator acknowledges one incident with `emberwatch incidents`.
Every query of deploy/grafana/incident_panels.py (expanded as Grafana does) must return exactly
the incidents the engine reported, and the alert rule must fire once per confirmed,
unacknowledged incident, however many node alerts it holds.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import yaml

from edge_node.core import schema
from gateway.config import GatewayConfig
from gateway.incidents.processor import open_incident_processor
from gateway.ingest import Event
from tests.deploy.conftest import ROOT
from tests.deploy.grafana_influxql import interpolate, panel_queries
from tests.harness import servers
from tests.harness.gateway_runner import env_for_gateway, running_gateway
from tests.harness.influx_query import influxql
from tests.harness.node_publisher import StreamPublisher

pytestmark = pytest.mark.integration

DB = "incident_panels"
BOARD = "emberwatch-incidents.json"
MIN_MS = 60_000
# site -> node -> (lat_e6, lon_e6); 200 m apart in a row, north's last node 600 m from its first.
NODES = {"north": {"n1": (41_900_000, -6_800_000), "n2": (41_901_797, -6_800_000),
                   "n4": (41_905_391, -6_800_000)},
         "south": {"s1": (41_800_000, -6_800_000), "s2": (41_801_797, -6_800_000)}}
SELECTIONS = {"all": (None, None), "north": (["north"], None), "south-s1": (["south"], ["s1"]),
              "north-n4": (["north"], ["n4"])}


@dataclass
class Filled:
    end_ms: int
    last: dict[str, Event] = field(default_factory=dict)  # incident -> newest transition the engine reported
    acked: str = ""


class Recording:
    """The gateway's incident processor, remembering every transition it reported."""

    def __init__(self, inner, filled: Filled) -> None:
        self.inner, self.filled = inner, filled

    def _keep(self, events: list[Event]) -> list[Event]:
        for e in events:
            self.filled.last[str(e.fields["incident"])] = e
        return events

    def observe(self, events, now_ms):
        return self._keep(self.inner.observe(events, now_ms))

    def tick(self, now_ms):
        return self._keep(self.inner.tick(now_ms))


def _alert(site: str, node: str, seq: int, t_ms: int) -> tuple[str, bytes]:
    return schema.topic(site, node, "alert"), schema.encode_alert(
        node, seq, t_ms, 9000 + seq, 5000, 2600 + seq, 3100 - seq, 30_000 + seq, -3700 - seq, 3000, boot=1)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emberwatch.cli", "incidents", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def filled(mosquitto_server: servers.ManagedServer, influx_server: servers.ManagedServer) -> Filled:
    end_ms = (int(time.time() * 1000) // MIN_MS - 5) * MIN_MS
    result = Filled(end_ms)
    url = f"http://127.0.0.1:{influx_server.port}"
    env = env_for_gateway(mosquitto_server.port, influx_server.port, DB, EMBERWATCH_SITE="+",
                          EMBERWATCH_MQTT_RECEIVER="thread", EMBERWATCH_HEARTBEAT_INTERVAL_S="86400")
    processor = Recording(open_incident_processor(GatewayConfig.from_env(env), env), result)
    messages = [(schema.topic(site, n, "heartbeat"), schema.encode_heartbeat(
        n, 1, end_ms - 4 * 60 * MIN_MS, 3000, 2000, 4000, -3900, lat_e6=lat, lon_e6=lon, boot=1))
        for site, nodes in NODES.items() for n, (lat, lon) in nodes.items()]
    messages += [_alert("north", "n4", 2, end_ms - 3 * 60 * MIN_MS),  # alone, long ago: opened then resolved
                 _alert("north", "n1", 2, end_ms - 40 * MIN_MS), _alert("north", "n2", 2, end_ms - 38 * MIN_MS),
                 _alert("north", "n1", 3, end_ms - 28 * MIN_MS), _alert("north", "n2", 3, end_ms - 27 * MIN_MS),
                 _alert("south", "s1", 2, end_ms - 20 * MIN_MS), _alert("south", "s2", 2, end_ms - 19 * MIN_MS)]
    with running_gateway(env, processors=[processor]) as gateway:
        StreamPublisher(mosquitto_server.port, messages, client_id="incident-panels-nodes").start().join()
        servers.wait_until(lambda: gateway.stats.stored >= len(messages) + 8, 30, "alerts and incidents stored")
        south = next(i for i, e in result.last.items() if e.site == "south")
        acked = _cli("--influx-url", url, "--influx-db", DB, "ack", south, "--by", "ops-desk")
        assert acked.returncode == 0, acked.stderr
        result.acked = south
    assert len(result.last) == 3
    return result


def _expected(filled: Filled, open_only: bool) -> list[dict]:
    rows = []
    for inc, e in filled.last.items():
        f = dict(e.fields)
        if inc == filled.acked:
            f.update(state="acknowledged", alerting=0, acked_by="ops-desk")
        if open_only and not f["open"]:
            continue
        rows.append({"site": e.site, "node": e.node, "incident": inc, "state": f["state"], "level": f["level"],
                     "alerting": f["alerting"], "nodes": f["nodes"], "lat": int(f["lat_e6"]) / 1e6,
                     "lon": int(f["lon_e6"]) / 1e6, "radius_m": f["radius_m"],
                     "confidence": int(f["confidence_pct"]) / 100, "acked_by": f["acked_by"]})
    return rows


def _picked(selection: str) -> Callable[[dict], bool]:
    sites, nodes = SELECTIONS[selection]
    return lambda r: (sites is None or r["site"] in sites) and (nodes is None or r["node"] in nodes)


def _run(port: int, query: str, selection: str, filled: Filled) -> list[dict]:
    sites, nodes = SELECTIONS[selection]
    all_nodes = sorted(n for ns in NODES.values() for n in ns)
    q = interpolate(query, from_ms=filled.end_ms - 4 * 60 * MIN_MS, to_ms=int(time.time() * 1000) + MIN_MS,
                    multi={"site": sites or sorted(NODES), "node": nodes or all_nodes})
    return influxql(port, q, DB)


def _comparable(rows: list[dict], fields: list[str]) -> list[tuple]:
    return sorted(tuple(round(r[f], 6) if isinstance(r[f], float) else r[f] for f in fields) for r in rows)


def _queries() -> dict[str, str]:
    return {q.panel: q.query for q in panel_queries() if q.dashboard == BOARD}


def test_the_dashboard_has_these_panels() -> None:
    assert sorted(_queries()) == ["Incidents", "Open incidents", "Paging"]


@pytest.mark.parametrize("selection", sorted(SELECTIONS))
def test_incidents_table_and_map(selection: str, filled: Filled, influx_server: servers.ManagedServer) -> None:
    ok = _picked(selection)
    for panel, open_only in (("Incidents", False), ("Open incidents", True)):
        query = next(q.query for q in panel_queries() if q.dashboard == BOARD and q.panel == panel
                     and "lat" in q.query)
        expected = [r for r in _expected(filled, open_only) if ok(r)]
        actual = _run(influx_server.port, query, selection, filled)
        fields = sorted(set(expected[0]) - {"node"}) if expected else ["incident"]
        assert _comparable(actual, fields) == _comparable(expected, fields), panel


@pytest.mark.parametrize("selection", sorted(SELECTIONS))
def test_open_and_paging_counts(selection: str, filled: Filled, influx_server: servers.ManagedServer) -> None:
    rows = [r for r in _expected(filled, open_only=True) if _picked(selection)(r)]
    for panel, want in (("Open incidents", len(rows)), ("Paging", sum(r["alerting"] for r in rows))):
        query = next(q.query for q in panel_queries() if q.dashboard == BOARD and q.panel == panel
                     and "count(" in q.query)
        actual = _run(influx_server.port, query, selection, filled)
        assert [r["incidents"] for r in actual] == ([want] if want else []), panel


def test_alert_rule_fires_once_per_confirmed_unacknowledged_incident(filled: Filled,
                                                                     influx_server: servers.ManagedServer) -> None:
    doc = yaml.safe_load((ROOT / "deploy/grafana/provisioning/alerting/emberwatch.yaml").read_text())
    (rule,) = doc["groups"][0]["rules"]
    (query_a,) = [d for d in rule["data"] if d["refId"] == "A"]
    lookback_ms = query_a["relativeTimeRange"]["from"] * 1000

    def firing_at(now_ms: int) -> set[str]:
        q = interpolate(query_a["model"]["query"], from_ms=now_ms - lookback_ms, to_ms=now_ms)
        return {r["incident"] for r in influxql(influx_server.port, q, DB) if r["alerting"] > 0}

    north = {i for i, e in filled.last.items() if e.site == "north" and e.fields["open"]}
    # Four node alerts made one confirmed incident: one alert instance. The acknowledged south
    # incident and the resolved one do not fire.
    assert firing_at(int(time.time() * 1000)) == north and len(north) == 1
    # Before the south incident was acknowledged it fired too (its confirmation 19 min before the end).
    assert firing_at(filled.end_ms - 10 * MIN_MS) == north | {filled.acked}
    assert firing_at(filled.end_ms - 60 * MIN_MS) == set()  # only the suspected lone node then
