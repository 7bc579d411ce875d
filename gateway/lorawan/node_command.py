"""`emberwatch node config`: queue a config downlink for one LoRaWAN node through its network server.

Uses the gateway's LoRaWAN settings (EMBERWATCH_LORAWAN_SERVER, _REGISTRY, _APPLICATION,
_MQTT_URL and login; see gateway/lorawan/settings.py). Bounds are checked here and again on the
node, which applies nothing out of bounds and reports what it did in a status uplink.
"""

from __future__ import annotations

import argparse
import os
import sys

HELP = "Send a LoRaWAN node new settings (threshold, intervals) through ChirpStack or The Things Stack"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    cfg = sub.add_parser("config", help="queue a config downlink for a node")
    cfg.add_argument("--site", required=True, help="site id of the node")
    cfg.add_argument("--node", required=True, help="node id within the site")
    cfg.add_argument("--threshold", type=int, help="anomaly score threshold (1-65535)")
    cfg.add_argument("--sample-interval", type=int, metavar="S", help="seconds between readings (10-86400)")
    cfg.add_argument("--heartbeat-interval", type=int, metavar="S", help="seconds between heartbeats (60-604800)")
    cfg.add_argument("--ask-status", action="store_true", help="ask the node to report its settings")
    cfg.add_argument("--dry-run", action="store_true", help="print the topic and payload instead of publishing")


def run(args: argparse.Namespace, environ: dict[str, str] | None = None) -> int:
    from gateway.lorawan.downlink import DownlinkError, config_frame, downlink_message
    from gateway.lorawan.registry import RegistryError, load_registry
    from gateway.lorawan.settings import lorawan_from_env

    env = dict(os.environ if environ is None else environ)
    problems: list[str] = []
    settings = lorawan_from_env(env, problems)
    if settings is None:
        print("LoRaWAN settings: " + ("; ".join(problems) or "set EMBERWATCH_LORAWAN_SERVER"), file=sys.stderr)
        return 2
    try:
        device = load_registry(settings.registry_path).node(args.site, args.node)
        if device is None:
            raise RegistryError([f"node {args.site}/{args.node} is not in {settings.registry_path}"])
        frame = config_frame(args.threshold, args.sample_interval, args.heartbeat_interval, args.ask_status)
        topic, payload = downlink_message(settings.server, settings.application, device, frame)
    except (RegistryError, DownlinkError) as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.dry_run:
        print(topic)
        print(payload.decode())
        return 0
    return _publish(settings.mqtt, topic, payload, qos=0 if settings.server == "ttn" else 1)


def _publish(mqtt_settings, topic: str, payload: bytes, qos: int) -> int:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=mqtt_settings.client_id + "-cli")
    if mqtt_settings.username:
        client.username_pw_set(mqtt_settings.username, mqtt_settings.password)
    if mqtt_settings.tls:
        client.tls_set(ca_certs=mqtt_settings.ca_file)
    try:
        client.connect(mqtt_settings.host, mqtt_settings.port)
    except OSError as exc:
        print(f"cannot reach the network server's broker {mqtt_settings.host}:{mqtt_settings.port}: {exc}",
              file=sys.stderr)
        return 1
    client.loop_start()
    try:
        info = client.publish(topic, payload, qos=qos)
        info.wait_for_publish(timeout=10)
        if not info.is_published():
            print("the broker did not acknowledge the downlink within 10 s", file=sys.stderr)
            return 1
    finally:
        client.disconnect()
        client.loop_stop()
    print(f"queued on {topic}: {payload.decode()}")
    return 0
