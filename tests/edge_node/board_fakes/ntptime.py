"""A fake `ntptime`: settime() moves the fake RTC (machine.clock_ms) to the true time, or times out."""

import machine

host = "pool.ntp.org"
timeout = 1
reachable = True
true_ms = 1780000000000  # what NTP says at the test's first boot
calls = []


def settime():
    calls.append((host, timeout))
    if not reachable:
        raise OSError(110)
    machine.clock_ms = true_ms + machine.slept_ms
