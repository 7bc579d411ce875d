"""`emberwatch gateway`: run the MQTT -> InfluxDB (or SQLite) gateway until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from gateway.config import ConfigError, GatewayConfig

HELP = "Run the gateway: MQTT alerts and heartbeats -> InfluxDB (configured from EMBERWATCH_* env vars)"

# flag -> environment variable it overrides
_FLAGS = {
    "mqtt_url": "EMBERWATCH_MQTT_URL",
    "influx_url": "EMBERWATCH_INFLUX_URL",
    "influx_db": "EMBERWATCH_INFLUX_DB",
    "sqlite": "EMBERWATCH_SQLITE_PATH",
    "site": "EMBERWATCH_SITE",
    "client_id": "EMBERWATCH_MQTT_CLIENT_ID",
    "share_group": "EMBERWATCH_MQTT_SHARE_GROUP",
    "spool_dir": "EMBERWATCH_SPOOL_DIR",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for dest, env in _FLAGS.items():
        parser.add_argument("--" + dest.replace("_", "-"), dest=dest, metavar=env.removeprefix("EMBERWATCH_"),
                            help=f"overrides ${env}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def config_from(args: argparse.Namespace, environ: dict[str, str]) -> GatewayConfig:
    env = dict(environ)
    for dest, name in _FLAGS.items():
        value = getattr(args, dest, None)
        if value is not None:
            env[name] = value
    return GatewayConfig.from_env(env)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        config = config_from(args, dict(os.environ))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    from gateway.service import GatewayService, open_sink
    from gateway.sink import SinkUnavailable

    try:
        sink = open_sink(config.store)
    except SinkUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    service = GatewayService(config, sink)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: service.stop())
    try:
        service.run()
    except SinkUnavailable:
        pass  # stopped while the store was down: unacked messages stay with the broker
    logging.getLogger("emberwatch.gateway").info("stopped: %s, %s", service.stats, dict(service.ingest.rejected))
    return 0
