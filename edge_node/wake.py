"""One wake of a node: read -> features -> score -> decide -> maybe transmit -> plan sleep.

All hardware is passed in (sensor, battery gauge, radio, clock, stores), so
the same code runs on an ESP32, under CPython tests with fakes, and on the
MicroPython test runner. The thinking is `edge_node.core.pipeline`; when to
beat, retry and what goes first is `edge_node.core.policy` (shared with the
simulator); the exceptions adapters raise live in `edge_node.errors`.

The radio is the expensive part, so it is switched on only when there is
something to send: a fresh alert, a due heartbeat, or queued messages once
the backoff after a failed attempt has passed. A radio that offers
`sync_clock()` (Wi-Fi: NTP) needs a set clock: no message is encoded before
the clock is set; alerts raised meanwhile are held and stamped once it is.
A dead sensor never silences the node: heartbeats go out with fault bits.
Runs on MicroPython and CPython.
"""

from edge_node.core import battery_state, policy, schema
from edge_node.core.features import GAS_SIGN_RESISTANCE, gas_index_q8
from edge_node.errors import RadioError, SensorError, StorageError
from edge_node.outbox import KIND_ALERT, KIND_HEARTBEAT, Outbox
from edge_node.persist import load_state, next_seq, pack_state, retry_seq_floor

__all__ = ["RadioError", "SensorError", "StorageError", "WakeCycle", "WakeReport"]

MQTT_QOS = 1
_GAS_FAST_EMA = 6  # FeatureState.ema index of the gas channel's fast average (Q8)
_GAS_STARTED = 4   # FeatureState.started bit of the gas channel


class WakeReport:
    """What one wake did; logged on the device, asserted on in tests."""

    def __init__(self) -> None:
        self.t_ms = 0
        self.alert = False
        self.score = -1
        self.features: list = []
        self.heartbeat = False
        self.radio_used = False
        self.sent: list = []      # (topic, payload) in the order the broker acknowledged them
        self.queued = 0           # messages still waiting after this wake
        self.held = 0             # alerts waiting for the clock to be set
        self.faults = 0           # schema.FAULT_* bits this wake
        self.boot = 0
        self.state_reset = ""     # why saved state was discarded ("" when it was fine)
        self.error = ""           # sensor, storage, clock or radio trouble this wake
        self.error_is_new = False  # differs from the previous wake's (only new errors go to error.log)
        self.clock_synced = False
        self.clock_correction_ms = 0  # how far NTP moved the clock this wake
        self.sleep_ms = 0


class WakeCycle:
    def __init__(self, config, pipeline, sensor, battery, radio, clock, store, seq_store,
                 boot_store=None, power_on: bool = False) -> None:
        self.cfg = config
        self.pipeline = pipeline
        self.sensor = sensor
        self.battery = battery
        self.radio = radio
        self.clock = clock
        self.store = store
        self.seq_store = seq_store
        self.boot_store = boot_store
        self.power_on = power_on
        # Only a radio that can set the clock needs it set (LoRaWAN stamps age, not wall time).
        self.needs_clock = hasattr(radio, "sync_clock")

    def run(self) -> WakeReport:
        cfg = self.cfg
        report = WakeReport()
        now_ms = self.clock.now_ms()
        report.t_ms = now_ms
        state, report.state_reset = load_state(self.store, self.seq_store)
        state.wakes += 1
        errors: list = []
        self._count_boot(state, errors)
        report.boot = state.boot
        retry_seq_floor(state, self.seq_store)
        outbox = Outbox(cfg.queue_capacity)
        try:
            outbox.restore(state.outbox)
        except ValueError:
            outbox = Outbox(cfg.queue_capacity)
        self.pipeline.restore_lists(state.features, state.detector)
        reading = self._read(report, errors)
        report.faults = self._faults(state, reading, now_ms)
        new_alert = self._think(state, reading, report, now_ms)
        clock_ok = not self.needs_clock or policy.clock_is_set(now_ms)
        if report.alert:
            alert = [now_ms, report.score, self.pipeline.threshold()] + reading + [report.alert]
            if clock_ok:
                self._queue_alert(state, outbox, alert, report, errors)
            else:
                # held alerts share the queue's room in RTC memory (config.QUEUE_CAPACITY_MAX)
                room = cfg.queue_capacity - len(outbox)
                state.held = (state.held + [alert])[-(room if room > 1 else 1):]
        beat_due = policy.heartbeat_due(state.last_heartbeat_ms, now_ms, cfg.heartbeat_interval_s,
                                        cfg.sample_interval_s)
        if beat_due and clock_ok:
            self._queue_heartbeat(state, outbox, reading, now_ms, report, errors)
        pending = len(outbox) + len(state.held) + (1 if beat_due and not clock_ok else 0)
        if policy.transmit_now(pending, new_alert, now_ms, state.retry_after_ms, cfg.heartbeat_interval_s):
            report.radio_used = True
            self._session(state, outbox, reading, beat_due and not clock_ok, report, errors, now_ms)
        state.features, state.detector = self.pipeline.to_lists()
        state.outbox = outbox.to_list()
        report.queued = len(outbox)
        report.held = len(state.held)
        report.error = "; ".join(errors)
        report.error_is_new = report.error[:60] != state.last_error  # RTC memory keeps only the head
        state.last_error = report.error[:60]
        self._save(state, outbox)
        elapsed_ms = self.clock.now_ms() - now_ms - report.clock_correction_ms  # a clock jump is not time awake
        report.sleep_ms = max(1000, cfg.sample_interval_s * 1000 - elapsed_ms)
        return report

    def _count_boot(self, state, errors) -> None:
        """The boot counter lives on flash (+1 at each power-on); RTC memory caches it."""
        if self.boot_store is None or (state.boot and not self.power_on):
            return
        raw = self.boot_store.load()
        try:
            on_flash = int(bytes(raw).decode()) if raw else 0
        except (ValueError, UnicodeError):
            on_flash = 0
        boot = on_flash if on_flash > state.boot else state.boot
        if self.power_on:
            boot += 1
            try:
                self.boot_store.save(str(boot).encode())
            except (OSError, StorageError) as exc:
                state.storage_fault = 1
                errors.append("storage: boot counter: " + str(exc))
        state.boot = boot

    def _read(self, report, errors) -> list:
        """[temp_cc, rh_cp, gas_ohm, gas_q8, bat_mv, faults]; None for a channel that failed."""
        faults = 0
        temp_cc = rh_cp = gas_ohm = gas_q8 = None
        try:
            temp_cc, rh_cp, _pressure_pa, gas_ohm = self.sensor.read()
        except SensorError as exc:
            errors.append("sensor: " + str(exc))
            faults |= schema.FAULT_SENSOR_BUS
        if gas_ohm is None and not faults:
            faults |= schema.FAULT_GAS  # the heater missed its target: T and RH are still good
        if gas_ohm is not None:
            gas_q8 = gas_index_q8(gas_ohm, GAS_SIGN_RESISTANCE)
        return [temp_cc, rh_cp, gas_ohm, gas_q8, self.battery.read_mv(), faults]

    def _think(self, state, reading, report, now_ms: int) -> bool:
        """Run the pipeline on this reading; True when it raised an alert."""
        temp_cc, rh_cp, _gas_ohm, gas_q8 = reading[0], reading[1], reading[2], reading[3]
        if temp_cc is None:
            return False
        if gas_q8 is None:
            features = self.pipeline.features
            if not features.started & _GAS_STARTED:
                return False  # no gas baseline yet: nothing to stand in for the missing channel
            gas_q8 = features.ema[_GAS_FAST_EMA] >> 8  # no new gas evidence: hold the channel where it was
        dt_s = self.cfg.sample_interval_s
        if state.last_sample_ms >= 0:
            dt_s = (now_ms - state.last_sample_ms) // 1000
        alert, score, feats = self.pipeline.step(now_ms, dt_s, temp_cc, rh_cp, gas_q8)  # alert: its level, 0 = none
        # the pipeline's own checks (railing, stuck, dead channels): those readings stay off the wire
        flt = self.pipeline.faults
        reading[5] |= flt
        if flt & schema.FAULT_TEMP:
            reading[0] = None
        if flt & schema.FAULT_RH:
            reading[1] = None
        if flt & schema.FAULT_GAS:
            reading[2] = reading[3] = None
        state.last_sample_ms = now_ms
        report.score, report.features = score, feats
        if alert:
            report.alert = alert
        return alert

    def _faults(self, state, reading, now_ms: int) -> int:
        faults = reading[5]
        if state.storage_fault:
            faults |= schema.FAULT_STORAGE
        if self.needs_clock and state.last_sync_ms >= 0:
            if now_ms - state.last_sync_ms > 2 * self._resync_s(state) * 1000:
                faults |= schema.FAULT_CLOCK
        return faults

    def _resync_s(self, state) -> int:
        return state.resync_s or self.cfg.ntp_resync_s

    def _queue_alert(self, state, outbox, alert, report, errors) -> None:
        t_ms, score, thr, temp_cc, rh_cp, gas_ohm, gas_q8, bat_mv, _, level = alert
        seq = next_seq(state, self.seq_store)  # first: a failing flash write shows in this message's faults
        try:
            outbox.push(KIND_ALERT, schema.encode_alert(
                self.cfg.node, seq, t_ms, score, thr, temp_cc, rh_cp, gas_ohm,
                gas_q8, bat_mv, level, state.boot, self._faults(state, alert[3:], t_ms)))
        except schema.SchemaError as exc:
            # A reading outside the wire schema (a glitching sensor): report it, keep the node alive.
            errors.append("schema: " + str(exc))

    def _queue_heartbeat(self, state, outbox, reading, now_ms: int, report, errors) -> None:
        cfg = self.cfg
        temp_cc, rh_cp, _gas_ohm, gas_q8, bat_mv = reading[0], reading[1], reading[2], reading[3], reading[4]
        state.last_heartbeat_ms = now_ms
        report.heartbeat = True
        seq = next_seq(state, self.seq_store)
        flt = self._faults(state, reading, now_ms)
        report.faults = flt
        try:
            outbox.push(KIND_HEARTBEAT, schema.encode_heartbeat(
                cfg.node, seq, now_ms, bat_mv, temp_cc, rh_cp, gas_q8,
                len(outbox), cfg.lat_e6, cfg.lon_e6, state.boot, flt,
                battery_state.percent(bat_mv, cfg.battery)))
        except schema.SchemaError as exc:
            errors.append("schema: " + str(exc))

    def _session(self, state, outbox, reading, beat_waits_for_clock: bool, report, errors, now_ms: int) -> None:
        """One radio session: set the clock if due, stamp what waited for it, send in policy order."""
        cfg = self.cfg
        stage = "radio clock: "
        try:
            if self.needs_clock and policy.clock_sync_due(now_ms, state.last_sync_ms, self._resync_s(state)):
                self._sync_clock(state, outbox, reading, beat_waits_for_clock, report, errors)
            if len(outbox):
                stage = "radio connect: "
                self.radio.connect()
                stage = "radio publish: "
                for entry in outbox.in_send_order():
                    topic = schema.topic(cfg.site, cfg.node, entry[0])
                    self.radio.publish(topic, entry[1], False, MQTT_QOS)
                    outbox.remove(entry)
                    report.sent.append((topic, entry[1]))
        except RadioError as exc:
            self._back_off(state, now_ms, stage + str(exc), errors)
        else:
            if len(outbox) or len(state.held):
                self._back_off(state, now_ms, "", errors)  # clock still unset: nothing could be sent
            else:
                state.radio_failures = 0
                state.retry_after_ms = 0
        try:
            self.radio.disconnect()
        except RadioError:
            pass  # the link is gone already; what was acknowledged stays sent

    def _sync_clock(self, state, outbox, reading, beat_waits_for_clock: bool, report, errors) -> None:
        before_ms = self.clock.now_ms()
        try:
            self.radio.sync_clock()
        except RadioError as exc:
            if policy.clock_is_set(before_ms):
                errors.append("clock: " + str(exc))  # keep the old time; FAULT_CLOCK once overdue
                return
            raise
        after_ms = self.clock.now_ms()
        correction_ms = after_ms - before_ms
        report.clock_synced = True
        report.clock_correction_ms = correction_ms
        state.resync_s = policy.next_resync_s(correction_ms, self.cfg.ntp_resync_s)
        state.last_sync_ms = after_ms
        held, state.held = state.held, []
        for alert in held:  # raised before the clock was set: move them onto the corrected time line
            self._queue_alert(state, outbox, [alert[0] + correction_ms] + alert[1:], report, errors)
        if beat_waits_for_clock:
            self._queue_heartbeat(state, outbox, reading, after_ms, report, errors)
        if state.last_heartbeat_ms > after_ms:
            state.last_heartbeat_ms = after_ms
        if state.last_sample_ms >= 0:
            state.last_sample_ms += correction_ms  # keep the next dt_s a sample interval, not decades

    def _back_off(self, state, now_ms: int, why: str, errors) -> None:
        if why:
            errors.append(why)
        state.radio_failures += 1
        state.retry_after_ms = policy.retry_after_ms(now_ms, state.radio_failures, self.cfg.sample_interval_s,
                                                     self.cfg.heartbeat_interval_s)

    def _save(self, state, outbox) -> None:
        blob = pack_state(state)
        capacity = getattr(self.store, "capacity", 0)
        # Config bounds make a full queue fit; shedding is the last line should payloads grow.
        while capacity and len(blob) > capacity and len(outbox):
            outbox.drop_one()
            state.outbox = outbox.to_list()
            blob = pack_state(state)
        self.store.save(blob)
