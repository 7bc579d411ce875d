"""LoRaWAN source settings from the environment, checked with the rest of the gateway's.

  EMBERWATCH_LORAWAN_SERVER        chirpstack or ttn (unset: no LoRaWAN source)
  EMBERWATCH_LORAWAN_REGISTRY      the DevEUI -> site/node file (gateway/lorawan/registry.py)
  EMBERWATCH_LORAWAN_APPLICATION   ChirpStack application id (UUID, or + for every application);
                                   The Things Stack: <application-id>@<tenant> (e.g. forest@ttn)
  EMBERWATCH_LORAWAN_MQTT_URL      the network server's broker (default: EMBERWATCH_MQTT_URL, which is
                                   where ChirpStack's MQTT integration publishes in our compose profile)
  EMBERWATCH_LORAWAN_MQTT_USERNAME / _PASSWORD   its login (The Things Stack: the app id@tenant and an API key)
  EMBERWATCH_LORAWAN_CLIENT_ID     default <EMBERWATCH_MQTT_CLIENT_ID>-lorawan
  EMBERWATCH_TTN_API_URL / EMBERWATCH_TTN_API_KEY   The Things Stack's HTTP API, for the Storage
                                   Integration backfill (its MQTT server is QoS 0 only)
  EMBERWATCH_TTN_BACKFILL_S        how far back the first backfill after a start reaches (default 3600)
  EMBERWATCH_LORAWAN_STATE_FILE    each node's highest seq and boot across restarts (default:
                                   <EMBERWATCH_SPOOL_DIR>/lorawan_state.json; unset without a spool: memory)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.config import MqttSettings, _mqtt_from_env
from gateway.env_values import env_int

SERVERS = ("chirpstack", "ttn")


@dataclass(frozen=True, slots=True)
class LorawanSettings:
    server: str
    registry_path: str
    application: str
    mqtt: MqttSettings
    ttn_api_url: str | None = None
    ttn_api_key: str | None = None
    backfill_s: int = 3600
    # Each node's highest seq and boot, kept across gateway restarts (None: in memory only).
    state_path: str | None = None

    def uplink_topic(self) -> str:
        if self.server == "chirpstack":
            return f"application/{self.application}/device/+/event/up"
        return f"v3/{self.application}/devices/+/up"


def lorawan_from_env(env: Mapping[str, str], problems: list[str]) -> LorawanSettings | None:
    server = env.get("EMBERWATCH_LORAWAN_SERVER") or None
    if server is None:
        return None
    known_problems = len(problems)
    if server not in SERVERS:
        problems.append(f"EMBERWATCH_LORAWAN_SERVER={server!r} must be chirpstack or ttn")
        return None
    registry = env.get("EMBERWATCH_LORAWAN_REGISTRY") or ""
    if not registry:
        problems.append("EMBERWATCH_LORAWAN_REGISTRY is required with EMBERWATCH_LORAWAN_SERVER")
    elif not os.path.isfile(registry):
        problems.append(f"EMBERWATCH_LORAWAN_REGISTRY={registry!r} does not exist")
    application = env.get("EMBERWATCH_LORAWAN_APPLICATION") or ""
    if not application or any(c in application for c in "/#") or (application == "+" and server == "ttn"):
        problems.append("EMBERWATCH_LORAWAN_APPLICATION must name the application (ChirpStack: its id or +; "
                        "The Things Stack: <app-id>@<tenant>)")
    elif server == "ttn" and "@" not in application:
        problems.append(f"EMBERWATCH_LORAWAN_APPLICATION={application!r} must look like <app-id>@<tenant> for ttn")
    client_id = env.get("EMBERWATCH_MQTT_CLIENT_ID", "emberwatch-gateway")
    sub_env = {"EMBERWATCH_MQTT_URL": env.get("EMBERWATCH_LORAWAN_MQTT_URL")
               or env.get("EMBERWATCH_MQTT_URL", "mqtt://127.0.0.1:1883"),
               "EMBERWATCH_MQTT_CLIENT_ID": env.get("EMBERWATCH_LORAWAN_CLIENT_ID") or client_id[:56] + "-lorawan",
               "EMBERWATCH_MQTT_RECEIVER": "thread"}
    for name in ("USERNAME", "PASSWORD"):
        value = env.get(f"EMBERWATCH_LORAWAN_MQTT_{name}")
        if value is None and not env.get("EMBERWATCH_LORAWAN_MQTT_URL"):
            value = env.get(f"EMBERWATCH_MQTT_{name}")  # same broker, same login
        if value:
            sub_env[f"EMBERWATCH_MQTT_{name}"] = value
    sub_problems: list[str] = []
    mqtt = _mqtt_from_env(sub_env, sub_problems)
    problems += [p.replace("EMBERWATCH_MQTT_", "EMBERWATCH_LORAWAN_MQTT_") for p in sub_problems]
    api_url = env.get("EMBERWATCH_TTN_API_URL") or None
    api_key = env.get("EMBERWATCH_TTN_API_KEY") or None
    if api_url is not None and urlsplit(api_url).scheme not in ("http", "https"):
        problems.append(f"EMBERWATCH_TTN_API_URL={api_url!r} must be an http(s) URL")
    if (api_url is None) != (api_key is None):
        problems.append("set both EMBERWATCH_TTN_API_URL and EMBERWATCH_TTN_API_KEY (or neither)")
    if server == "chirpstack" and api_url:
        problems.append("EMBERWATCH_TTN_API_URL is for ttn only (ChirpStack publishes to your broker with QoS 1)")
    backfill_s = env_int(env, "EMBERWATCH_TTN_BACKFILL_S", 3600, 0, 30 * 86400, problems)
    state_path = env.get("EMBERWATCH_LORAWAN_STATE_FILE") or None
    if state_path is None and env.get("EMBERWATCH_SPOOL_DIR"):
        state_path = os.path.join(os.path.abspath(env["EMBERWATCH_SPOOL_DIR"]), "lorawan_state.json")
    elif state_path is not None and not os.path.isdir(os.path.dirname(os.path.abspath(state_path))):
        problems.append(f"EMBERWATCH_LORAWAN_STATE_FILE: folder of {state_path!r} does not exist")
    if mqtt is None or len(problems) > known_problems:
        return None
    return LorawanSettings(server, registry, application, mqtt, api_url.rstrip("/") if api_url else None, api_key,
                           backfill_s, state_path)
