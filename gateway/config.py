"""Gateway settings from the environment, all checked before any I/O.

Every problem is reported at once so an operator fixes the config in one go.

Variables (all optional except a store):
  EMBERWATCH_MQTT_URL            mqtt://host:1883 or mqtts://host:8883 (user:pass@ allowed)
  EMBERWATCH_MQTT_USERNAME/_PASSWORD   broker login (win over the URL's)
  EMBERWATCH_MQTT_CA_FILE        CA bundle for mqtts:// (default: the system's)
  EMBERWATCH_MQTT_CLIENT_ID      stable id of the persistent session (default: the username, else
                                 emberwatch-gateway; a broker with use_username_as_clientid ignores it)
  EMBERWATCH_MQTT_SHARE_GROUP    subscribe as $share/<group>/... so several gateways split the load
  EMBERWATCH_MQTT_KEEPALIVE_S    default 30
  EMBERWATCH_SITE                one site, or + for all (default)
  EMBERWATCH_INFLUX_URL          http(s)://host:8086, or EMBERWATCH_SQLITE_PATH for the embedded store
  EMBERWATCH_INFLUX_DB / _TOKEN / _ORG / _USERNAME / _PASSWORD / _API (auto, v1, v2)
  EMBERWATCH_BATCH_SIZE          events per store write (default 1000)
  EMBERWATCH_FLUSH_INTERVAL_MS   longest wait to fill a batch (default 100)
  EMBERWATCH_FLUSH_IDLE_MS       write the batch early after this long without a message (default 10)
  EMBERWATCH_SPOOL_DIR           where events wait while the store is down (unset: hold them unacked)
  EMBERWATCH_HEALTH_PORT / _HOST /healthz and /metrics (unset: off; host default 127.0.0.1)
  EMBERWATCH_HEARTBEAT_INTERVAL_S, EMBERWATCH_HEARTBEAT_ALLOWED_MISSES   liveness (default 900 s, 2)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from edge_node.core.schema import is_valid_id
from gateway.env_values import env_int
from gateway.logs import redact

if TYPE_CHECKING:
    from gateway.lorawan.settings import LorawanSettings


class ConfigError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        problems = [redact(p) for p in problems]  # a URL may carry user:password@
        super().__init__("invalid gateway configuration:\n  - " + "\n  - ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    client_id: str
    site: str  # "+" for every site
    share_group: str | None
    ca_file: str | None
    keepalive_s: int = 30
    # "process": paho runs in a child process, so receiving and storing use two cores (see
    # gateway/receiver_process.py). "thread": one process. EMBERWATCH_MQTT_RECEIVER=auto (the
    # default) picks process when this process may use more than one CPU.
    receiver: str = "process"


@dataclass(frozen=True, slots=True)
class StoreSettings:
    kind: str  # "influx" or "sqlite"
    url: str  # http(s)://host:port for influx, a file path for sqlite
    database: str = "emberwatch"
    token: str | None = None
    org: str | None = None
    username: str | None = None
    password: str | None = None
    api: str = "auto"  # "auto" (ask /ping), "v1" or "v2"


@dataclass(frozen=True, slots=True)
class LivenessSettings:
    heartbeat_interval_s: int  # how often nodes are expected to send a heartbeat
    allowed_misses: int  # a node is offline after missing this many plus one


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    mqtt: MqttSettings
    store: StoreSettings
    batch_size: int
    flush_interval_s: float
    spool_dir: str | None
    # Health + Prometheus metrics HTTP port on health_host; None turns the endpoint off.
    health_port: int | None = None
    health_host: str = "127.0.0.1"
    liveness: LivenessSettings = LivenessSettings(900, 2)
    # A batch is also written once no message came for this long: a broker that caps un-acked
    # QoS 1 messages (Mosquitto's max_inflight_messages, 20 by default) sends no more until the
    # gateway acks, so waiting out the whole flush interval would only add latency.
    flush_idle_s: float = 0.01
    # A LoRaWAN network server's feed beside the direct one (gateway/lorawan/settings.py); None: off.
    lorawan: LorawanSettings | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> GatewayConfig:
        problems: list[str] = []
        env = {k: v for k, v in environ.items() if k.startswith("EMBERWATCH_")}
        mqtt = _mqtt_from_env(env, problems)
        store = _store_from_env(env, problems)
        # Mosquitto sends at most max_inflight_messages un-acked QoS 1 messages (we ack after the
        # write), so a batch never holds more than that; the idle flush below ends it early.
        # 1000 (= the in-flight cap we recommend) drained fastest in bench/bench_gateway.py.
        batch_size = env_int(env, "EMBERWATCH_BATCH_SIZE", 1000, 1, 100_000, problems)
        flush_ms = env_int(env, "EMBERWATCH_FLUSH_INTERVAL_MS", 100, 1, 60_000, problems)
        idle_ms = env_int(env, "EMBERWATCH_FLUSH_IDLE_MS", 10, 1, 60_000, problems)
        spool_dir = _spool_dir(env, problems)
        health_port = env_int(env, "EMBERWATCH_HEALTH_PORT", 0, 0, 65535, problems) or None
        health_host = env.get("EMBERWATCH_HEALTH_HOST", "127.0.0.1") or "127.0.0.1"
        liveness = LivenessSettings(
            env_int(env, "EMBERWATCH_HEARTBEAT_INTERVAL_S", 900, 1, 7 * 86400, problems),
            env_int(env, "EMBERWATCH_HEARTBEAT_ALLOWED_MISSES", 2, 0, 1000, problems))
        from gateway.lorawan.settings import lorawan_from_env

        lorawan = lorawan_from_env(env, problems)
        if problems or mqtt is None or store is None:
            raise ConfigError(problems)
        return cls(mqtt, store, batch_size, flush_ms / 1000.0, spool_dir, health_port, health_host, liveness,
                   min(idle_ms, flush_ms) / 1000.0, lorawan)


def usable_cpus() -> int:
    """CPUs this process may run on (a container's or taskset's limit, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _spool_dir(env: Mapping[str, str], problems: list[str]) -> str | None:
    """The spool folder may not exist yet, but its parent must (no surprise trees of folders)."""
    spool_dir = env.get("EMBERWATCH_SPOOL_DIR") or None
    if spool_dir is None:
        return None
    path = os.path.abspath(spool_dir)
    if os.path.exists(path) and not os.path.isdir(path):
        problems.append(f"EMBERWATCH_SPOOL_DIR={spool_dir!r} is a file, not a folder")
    elif not os.path.isdir(os.path.dirname(path)):
        problems.append(f"EMBERWATCH_SPOOL_DIR: parent folder of {spool_dir!r} does not exist")
    return path


def _mqtt_from_env(env: Mapping[str, str], problems: list[str]) -> MqttSettings | None:
    url = env.get("EMBERWATCH_MQTT_URL", "mqtt://127.0.0.1:1883")
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        problems.append(f"EMBERWATCH_MQTT_URL={url!r} must start with mqtt:// or mqtts://")
        return None
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError:
        problems.append(f"EMBERWATCH_MQTT_URL={url!r} has an invalid port")
        return None
    if not parts.hostname:
        problems.append(f"EMBERWATCH_MQTT_URL={url!r} has no host")
    site = env.get("EMBERWATCH_SITE", "+")
    if site != "+" and not is_valid_id(site):
        problems.append(f"EMBERWATCH_SITE={site!r} must be '+' or 1-32 chars of [A-Za-z0-9_-]")
    group = env.get("EMBERWATCH_MQTT_SHARE_GROUP") or None
    if group is not None and not is_valid_id(group):
        problems.append(f"EMBERWATCH_MQTT_SHARE_GROUP={group!r} must be 1-32 chars of [A-Za-z0-9_-]")
    ca_file = env.get("EMBERWATCH_MQTT_CA_FILE") or None
    if ca_file is not None and not os.path.isfile(ca_file):
        problems.append(f"EMBERWATCH_MQTT_CA_FILE={ca_file!r} does not exist")
    if ca_file is not None and parts.scheme != "mqtts":
        problems.append("EMBERWATCH_MQTT_CA_FILE is set but EMBERWATCH_MQTT_URL is not mqtts://")
    username = env.get("EMBERWATCH_MQTT_USERNAME") or (unquote(parts.username) if parts.username else None)
    # The shipped broker sets use_username_as_clientid, so the session is the login's whatever id
    # is sent; sending the login as the id keeps the two the same name in the broker's logs.
    client_id = env.get("EMBERWATCH_MQTT_CLIENT_ID") or username or "emberwatch-gateway"
    if len(client_id) > 64:
        problems.append("EMBERWATCH_MQTT_CLIENT_ID must be 1-64 characters")
    password = env.get("EMBERWATCH_MQTT_PASSWORD") or (unquote(parts.password) if parts.password else None)
    if password is not None and username is None:
        problems.append("EMBERWATCH_MQTT_PASSWORD is set without EMBERWATCH_MQTT_USERNAME")
    keepalive_s = env_int(env, "EMBERWATCH_MQTT_KEEPALIVE_S", 30, 5, 3600, problems)
    receiver = env.get("EMBERWATCH_MQTT_RECEIVER", "auto")
    if receiver not in ("auto", "process", "thread"):
        problems.append(f"EMBERWATCH_MQTT_RECEIVER={receiver!r} must be auto, process or thread")
    if receiver == "auto":
        receiver = "process" if usable_cpus() > 1 else "thread"
    return MqttSettings(parts.hostname or "", port, parts.scheme == "mqtts", username, password,
                        client_id, site, group, ca_file, keepalive_s, receiver)


def store_from_env(environ: Mapping[str, str] = os.environ) -> StoreSettings:
    """Only the store settings (for tools that read the store, like `emberwatch alerts`)."""
    problems: list[str] = []
    store = _store_from_env(environ, problems)
    if problems or store is None:
        raise ConfigError(problems)
    return store


def store_from_flags(influx_url: str | None, influx_db: str | None, sqlite: str | None,
                     environ: Mapping[str, str] = os.environ) -> StoreSettings:
    """The store a reading command's --influx-url/--influx-db/--sqlite name, over the environment.

    A flag naming one kind of store drops the environment's other kind, so `--sqlite demo.sqlite`
    works on a shell that also exports EMBERWATCH_INFLUX_URL.
    """
    env = dict(environ)
    if influx_db:
        env["EMBERWATCH_INFLUX_DB"] = influx_db
    if influx_url:
        env["EMBERWATCH_INFLUX_URL"] = influx_url
        env.pop("EMBERWATCH_SQLITE_PATH", None)
    if sqlite:
        env["EMBERWATCH_SQLITE_PATH"] = sqlite
        env.pop("EMBERWATCH_INFLUX_URL", None)
    return store_from_env(env)


def _store_from_env(env: Mapping[str, str], problems: list[str]) -> StoreSettings | None:
    influx_url = env.get("EMBERWATCH_INFLUX_URL")
    sqlite_path = env.get("EMBERWATCH_SQLITE_PATH")
    if influx_url and sqlite_path:
        problems.append("set only one of EMBERWATCH_INFLUX_URL and EMBERWATCH_SQLITE_PATH")
        return None
    if sqlite_path:
        parent = os.path.dirname(os.path.abspath(sqlite_path))
        if not os.path.isdir(parent):
            problems.append(f"EMBERWATCH_SQLITE_PATH: folder {parent!r} does not exist")
        return StoreSettings("sqlite", sqlite_path)
    if not influx_url:
        problems.append("set EMBERWATCH_INFLUX_URL (http://host:8086) or EMBERWATCH_SQLITE_PATH")
        return None
    parts = urlsplit(influx_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"EMBERWATCH_INFLUX_URL={influx_url!r} must look like http://host:8086")
    api = env.get("EMBERWATCH_INFLUX_API", "auto")
    if api not in ("auto", "v1", "v2"):
        problems.append(f"EMBERWATCH_INFLUX_API={api!r} must be auto, v1 or v2")
    database = env.get("EMBERWATCH_INFLUX_DB", "emberwatch")
    if not is_valid_id(database):
        problems.append(f"EMBERWATCH_INFLUX_DB={database!r} must be 1-32 chars of [A-Za-z0-9_-]")
    token = env.get("EMBERWATCH_INFLUX_TOKEN") or None
    if api == "v2" and not token:
        problems.append("EMBERWATCH_INFLUX_API=v2 needs EMBERWATCH_INFLUX_TOKEN")
    return StoreSettings("influx", influx_url.rstrip("/"), database, token,
                         env.get("EMBERWATCH_INFLUX_ORG") or None,
                         env.get("EMBERWATCH_INFLUX_USERNAME") or None,
                         env.get("EMBERWATCH_INFLUX_PASSWORD") or None, api)
