"""InfluxDB adapter: v1 `/write` for InfluxDB 1.x before 1.8, influxdb-client for the rest.

Point construction is shared (`gateway.points`), so tests against Debian's
1.6.7 cover the same lines a 2.x/3.x deployment receives. Third-party and
HTTP errors become SinkUnavailable / SinkRejected here and nowhere else.
"""

from __future__ import annotations

import base64
import http.client
import logging
import re
import urllib.error
import urllib.parse
import urllib.request

from gateway.config import StoreSettings
from gateway.ingest import Event
from gateway.points import event_to_line
from gateway.sink import SinkRejected, SinkUnavailable

log = logging.getLogger("emberwatch.gateway.influx")

TIMEOUT_S = 10.0
# Only these mean "this data will never go in"; auth, missing database and 5xx
# are operator or outage problems that a retry (or the spool) outlives.
_REJECTED_STATUSES = (400, 413, 422)


def server_version(url: str, timeout_s: float = 5.0) -> str:
    """The X-Influxdb-Version header of /ping, e.g. '1.6.7~rc0' or 'v2.7.4'."""
    try:
        with urllib.request.urlopen(url + "/ping", timeout=timeout_s) as resp:
            return resp.headers.get("X-Influxdb-Version", "")
    except (urllib.error.URLError, OSError) as exc:
        raise SinkUnavailable(f"InfluxDB at {url} does not answer /ping: {exc}") from exc


def api_for_version(version: str) -> str:
    """'v2' when the server has /api/v2/write (1.8 and later), else 'v1'."""
    digits = version.lstrip("v").split("~")[0].split("-")[0].split(".")
    try:
        major, minor = int(digits[0]), int(digits[1]) if len(digits) > 1 else 0
    except ValueError:
        return "v2"  # unknown builds (e.g. InfluxDB 3 Core says '3.x.y-...') speak v2
    return "v2" if (major, minor) >= (1, 8) else "v1"


_DROPPED = re.compile(r"dropped=(\d+)")


def refused_count(detail: str) -> int | None:
    """How many points a 400 says it dropped: `partial write: ... dropped=N` (the rest went in).

    None when the answer does not say (then the whole batch counts as refused). A partial
    write of the v1 API comes as 400 with the other points stored: max-values-per-tag,
    max-series-per-database, a field type conflict, a time out of range.
    """
    if "partial write" not in detail:
        return None
    counts = [int(n) for n in _DROPPED.findall(detail)]
    return sum(counts) if counts else None


class _Forbidden(SinkUnavailable):
    """403: the credentials work but lack a privilege (an operator problem, so still retryable)."""


class InfluxV1Sink:
    """Line protocol to `/write?db=...&precision=u` (InfluxDB 1.x, and the v1 API of 2.x/3.x)."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        parts = urllib.parse.urlsplit(settings.url)
        self._scheme, self._netloc, base = parts.scheme, parts.netloc, parts.path.rstrip("/")
        query = {"db": settings.database, "precision": "u"}
        self.write_path = base + "/write?" + urllib.parse.urlencode(query)
        self.query_path = base + "/query"
        self.headers = {"Content-Type": "text/plain; charset=utf-8"}
        if settings.username:
            cred = f"{settings.username}:{settings.password or ''}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(cred).decode()
        elif settings.token:
            self.headers["Authorization"] = "Token " + settings.token
        # One kept-alive connection: a new TCP connection per batch costs more than small batches take.
        self._conn: http.client.HTTPConnection | None = None

    def ensure_database(self) -> None:
        """CREATE DATABASE is idempotent on 1.x; a fresh server then accepts writes at once.

        1.x lets only admins run it. A least-privilege (write-only) user gets 403: the
        operator created the database, and the first write reports it if not.
        """
        body = urllib.parse.urlencode({"q": f'CREATE DATABASE "{self.settings.database}"'}).encode()
        try:
            self._post(self.query_path, body, {**self.headers, "Content-Type": "application/x-www-form-urlencoded"})
        except _Forbidden:
            log.info("not allowed to CREATE DATABASE %s; assuming the operator created it",
                     self.settings.database)

    def write(self, events: list[tuple[Event, int]]) -> None:
        if events:
            self.write_lines([event_to_line(e, received_ms) for e, received_ms in events])

    def write_lines(self, lines: list[str]) -> None:
        self._post(self.write_path, "\n".join(lines).encode(), self.headers)

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._connection()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                detail = resp.read()[:2000].decode(errors="replace")
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                # The server may have closed the idle kept-alive connection: one retry on a fresh one
                # (writes are idempotent, so a batch that did arrive is simply written again).
                if attempt == 1 and reused and isinstance(
                        exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
                    continue
                raise SinkUnavailable(f"InfluxDB unreachable: {exc}") from exc
            if resp.will_close:
                self.close()
            if 200 <= resp.status < 300:
                return
            if resp.status in _REJECTED_STATUSES:
                raise SinkRejected(f"InfluxDB refused the write ({resp.status}): {detail}", refused_count(detail))
            if resp.status == 403:
                raise _Forbidden(f"InfluxDB answered 403: {detail}")
            raise SinkUnavailable(f"InfluxDB answered {resp.status}: {detail}")

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._netloc, timeout=TIMEOUT_S)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class InfluxV2Sink:
    """influxdb-client's synchronous writer, for servers with /api/v2/write."""

    def __init__(self, settings: StoreSettings) -> None:
        from influxdb_client import InfluxDBClient, WritePrecision
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.settings = settings
        self.precision = WritePrecision.US
        token = settings.token or f"{settings.username or ''}:{settings.password or ''}"
        self.client = InfluxDBClient(url=settings.url, token=token, org=settings.org or "-",
                                     timeout=int(TIMEOUT_S * 1000))
        self.api = self.client.write_api(write_options=SYNCHRONOUS)

    def ensure_database(self) -> None:
        """2.x buckets are created by the operator (or DOCKER_INFLUXDB_INIT_BUCKET)."""

    def write(self, events: list[tuple[Event, int]]) -> None:
        if events:
            self.write_lines([event_to_line(e, received_ms) for e, received_ms in events])

    def write_lines(self, lines: list[str]) -> None:
        from influxdb_client.rest import ApiException
        from urllib3.exceptions import HTTPError

        try:
            self.api.write(bucket=self.settings.database, org=self.settings.org or "-",
                           record=lines, write_precision=self.precision)  # type: ignore[arg-type]  # WritePrecision.US is a str constant
        except ApiException as exc:
            if exc.status in _REJECTED_STATUSES:
                body = str(exc.body or "")
                raise SinkRejected(f"InfluxDB refused the write ({exc.status}): {exc.reason} {body[:300]}",
                                   refused_count(body)) from exc
            raise SinkUnavailable(f"InfluxDB answered {exc.status}: {exc.reason}") from exc
        except (HTTPError, OSError) as exc:
            raise SinkUnavailable(f"InfluxDB unreachable: {exc}") from exc

    def close(self) -> None:
        self.client.close()


def open_influx_sink(settings: StoreSettings) -> InfluxV1Sink | InfluxV2Sink:
    api = settings.api
    if api == "auto":
        api = api_for_version(server_version(settings.url))
    sink: InfluxV1Sink | InfluxV2Sink = InfluxV1Sink(settings) if api == "v1" else InfluxV2Sink(settings)
    sink.ensure_database()
    return sink
