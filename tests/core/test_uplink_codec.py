"""The binary LoRaWAN codec: one set of vectors, checked on CPython, real MicroPython and node (the
JavaScript formatter a network server runs), byte for byte."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_node.core import uplink_codec as codec
from tests.core.uplink_vector_cases import VECTORS, build
from tests.edge_node.mp import require_micropython
from tests.harness.micropython import run_micropython

ROOT = Path(__file__).resolve().parents[2]
CODEC_JS = ROOT / "deploy" / "lorawan" / "codec.js"
VECTOR_DATA = json.loads(VECTORS.read_text())
_ENCODERS = {"alert": codec.encode_alert, "heartbeat": codec.encode_heartbeat, "status": codec.encode_status}


def test_committed_vectors_are_what_the_cases_give() -> None:
    assert build() == VECTOR_DATA


def test_every_uplink_fits_the_smallest_lorawan_payload() -> None:
    for case in VECTOR_DATA["uplinks"]:
        assert len(bytes.fromhex(case["hex"])) == 11  # US915 DR0 carries 11 bytes


def test_fire_alert_decoded_by_hand() -> None:
    frame = bytes.fromhex(VECTOR_DATA["uplinks"][0]["hex"])
    bits = "".join(format(b, "08b") for b in frame)
    fields = []
    for width in (2, 2, 1, 3, 16, 8, 16, 10, 7, 10, 7, 6):
        fields.append(int(bits[:width], 2))
        bits = bits[width:]
    version, kind, fire, boot, seq, age, ratio, temp, rh, gas, bat, flt = fields
    assert (version, kind, fire, boot, seq, age) == (1, 0, 1, 3, 42, 0)
    assert ratio == 913 * 256 // 120
    assert temp * 0.2 - 40 == pytest.approx(41.2) and rh == 18 and bat * 20 + 1800 == 3720
    assert gas - 1024 == -3671 // 16 and flt == 0


def test_cpython_decodes_and_encodes_the_vectors() -> None:
    for case in VECTOR_DATA["uplinks"]:
        assert _ENCODERS[case["kind"]](**case["args"]).hex() == case["hex"], case["name"]
        assert codec.decode_uplink(bytes.fromhex(case["hex"])) == case["decoded"], case["name"]
    for case in VECTOR_DATA["configs"]:
        assert codec.encode_config(**case["config"]).hex() == case["hex"]
        assert codec.decode_config(bytes.fromhex(case["hex"])) == case["decoded"]


def test_bad_frames_and_out_of_bounds_configs_are_refused() -> None:
    for bad in VECTOR_DATA["bad_configs"]:
        with pytest.raises(codec.CodecError):
            codec.encode_config(**bad)
    for bad in VECTOR_DATA["bad_downlinks"]:
        with pytest.raises(codec.CodecError):
            codec.decode_config(bytes.fromhex(bad))
    for bad in VECTOR_DATA["bad_uplinks"]:
        with pytest.raises(codec.CodecError):
            codec.decode_uplink(bytes.fromhex(bad))


@given(seq=st.integers(0, 2**40), score=st.integers(0, 10**6), thr=st.integers(1, 65535),
       temp=st.integers(-4000, 16400), rh=st.integers(0, 10000), gas=st.integers(-8176, 8176),
       bat=st.integers(1800, 4320), age=st.integers(0, 59), boot=st.integers(0, 2**31 - 1),
       flt=st.integers(0, 63), fire=st.booleans())
def test_alert_round_trip_loses_only_the_documented_resolution(seq: int, score: int, thr: int, temp: int, rh: int,
                                                               gas: int, bat: int, age: int, boot: int, flt: int,
                                                               fire: bool) -> None:
    frame = codec.encode_alert(seq, age, score, thr, 2 if fire else 1, boot, bat, temp, rh, gas, flt)
    out = codec.decode_uplink(frame)
    assert out["seq16"] == seq % 65536 and out["boot3"] == boot % 8 and out["age_s"] == age
    assert out["lvl"] == (2 if fire else 1) and out["flt"] == flt
    assert out["ratio_q8"] == min(score * 256 // thr, 65535)
    assert abs(out["temp_cc"] - temp) <= 10 and abs(out["rh_cp"] - rh) <= 50
    assert 0 <= gas - out["gas_q8"] < 16 and abs(out["bat_mv"] - bat) <= 10


@given(st.integers(0, 200 * 3600))
def test_age_is_never_reported_older_than_it_is(age_s: int) -> None:
    decoded = codec.age_seconds(codec.age_code(age_s))
    assert decoded <= age_s or age_s >= 137 * 3600
    assert age_s - decoded < (60 if age_s < 3600 else 3600) or age_s >= 137 * 3600


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (tests/harness/install_system_deps.sh installs it)")
    return node


JS_CHECK = """
const codec = require(process.argv[1]);
const vectors = require(process.argv[2]);
const hex = (b) => Buffer.from(b).toString("hex");
const out = {uplinks: [], configs: [], bad_configs: [], bad_uplinks: []};
for (const c of vectors.uplinks) {
  out.uplinks.push(codec.decodeUplink({bytes: [...Buffer.from(c.hex, "hex")], fPort: 10}));
}
for (const c of vectors.configs) {
  const r = codec.encodeDownlink({data: c.config});
  out.configs.push({hex: hex(r.bytes), fPort: r.fPort});
}
for (const c of vectors.bad_configs) out.bad_configs.push(codec.encodeDownlink({data: c}).errors || null);
for (const h of vectors.bad_uplinks) {
  out.bad_uplinks.push(codec.decodeUplink({bytes: [...Buffer.from(h, "hex")], fPort: 10}).errors || null);
}
console.log(JSON.stringify(out));
"""


def test_javascript_formatter_agrees_byte_for_byte() -> None:
    done = subprocess.run([_node(), "-e", JS_CHECK, str(CODEC_JS), str(VECTORS)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert [g["data"] for g in got["uplinks"]] == [c["decoded"] for c in VECTOR_DATA["uplinks"]]
    assert got["configs"] == [{"hex": c["hex"], "fPort": codec.FPORT} for c in VECTOR_DATA["configs"]]
    assert all(errors for errors in got["bad_configs"])
    assert all(errors for errors in got["bad_uplinks"])


MP_CHECK = """
import json
from edge_node.core import uplink_codec as codec
v = json.loads(open('/vectors.json').read())
enc = {'alert': codec.encode_alert, 'heartbeat': codec.encode_heartbeat, 'status': codec.encode_status}
def hx(b):
    return ''.join('%02x' % x for x in b)
def unhex(s):
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))
for c in v['uplinks']:
    print('up', hx(enc[c['kind']](**c['args'])), json.dumps(codec.decode_uplink(unhex(c['hex']))))
for c in v['configs']:
    print('cfg', hx(codec.encode_config(**c['config'])), json.dumps(codec.decode_config(unhex(c['hex']))))
for h in v['bad_downlinks']:
    try:
        codec.decode_config(unhex(h))
        print('bad accepted', h)
    except codec.CodecError:
        print('bad refused')
"""


@pytest.mark.slow
def test_micropython_agrees_byte_for_byte() -> None:
    require_micropython()
    lines = run_micropython(MP_CHECK, {"/vectors.json": VECTORS.read_text()}).splitlines()
    ups = [line.split(" ", 2) for line in lines if line.startswith("up ")]
    assert [u[1] for u in ups] == [c["hex"] for c in VECTOR_DATA["uplinks"]]
    assert [json.loads(u[2]) for u in ups] == [c["decoded"] for c in VECTOR_DATA["uplinks"]]
    cfgs = [line.split(" ", 2) for line in lines if line.startswith("cfg ")]
    assert [c[1] for c in cfgs] == [c["hex"] for c in VECTOR_DATA["configs"]]
    assert [json.loads(c[2]) for c in cfgs] == [c["decoded"] for c in VECTOR_DATA["configs"]]
    assert lines.count("bad refused") == len(VECTOR_DATA["bad_downlinks"])


PASTED = """
const vm = require("vm");
const fs = require("fs");
const ctx = {};  // like a network server's sandbox: no require, no module, no Buffer
vm.runInNewContext(fs.readFileSync(process.argv[1], "utf8"), ctx);
const up = ctx.decodeUplink({bytes: JSON.parse(process.argv[2]), fPort: 10, recvTime: new Date()});
const down = ctx.encodeDownlink({data: {thr: 6000}});
console.log(JSON.stringify({up: up, down: down}));
"""


def test_formatter_works_pasted_into_a_bare_sandbox() -> None:
    case = VECTOR_DATA["uplinks"][0]
    done = subprocess.run([_node(), "-e", PASTED, str(CODEC_JS), json.dumps(list(bytes.fromhex(case["hex"])))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["up"]["data"] == case["decoded"]
    assert got["down"] == {"bytes": list(codec.encode_config(thr=6000)), "fPort": 10}
