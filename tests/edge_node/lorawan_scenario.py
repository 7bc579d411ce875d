"""The LoRaWAN radio against the RAK3172 stand-in, through the real wake cycle where it matters.

Runs on CPython and MicroPython alike and prints one line per step, so the test can compare the
two runtimes line by line and assert on what the network received.
"""

from fakes import FakeClock, FixedBattery, MemoryStore, TraceSensor, make_config
from rak3172_standin import FakeTicks, Rak3172StandIn

from edge_node.core import uplink_codec as codec
from edge_node.core.detector import Detector
from edge_node.core.pipeline import NodePipeline
from edge_node.core.scoring import RiseRule
from edge_node.drivers.at_modem import AtModem
from edge_node.lorawan_radio import LorawanRadio
from edge_node.node_settings import NodeSettings
from edge_node.wake import RadioError, WakeCycle

START_MS = 1780000000000


def _rows():
    rows = []
    for i in range(40):
        temp_cc, rh_cp, gas = 1800, 5500, 150000
        if i >= 20:  # smoke and heat
            k = i - 19
            temp_cc += 120 * k
            rh_cp -= 60 * k
            gas = gas * 10 // (10 + 2 * k)
        rows.append((temp_cc, rh_cp, 101325, gas))
    return rows


class Node:
    """One node: config, flash stores and the modem survive deep sleep; the rest is rebuilt per wake."""

    def __init__(self) -> None:
        self.ticks = FakeTicks()
        self.modem = Rak3172StandIn(self.ticks)
        self.cfg = make_config(sample_interval_s=60, heartbeat_interval_s=600)
        self.clock = FakeClock(START_MS)
        self.rtc = MemoryStore(2048)
        self.seq_store = MemoryStore(0)
        self.session = MemoryStore(0)
        self.overrides = MemoryStore(0)
        self.boots = MemoryStore(0)  # the boot counter on flash: 41 power-ons before this one
        self.boots.save(b"41")
        self.powered_on = False
        self.sensor = TraceSensor(_rows())

    def radio(self, pipeline=None):
        rule = RiseRule()
        pipeline = pipeline or NodePipeline(rule, Detector(rule.threshold, 2, 3, 600))
        settings = NodeSettings(self.cfg, pipeline, self.overrides)  # as board.py: the boot comes with the messages
        settings.load()
        t = self.ticks
        radio = LorawanRadio(AtModem(self.modem, t.ticks_ms, t.sleep_ms, t.ticks_diff), self.clock, settings,
                             self.session, t.ticks_ms, t.sleep_ms, t.ticks_diff, send_budget_s=10)
        return radio, pipeline

    def wake(self):
        radio, pipeline = self.radio()
        report = WakeCycle(self.cfg, pipeline, self.sensor, FixedBattery(3600), radio, self.clock, self.rtc,
                           self.seq_store, self.boots, power_on=not self.powered_on).run()
        self.powered_on = True
        self.clock.advance_ms(60000)
        return report, radio


def _sorted(item):
    """MicroPython dicts do not keep insertion order: print them sorted."""
    return sorted(item.items()) if isinstance(item, dict) else item


def _frames(modem, since):
    out = []
    for port, data, confirmed, fcnt in modem.uplinks[since:]:
        frame = codec.decode_uplink(bytes(int(data[i:i + 2], 16) for i in range(0, len(data), 2)))
        out.append((frame["k"], confirmed, fcnt, frame.get("seq16", frame.get("reason"))))
    return out


ALERT = (b'{"v":2,"k":"alert","node":"n042","seq":%d,"t_ms":%d,"score":900,"thr":100,"lvl":2,"boot":7,'
         b'"bat_mv":3600,"temp_cc":4100,"rh_cp":2000,"gas_q8":-3000}')
BEAT = b'{"v":2,"k":"heartbeat","node":"n042","seq":%d,"t_ms":%d,"boot":7,"bat_mv":3600,"queued":0,"flt":0}'
TOPIC = "emberwatch/v1/montesinho/n042/"


def _publish(node, radio, kind, seq, emit, label):
    payload = (ALERT if kind == "alert" else BEAT) % (seq, node.clock.now_ms() - 2000)
    started = node.ticks.now
    try:
        radio.publish(TOPIC + kind, payload, False, 1)
        emit("%s: sent after %d ms" % (label, node.ticks.now - started))
    except RadioError as exc:
        emit("%s: %s after %d ms" % (label, exc, node.ticks.now - started))


def run(emit):
    node = Node()
    # 1. through the wake cycle: join once, a status frame, heartbeats unconfirmed, fire alerts
    #    confirmed; an unacked alert stays in the outbox and goes out at the next wake.
    seen = 0
    node.modem.confirmed_sends = ["ok", "noack", "noack"]  # the second alert is not acked at first
    for i in range(36):
        if i == 20:
            node.modem.sends = ["busy", "ok"]        # one busy answer: retried
        report, radio = node.wake()
        frames = _frames(node.modem, seen)
        seen = len(node.modem.uplinks)
        if frames or report.error:
            emit("wake %d alert=%d queued=%d error=%s frames=%r" % (i, report.alert or 0, report.queued,
                                                                    report.error, frames))  # alert: its level
    emit("joins %d, modem low-power mode %d" % (node.modem.commands.count("AT+JOIN=1:0:10:8"), node.modem.lpm))

    # 2. send errors straight at the radio: duty cycle within and beyond the budget, no ack
    radio, _ = node.radio()
    radio.connect()
    node.modem.sends = ["duty", "duty", "ok"]
    _publish(node, radio, "alert", 1001, emit, "duty cycle, then free")
    node.modem.sends = ["duty"] * 30
    _publish(node, radio, "alert", 1002, emit, "duty cycle past the budget")
    node.modem.sends = ["noack", "noack"]
    _publish(node, radio, "alert", 1003, emit, "no ack")
    node.modem.sends = ["noack", "ok"]
    _publish(node, radio, "alert", 1004, emit, "ack on the second try")
    node.modem.sends = ["silent"]
    _publish(node, radio, "heartbeat", 1005, emit, "modem silent")
    seen = len(node.modem.uplinks)

    # 3. the modem lost its session (brown-out): AT_NO_NETWORK_JOINED -> join again -> resend
    node.modem.sends = ["lost"]
    radio, _ = node.radio()
    radio.connect()
    _publish(node, radio, "alert", 1006, emit, "session lost")
    emit("after the rejoin: fcnts=%r frames=%r" % ([u[3] for u in node.modem.uplinks[seen:]],
                                                  _frames(node.modem, seen)))
    seen = len(node.modem.uplinks)

    # 4. downlinks: inside the bounds (applied, kept across a reboot), outside them, or making the
    #    heartbeat shorter than the sample interval (refused whole)
    for label, hex_down in (("in bounds", codec.encode_config(thr=250, heartbeat_interval_s=1200).hex()),
                            ("below the sample bound", "44000005"),
                            ("sample above heartbeat", codec.encode_config(sample_interval_s=3600).hex()),
                            ("status request", codec.encode_config(ask_status=True).hex())):
        node.modem.downlinks = [(10, hex_down)]
        radio, pipeline = node.radio()
        radio.connect()
        _publish(node, radio, "heartbeat", 2000 + seen, emit, "downlink " + label)
        emit("  thr=%d sample=%d heartbeat=%d downlinks=%r frames=%r" % (
            pipeline.detector.threshold, node.cfg.sample_interval_s, node.cfg.heartbeat_interval_s,
            [_sorted(d) for d in radio.downlinks], _frames(node.modem, seen)))
        seen = len(node.modem.uplinks)
    radio, pipeline = node.radio()
    emit("after a reboot: thr=%d heartbeat=%d" % (pipeline.detector.threshold, node.cfg.heartbeat_interval_s))

    # the status frames carry the node's boot counter: 42 from the wake cycle's flash counter, then the
    # boot 7 of the messages published straight at the radio above
    boots = []
    for port, data, confirmed, fcnt in node.modem.uplinks:
        frame = codec.decode_uplink(bytes(int(data[i:i + 2], 16) for i in range(0, len(data), 2)))
        if frame["k"] == "status":
            boots.append(frame["boot24"])
    emit("status frames report boots %r" % boots)

    # 5. a network nobody can join
    lonely = Node()
    lonely.modem.joins = ["fail"]
    radio, _ = lonely.radio()
    try:
        radio.connect()
        emit("joined?!")
    except RadioError as exc:
        emit("no join: %s" % exc)
