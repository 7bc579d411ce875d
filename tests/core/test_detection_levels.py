"""Alert levels, no-mute cooldown, heater settling after gaps, sensor faults and self-calibration."""

from __future__ import annotations

from edge_node.core import calibration, schema
from edge_node.core.detector import (
    FIRE_PERSIST_S,
    GAS_ALONE_PERSIST_S,
    GAS_HOLDING_PERSIST_S,
    Detector,
    fire_persist_s,
    gas_evidence,
)
from edge_node.core.faults import STUCK_READINGS, SensorFaults
from edge_node.core.features import GAS_SIGN_RESISTANCE, gas_index_q8
from edge_node.core.heater import SETTLE_READINGS, HeaterSettle
from edge_node.core.pipeline import NodePipeline, default_pipeline
from edge_node.core.scoring import RiseRule

GAS_CLEAN = gas_index_q8(150_000, GAS_SIGN_RESISTANCE)


def test_escalation_and_a_stronger_score_go_out_through_the_cooldown() -> None:
    det = Detector(threshold=10, k=1, n=1, cooldown_s=600)
    assert det.update(20, 0, -1) == schema.LEVEL_SUSPECT
    assert det.update(25, 30_000, -1) == 0                          # same news, cooling down
    assert det.update(39, 60_000, -1) == 0                          # not yet twice as strong
    assert det.update(40, 90_000, -1) == schema.LEVEL_SUSPECT       # twice the last alert's score
    assert det.update(41, 120_000, 60) == schema.LEVEL_FIRE         # escalation: lasted 120 s >= 60 s
    assert det.update(50, 150_000, 60) == 0                         # fire again, weaker than 2 x 41
    assert det.update(50, 150_000 + 600_000, 60) == schema.LEVEL_FIRE  # cooldown over


def test_fire_level_needs_the_anomaly_to_last() -> None:
    det = Detector(threshold=10, k=1, n=1, cooldown_s=0)
    levels = [det.update(100, i * 30_000, FIRE_PERSIST_S) for i in range(8)]
    assert levels[:6] == [schema.LEVEL_SUSPECT] * 6 and levels[6:] == [schema.LEVEL_FIRE] * 2
    det.update(0, 9 * 30_000, FIRE_PERSIST_S)                       # the anomaly ends: persistence restarts
    assert det.update(100, 10 * 30_000, FIRE_PERSIST_S) == schema.LEVEL_SUSPECT


def _first_fire_s(gas_q8_at) -> int:
    """Seconds into a gas-alone anomaly (30 s readings) at which the detector first says fire; -1: never."""
    det = Detector(threshold=10, k=1, n=1, cooldown_s=0)
    for i in range(GAS_ALONE_PERSIST_S // 30 + 2):
        if det.update(100, i * 30_000, GAS_ALONE_PERSIST_S, gas_q8_at(i * 30)) == schema.LEVEL_FIRE:
            return i * 30
    return -1


def test_gas_alone_that_grows_or_holds_is_fire_sooner_than_a_decaying_puff() -> None:
    assert _first_fire_s(lambda t_s: 80 + t_s // 10) == GAS_HOLDING_PERSIST_S       # a fire's smoke grows
    assert _first_fire_s(lambda t_s: 300 + (t_s // 30) % 3 * 20) == GAS_HOLDING_PERSIST_S  # or holds, noisily
    decaying = _first_fire_s(lambda t_s: max(70, 600 - t_s))                          # a puff past its peak
    assert decaying == GAS_ALONE_PERSIST_S                                           # waits the full time
    det = Detector(threshold=10, k=1, n=1, cooldown_s=0)
    for i in range(5):
        det.update(100, i * 30_000, GAS_ALONE_PERSIST_S, 400 - i)
    restored = Detector(threshold=10, k=1, n=1, cooldown_s=0)
    restored.restore(det.to_list())                                  # the peak survives deep sleep
    assert restored.to_list() == det.to_list() and restored.peak_gas_q8 == 400


def test_fire_signature_needs_gas_with_heat_or_long_gas_or_heat_with_a_dead_gas_channel() -> None:
    heat, gas, both, none = [400, 150, 0, 0, 0, 0], [0, 0, 0, 0, 300, 50], [400, 150, 0, 0, 300, 50], [0] * 6
    assert fire_persist_s([400, 5, 0, 0, 300, 50], 0) == GAS_ALONE_PERSIST_S  # a warm afternoon is not heat
    assert fire_persist_s([400, 60, 0, 0, 300, 50], 0) == GAS_ALONE_PERSIST_S  # nor a sunny morning (+4 degC/h)
    assert fire_persist_s(both, 0) == FIRE_PERSIST_S
    assert fire_persist_s(gas, 0) == GAS_ALONE_PERSIST_S
    assert fire_persist_s(heat, 0) == -1                            # a sun fleck is never fire
    assert fire_persist_s(heat, schema.FAULT_GAS) > 0               # unless gas cannot speak
    assert fire_persist_s(none, schema.FAULT_GAS) == -1


def test_a_gap_holds_the_gas_channel_for_the_settling_readings_only() -> None:
    heater = HeaterSettle()
    held = [heater.update(30, i == 0) for i in range(10)]
    assert held == [True] * SETTLE_READINGS + [False] * (10 - SETTLE_READINGS)  # power-up is a cold start
    assert heater.update(40, False) is False                        # jitter is not a gap
    assert heater.update(120, False) is True                        # a radio session that overran
    assert [heater.update(30, False) for _ in range(SETTLE_READINGS)] == [True] * (SETTLE_READINGS - 1) + [False]
    for _ in range(30):                                             # the interval was raised to 300 s
        last = heater.update(300, False)
    assert last is False and heater.usual_dt_s > 140


def test_faults_rail_dead_and_stuck_but_not_a_saturated_gas_floor() -> None:
    faults = SensorFaults()
    assert faults.update(-4000, 0, 0) == schema.FAULT_TEMP | schema.FAULT_RH | schema.FAULT_GAS  # all-zero bus
    assert faults.update(2000, 10000, GAS_CLEAN) == 0               # fog at 100 %RH is weather
    floor = gas_index_q8(5600, GAS_SIGN_RESISTANCE)
    for i in range(STUCK_READINGS + 5):                             # smoke pins the gas at its floor
        bits = faults.update(2000 + i, 10000, floor)
    assert bits == 0
    for i in range(STUCK_READINGS + 5):                             # coarse RH repeats in a still room
        bits = faults.update(2000 + i % 7, 4500, GAS_CLEAN + i % 3)
    assert bits == 0
    for _ in range(STUCK_READINGS + 1):                             # the chip froze: every value repeats
        bits = faults.update(2222, 4444, floor)
    assert bits == schema.FAULT_TEMP | schema.FAULT_RH | schema.FAULT_GAS
    assert faults.update(2223, 4444, floor) == 0                    # temperature moves again


def _pipeline() -> NodePipeline:
    return default_pipeline()


def test_a_dead_gas_channel_is_a_fault_and_the_heat_still_reaches_fire() -> None:
    p, dt = _pipeline(), 30
    for i in range(240):                                            # two quiet hours, gas heater dead
        level, _, _ = p.step(i * dt * 1000, dt, 1800 + (i % 3), 6000 - (i % 2), 0)
        assert level == 0 and p.faults == schema.FAULT_GAS
    levels = [p.step((240 + i) * dt * 1000, dt, 1800 + 120 * i, 6000 - 150 * i, 0)[0] for i in range(40)]
    assert schema.LEVEL_FIRE in levels and p.faults == schema.FAULT_GAS


def test_a_dead_sensor_never_alerts() -> None:
    p, dt = _pipeline(), 30
    for i in range(100):
        p.step(i * dt * 1000, dt, 1800 + (i % 3), 6000, GAS_CLEAN + (i % 5))
    assert all(p.step((100 + i) * dt * 1000, dt, -4000, 0, 0)[0] == 0 for i in range(200))
    assert p.faults == schema.FAULT_TEMP | schema.FAULT_RH | schema.FAULT_GAS


def test_first_reading_after_a_gap_is_not_an_alarm_but_a_real_fire_is() -> None:
    """A cold heater reads a lower resistance after a pause: the settling readings are held."""
    p, dt, t = _pipeline(), 30, 0
    for i in range(300):
        t += dt * 1000
        assert p.step(t, dt, 1800 + (i % 3), 6000, GAS_CLEAN + (i % 5))[0] == 0
    for gap_s in (120, 300, 3600):
        t += gap_s * 1000
        cold = gas_index_q8(150_000 // 4, GAS_SIGN_RESISTANCE)       # 2 doublings lower, then climbing back
        for j, gas in enumerate([cold, cold - 100, cold - 300, cold - 450, GAS_CLEAN, GAS_CLEAN]):
            assert p.step(t, gap_s if j == 0 else dt, 1800, 6000, gas)[0] == 0, (gap_s, j)
            t += dt * 1000


def test_state_round_trip_continues_bit_for_bit() -> None:
    a, b = _pipeline(), _pipeline()
    for i in range(50):
        a.step(i * 30_000, 30, 1800 + 7 * i, 6000 - 11 * i, GAS_CLEAN + 13 * i)
    features, detector = a.to_lists()
    b.restore_lists(features, detector)
    for i in range(50, 80):
        args = (i * 30_000, 30, 1800 + 90 * i, 6000 - 60 * i, GAS_CLEAN + 40 * i)
        assert a.step(*args) == b.step(*args)
        assert a.to_lists() == b.to_lists()


def test_self_calibration_uses_the_factory_threshold_until_learned_then_stays_in_bounds() -> None:
    cal = calibration.SelfCalibration(1000)
    for _ in range(calibration.LEARN_S // 30 - 1):
        assert cal.update(5000, 30, False) == 1000                  # a noisy site: factory until learned
    assert cal.update(5000, 30, False) == 1000 * calibration.HIGH_MUL
    quiet = calibration.SelfCalibration(1000)
    for i in range(calibration.LEARN_S // 30):
        thr = quiet.update(i % 3, 30, False)                        # hourly maxima 2: 2 x 2 is below the floor
    assert thr == 1000 // calibration.LOW_DIV
    mid = calibration.SelfCalibration(1000)
    for i in range(calibration.LEARN_S // 30):
        thr = mid.update(100 + (i % 100), 30, False)                # scores 100-199 every hour
    assert thr == 2 * 199


def test_self_calibration_ignores_anomalies_and_a_spoilt_hour_or_two() -> None:
    cal = calibration.SelfCalibration(1000)
    per_hour = calibration.BLOCK_S // 30
    for i in range(calibration.LEARN_S // 30):
        hour = i // per_hour
        score = 600 + (i % 100)
        if hour in (1, 4) and i % per_hour == 7:
            score = 3000                                            # an exhaust plume spoils two hours' maxima
        thr = cal.update(score if i % 50 else 9000, 30, i % 50 == 0)  # the detector's anomalies are skipped
    assert thr == 2 * 699
    restored = calibration.SelfCalibration(1000)
    restored.restore(cal.to_list())
    assert restored.to_list() == cal.to_list() and restored.update(50_000, 30, False) == 2 * 699


def test_self_calibration_restarts_from_a_state_it_cannot_trust() -> None:
    cal = calibration.SelfCalibration(1000)
    cal.restore([7200, 500, 1000])                                  # the old running-quantile state, mid-learning
    assert cal.to_list() == [0, 0, 1000]
    cal.restore([calibration.LEARN_S, 500, 1500])                   # ... or finished: its threshold is kept
    assert cal.update(10, 30, False) == 1500


def test_the_learned_threshold_applies_to_smoky_readings_only() -> None:
    assert calibration.threshold_in_force(300, 5000, True) == 300
    assert calibration.threshold_in_force(300, 5000, False) == 5000
    assert calibration.threshold_in_force(8000, 5000, False) == 8000  # a noisy site stays loose everywhere
    assert calibration.threshold_in_force(8000, 5000, True) == 8000


def test_rain_that_lowers_the_gas_resistance_is_no_smoke_evidence() -> None:
    # +30 %RH over baseline explains a gas index of +90; smoke on top of it still counts
    assert not gas_evidence([0, 0, 3000, 0, 120, 0])
    assert gas_evidence([0, 0, 3000, 0, 200, 0])
    assert gas_evidence([0, 0, -3000, 0, 70, 0])                    # drier air earns no credit either way
    assert not gas_evidence([0, 0, -3000, 0, 60, 0])


def test_smoke_still_arriving_counts_from_an_eighth_of_a_doubling() -> None:
    # gas index +40 (resistance -10 %): evidence only while the last minute is 1/8 doubling over the last ten
    assert gas_evidence([0, 0, 0, 0, 40, 40])
    assert not gas_evidence([0, 0, 0, 0, 40, 32])   # a slow wander to the same level (drift, terpenes) is not
    assert not gas_evidence([0, 0, 0, 0, 32, 60])   # nor a fast wiggle that has not reached 1/8 doubling
    assert not gas_evidence([0, 0, 1000, 1000, 70, 50])  # air 10 %RH wetter in the last minutes explains both


def test_rise_rule_pipeline_reports_levels_too() -> None:
    rule = RiseRule()
    p = NodePipeline(rule, Detector(rule.threshold, 2, 3, 600))
    levels = [p.step(i * 30_000, 30, 1800 + (0 if i < 200 else 200 * (i - 200)), 6000,
                     GAS_CLEAN + (0 if i < 200 else 60 * (i - 200)))[0] for i in range(240)]
    assert schema.LEVEL_SUSPECT in levels and schema.LEVEL_FIRE in levels


def test_one_quieter_reading_inside_an_anomaly_does_not_restart_its_clock() -> None:
    det = Detector(100, 2, 3, 600)
    scores = [500, 50, 500, 50] + [500] * 8            # smoke block F dips like this 30 s in
    levels = []
    for i, s in enumerate(scores):
        levels.append(det.update(s, i * 30_000, FIRE_PERSIST_S))
        if i == 3:
            assert levels[3] == 0 and det.anomalous      # 1 of 3: no alert, but the anomaly goes on
    assert levels.index(schema.LEVEL_FIRE) == 8        # 180 s after it began at reading 2 (not 4)
    for i in range(12, 15):
        det.update(0, i * 30_000, -1)
    assert not det.anomalous and det.since_ms == -1  # 0 of 3 ends it
