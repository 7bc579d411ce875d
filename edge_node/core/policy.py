"""The node's messaging policy, independent of any radio: when to beat, when to retry, what goes first.

The firmware's wake cycle (edge_node/wake.py, edge_node/outbox.py) and the simulator
(simulator/scenario.py) both decide with these functions, so the simulated fleet sends
what a real node sends. Pure and integer-only; `heartbeat_due` is written with
comparisons and `|` only, so it serves one node's ints and a fleet's numpy arrays alike.
"""

KIND_ALERT = "alert"
KIND_HEARTBEAT = "heartbeat"

# An RTC reading before 2025-01-01 was never set (ESP32 ports start at 2000-01-01).
EARLIEST_VALID_MS = 1735689600000
# The ESP32's RTC runs on its internal 150 kHz RC oscillator in deep sleep unless an external
# crystal is fitted: Espressif quotes ~5 % frequency drift over temperature for it, i.e. minutes a
# day. Resync every few hours keeps event times within seconds of the gateway's.
CLOCK_RESYNC_S = 6 * 3600
# A resync that moves the clock more than this says the RTC drifts fast: resync sooner.
CLOCK_DRIFT_ALARM_MS = 10000


def heartbeat_due(last_heartbeat_ms, now_ms, heartbeat_interval_s, sample_interval_s):
    """True when a heartbeat is due: never sent, clock went backwards, or an interval has passed.

    Half a sample of slack, so wake-time jitter never delays a beat by a whole interval.
    """
    due_ms = heartbeat_interval_s * 1000 - sample_interval_s * 500
    return (last_heartbeat_ms < 0) | (now_ms < last_heartbeat_ms) | (now_ms - last_heartbeat_ms >= due_ms)


def retry_after_ms(now_ms: int, failures: int, sample_interval_s: int, heartbeat_interval_s: int) -> int:
    """When to try the radio again after `failures` consecutive failed sessions.

    The next wake first, then after 2, 4, ... sample intervals, never longer than a heartbeat
    interval (half a sample early, so the wake that lands near the deadline takes it).
    """
    interval_ms = sample_interval_s * 1000
    exponent = failures - 1 if failures > 1 else 0
    wait_ms = interval_ms << (exponent if exponent < 16 else 16)
    cap_ms = heartbeat_interval_s * 1000
    if wait_ms > cap_ms:
        wait_ms = cap_ms
    return now_ms + wait_ms - interval_ms // 2


def transmit_now(queued: int, new_alert: bool, now_ms: int, retry_after: int, heartbeat_interval_s: int) -> bool:
    """Switch the radio on: something is queued and either a fresh alert or the back-off is over.

    A retry deadline further ahead than one heartbeat means the clock went backwards: retry now.
    """
    if queued <= 0:
        return False
    if new_alert or now_ms >= retry_after:
        return True
    return retry_after - now_ms > heartbeat_interval_s * 1000


def send_order(kinds) -> list:
    """Indices of queued messages in sending order: alerts oldest first, then heartbeats oldest first."""
    alerts = [i for i in range(len(kinds)) if kinds[i] == KIND_ALERT]
    beats = [i for i in range(len(kinds)) if kinds[i] != KIND_ALERT]
    return alerts + beats


def drop_index(kinds) -> int:
    """Which queued message to drop when full: the oldest heartbeat, else the oldest alert (-1: empty)."""
    for i in range(len(kinds)):
        if kinds[i] == KIND_HEARTBEAT:
            return i
    return 0 if len(kinds) else -1


def clock_is_set(now_ms: int) -> bool:
    return now_ms >= EARLIEST_VALID_MS


def clock_sync_due(now_ms: int, last_sync_ms: int, resync_s: int) -> bool:
    """NTP is due: the clock was never set, never synced, ran backwards, or resync_s has passed."""
    if not clock_is_set(now_ms) or last_sync_ms < 0 or now_ms < last_sync_ms:
        return True
    return now_ms - last_sync_ms >= resync_s * 1000


def next_resync_s(correction_ms: int, resync_s: int) -> int:
    """After a sync that corrected the clock by correction_ms: halve the interval when it drifts fast."""
    if correction_ms < 0:
        correction_ms = -correction_ms
    if correction_ms > CLOCK_DRIFT_ALARM_MS:
        return resync_s // 2 if resync_s >= 7200 else 3600
    return resync_s


def longest_wake_ms(sensor_ms: int, wifi_timeout_s: int, socket_timeout_s: int, queue_capacity: int,
                    ntp_timeout_s: int) -> int:
    """The longest a wake may legally take, every network operation running into its timeout.

    Boot and state handling (2 s), the sensor, NTP, the Wi-Fi join, MQTT connect + CONNACK, the
    retained `online` and every queued message each waiting for its PUBACK, the disconnect. The
    watchdog is armed to this, so only a hang (a bug, a stuck driver) ever trips it.
    """
    network_ms = (wifi_timeout_s + ntp_timeout_s + socket_timeout_s * (queue_capacity + 3)) * 1000
    return 2000 + sensor_ms + network_ms
