"""Run the real gateway service on a thread for tests, and stop it cleanly."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from gateway.config import GatewayConfig
from gateway.service import GatewayService, open_sink


@contextlib.contextmanager
def running_gateway(env: dict[str, str]) -> Iterator[GatewayService]:
    config = GatewayConfig.from_env(env)
    service = GatewayService(config, open_sink(config.store))
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            service.run()
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)

    thread = threading.Thread(target=serve, name="gateway", daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.stop()
        thread.join(timeout=30)
    if errors:
        raise errors[0]
