"""Simulated LoRa nodes as a LoRaWAN network server would publish them: ChirpStack v4 `up` events.

Wraps the simulator's publish(topic, payload, retain): every alert and heartbeat a node sends is
encoded with the firmware's own codec path (uplink_codec.frame_from_message -> the 11-byte
frame, its age measured from the reading to the radio delivery) and published on
`application/<app>/device/<devEui>/event/up` in the JSON of ChirpStack's MQTT integration, so a
simulated forest goes through the gateway's real LoRaWAN source (gateway/lorawan/). Retained
status messages have no LoRaWAN counterpart (the network has no last will): the gateway's
liveness check works from the heartbeats instead. Each node gets a stable DevEUI, and the
registry file the gateway needs is written (atomically) before a node's first uplink.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from edge_node.core import schema
from edge_node.core import uplink_codec as codec
from simulator.lorawan_rx import EU868_CHANNELS_HZ, rx_metadata, tx_info

DEFAULT_APPLICATION = "00000000-0000-4000-8000-00000000e3b0"  # a fixed UUID for simulated sites


def dev_eui_for(site: str, node: str) -> str:
    """A stable, locally administered DevEUI per simulated node (first byte 0x02)."""
    digest = hashlib.sha256(f"{site}/{node}".encode()).digest()
    return "02" + digest[:7].hex().upper()


def rfc3339_ns(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}000000+00:00"


class ChirpStackUplinks:
    def __init__(self, publish: Callable[[str, bytes, bool], None], application_id: str = DEFAULT_APPLICATION,
                 registry_path: str | Path | None = None) -> None:
        self.publish = publish
        self.application_id = application_id
        self.registry_path = Path(registry_path) if registry_path else None
        self.deliver_ms: int | None = None  # set by simulator.outbox.Outbox before each call
        self.sender: int | None = None      # node index of the frame, set by the Outbox (radio model only)
        self.link = None                    # the simulator.radio.LoRaChannel, for the gateways' rxInfo
        self.devices: dict[tuple[str, str], str] = {}
        self.f_cnt: dict[str, int] = {}
        self.uplinks = 0

    def __call__(self, topic: str, payload: bytes, retain: bool = False) -> None:
        site, node, kind = schema.parse_topic(topic)
        if kind not in ("alert", "heartbeat"):
            return
        eui = self.devices.get((site, node))
        if eui is None:
            eui = self.devices[(site, node)] = dev_eui_for(site, node)
            self._write_registry()
        msg = json.loads(payload)
        now_ms = self.deliver_ms if self.deliver_ms is not None else msg["t_ms"]
        frame = codec.frame_from_message(kind, msg, now_ms)
        f_cnt = self.f_cnt.get(eui, 0)
        self.f_cnt[eui] = f_cnt + 1
        event = {
            "deduplicationId": f"{eui.lower()}-{f_cnt}",
            "time": rfc3339_ns(now_ms),
            "deviceInfo": {"tenantName": "Emberwatch simulator", "applicationId": self.application_id,
                           "applicationName": site, "deviceName": node, "devEui": eui.lower()},
            "dr": 3, "fPort": codec.FPORT, "data": base64.b64encode(frame).decode(),
        }
        if self.link is not None and self.sender is not None and hasattr(self.link, "budget"):
            sf, rx = rx_metadata(self.link, self.sender)
            event["dr"] = 12 - sf  # EU868 DR0-DR5 = SF12-SF7 at 125 kHz
            event["rxInfo"] = rx
            event["txInfo"] = tx_info(sf, self.link.config.bw_hz, EU868_CHANNELS_HZ[f_cnt % len(EU868_CHANNELS_HZ)])
        if f_cnt:
            event["fCnt"] = f_cnt  # the protobuf JSON mapping leaves zero values out
        if kind == "alert":
            event["confirmed"] = True
        self.publish(f"application/{self.application_id}/device/{eui.lower()}/event/up",
                     json.dumps(event, separators=(",", ":")).encode(), False)
        self.uplinks += 1

    def _write_registry(self) -> None:
        if self.registry_path is None:
            return
        body = json.dumps({"devices": [{"dev_eui": eui, "site": site, "node": node}
                                       for (site, node), eui in sorted(self.devices.items())]}, indent=0)
        tmp = self.registry_path.with_suffix(".tmp")
        tmp.write_text(body + "\n")
        os.replace(tmp, self.registry_path)
