"""A scripted day in a node's life, run through the real wake cycle with fake hardware.

Runs on CPython and MicroPython; prints one line per wake so the two runtimes
can be compared line by line, and returns the reports for assertions.
Script: quiet air, a radio outage, a fire during the outage, recovery, and
one wake whose RTC memory was corrupted.
"""

from fakes import (
    FakeClock,
    FakeRadio,
    FixedBattery,
    MemoryStore,
    TraceSensor,
    make_config,
)

from edge_node.core.detector import Detector
from edge_node.core.pipeline import NodePipeline
from edge_node.core.scoring import RiseRule
from edge_node.wake import WakeCycle

START_MS = 1780000000000
WAKES = 150
OUTAGE = (60, 110)       # radio down for these wakes
CORRUPT_AT = 130         # RTC memory scrambled before this wake
SENSOR_FAULT_AT = 20     # one failed sensor read


def scenario_rows():
    rows = []
    for i in range(WAKES):
        temp_cc, rh_cp, gas = 1800 + (i % 7), 5500 - (i % 5), 150000 + 100 * (i % 3)
        if 80 <= i < 100:  # a fire passes during the outage
            k = i - 79
            temp_cc += 80 * k
            rh_cp -= 60 * k
            gas = gas * 10 // (10 + k)
        rows.append(None if i == SENSOR_FAULT_AT else (temp_cc, rh_cp, 101325, gas))
    return rows


def run(emit, heartbeat_interval_s=900, queue_capacity=6):
    cfg = make_config(sample_interval_s=60, heartbeat_interval_s=heartbeat_interval_s,
                      queue_capacity=queue_capacity)
    clock = FakeClock(START_MS)
    radio = FakeRadio()
    store = MemoryStore(2048)
    seq_store = MemoryStore(0)
    sensor = TraceSensor(scenario_rows())
    reports = []
    for i in range(WAKES):
        radio.up = not (OUTAGE[0] <= i < OUTAGE[1])
        if i == CORRUPT_AT:
            store.blob = store.blob[:20] + b"x" + store.blob[21:]
        rule = RiseRule()
        # A fresh pipeline each wake, as after a real deep sleep: all memory comes from the store.
        pipeline = NodePipeline(rule, Detector(rule.threshold, 2, 3, 600))
        report = WakeCycle(cfg, pipeline, sensor, FixedBattery(3800 - i), radio, clock, store,
                           seq_store).run()
        reports.append(report)
        emit(str(i) + " " + ("A" if report.alert else "-") + " " + str(report.score) + " "
             + str(report.queued) + " " + str([p for _, p in report.sent]) + " "
             + report.error + "|" + report.state_reset + "|" + str(report.sleep_ms))
        clock.advance_ms(report.sleep_ms + 1500)  # wake-up jitter: the RTC timer is not exact
    return reports, radio, store, seq_store
