"""Network-server uplinks for tests: the documented examples (tests/gateway/data/lorawan), with only
the device and payload fields replaced by an Emberwatch node's."""

from __future__ import annotations

import base64
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "lorawan"
CHIRPSTACK_DOC = (DATA / "chirpstack_v4_up.json").read_bytes()
TTN_DOC = (DATA / "ttn_v3_up.json").read_bytes()
TTN_STORAGE_DOC = (DATA / "ttn_v3_storage.jsonl").read_bytes()
CHIRPSTACK_APP = "17c82e96-be03-4f38-aef3-f83d48582d97"  # the documented application id
TTN_APP = "app1@ttn"


def chirpstack_up(dev_eui: str, frame: bytes, time_iso: str, f_cnt: int = 7, rssi: int = -97,
                  app: str = CHIRPSTACK_APP) -> tuple[str, bytes]:
    msg = json.loads(CHIRPSTACK_DOC)
    msg["deviceInfo"]["devEui"] = dev_eui.lower()
    msg["data"] = base64.b64encode(frame).decode()
    msg["fPort"] = 10
    msg["fCnt"] = f_cnt
    msg["time"] = time_iso
    msg["rxInfo"][0]["rssi"] = rssi
    return f"application/{app}/device/{dev_eui.lower()}/event/up", json.dumps(msg).encode()


def ttn_result(dev_eui: str, device_id: str, frame: bytes, received_iso: str, f_cnt: int = 3) -> dict:
    msg = json.loads(TTN_DOC)
    msg["end_device_ids"]["dev_eui"] = dev_eui
    msg["end_device_ids"]["device_id"] = device_id
    up = msg["uplink_message"]
    up["frm_payload"] = base64.b64encode(frame).decode()
    up["f_port"] = 10
    up["f_cnt"] = f_cnt
    up["received_at"] = received_iso
    del up["decoded_payload"]
    return msg


def ttn_up(dev_eui: str, device_id: str, frame: bytes, received_iso: str, f_cnt: int = 3,
           app: str = TTN_APP) -> tuple[str, bytes]:
    return (f"v3/{app}/devices/{device_id}/up",
            json.dumps(ttn_result(dev_eui, device_id, frame, received_iso, f_cnt)).encode())
