"""Edge-node figures on real MicroPython (WebAssembly port under node):

1. per-inference CPU time and bytes allocated (`gc.mem_alloc()` deltas) for the int8 autoencoder
   alone, the whole pipeline step (features + model + detector) and one requantize, and per wake
   of the firmware's wake cycle with fake hardware (part 2);
2. one simulated day at the default settings (edge_node/config.example.json) of quiet air through
   the real wake cycle and the real MqttRadio, over a umqtt stand-in that counts MQTT 3.1.1 bytes:
   wakes per day, radio sessions, messages and bytes sent per day.

    .venv/bin/python bench/bench_micropython.py

Times are CPU time of the node process (`process.cpuUsage()` through the port's `js` module),
so a busy shared machine does not inflate them, over batches of calls (the port's ticks have
1 ms resolution and the kernel's CPU accounting is coarse over a few ms): the fastest of 10
batches (500 inferences, 10,000 requantizes) per figure. Bytes are `gc.mem_alloc()` growth over
a batch: the port frees memory only between top-level calls, so inside one the growth is
exactly what was allocated. Models: the trained default when edge_node/core/model_weights.py
exists, and always a random int8 model of the same 6-8-3-8-6 shape (tests/edge_node/random_model.py).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.edge_node import traces  # noqa: E402 (needs the project root on sys.path)
from tests.edge_node.random_model import random_weights_source  # noqa: E402
from tests.harness.micropython import run_micropython, unavailable_reason  # noqa: E402

HELPERS = ROOT / "tests" / "edge_node"

CPU_CLOCK = """
import gc, time
try:
    import js  # the node process behind the wasm port: CPU time is immune to a busy machine
    def cpu_us():
        u = js.process.cpuUsage()
        return u.user + u.system
except ImportError:  # a board: wall time is CPU time
    def cpu_us():
        return time.ticks_us()
"""

INFERENCE_SETUP = CPU_CLOCK + """
from edge_node.core.scoring import Int8Autoencoder
from edge_node.core.pipeline import NodePipeline, default_pipeline
from edge_node.core.detector import Detector
from edge_node.core.features import gas_index_q8
from edge_node.core.int8 import requantize
import parity_run
MODEL = MODEL_NAME
if MODEL == "random":
    import random_weights as w
    pipe = NodePipeline(Int8Autoencoder.from_module(w), Detector(w.THRESHOLD, w.DEBOUNCE_K, w.DEBOUNCE_N, w.COOLDOWN_S))
else:
    pipe = default_pipeline()
rows = parity_run.read_trace('/data/trace.csv')
feats = []
for r in rows:
    feats.append(pipe.step(r[0] * 1000, 60, r[1], r[2], gas_index_q8(r[3], r[4]))[2])
scorer = pipe.scorer
step_pipe = NodePipeline(scorer, Detector(scorer.threshold, 2, 3, 600))
state = [0]

def step(f):
    state[0] += 60000
    step_pipe.step(state[0], 60, 2000 + f[0], 5000 + f[2], -4000 + f[4])

def requant(f):
    # The kernel's hot spot: acc * multiplier exceeds MicroPython's 31-bit small ints, so every
    # requantize allocates a long int (the same on ESP32, also a 32-bit port).
    requantize(f[0] * 1000 + 12345, 1500000000, -7)

FNS = {"score": scorer.score, "step": step, "requantize": requant}

def measure(name, start, count):
    # One batch per top-level call: the port frees memory only between calls.
    fn = FNS[name]
    batch = [feats[(start + k) % len(feats)] for k in range(count)]
    gc.collect()
    c0 = cpu_us()
    a0 = gc.mem_alloc()
    for f in batch:
        fn(f)
    a1 = gc.mem_alloc()
    print(name, (cpu_us() - c0) / len(batch), (a1 - a0) // len(batch))
print("macs", scorer.macs() if hasattr(scorer, "macs") else 0)
"""

DAY_SCRIPT = CPU_CLOCK + """
from edge_node.core.pipeline import default_pipeline
from edge_node.radio import MqttRadio
from edge_node.wake import WakeCycle
from fakes import FakeClock, FixedBattery, MemoryStore, TraceSensor
from edge_node.config import parse_config
import json, parity_run

class FakeWlan:
    def __init__(self):
        self.on = False
    def active(self, on=None):
        if on is not None:
            self.on = on
        return self.on
    def isconnected(self):
        return self.on
    def connect(self, ssid, password):
        pass

def varint_len(n):
    size = 1
    while n >= 128:
        n >>= 7
        size += 1
    return size

def packet(remaining):
    return 1 + varint_len(remaining) + remaining

class CountingUmqtt:
    # umqtt.simple.MQTTClient's surface; counts the MQTT 3.1.1 bytes each call puts on the wire.
    up_bytes = 0
    down_bytes = 0
    publishes = 0
    payload_bytes = 0
    def __init__(self, client_id, host, port, user, password, keepalive, timeout_s=5):
        self.client_id, self.user, self.password = client_id, user, password
        self.will = None
    def set_last_will(self, topic, msg, retain, qos):
        self.will = (topic, msg)
    def connect(self):
        n = 10 + 2 + len(self.client_id)
        if self.will:
            n += 2 + len(self.will[0]) + 2 + len(self.will[1])
        if self.user:
            n += 2 + len(self.user) + 2 + len(self.password or "")
        CountingUmqtt.up_bytes += packet(n)
        CountingUmqtt.down_bytes += 4  # CONNACK
    def publish(self, topic, msg, retain, qos):
        CountingUmqtt.up_bytes += packet(2 + len(topic) + (2 if qos else 0) + len(msg))
        CountingUmqtt.down_bytes += 4 if qos else 0  # PUBACK
        CountingUmqtt.publishes += 1
        CountingUmqtt.payload_bytes += len(msg)
    def disconnect(self):
        CountingUmqtt.up_bytes += 2

cfg = parse_config(json.loads(open('/data/config.json').read()))
rows = parity_run.read_trace('/data/trace.csv')
readings = [(r[1], r[2], 101325, r[3]) for r in rows]
readings = readings + readings[::-1]  # ping-pong: quiet air without a jump at the wrap
clock = FakeClock(1780000000000)
class FakeNtp:
    # ntptime's surface; the fake clock is already right, so a sync changes nothing (NTP's UDP bytes are not counted)
    syncs = 0
    def settime(self):
        FakeNtp.syncs += 1

radio = MqttRadio(cfg, FakeWlan(), CountingUmqtt, FakeNtp())
store, seq_store, sensor = MemoryStore(2048), MemoryStore(0), TraceSensor(readings)
wakes = 86400 // cfg.sample_interval_s
totals = {"sessions": 0, "alerts": 0, "wake_us": 0, "wake_bytes": 0}

def run_wakes(count):
    # A batch of wakes per top-level call: the port frees memory only between calls, so
    # mem_alloc grows by exactly what the batch allocates.
    reports = []
    gc.collect()
    t0 = cpu_us()
    a0 = gc.mem_alloc()
    for _ in range(count):
        report = WakeCycle(cfg, default_pipeline(), sensor, FixedBattery(3900), radio, clock, store,
                           seq_store).run()
        clock.advance_ms(report.sleep_ms)
        reports.append(report)
    totals["wake_bytes"] += gc.mem_alloc() - a0
    totals["wake_us"] += cpu_us() - t0
    for report in reports:
        totals["sessions"] += 1 if report.radio_used else 0
        totals["alerts"] += 1 if report.alert else 0
"""

DAY_REPORT = """
print("wakes", wakes, "sessions", totals["sessions"], "alerts", totals["alerts"],
      "messages", CountingUmqtt.publishes, "payload_bytes", CountingUmqtt.payload_bytes,
      "mqtt_up", CountingUmqtt.up_bytes, "mqtt_down", CountingUmqtt.down_bytes,
      "wake_us", totals["wake_us"] // wakes, "wake_bytes", totals["wake_bytes"] // wakes,
      "state_blob", len(store.blob))
"""


def _files(trace_csv: str) -> dict[str, str]:
    return {
        "/lib/parity_run.py": (HELPERS / "parity_run.py").read_text(),
        "/lib/fakes.py": (HELPERS / "fakes.py").read_text(),
        "/lib/random_weights.py": random_weights_source(seed=7),
        "/data/trace.csv": trace_csv,
        "/data/config.json": (ROOT / "edge_node" / "config.example.json").read_text(),
    }


def _parse(line: str) -> dict[str, float]:
    parts = line.split()
    return {parts[i]: float(parts[i + 1]) for i in range(0, len(parts), 2)}


BATCH_CALLS = {"score": 500, "step": 500, "requantize": 10000}  # each batch >= ~100 ms of CPU


def inference(model: str, batches: int = 10) -> dict[str, float]:
    """Per call: the fastest batch's CPU time (the machine is shared) and allocated bytes."""
    trace = traces.synthetic()
    steps = [INFERENCE_SETUP.replace("MODEL_NAME", repr(model))]
    for name, batch in BATCH_CALLS.items():
        steps += [f"measure({name!r}, {i * batch}, {batch})" for i in range(batches)]
    out = run_micropython(steps, _files(trace)).splitlines()
    result = {"macs": float(out[0].split()[1])}
    for name in ("score", "step", "requantize"):
        rows = [line.split() for line in out[1:] if line.startswith(name + " ")]
        result[name + "_us"] = min(float(r[1]) for r in rows)
        result[name + "_bytes"] = max(float(r[2]) for r in rows)
    return result


def day() -> dict[str, float]:
    rows = traces.synthetic().splitlines()
    quiet = "\n".join(rows[:441]) + "\n"  # header + the 440 samples before the synthetic fire
    cfg = json.loads((ROOT / "edge_node" / "config.example.json").read_text())
    wakes = 86400 // cfg["sample_interval_s"]
    steps = [DAY_SCRIPT] + ["run_wakes(40)"] * (wakes // 40) + [f"run_wakes({wakes % 40})", DAY_REPORT]
    return _parse(run_micropython(steps, _files(quiet)).strip().splitlines()[-1])


# Everything board.py imports except machine/network (absent on the wasm port), plus the model.
BOARD_FREE_IMPORTS = """
from edge_node.config import load_config
from edge_node.core.pipeline import default_pipeline
from edge_node.drivers.battery import BatteryGauge
from edge_node.drivers.bme688 import Bme688
from edge_node.persist import FileStore, RtcMemoryStore
from edge_node.radio import MqttRadio
from edge_node.wake import WakeCycle
PIPELINE = default_pipeline()
"""


def footprint() -> dict[str, float]:
    """Flash: the .mpy image `emberwatch firmware build` makes. RAM: what stays allocated after
    importing the firmware's modules from those .mpy files and building the default pipeline."""
    import tempfile

    from edge_node.firmware_command import build
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        files = build(out)
        binaries = {"/" + f.as_posix(): (out / f).read_bytes() for f in files if f.suffix == ".mpy"}
        flash = sum((out / f).stat().st_size for f in files)
    files_text = {"/lib/edge_node/board_free_imports.py": BOARD_FREE_IMPORTS}
    steps = ["import gc\ngc.collect()\nbase = gc.mem_alloc()",
             "import edge_node.board_free_imports",  # its own call, so compile garbage is freed after
             "gc.collect()\nprint('resident', gc.mem_alloc() - base)"]
    out_lines = run_micropython(steps, files_text, binary_files=binaries, with_sources=False).split()
    return {"files": len(files), "flash_bytes": flash, "resident_bytes": float(out_lines[-1])}


def main() -> int:
    reason = unavailable_reason()
    if reason:
        print("cannot run MicroPython:", reason, file=sys.stderr)
        return 1
    models = ["random"]
    if importlib.util.find_spec("edge_node.core.model_weights") is not None:
        models.insert(0, "default")
    results = {m: inference(m) for m in models}
    for model, r in results.items():
        print(f"{model} model ({int(r['macs'])} MACs): score {r['score_us']:.1f} us, {int(r['score_bytes'])} B "
              f"allocated; pipeline step {r['step_us']:.1f} us, {int(r['step_bytes'])} B allocated; one requantize "
              f"{r['requantize_us']:.1f} us, {int(r['requantize_bytes'])} B allocated")
    f = footprint()
    print(f"firmware image: {int(f['files'])} files, {int(f['flash_bytes'])} B on flash; "
          f"{int(f['resident_bytes'])} B of RAM stay allocated after importing it and building the "
          f"default pipeline")
    d = day()
    cfg = json.loads((ROOT / "edge_node" / "config.example.json").read_text())
    print(f"default day (sample {cfg['sample_interval_s']} s, heartbeat {cfg['heartbeat_interval_s']} s, "
          f"quiet air): {int(d['wakes'])} wakes, {int(d['sessions'])} radio sessions, {int(d['alerts'])} alerts, "
          f"{int(d['messages'] - d['sessions'])} alerts+heartbeats + {int(d['sessions'])} retained online "
          f"statuses, {int(d['payload_bytes'])} payload B, MQTT {int(d['mqtt_up'])} B up / "
          f"{int(d['mqtt_down'])} B down per day; one wake {d['wake_us'] / 1000:.2f} ms compute, "
          f"{int(d['wake_bytes'])} B allocated (CPU time); RTC state blob {int(d['state_blob'])} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
