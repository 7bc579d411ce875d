"""The LoRaWAN radio dashboard on a real pipeline: ChirpStack uplinks -> real Mosquitto -> the gateway's
LoRaWAN source -> real InfluxDB 1.6.7; every panel query (expanded as Grafana does) returns exactly
the radio figures the uplinks carried, and Wi-Fi nodes do not show."""

from __future__ import annotations

import json

import pytest

from edge_node.core import schema
from edge_node.core import uplink_codec as codec
from tests.deploy.grafana_influxql import interpolate, panel_queries
from tests.gateway.lorawan_messages import CHIRPSTACK_APP, chirpstack_up
from tests.harness.gateway_runner import env_for_gateway, running_gateway
from tests.harness.influx_query import influxql, stored_rows
from tests.harness.node_publisher import StreamPublisher
from tests.harness.servers import wait_until

pytestmark = pytest.mark.integration

BOARD = "emberwatch-lorawan.json"
T0_MS = 1_782_864_000_000  # 2026-07-01T00:00Z
# node -> (site, DevEUI, RSSI of its two heartbeats)
NODES = {"n1": ("ridge", "70B3D57ED0000A01", (-90, -95)), "n2": ("ridge", "70B3D57ED0000A02", (-118, -125)),
         "n3": ("valley", "70B3D57ED0000A03", (-101, -99))}


def _iso(ms: int) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def filled(mosquitto_server, influx_server, tmp_path_factory: pytest.TempPathFactory) -> str:
    db = "lorawan_panels"
    registry = tmp_path_factory.mktemp("lorawan") / "devices.json"
    registry.write_text(json.dumps({"devices": [{"dev_eui": eui, "site": site, "node": node}
                                                for node, (site, eui, _) in NODES.items()]}))
    messages = []
    for node, (_site, eui, rssis) in NODES.items():
        for k, rssi in enumerate(rssis):
            frame = codec.encode_heartbeat(k + 1, 0, 1, 3300, bat_pct=70)
            messages.append(chirpstack_up(eui, frame, _iso(T0_MS + k * 3_600_000), f_cnt=k + 10, rssi=rssi))
    # a Wi-Fi node's heartbeat: no radio fields, so not on this dashboard
    messages.append((schema.topic("ridge", "wifi1", "heartbeat"),
                     schema.encode_heartbeat("wifi1", 1, T0_MS, 3700, 2000, 5000, -3000)))
    env = env_for_gateway(mosquitto_server.port, influx_server.port, db, EMBERWATCH_SITE="+",
                          EMBERWATCH_MQTT_RECEIVER="thread", EMBERWATCH_LORAWAN_SERVER="chirpstack",
                          EMBERWATCH_LORAWAN_APPLICATION=CHIRPSTACK_APP, EMBERWATCH_LORAWAN_REGISTRY=str(registry))
    with running_gateway(env):
        StreamPublisher(mosquitto_server.port, messages).start().join()
        wait_until(lambda: len(stored_rows(influx_server.port, "SELECT seq FROM heartbeat", db)) == 7, 20,
                   "every heartbeat stored")
    return db


def _run(query: str, db: str, port: int, sites: list[str] | None = None) -> list[dict]:
    all_sites = ["ridge", "valley"]
    nodes = [n for n, (s, _, _) in NODES.items() if s in (sites or all_sites)] + ["wifi1"]
    expanded = interpolate(query, from_ms=T0_MS - 60_000, to_ms=T0_MS + 2 * 3_600_000, interval="1h",
                           multi={"site": sites or all_sites, "node": nodes})
    return influxql(port, expanded, db)


def _queries() -> dict[str, str]:
    return {q.panel: q.query for q in panel_queries() if q.dashboard == BOARD}


def test_the_dashboard_has_these_panels() -> None:
    assert set(_queries()) == {"Weak links", "Radio per node", "RSSI per node", "SNR per node"}


def test_radio_per_node_is_each_lorawan_nodes_latest_heartbeat(filled: str, influx_server) -> None:
    rows = _run(_queries()["Radio per node"], filled, influx_server.port)
    got = {r["node"]: (r["site"], r["rssi_dbm"], r["snr_db"], r["sf"], r["gateways"], r["fcnt"]) for r in rows}
    assert got == {"n1": ("ridge", -95, 10.5, 11, 1, 11), "n2": ("ridge", -125, 10.5, 11, 1, 11),
                   "n3": ("valley", -99, 10.5, 11, 1, 11)}  # SNR and SF from the documented example event
    rows = _run(_queries()["Radio per node"], filled, influx_server.port, sites=["valley"])
    assert [r["node"] for r in rows] == ["n3"]


def test_rssi_and_snr_series_have_one_line_per_lorawan_node(filled: str, influx_server) -> None:
    rows = _run(_queries()["RSSI per node"], filled, influx_server.port)
    series = {}
    for r in rows:
        series.setdefault(r["node"], []).append(r["mean"])
    assert series == {node: list(map(float, rssis)) for node, (_, _, rssis) in NODES.items()}
    snr_nodes = {r["node"] for r in _run(_queries()["SNR per node"], filled, influx_server.port)}
    assert snr_nodes == set(NODES)


def test_weak_links_counts_nodes_whose_latest_heartbeat_is_below_minus_120_dbm(filled: str, influx_server) -> None:
    rows = _run(_queries()["Weak links"], filled, influx_server.port)
    assert [r["nodes"] for r in rows] == [1]  # n2 dropped to -125 dBm
