"""An in-process MQTT broker (amqtt) for the demo and for trying things without Mosquitto.

It runs its own asyncio loop on a daemon thread. Deployments use Mosquitto.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from amqtt.broker import Broker


class EmbeddedBroker:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._broker: Broker | None = None
        self._thread = threading.Thread(target=self._serve, name="embedded-mqtt", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout_s: float = 15.0) -> None:
        # amqtt logs every connection at INFO; the demo's own output is what matters.
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError(f"embedded MQTT broker did not start on {self.host}:{self.port}")
        if self._error is not None:
            raise RuntimeError(f"embedded MQTT broker failed: {self._error}") from self._error

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            config = {"listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}}}
            self._broker = Broker(config, loop=self._loop)
            self._loop.run_until_complete(self._broker.start())
        except BaseException as exc:  # reported to start()'s caller, not lost on this thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        if self._broker is not None and self._loop.is_running():
            done = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                done.result(timeout=10)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"
