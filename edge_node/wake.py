"""One wake of a node: read -> features -> score -> decide -> maybe transmit -> plan sleep.

All hardware is passed in (sensor, battery gauge, radio, clock, stores), so
the same code runs on an ESP32, under CPython tests with fakes, and on the
MicroPython test runner. The thinking itself is `edge_node.core.pipeline`.

The radio is the expensive part, so it is switched on only when there is
something to send: a fresh alert, a due heartbeat, or queued messages once
the backoff after a failed attempt has passed. Runs on MicroPython and CPython.
"""

from edge_node.core import schema
from edge_node.core.features import GAS_SIGN_RESISTANCE, gas_index_q8
from edge_node.outbox import KIND_ALERT, KIND_HEARTBEAT, Outbox
from edge_node.persist import load_state, next_seq, pack_state

MQTT_QOS = 1


class SensorError(Exception):
    """The sensor did not deliver a valid reading this wake."""


class RadioError(Exception):
    """The network or broker could not be reached or refused a message."""


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
        self.state_reset = ""     # why saved state was discarded ("" when it was fine)
        self.error = ""           # sensor or radio trouble this wake
        self.sleep_ms = 0


class WakeCycle:
    def __init__(self, config, pipeline, sensor, battery, radio, clock, store, seq_store) -> None:
        self.cfg = config
        self.pipeline = pipeline
        self.sensor = sensor
        self.battery = battery
        self.radio = radio
        self.clock = clock
        self.store = store
        self.seq_store = seq_store

    def run(self) -> WakeReport:
        cfg = self.cfg
        report = WakeReport()
        start_ms = self.clock.now_ms()
        report.t_ms = start_ms
        state, report.state_reset = load_state(self.store, self.seq_store)
        state.wakes += 1
        outbox = Outbox(cfg.queue_capacity)
        try:
            outbox.restore(state.outbox)
        except ValueError:
            outbox = Outbox(cfg.queue_capacity)
        self.pipeline.restore_lists(state.features, state.detector)
        new_alert = self._sense_and_decide(state, outbox, report, start_ms)
        if state.retry_after_ms - start_ms > cfg.heartbeat_interval_s * 1000:
            state.retry_after_ms = 0  # the clock went backwards (RTC reset, NTP fix): retry now
        if len(outbox) and (new_alert or start_ms >= state.retry_after_ms):
            report.radio_used = True
            self._flush(outbox, state, report, start_ms)
        state.features, state.detector = self.pipeline.to_lists()
        state.outbox = outbox.to_list()
        report.queued = len(outbox)
        self._save(state, outbox)
        elapsed_ms = self.clock.now_ms() - start_ms
        report.sleep_ms = max(1000, cfg.sample_interval_s * 1000 - elapsed_ms)
        return report

    def _sense_and_decide(self, state, outbox, report, now_ms: int) -> bool:
        """Read, think, queue an alert and/or a heartbeat; True when a new alert was queued."""
        cfg = self.cfg
        try:
            temp_cc, rh_cp, _pressure_pa, gas_ohm = self.sensor.read()
        except SensorError as exc:
            report.error = "sensor: " + str(exc)
            return False
        bat_mv = self.battery.read_mv()
        gas_q8 = gas_index_q8(gas_ohm, GAS_SIGN_RESISTANCE)
        dt_s = cfg.sample_interval_s
        if state.last_sample_ms >= 0:
            dt_s = (now_ms - state.last_sample_ms) // 1000
        alert, score, feats = self.pipeline.step(now_ms, dt_s, temp_cc, rh_cp, gas_q8)  # alert: its level, 0 = none
        flt = self.pipeline.faults
        state.last_sample_ms = now_ms
        report.alert, report.score, report.features = alert, score, feats
        queued_alert = False
        try:
            if alert:
                bad_gas = flt & schema.FAULT_GAS
                outbox.push(KIND_ALERT, schema.encode_alert(
                    cfg.node, next_seq(state, self.seq_store), now_ms, score, self.pipeline.threshold(),
                    None if flt & schema.FAULT_TEMP else temp_cc, None if flt & schema.FAULT_RH else rh_cp,
                    None if bad_gas else gas_ohm, None if bad_gas else gas_q8, bat_mv, lvl=alert, flt=flt))
                queued_alert = True
            if self._heartbeat_due(state, now_ms):
                state.last_heartbeat_ms = now_ms
                report.heartbeat = True
                outbox.push(KIND_HEARTBEAT, schema.encode_heartbeat(
                    cfg.node, next_seq(state, self.seq_store), now_ms, bat_mv, temp_cc, rh_cp, gas_q8,
                    len(outbox), cfg.lat_e6, cfg.lon_e6, flt=flt))
        except schema.SchemaError as exc:
            # A reading outside the wire schema (a glitching sensor): report it, keep the node alive.
            report.error = "schema: " + str(exc)
        return queued_alert

    def _heartbeat_due(self, state, now_ms: int) -> bool:
        if state.last_heartbeat_ms < 0 or now_ms < state.last_heartbeat_ms:
            return True  # first wake after a reset, or the clock went backwards: say hello now
        # Half a sample of slack so wake-time jitter never delays a beat by a whole interval.
        due_ms = self.cfg.heartbeat_interval_s * 1000 - self.cfg.sample_interval_s * 500
        return now_ms - state.last_heartbeat_ms >= due_ms

    def _flush(self, outbox, state, report, now_ms: int) -> None:
        cfg = self.cfg
        try:
            self.radio.connect()
        except RadioError as exc:
            self._back_off(state, report, now_ms, "radio connect: " + str(exc))
            return
        try:
            for entry in outbox.in_send_order():
                topic = schema.topic(cfg.site, cfg.node, entry[0])
                self.radio.publish(topic, entry[1], False, MQTT_QOS)
                outbox.remove(entry)
                report.sent.append((topic, entry[1]))
        except RadioError as exc:
            self._back_off(state, report, now_ms, "radio publish: " + str(exc))
        else:
            state.radio_failures = 0
            state.retry_after_ms = 0
        try:
            self.radio.disconnect()
        except RadioError:
            pass  # the link is gone already; what was acknowledged stays sent

    def _back_off(self, state, report, now_ms: int, why: str) -> None:
        """Retry at the next wake, then wait twice as long after each failure, up to a heartbeat."""
        report.error = why
        state.radio_failures += 1
        interval_ms = self.cfg.sample_interval_s * 1000
        wait_ms = interval_ms << min(state.radio_failures - 1, 16)
        wait_ms = min(wait_ms, self.cfg.heartbeat_interval_s * 1000)
        state.retry_after_ms = now_ms + wait_ms - interval_ms // 2

    def _save(self, state, outbox) -> None:
        blob = pack_state(state)
        capacity = getattr(self.store, "capacity", 0)
        # A long outage can outgrow RTC memory: shed messages by the outbox's own rule until it fits.
        while capacity and len(blob) > capacity and len(outbox):
            outbox.drop_one()
            state.outbox = outbox.to_list()
            blob = pack_state(state)
        self.store.save(blob)
