"""A decoded LoRaWAN uplink -> the same schema-v2 message a Wi-Fi node would have sent.

The gateway's ingest then validates, de-duplicates and stores it like any other, so LoRaWAN
nodes get the same durability and the same dashboards. What only this side can do:
- unwrap the 16-bit seq to the node's full seq, nearest to the highest one seen. The node's seq
  never repeats (persist.py reserves it on flash), unlike the LoRaWAN frame counter, which
  restarts at every join: de-duplicating on seq therefore survives a rejoin;
- rebuild the boot counter from its 3 low bits and the last status frame (24 bits);
- event time = the network server's receive time minus the frame's age field;
- add the radio metadata (RSSI, SNR, SF, gateways, frame counter) for fleet health.
The alert's score travels as score/threshold x 256, so it is stored with threshold 256.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from edge_node.core import schema
from edge_node.core import uplink_codec as codec
from gateway.lorawan.registry import Registry
from gateway.lorawan.uplinks import Uplink, UplinkError

log = logging.getLogger("emberwatch.gateway.lorawan")

RATIO_THRESHOLD = 256  # the threshold an alert's score is scaled to (see uplink_codec)


def unwrap(low: int, bits: int, highest: int | None) -> int:
    """The full counter ending in `low` (mod 2^bits) nearest to `highest` (never negative)."""
    if highest is None:
        return low
    span = 1 << bits
    candidate = (highest & ~(span - 1)) | low
    best = min((candidate - span, candidate, candidate + span), key=lambda c: (abs(c - highest), -c))
    return best if best >= 0 else candidate


@dataclass
class Translator:
    registry: Registry
    # Called for an unknown DevEUI: a newer registry (the file changed) or None. Devices can be
    # added while the gateway runs.
    reload: Callable[[], Registry | None] | None = None
    highest_seq: dict[tuple[str, str], int] = field(default_factory=dict)
    boot: dict[tuple[str, str], int] = field(default_factory=dict)

    def translate(self, up: Uplink) -> tuple[str, bytes]:
        """(emberwatch topic, schema-v2 JSON payload); UplinkError(reason) for what cannot be stored."""
        device = self.registry.device(up.dev_eui)
        if device is None and self.reload is not None:
            newer = self.reload()
            if newer is not None:
                self.registry = newer
                device = newer.device(up.dev_eui)
        if device is None:
            raise UplinkError("unknown_device", f"DevEUI {up.dev_eui} is not in the registry")
        if up.f_port != codec.FPORT:
            raise UplinkError("bad_port", f"fPort {up.f_port} (Emberwatch frames use {codec.FPORT})")
        try:
            frame = codec.decode_uplink(up.frame)
        except codec.CodecError as exc:
            raise UplinkError("bad_frame", str(exc)) from exc
        key = (device.site, device.node)
        if frame["k"] == "status":
            self.boot[key] = frame["boot24"]
            log.info("node %s/%s status %d: threshold %d, sample %d s, heartbeat %d s", device.site, device.node,
                     frame["reason"], frame["thr"], frame["sample_interval_s"], frame["heartbeat_interval_s"])
            return (schema.topic(device.site, device.node, schema.KIND_STATUS),
                    schema.encode_status(device.node, schema.STATE_ONLINE))
        seq = unwrap(frame["seq16"], 16, self.highest_seq.get(key))
        self.highest_seq[key] = max(seq, self.highest_seq.get(key, seq))
        boot = unwrap(frame["boot3"], 3, self.boot.get(key))
        self.boot[key] = max(boot, self.boot.get(key, boot))
        t_ms = up.received_ms - frame["age_s"] * 1000
        try:
            return schema.topic(device.site, device.node, frame["k"]), _with_radio(
                self._payload(device.node, frame, seq, t_ms, boot), up)
        except schema.SchemaError as exc:
            raise UplinkError("bad_frame", str(exc)) from exc

    @staticmethod
    def _payload(node: str, frame: dict, seq: int, t_ms: int, boot: int) -> bytes:
        if frame["k"] == "alert":
            return schema.encode_alert(node, seq, t_ms, frame["ratio_q8"], RATIO_THRESHOLD,
                                       frame["temp_cc"], frame["rh_cp"], None, frame["gas_q8"], frame["bat_mv"],
                                       lvl=frame["lvl"], boot=boot, flt=frame["flt"])
        return schema.encode_heartbeat(node, seq, t_ms, frame["bat_mv"], frame["temp_cc"],
                                       frame["rh_cp"], frame["gas_q8"], frame["queued"], boot=boot,
                                       flt=frame["flt"], bat_pct=frame["bat_pct"])


def save_state(translator: Translator, path: str) -> None:
    """Each node's highest seq and boot, so a restarted gateway unwraps the 16-bit seq where it was."""
    nodes = sorted(set(translator.highest_seq) | set(translator.boot))
    body = json.dumps({"nodes": [[site, node, translator.highest_seq.get((site, node)),
                                  translator.boot.get((site, node))] for site, node in nodes]})
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_state(translator: Translator, path: str) -> int:
    """What save_state kept (a missing or damaged file is a fresh start); returns how many nodes."""
    try:
        with open(path, encoding="utf-8") as fh:
            rows = json.load(fh)["nodes"]
        for site, node, seq, boot in rows:
            if isinstance(seq, int):
                translator.highest_seq[(str(site), str(node))] = seq
            if isinstance(boot, int):
                translator.boot[(str(site), str(node))] = boot
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("LoRaWAN state %s unreadable, starting afresh: %s", path, exc)
        return 0
    return len(rows)


def _with_radio(payload: bytes, up: Uplink) -> bytes:
    """Append the radio fields to a compact schema payload (the ingest validates their ranges)."""
    extra = ""
    for name, value in (("rssi_dbm", up.rssi_dbm), ("snr_db10", up.snr_db10), ("sf", up.sf),
                        ("gws", up.gateways), ("fcnt", up.f_cnt)):
        if value is not None:
            extra += f',"{name}":{int(value)}'
    return payload[:-1] + extra.encode() + b"}"
