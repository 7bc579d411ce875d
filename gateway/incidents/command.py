"""`emberwatch incidents`: open and recent fire incidents; acknowledge or resolve one (who and when stored).

    emberwatch incidents [--since 7d] [--site S]      # open ones first, then the recently closed
    emberwatch incidents ack ID --by NAME             # "someone is on it": the page stops
    emberwatch incidents resolve ID --by NAME         # closed by an operator

Reads and writes InfluxDB or the SQLite store, configured like the gateway (EMBERWATCH_INFLUX_URL /
EMBERWATCH_SQLITE_PATH, or the flags). A running gateway sees the acknowledgement within seconds.
"""

from __future__ import annotations

import argparse
import sys
import time

from edge_node.core.schema import is_valid_id
from gateway.alerts_command import parse_since_s
from gateway.config import ConfigError, StoreSettings, store_from_flags
from gateway.incidents.model import ACKNOWLEDGED, CLOSING, LEVEL_CONFIRMED, RESOLVED
from gateway.incidents.records import incident_from_row, transition_event
from gateway.incidents.store import open_store
from gateway.influx_query import StoreNotReadable
from gateway.sink import SinkRejected, SinkUnavailable

HELP = "List fire incidents (open and recent), or acknowledge / resolve one: incidents ack ID --by NAME"
COLUMNS = ("incident", "site", "status", "where (lat, lon)", "+-m", "nodes", "sure", "first evidence",
           "last evidence", "by")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("list", "ack", "resolve"), default="list",
                        help="list (default), ack or resolve")
    parser.add_argument("incident", nargs="?", help="the incident id (or a unique start of it) to ack or resolve")
    parser.add_argument("--by", help="who acknowledges or resolves (stored with the incident)")
    parser.add_argument("--since", type=parse_since_s, default=parse_since_s("7d"), metavar="DURATION",
                        help="list incidents with a transition this recent, e.g. 24h, 7d (default 7d)")
    parser.add_argument("--site", help="only this site")
    parser.add_argument("--influx-url", help="overrides $EMBERWATCH_INFLUX_URL")
    parser.add_argument("--influx-db", help="overrides $EMBERWATCH_INFLUX_DB")
    parser.add_argument("--sqlite", help="overrides $EMBERWATCH_SQLITE_PATH")


def _store_settings(args: argparse.Namespace) -> StoreSettings:
    return store_from_flags(getattr(args, "influx_url", None), getattr(args, "influx_db", None),
                            getattr(args, "sqlite", None))


def status_of(row: dict) -> str:
    if row.get("state") in CLOSING:
        return str(row["state"]) + (f" into {row['merged_into']}" if row.get("merged_into") else "")
    word = "confirmed" if int(row.get("level") or 1) >= LEVEL_CONFIRMED else "suspected"
    return word + (" (acked)" if row.get("acked_by") else "")


def _utc(t_ms: int | float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(int(t_ms) / 1000)) if t_ms else "-"


def format_table(rows: list[dict]) -> str:
    cells = [list(COLUMNS)]
    for r in rows:
        cells.append([str(r["incident"]), str(r["site"]), status_of(r), f"{float(r['lat']):.5f}, {float(r['lon']):.5f}",
                      str(round(float(r["radius_m"]))), str(r["nodes"]), f"{float(r['confidence']):.0%}",
                      _utc(r.get("first_evidence_ms")), _utc(r.get("last_evidence_ms")),
                      str(r.get("by") or r.get("acked_by") or "-")])
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip() for c in cells)


def _listed(rows: list[dict], site: str | None) -> list[dict]:
    rows = [r for r in rows if not site or r.get("site") == site]
    # open ones first (newest evidence first), then the closed ones, newest first
    return sorted(rows, key=lambda r: (r.get("state") in CLOSING, -int(r.get("last_evidence_ms") or 0)))


def run(args: argparse.Namespace, now_ms: int | None = None) -> int:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    problems = []
    if args.action != "list" and not args.incident:
        problems.append(f"incidents {args.action} needs the incident id")
    if args.action != "list" and not (args.by and args.by.strip()):
        problems.append(f"incidents {args.action} needs --by NAME (who is taking it)")
    if args.site and not is_valid_id(args.site):
        problems.append(f"--site {args.site!r} must be 1-32 chars of [A-Za-z0-9_-]")
    try:
        settings = _store_settings(args)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 2
    store = open_store(settings)
    try:
        if args.action == "list":
            rows = _listed(store.latest_incidents(now_ms - args.since * 1000), args.site)
            print(format_table(rows))
            n_open = sum(1 for r in rows if r.get("state") not in CLOSING)
            print(f"{n_open} open, {len(rows) - n_open} closed since {_utc(now_ms - args.since * 1000)}")
            return 0
        return _act(args, settings, store, now_ms)
    except (SinkUnavailable, StoreNotReadable, SinkRejected) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _act(args: argparse.Namespace, settings: StoreSettings, store, now_ms: int) -> int:
    rows = [r for r in store.latest_incidents(0) if str(r["incident"]).startswith(args.incident)]
    if len({r["incident"] for r in rows}) != 1:
        what = "no incident" if not rows else f"{len(rows)} incidents"
        print(f"error: {what} with an id starting {args.incident!r}", file=sys.stderr)
        return 1
    row = rows[0]
    inc = incident_from_row(row)
    if inc is None:
        print(f"error: incident {row['incident']} is already {status_of(row)} ({_utc(row['time'])})", file=sys.stderr)
        return 1
    by = args.by.strip()
    if args.action == "ack":
        inc.acked_by = by
        event = transition_event(inc, ACKNOWLEDGED, now_ms, f"acknowledged by {by}", by=by)
    else:
        event = transition_event(inc, RESOLVED, now_ms, f"resolved by {by}", by=by)
    from gateway.service import open_sink

    sink = open_sink(settings)
    try:
        sink.write([(event, now_ms)])
    finally:
        sink.close()
    print(f"incident {inc.id} {event.fields['state']} by {by} at {_utc(event.t_ms)}")
    return 0
