"""Retention policy and downsampling continuous queries that keep the fleet dashboards fast.

A fleet of 10,000 nodes sending hourly heartbeats writes 1.68 M points a week; a panel that
reads them raw over 7 days takes tens of seconds on InfluxDB 1.x. InfluxDB itself keeps two
rollups, written by continuous queries into the `rollup` retention policy:

- `heartbeat_site_1h`: per site and hour (heartbeat count, lowest/mean battery, mean weather);
- `heartbeat_node_1d`: per node and day (mean battery, last position, heartbeat count);
- `battery_lowest_1h`: per site and hour, the 20 nodes with the least battery charge.

Continuous queries need an admin login, which the gateway's write-only user is not, so
`emberwatch influx-setup` applies them once (the compose stack runs it before the gateway);
every statement is idempotent and `--backfill` fills the rollups from history already stored.
RESAMPLE ... FOR recomputes recent buckets on every run, so late heartbeats (a spool replay,
a node's queued messages) still land in their rollup.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

ROLLUP_RP = "rollup"
ROLLUP_RETENTION = "1825d"  # five years of per-site/per-node history, a few MB per 1,000 nodes
ROLLUP_SHARD = "30d"


@dataclass(frozen=True)
class Rollup:
    name: str  # measurement in the rollup RP, and the continuous query's name
    source: str  # measurement in the default RP
    select: str  # aggregate columns
    bucket: str  # GROUP BY time(bucket)
    tags: tuple[str, ...]
    resample: str  # RESAMPLE EVERY 1h FOR <resample>: late points are folded in this long


ROLLUPS = (
    Rollup("heartbeat_site_1h", "heartbeat",
           'count("seq") AS "heartbeats", min("battery_pct") AS "battery_pct_min", '
           'mean("battery_pct") AS "battery_pct_mean", min("battery_mv") AS "battery_mv_min", '
           'mean("temp_c") AS "temp_c", mean("rh_pct") AS "rh_pct"',
           "1h", ("site",), "6h"),
    Rollup("heartbeat_node_1d", "heartbeat",
           'count("seq") AS "heartbeats", mean("battery_mv") AS "battery_mv", mean("battery_pct") AS "battery_pct", '
           'last("lat") AS "lat", last("lon") AS "lon"',
           "1d", ("site", "node"), "2d"),
    # The 20 lowest-charged nodes per site and hour (node stays a tag): a "lowest batteries" list reads
    # 200 points instead of one series per node.
    Rollup("battery_lowest_1h", "heartbeat", 'bottom("battery_pct", "node", 20) AS "battery_pct", "battery_mv"',
           "1h", ("site",), "2h"),
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '\\"') + '"'


def select_into(db: str, r: Rollup, where: str = "") -> str:
    tags = ", ".join(_quote(t) for t in r.tags)
    where_sql = f" WHERE {where}" if where else ""
    return (f"SELECT {r.select} INTO {_quote(db)}.{_quote(ROLLUP_RP)}.{_quote(r.name)} FROM {_quote(db)}..{_quote(r.source)}"
            f"{where_sql} GROUP BY time({r.bucket}), {tags}")


def continuous_query(db: str, r: Rollup) -> str:
    return (f"CREATE CONTINUOUS QUERY {_quote(r.name)} ON {_quote(db)} RESAMPLE EVERY 1h FOR {r.resample} "
            f"BEGIN {select_into(db, r)} END")


def backfill_statements(db: str, from_ms: int, to_ms: int) -> list[str]:
    """SELECT ... INTO for history the continuous queries never saw (they only run on recent time)."""
    return [select_into(db, r, f"time >= {from_ms}ms AND time < {to_ms}ms") for r in ROLLUPS]


class InfluxAdmin:
    """Just enough of InfluxDB 1.x's /query API to manage a database (admin login)."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 timeout_s: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self.auth = None if not username else "Basic " + base64.b64encode(f"{username}:{password or ''}".encode()).decode()
        self.timeout_s = timeout_s

    def query(self, q: str, db: str | None = None) -> list[dict]:
        """Results of each statement; raises RuntimeError naming the statement on an InfluxQL error."""
        params = {"q": q, **({"db": db} if db else {})}
        request = urllib.request.Request(self.url + "/query", data=urllib.parse.urlencode(params).encode(),
                                         method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if self.auth:
            request.add_header("Authorization", self.auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"InfluxDB answered {exc.code} to {q[:80]!r}: "
                               f"{exc.read()[:300].decode(errors='replace')}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RuntimeError(f"cannot reach InfluxDB at {self.url}: {exc}") from exc
        results = body.get("results", [])
        for result in results:
            if "error" in result:
                raise RuntimeError(f"InfluxQL error for {q[:120]!r}: {result['error']}")
        return results


def _rows(result: dict) -> list[dict]:
    return [dict(zip(s["columns"], v)) for s in result.get("series", []) for v in s["values"]]


def apply_rollups(admin: InfluxAdmin, db: str) -> list[str]:
    """Create the database, the rollup RP and the continuous queries; what changed, for the log."""
    done: list[str] = []
    admin.query(f"CREATE DATABASE {_quote(db)}")
    policies = {r["name"]: r for r in _rows(admin.query("SHOW RETENTION POLICIES", db)[0])}
    verb = "ALTER" if ROLLUP_RP in policies else "CREATE"
    admin.query(f"{verb} RETENTION POLICY {_quote(ROLLUP_RP)} ON {_quote(db)} DURATION {ROLLUP_RETENTION} "
                f"REPLICATION 1 SHARD DURATION {ROLLUP_SHARD}")
    done.append(f"{verb.lower()} retention policy {ROLLUP_RP} ({ROLLUP_RETENTION})")
    existing = {}
    for series in admin.query("SHOW CONTINUOUS QUERIES")[0].get("series", []):
        if series.get("name") == db:
            existing.update({v[0]: v[1] for v in series.get("values", [])})
    for r in ROLLUPS:
        wanted = continuous_query(db, r)
        if r.name in existing:
            if _same_query(existing[r.name], wanted):
                continue
            admin.query(f"DROP CONTINUOUS QUERY {_quote(r.name)} ON {_quote(db)}")
        admin.query(wanted)
        done.append(f"continuous query {r.name}")
    return done


def _same_query(stored: str, wanted: str) -> bool:
    # InfluxDB stores the statement re-rendered (quoting, spacing, the default RP's name spelled out in
    # FROM db..measurement); compare the words that matter.
    def words(q: str) -> list[str]:
        q = re.sub(r"(\bfrom \S+?)\.[^.\s]*\.", r"\1..", q.replace('"', "").lower())
        return q.replace(",", " ").replace("(", " ").replace(")", " ").split()
    return words(stored) == words(wanted)


def backfill(admin: InfluxAdmin, db: str, from_ms: int, to_ms: int) -> None:
    for statement in backfill_statements(db, from_ms, to_ms):
        admin.query(statement, db)
