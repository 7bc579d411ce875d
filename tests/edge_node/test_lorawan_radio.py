"""The LoRaWAN radio (RAK3172, RUI3 AT dialect) through the real wake cycle, on CPython and on real
MicroPython against the same modem stand-in: the two runtimes print the same lines."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge_node.core import schema
from tests.edge_node.mp import helper_files, require_micropython, run_on_micropython

HERE = Path(__file__).resolve().parent


def _cpython_lines() -> list[str]:
    sys.path.insert(0, str(HERE))
    try:
        import lorawan_scenario
    finally:
        sys.path.remove(str(HERE))
    lines: list[str] = []
    lorawan_scenario.run(lines.append)
    return lines


def test_join_once_alerts_confirmed_heartbeats_not_and_errors_keep_messages_queued() -> None:
    lines = _cpython_lines()
    text = "\n".join(lines)
    wakes = [line for line in lines if line.startswith("wake ")]
    # first wake: join, the heartbeat, then the status frame; all unconfirmed (0), frame counter from 1
    assert wakes[0] == "wake 0 alert=0 queued=0 error= frames=[('heartbeat', 0, 1, 1), ('status', 0, 2, 0)]"
    # the wake cycle reports the detector's level (schema.LEVEL_SUSPECT / LEVEL_FIRE); both kinds are raised
    levels = [int(line.split(" alert=")[1].split()[0]) for line in wakes]
    assert {schema.LEVEL_SUSPECT, schema.LEVEL_FIRE} <= set(levels)
    raised = [line for line, level in zip(wakes, levels) if level]
    assert all("('alert', 1," in line or "queued=1" in line for line in raised)  # each one sent or kept
    alerts = [line for line in wakes if "('alert'," in line]
    assert alerts and all("('alert', 1," in line for line in alerts)  # alerts confirmed, heartbeats not
    assert all("('heartbeat', 1," not in line for line in wakes)
    unacked = next(i for i, line in enumerate(wakes) if "no ack after 2 confirmed sends" in line)
    assert " alert=%d queued=1 " % schema.LEVEL_FIRE in wakes[unacked]  # the fire alert kept in the outbox...
    assert "queued=0 error= frames=[('alert', 1," in wakes[unacked + 1]  # ...and delivered at the next wake
    assert "joins 1, modem low-power mode 1" in lines  # one OTAA join across 36 deep sleeps
    assert "duty cycle, then free: sent after" in text
    assert "duty cycle past the budget: lorawan send alert: AT_DUTYCYCLE_RESTRICTED after 100" in text
    assert "no ack: lorawan send alert: no ack after 2 confirmed sends" in text
    assert "ack on the second try: sent" in text
    assert "modem silent: lorawan send heartbeat: no TX_DONE from the modem" in text
    assert "after the rejoin: fcnts=[1, 2] frames=[('alert', 1, 1, 1006), ('status', 0, 2, 0)]" in lines
    applied = lines.index(next(line for line in lines if line.startswith("downlink in bounds")))
    assert lines[applied + 1].startswith("  thr=250 sample=60 heartbeat=1200")
    assert lines[applied + 1].endswith("('status', 0, 4, 1)]")  # status: applied
    assert "below the sample bound" in lines[applied + 2] and lines[applied + 3].endswith("('status', 0, 6, 2)]")
    assert lines[applied + 5].startswith("  thr=250 sample=60 heartbeat=1200")  # refused whole
    assert lines[applied + 5].endswith("('status', 0, 8, 2)]")
    assert lines[applied + 7].endswith("('status', 0, 10, 3)]")  # status on request
    assert "after a reboot: thr=250 heartbeat=1200" in lines
    # the radio is built with boot 0 (as board.py builds it); the status frames report the boot counter
    # the messages carry: 42 after the wake cycle's power-on (41 on flash), 7 in the hand-made messages
    assert "status frames report boots [42, 7, 7, 7, 7, 7]" in lines
    assert lines[-1] == "no join: lorawan join: +EVT:JOIN_FAILED_RX_TIMEOUT"


@pytest.mark.slow
def test_micropython_runs_the_same_scenario_line_for_line() -> None:
    require_micropython()
    script = "import lorawan_scenario\nlorawan_scenario.run(print)\n"
    got = run_on_micropython(script, helper_files("fakes", "rak3172_standin", "lorawan_scenario"))
    assert got == _cpython_lines()
