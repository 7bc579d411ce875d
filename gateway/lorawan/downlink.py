"""Config downlinks through the network server's MQTT API (ChirpStack v4 and The Things Stack v3).

ChirpStack: `application/<app>/device/<devEui>/command/down` with
  {"devEui": ..., "confirmed": true, "fPort": 10, "data": <base64>}   (chirpstack-docs integrations/mqtt.md)
The Things Stack: `v3/<app>@<tenant>/devices/<device_id>/down/push` with
  {"downlinks": [{"f_port": 10, "frm_payload": <base64>, "priority": "NORMAL", "confirmed": true}]}
                                                                   (lorawan-stack-docs integrations/data-formats)
Class A: the server queues it and sends it in the receive window after the node's next uplink;
the node answers with a status uplink saying whether it applied it (gateway logs it).
"""

from __future__ import annotations

import base64
import json

from edge_node.core import uplink_codec as codec
from gateway.lorawan.registry import Device


class DownlinkError(ValueError):
    """A downlink that cannot be addressed or encoded."""


def downlink_message(server: str, application: str, device: Device, frame: bytes) -> tuple[str, bytes]:
    data = base64.b64encode(frame).decode()
    if server == "chirpstack":
        if application in ("", "+"):
            raise DownlinkError("ChirpStack downlinks need EMBERWATCH_LORAWAN_APPLICATION set to the application id")
        eui = device.dev_eui.lower()
        return (f"application/{application}/device/{eui}/command/down",
                json.dumps({"devEui": eui, "confirmed": True, "fPort": codec.FPORT, "data": data}).encode())
    if server == "ttn":
        return (f"v3/{application}/devices/{device.device_id}/down/push",
                json.dumps({"downlinks": [{"f_port": codec.FPORT, "frm_payload": data, "priority": "NORMAL",
                                           "confirmed": True}]}).encode())
    raise DownlinkError(f"unknown network server {server!r}")


def config_frame(threshold: int | None, sample_interval_s: int | None, heartbeat_interval_s: int | None,
                 ask_status: bool) -> bytes:
    """The codec's config downlink; DownlinkError naming the bound a value breaks."""
    if sample_interval_s is not None and heartbeat_interval_s is not None and heartbeat_interval_s < sample_interval_s:
        raise DownlinkError("heartbeat interval must be >= sample interval")
    try:
        return codec.encode_config(threshold, sample_interval_s, heartbeat_interval_s, ask_status)
    except codec.CodecError as exc:
        raise DownlinkError(str(exc)) from exc
