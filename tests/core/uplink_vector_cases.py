"""The inputs behind tests/core/data/uplink_vectors.json (regenerate: python -m tests.core.uplink_vector_cases).

The JSON file is the contract between the three codec implementations (Python core on CPython,
the same module on MicroPython, deploy/lorawan/codec.js on node): it is written once from these
cases and then checked byte for byte by each runtime; one alert is also decoded by hand in the test.
"""

from __future__ import annotations

import json
from pathlib import Path

from edge_node.core import uplink_codec as codec

VECTORS = Path(__file__).resolve().parent / "data" / "uplink_vectors.json"

UPLINKS = [
    ("fire alert", "alert", dict(seq=42, age_s=0, score=913, thr=120, lvl=2, boot=3, bat_mv=3710,
                                 temp_cc=4120, rh_cp=1830, gas_q8=-3671, flt=0)),
    ("suspect alert, gas channel faulty, seq past 65535, cold", "alert",
     dict(seq=70000, age_s=95, score=6000, thr=5377, lvl=1, boot=12, bat_mv=2905,
          temp_cc=-515, rh_cp=9999, gas_q8=None, flt=4)),
    ("alert at every limit", "alert", dict(seq=65535, age_s=10 * 86400, score=10 ** 9, thr=0, lvl=2, boot=7,
                                           bat_mv=1000, temp_cc=30000, rh_cp=0, gas_q8=32767, flt=63)),
    ("alert queued for three hours", "alert", dict(seq=7, age_s=3 * 3600 + 59, score=0, thr=5377, lvl=2, boot=0,
                                                   bat_mv=4400, temp_cc=-10000, rh_cp=10000, gas_q8=-32768, flt=0)),
    ("healthy heartbeat", "heartbeat", dict(seq=43, age_s=3, boot=3, bat_mv=3020, queued=0, flt=0, temp_cc=1234,
                                            rh_cp=5678, gas_q8=-4200, bat_pct=87)),
    ("heartbeat, sensor bus and storage faulty, long queue", "heartbeat",
     dict(seq=1, age_s=4000, boot=9, bat_mv=2301, queued=30, flt=24, temp_cc=None, rh_cp=None, gas_q8=None,
          bat_pct=None)),
    ("status after a join", "status", dict(reason=codec.STATUS_BOOT, boot=123456789, thr=5377,
                                           sample_interval_s=30, heartbeat_interval_s=3600)),
    ("status after a config downlink", "status", dict(reason=codec.STATUS_CONFIG_APPLIED, boot=5, thr=6000,
                                                      sample_interval_s=86400, heartbeat_interval_s=604800)),
]

CONFIGS = [
    ("threshold only", dict(thr=6000)),
    ("intervals", dict(sample_interval_s=60, heartbeat_interval_s=7200)),
    ("everything and a status request", dict(thr=65535, sample_interval_s=86400, heartbeat_interval_s=604800,
                                             ask_status=True)),
    ("status request only", dict(ask_status=True)),
]

BAD_CONFIGS = [dict(thr=0), dict(sample_interval_s=5), dict(heartbeat_interval_s=604801), dict()]
BAD_DOWNLINKS = ["", "48", "4817", "481770ff", "0817", "5817", "c817"]
BAD_UPLINKS = ["", "00" * 10, "00" * 11, "f0" * 11, "40" * 12]

_ENCODERS = {"alert": codec.encode_alert, "heartbeat": codec.encode_heartbeat, "status": codec.encode_status}


def build() -> dict:
    uplinks = []
    for name, kind, args in UPLINKS:
        frame = _ENCODERS[kind](**args)
        uplinks.append({"name": name, "kind": kind, "args": args, "hex": frame.hex(),
                        "decoded": codec.decode_uplink(frame)})
    configs = [{"name": name, "config": cfg, "hex": codec.encode_config(**cfg).hex(),
                "decoded": codec.decode_config(codec.encode_config(**cfg))} for name, cfg in CONFIGS]
    return {"codec_version": codec.CODEC_VERSION, "fport": codec.FPORT, "uplinks": uplinks, "configs": configs,
            "bad_configs": BAD_CONFIGS, "bad_downlinks": BAD_DOWNLINKS, "bad_uplinks": BAD_UPLINKS}


if __name__ == "__main__":
    VECTORS.write_text(json.dumps(build(), indent=1) + "\n")
    print("wrote", VECTORS)
