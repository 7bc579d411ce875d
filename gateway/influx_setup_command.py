"""`emberwatch influx-setup`: the rollups the dashboards read (gateway/influx_rollups.py), applied once.

Run with an InfluxDB admin login (the compose stack's `influxdb-init` service does this before the
gateway starts); safe to run again after an upgrade: it changes only what differs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import urlsplit

from edge_node.core.schema import is_valid_id
from gateway.influx_rollups import ROLLUPS, InfluxAdmin, apply_rollups, backfill

HELP = "Create the InfluxDB rollups the Grafana dashboards read (retention policy, continuous queries); admin login"
_UNITS_S = {"h": 3600, "d": 86400, "w": 7 * 86400}


def _duration_s(text: str) -> int:
    if len(text) < 2 or not text[:-1].isdigit() or text[-1] not in _UNITS_S:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 12h, 30d or 8w")
    return int(text[:-1]) * _UNITS_S[text[-1]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--influx-url", default=os.environ.get("EMBERWATCH_INFLUX_URL"),
                        help="InfluxDB 1.x base URL, e.g. http://influxdb:8086 (default $EMBERWATCH_INFLUX_URL)")
    parser.add_argument("--influx-db", default=os.environ.get("EMBERWATCH_INFLUX_DB", "emberwatch"),
                        help="database the gateway writes (default $EMBERWATCH_INFLUX_DB or emberwatch)")
    parser.add_argument("--backfill", type=_duration_s, metavar="DURATION",
                        help="also compute the rollups over this much stored history, e.g. 30d "
                             "(continuous queries only cover time from now on)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="keep retrying this long while InfluxDB does not answer yet (default 0)")


def run(args: argparse.Namespace) -> int:
    url = args.influx_url
    if not url or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        print(f"--influx-url (or EMBERWATCH_INFLUX_URL) must look like http://host:8086, got {url!r}", file=sys.stderr)
        return 2
    if not is_valid_id(args.influx_db):
        print(f"--influx-db {args.influx_db!r} must be 1-32 chars of [A-Za-z0-9_-]", file=sys.stderr)
        return 2
    admin = InfluxAdmin(url, os.environ.get("EMBERWATCH_INFLUX_ADMIN_USERNAME"),
                        os.environ.get("EMBERWATCH_INFLUX_ADMIN_PASSWORD"))
    deadline = time.monotonic() + args.wait
    while True:
        try:
            changes = apply_rollups(admin, args.influx_db)
            break
        except RuntimeError as exc:
            if time.monotonic() >= deadline or "cannot reach" not in str(exc):
                print(f"influx-setup: {exc}", file=sys.stderr)
                return 1
            time.sleep(1.0)
    for change in changes:
        print(f"influx-setup: {change}")
    print(f"influx-setup: rollups {', '.join(r.name for r in ROLLUPS)} in place on {args.influx_db}")
    if args.backfill:
        now_ms = int(time.time() * 1000)
        try:
            backfill(admin, args.influx_db, now_ms - args.backfill * 1000, now_ms)
        except RuntimeError as exc:
            print(f"influx-setup: backfill failed: {exc}", file=sys.stderr)
            return 1
        print(f"influx-setup: backfilled the last {args.backfill // 3600} h")
    return 0
