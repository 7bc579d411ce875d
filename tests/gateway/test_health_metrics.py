"""Health endpoint and Prometheus metrics over real HTTP (the service's own callables)."""

from __future__ import annotations

import urllib.error
import urllib.request

from gateway.config import GatewayConfig
from gateway.health_server import HealthServer
from gateway.ingest import Event
from gateway.metrics import Stats, render_prometheus
from gateway.service import GatewayService
from gateway.sqlite_sink import SqliteSink


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_prometheus_text_has_counters_by_reason_and_a_lag_histogram() -> None:
    stats = Stats(received=10, stored=7, spooled=3, replayed=3)
    stats.lag.observe_ms(40)
    stats.lag.observe_ms(2000)
    text = render_prometheus(stats, {"malformed": 2, "node_mismatch": 1}, 1, {"nodes_offline": 2.0}, 1)
    lines = set(text.splitlines())
    for expected in ("emberwatch_gateway_received_total 10", "emberwatch_gateway_stored_total 7",
                     'emberwatch_gateway_rejected_total{reason="malformed"} 2',
                     'emberwatch_gateway_rejected_total{reason="node_mismatch"} 1',
                     "emberwatch_gateway_duplicates_total 1", "emberwatch_gateway_spooled_total 3",
                     "emberwatch_gateway_replayed_total 3", "emberwatch_gateway_spool_torn_lines_total 1",
                     "emberwatch_gateway_nodes_offline 2", 'emberwatch_gateway_lag_seconds_bucket{le="0.05"} 1',
                     'emberwatch_gateway_lag_seconds_bucket{le="2.5"} 2',
                     'emberwatch_gateway_lag_seconds_bucket{le="+Inf"} 2', "emberwatch_gateway_lag_seconds_count 2"):
        assert expected in lines, expected


def test_health_server_serves_health_and_metrics() -> None:
    state = {"ok": True}
    server = HealthServer("127.0.0.1", 0, lambda: (state["ok"], {"status": "x"}), lambda: "m 1\n")
    server.start()
    try:
        assert get(server.port, "/healthz") == (200, '{"status": "x"}')
        assert get(server.port, "/metrics") == (200, "m 1\n")
        assert get(server.port, "/nope")[0] == 404
        state["ok"] = False
        assert get(server.port, "/healthz")[0] == 503
    finally:
        server.stop()


def test_service_health_reflects_broker_and_store(tmp_path) -> None:
    config = GatewayConfig.from_env({"EMBERWATCH_SQLITE_PATH": str(tmp_path / "s.db")})
    service = GatewayService(config, SqliteSink(str(tmp_path / "s.db")))
    ok, body = service.health()
    assert not ok and body["mqtt_connected"] is False  # never connected
    service._write([(Event("alert", "s", "n", 1, 1000, {"score": 1, "thr": 1, "temp_cc": 1, "rh_cp": 1,
                                                          "gas": 1, "gas_q8": 1, "bat_mv": 1}), 1000)])
    assert "emberwatch_gateway_stored_total 1" in service.metrics_text()
