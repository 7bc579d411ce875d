"""`emberwatch gateway`: run the MQTT -> InfluxDB (or SQLite) gateway until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from gateway.battery_percent import BatteryConfigError, BatteryPercentProcessor
from gateway.battery_percent import settings_from_env as battery_settings
from gateway.config import ConfigError, GatewayConfig
from gateway.fire_weather import FireWeatherConfigError
from gateway.fire_weather import settings_from_env as fire_weather_settings

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
    "receiver": "EMBERWATCH_MQTT_RECEIVER",
    "spool_dir": "EMBERWATCH_SPOOL_DIR",
    "health_port": "EMBERWATCH_HEALTH_PORT",
    "batch_size": "EMBERWATCH_BATCH_SIZE",
    "flush_interval_ms": "EMBERWATCH_FLUSH_INTERVAL_MS",
    "flush_idle_ms": "EMBERWATCH_FLUSH_IDLE_MS",
    "heartbeat_interval_s": "EMBERWATCH_HEARTBEAT_INTERVAL_S",
    "heartbeat_allowed_misses": "EMBERWATCH_HEARTBEAT_ALLOWED_MISSES",
}
# Secrets (EMBERWATCH_MQTT_PASSWORD, EMBERWATCH_INFLUX_TOKEN, ...) come from the environment
# only: flags show up in `ps` and shell history.


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for dest, env in _FLAGS.items():
        parser.add_argument("--" + dest.replace("_", "-"), dest=dest, metavar=env.removeprefix("EMBERWATCH_"),
                            help=f"overrides ${env}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="least severe log level written (default INFO)")
    parser.add_argument("--log-format", default="json", choices=["json", "text"],
                        help="json: one object per line (default); text: for a terminal")


def config_from(args: argparse.Namespace, environ: dict[str, str]) -> GatewayConfig:
    env = dict(environ)
    for dest, name in _FLAGS.items():
        value = getattr(args, dest, None)
        if value is not None:
            env[name] = value
    return GatewayConfig.from_env(env)


def run(args: argparse.Namespace) -> int:
    from gateway.logs import configure_logging

    configure_logging(args.log_level, args.log_format)
    try:
        config = config_from(args, dict(os.environ))
        fire_weather = fire_weather_settings(dict(os.environ))
        battery = battery_settings(dict(os.environ))
    except (ConfigError, FireWeatherConfigError, BatteryConfigError) as exc:
        print(exc, file=sys.stderr)
        return 2
    import threading

    from gateway.fire_weather_store import open_fire_weather_processor
    from gateway.incidents.processor import gateway_processors
    from gateway.receiver_process import ReceiverDied
    from gateway.service import GatewayService, open_sink
    from gateway.sink import SinkUnavailable

    log = logging.getLogger("emberwatch.gateway")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    # A gateway that starts before its store (compose, a reboot) waits for it instead of exiting.
    backoff_s = 1.0
    while True:
        try:
            processors = gateway_processors(config)  # resumed from the store, so it waits for it too
            fire_weather_processor = open_fire_weather_processor(config, fire_weather)  # likewise
            sink = open_sink(config.store)
            break
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
        except SinkUnavailable as exc:
            log.warning("store not reachable yet, retrying in %.0fs: %s", backoff_s, exc)
            if stopping.wait(backoff_s):
                return 1
            backoff_s = min(backoff_s * 2, 30.0)
    service = GatewayService(config, sink, stopping=stopping,
                             processors=[BatteryPercentProcessor(battery), *processors,
                                         fire_weather_processor])
    try:
        service.run()
    except SinkUnavailable:
        # Stopped while the store was down and no spool is set: unacked messages stay with the broker.
        log.warning("stopped with the store unavailable")
    except ReceiverDied as exc:
        log.error("%s", exc)
        return 1
    return 0
