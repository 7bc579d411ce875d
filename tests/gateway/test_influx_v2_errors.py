"""The v2 write path (influxdb-client) against a fake HTTP server: no InfluxDB 2.x can run here.

The v1 path gets the same checks (it also runs against the real 1.6.7 elsewhere).

What matters is the translation at the adapter boundary: data errors become
SinkRejected (do not retry), everything else SinkUnavailable (retry or spool).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gateway import influx_sink
from gateway.config import StoreSettings
from gateway.influx_sink import (
    InfluxV1Sink,
    InfluxV2Sink,
    api_for_version,
    open_influx_sink,
    server_version,
)
from gateway.ingest import Event
from gateway.sink import SinkRejected, SinkUnavailable
from tests.harness.servers import free_port

EVENT = Event("alert", "ridge", "n01", 3, 1_782_864_000_123,
              {"score": 9, "thr": 5, "temp_cc": 2500, "rh_cp": 3000, "gas": 1000, "gas_q8": -2000, "bat_mv": 3700})


class FakeInflux2:
    """Answers /ping like InfluxDB 2.7 and /api/v2/write with a status chosen by the test."""

    def __init__(self, port: int = 0) -> None:
        self.status = 204
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(204)
                self.send_header("X-Influxdb-Version", "v2.7.4")
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append((self.path, dict(self.headers), body))
                payload = b'{"code":"invalid","message":"partial write"}' if fake.status >= 400 else b""
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake() -> Iterator[FakeInflux2]:
    server = FakeInflux2()
    yield server
    server.close()


def settings(url: str) -> StoreSettings:
    return StoreSettings("influx", url, "emberwatch", token="tok", org="fire", api="v2")


def test_version_header_picks_the_api(fake: FakeInflux2) -> None:
    assert server_version(fake.url) == "v2.7.4"
    assert [api_for_version(v) for v in ("1.6.7~rc0", "1.7.11", "1.8.10", "v2.7.4", "3.0.1-core")] == \
        ["v1", "v1", "v2", "v2", "v2"]
    sink = open_influx_sink(StoreSettings("influx", fake.url, "emberwatch", token="tok", org="fire"))
    assert isinstance(sink, InfluxV2Sink)
    sink.close()


def test_a_good_write_sends_line_protocol_with_us_precision_and_token(fake: FakeInflux2) -> None:
    sink = InfluxV2Sink(settings(fake.url))
    sink.write([(EVENT, 0)])
    sink.close()
    path, headers, body = fake.requests[-1]
    assert path.startswith("/api/v2/write?") and "bucket=emberwatch" in path and "precision=us" in path
    assert "org=fire" in path and headers["Authorization"] == "Token tok"
    assert body.decode().startswith("alert,site=ridge,node=n01 seq=3i,score=9i")
    assert body.decode().endswith(" 1782864000123000")  # microseconds


@pytest.mark.parametrize("status", [400, 413, 422])
def test_data_errors_become_sink_rejected(fake: FakeInflux2, status: int) -> None:
    fake.status = status
    sink = InfluxV2Sink(settings(fake.url))
    with pytest.raises(SinkRejected, match=str(status)):
        sink.write([(EVENT, 0)])
    sink.close()


@pytest.mark.parametrize("status", [401, 403, 404, 500, 503])
def test_auth_missing_bucket_and_server_errors_become_sink_unavailable(fake: FakeInflux2, status: int) -> None:
    fake.status = status
    sink = InfluxV2Sink(settings(fake.url))
    with pytest.raises(SinkUnavailable, match=str(status)):
        sink.write([(EVENT, 0)])
    sink.close()


def test_a_closed_port_becomes_sink_unavailable() -> None:
    sink = InfluxV2Sink(settings(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(SinkUnavailable, match="unreachable"):
        sink.write([(EVENT, 0)])
    sink.close()


def test_a_server_that_hangs_becomes_sink_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    monkeypatch.setattr(influx_sink, "TIMEOUT_S", 0.3)
    sink = InfluxV2Sink(settings(f"http://127.0.0.1:{listener.getsockname()[1]}"))
    try:
        with pytest.raises(SinkUnavailable):
            sink.write([(EVENT, 0)])
    finally:
        sink.close()
        listener.close()


@pytest.mark.parametrize(("status", "error"), [(400, SinkRejected), (422, SinkRejected), (401, SinkUnavailable),
                                               (404, SinkUnavailable), (503, SinkUnavailable)])
def test_the_v1_sink_translates_the_same_way(fake: FakeInflux2, status: int, error: type) -> None:
    sink = InfluxV1Sink(StoreSettings("influx", fake.url, "emberwatch", username="u", password="p", api="v1"))
    sink.write([(EVENT, 0)])  # 204 first: the connection is then kept alive
    fake.status = status
    with pytest.raises(error, match=str(status)):
        sink.write([(EVENT, 0)])
    sink.close()
    assert [path for path, _, _ in fake.requests] == ["/write?db=emberwatch&precision=u"] * 2
    assert fake.requests[0][1]["Authorization"] == "Basic dTpw"


def test_the_v1_sink_reconnects_after_the_server_went_away() -> None:
    first = FakeInflux2()
    sink = InfluxV1Sink(StoreSettings("influx", first.url, "emberwatch", api="v1"))
    sink.write([(EVENT, 0)])
    port = int(first.url.rsplit(":", 1)[1])
    first.close()
    with pytest.raises(SinkUnavailable, match="unreachable"):
        sink.write([(EVENT, 0)])
    second = FakeInflux2(port)
    try:
        sink.write([(EVENT, 0)])
        assert len(second.requests) == 1
    finally:
        sink.close()
        second.close()
