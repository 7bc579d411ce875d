"""The LoRaWAN radio (RAK3172, RUI3 AT dialect) through the real wake cycle, on CPython and on real
MicroPython against the same modem stand-in: the two runtimes print the same lines."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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
    assert lines[0] == "wake 0 alert=False queued=0 error= frames=[('status', 0, 1, 0), ('heartbeat', 0, 2, 1)]"
    assert "wake 23 alert=True queued=0 error= frames=[('alert', 1, 5, 4)]" in lines  # confirmed (1)
    assert ("wake 33 alert=True queued=1 error=radio publish: lorawan send alert: no ack after 2 confirmed sends "
            "frames=[]") in lines
    assert "wake 34 alert=False queued=0 error= frames=[('alert', 1, 9, 6)]" in lines  # delivered from the outbox
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
    assert lines[-1] == "no join: lorawan join: +EVT:JOIN_FAILED_RX_TIMEOUT"


@pytest.mark.slow
def test_micropython_runs_the_same_scenario_line_for_line() -> None:
    require_micropython()
    script = "import lorawan_scenario\nlorawan_scenario.run(print)\n"
    got = run_on_micropython(script, helper_files("fakes", "rak3172_standin", "lorawan_scenario"))
    assert got == _cpython_lines()
