"""Run the real gateway service on a thread for tests, and stop it cleanly."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.config import GatewayConfig
from gateway.processors import EventProcessor
from gateway.service import GatewayService, open_sink
from tests.harness import servers


def env_for_gateway(mqtt_port: int, influx_port: int, db: str, **overrides: str) -> dict[str, str]:
    """Environment for a gateway on the test servers writing to database db; unless overridden, it
    listens to the site named like db under a client id of its own, so gateways never share a session."""
    return {"EMBERWATCH_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
            "EMBERWATCH_INFLUX_URL": f"http://127.0.0.1:{influx_port}",
            "EMBERWATCH_INFLUX_DB": db, "EMBERWATCH_MQTT_CLIENT_ID": "gw-" + db, "EMBERWATCH_SITE": db,
            **overrides}


@contextlib.contextmanager
def own_broker(gateway_env: dict[str, str], workdir: Path,
               **options: Any) -> Iterator[tuple[servers.ManagedServer, dict[str, str]]]:
    """A Mosquitto of the test's own, which it may stop or kill (servers.mosquitto's options), and
    gateway_env pointed at it. Stopped after the with-block, pass or fail."""
    with servers.running(servers.mosquitto(workdir, **options)) as broker:
        yield broker, {**gateway_env, "EMBERWATCH_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}"}


@contextlib.contextmanager
def own_influx(gateway_env: dict[str, str], workdir: Path,
               **options: Any) -> Iterator[tuple[servers.ManagedServer, dict[str, str]]]:
    """An InfluxDB of the test's own (servers.influxdb's options) and gateway_env pointed at it."""
    with servers.running(servers.influxdb(workdir, **options)) as influx:
        yield influx, {**gateway_env, "EMBERWATCH_INFLUX_URL": f"http://127.0.0.1:{influx.port}"}


@contextlib.contextmanager
def running_gateway(env: dict[str, str], processors: list[EventProcessor] | None = None,
                    subscribed_s: float | None = 15.0) -> Iterator[GatewayService]:
    """The gateway on a thread, subscribed within subscribed_s (None: not waited for), stopped after."""
    config = GatewayConfig.from_env(env)
    service = GatewayService(config, open_sink(config.store), processors=list(processors or []))
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            service.run()
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)

    thread = threading.Thread(target=serve, name="gateway", daemon=True)
    thread.start()
    try:
        if subscribed_s is not None:
            assert service.wait_subscribed(subscribed_s), f"gateway not subscribed within {subscribed_s} s"
        yield service
    finally:
        service.stop()
        thread.join(timeout=30)
    if errors:
        raise errors[0]
