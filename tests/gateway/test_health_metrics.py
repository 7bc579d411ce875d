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
    samples = parse(text)
    for expected, value in (("emberwatch_gateway_received_total", 10), ("emberwatch_gateway_stored_total", 7),
                            ('emberwatch_gateway_rejected_total{reason="malformed"}', 2),
                            ('emberwatch_gateway_rejected_total{reason="node_mismatch"}', 1),
                            ("emberwatch_gateway_duplicates_total", 1), ("emberwatch_gateway_spooled_total", 3),
                            ("emberwatch_gateway_replayed_total", 3), ("emberwatch_gateway_spool_torn_lines_total", 1),
                            ("emberwatch_gateway_nodes_offline", 2), ('emberwatch_gateway_lag_seconds_bucket{le="0.05"}', 1),
                            ('emberwatch_gateway_lag_seconds_bucket{le="2.5"}', 2),
                            ('emberwatch_gateway_lag_seconds_bucket{le="+Inf"}', 2),
                            ("emberwatch_gateway_lag_seconds_count", 2)):
        assert samples.get(expected) == value, expected


def parse(text: str) -> dict[str, float]:
    """Every sample of a Prometheus text page, read back by prometheus-client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return out


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
    assert parse(service.metrics_text())["emberwatch_gateway_stored_total"] == 1


def test_idle_connections_to_the_health_port_are_dropped_after_the_timeout() -> None:
    import socket
    import threading

    from tests.harness.servers import wait_until

    server = HealthServer("127.0.0.1", 0, lambda: (True, {}), lambda: "", timeout_s=1.0)
    server.start()
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
    try:
        assert get(server.port, "/healthz")[0] == 200  # still answers meanwhile
        for sock in idle:  # the server hangs up on each silent client (it used to wait forever)
            sock.settimeout(15)
            assert sock.recv(1) == b""
        wait_until(lambda: threading.active_count() <= before, 5, "no thread left behind")
    finally:
        for sock in idle:
            sock.close()
        server.stop()


def test_rejection_logs_are_rate_limited_and_say_how_many_were_held_back(caplog) -> None:
    import logging

    from gateway.logs import RateLimitedLog

    now = [0.0]
    limited = RateLimitedLog(logging.getLogger("test.limited"), interval_s=10.0, clock_s=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.limited"):
        written = [limited.log(logging.WARNING, "malformed", "rejected message", {}) for _ in range(1000)]
        now[0] = 11.0
        limited.log(logging.WARNING, "malformed", "rejected message", {})
        limited.log(logging.WARNING, "too_big", "rejected message", {})  # another reason has its own budget
    assert sum(written) == 1 and len(caplog.records) == 3
    assert "999 more like it" in caplog.records[1].getMessage()


def test_passwords_in_urls_are_redacted_from_config_errors_and_log_lines() -> None:
    import logging

    from gateway.config import ConfigError
    from gateway.logs import JsonFormatter, redact

    try:
        GatewayConfig.from_env({"EMBERWATCH_MQTT_URL": "mqtt://gw:hunter2@broker:99999",
                                "EMBERWATCH_INFLUX_URL": "ftp://reader:s3cret@influx"})
    except ConfigError as exc:
        assert "hunter2" not in str(exc) and "s3cret" not in str(exc) and "gw:***@broker" in str(exc)
    else:
        raise AssertionError("the config should be refused")
    record = logging.LogRecord("x", logging.ERROR, "", 0, "InfluxDB unreachable: http://w:pw@influx:8086", (), None)
    assert "pw@" not in JsonFormatter().format(record)
    assert redact("mqtts://a:b@h:8883 and http://h:8086") == "mqtts://a:***@h:8883 and http://h:8086"


def test_health_is_degraded_when_nothing_can_hold_a_batch(tmp_path) -> None:
    config = GatewayConfig.from_env({"EMBERWATCH_SQLITE_PATH": str(tmp_path / "s.db")})
    service = GatewayService(config, SqliteSink(str(tmp_path / "s.db")))
    service.durability.store_available = False  # type: ignore[union-attr]  # no spool configured
    ok, body = service.health()
    assert not ok and body["status"] == "degraded"
    assert "store down and nothing can hold new events" in body["problems"]
