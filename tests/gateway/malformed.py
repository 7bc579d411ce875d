"""A seeded generator of bad MQTT messages, each paired with the rejection reason it must get."""

from __future__ import annotations

import json
import random

from edge_node.core import schema

_ALERT_RANGES = {"seq": (0, 1 << 53), "t_ms": (0, 1 << 53), "score": (0, 1 << 53), "thr": (0, 1 << 53),
                 "temp_cc": (-10000, 30000), "rh_cp": (0, 10000), "gas": (0, 1 << 53),
                 "gas_q8": (-32768, 32767), "bat_mv": (0, 10000), "lvl": (1, 2), "boot": (0, (1 << 31) - 1)}
# In v2 a faulty channel's reading may be absent; these may not.
_ALERT_REQUIRED = ("seq", "t_ms", "score", "thr", "lvl", "boot", "bat_mv")
_NOT_INTS = ["12", 1.5, True, None, [], {}, "", 1e300]


def _good(rng: random.Random, site: str, node: str) -> tuple[str, dict]:
    payload = json.loads(schema.encode_alert(node, rng.randrange(1, 1000), 1_782_864_000_000 + rng.randrange(10**9),
                                             rng.randrange(10**6), 500, 2500, 4000, 60_000, -3000, 3700))
    return schema.topic(site, node, "alert"), payload


def _dump(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def bad_message(rng: random.Random, site: str, node: str, topic_faults: bool = True) -> tuple[str, bytes, str]:
    """(topic, payload, expected reason). topic_faults=False keeps topics a broker subscription still matches."""
    topic, msg = _good(rng, site, node)
    cases = ["garbage", "truncated", "oversized", "not_object", "no_version", "bad_version", "node_mismatch",
             "kind_mismatch", "missing_field", "bad_field", "out_of_range", "bad_id"]
    if topic_faults:
        cases += ["bad_topic", "topic_version", "bad_kind"]
    case = rng.choice(cases)
    if case == "garbage":  # random bytes: never a JSON object holding a valid version
        return topic, bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))), "malformed"
    if case == "truncated":
        raw = _dump(msg)
        return topic, raw[: rng.randrange(0, len(raw))], "malformed"
    if case == "oversized":
        return topic, _dump(msg) + b" " * rng.randrange(schema.MAX_PAYLOAD_BYTES, 4 * schema.MAX_PAYLOAD_BYTES), \
            "oversized"
    if case == "not_object":
        return topic, _dump(rng.choice([[msg], 7, "alert", None, True])), "malformed"
    if case == "no_version":
        if rng.random() < 0.5:
            del msg["v"]
        else:
            msg["v"] = rng.choice(["1", 1.0, None, True, [1]])
        return topic, _dump(msg), "malformed"
    if case == "bad_version":
        msg["v"] = rng.choice([0, 3, 9, -1, 10**6])
        return topic, _dump(msg), "bad_version"
    if case == "node_mismatch":
        msg["node"] = rng.choice(["other", node + "x", "", None, 5, "../" + node])
        return topic, _dump(msg), "node_mismatch"
    if case == "kind_mismatch":
        return schema.topic(site, node, rng.choice(["heartbeat", "status"])), _dump(msg), "kind_mismatch"
    if case == "missing_field":
        del msg[rng.choice(_ALERT_REQUIRED)]
        return topic, _dump(msg), "missing_field"
    if case == "bad_field":
        msg[rng.choice(list(_ALERT_RANGES))] = rng.choice(_NOT_INTS)
        return topic, _dump(msg), "bad_field"
    if case == "out_of_range":
        name = rng.choice(list(_ALERT_RANGES))
        low, high = _ALERT_RANGES[name]
        msg[name] = rng.choice([low - rng.randrange(1, 10**6), high + rng.randrange(1, 10**6)])
        return topic, _dump(msg), "out_of_range"
    if case == "bad_id":  # ids a broker passes but the schema does not allow
        bad = rng.choice(["n 01", "n.01", "é", "x" * 33, "n@1"])
        return f"emberwatch/v1/{site}/{bad}/alert", _dump({**msg, "node": bad}), "bad_id"
    if case == "bad_topic":
        return rng.choice([f"emberwatch/v1/{site}/{node}/alert/x", f"other/v1/{site}/{node}/alert",
                           f"emberwatch/v1/{site}", "", "/" * rng.randrange(1, 9)]), _dump(msg), "bad_topic"
    if case == "topic_version":
        return f"emberwatch/v{rng.choice([0, 2, 10])}/{site}/{node}/alert", _dump(msg), "bad_version"
    return f"emberwatch/v1/{site}/{node}/{rng.choice(['alarm', 'ALERT', 'x', 'status2'])}", _dump(msg), "bad_kind"
