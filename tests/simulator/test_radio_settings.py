"""The radio as a scenario setting: LoRaSim's reference figures, the preamble rule, memory per node."""

import numpy as np
import pytest

from simulator import radio
from simulator.radio_config import RadioConfig, RadioConfigError
from simulator.radio_lorasim import delivered_fraction
from tests.simulator.test_radio_battery import _channel, _send

# Bor, Roedig, Voigt, Alonso, "Do LoRa Low-Power Wide-Area Networks Scale?" (MSWiM 2016): LoRaSim's
# data-extraction rate for one gateway, SF12/BW125/CR4/8, one channel, a packet every 1000 s on average.
LORASIM_DELIVERED = {100: 0.7615, 500: 0.2777, 1000: 0.1079, 2000: 0.0407}


@pytest.mark.parametrize("n_nodes", sorted(LORASIM_DELIVERED))
def test_delivered_fraction_within_0_01_of_lorasim(n_nodes):
    # ten node layouts, 100,000 frames in all: the layout moves the figure by ~0.005, so average them
    got = np.mean([delivered_fraction(n_nodes, 1e8 / n_nodes, seed=s) for s in range(1, 11)])
    assert got == pytest.approx(LORASIM_DELIVERED[n_nodes], abs=0.01)


def test_without_the_preamble_rule_the_gap_to_lorasim_reappears():
    config = RadioConfig.lorasim()
    config.preamble_grace_symbols = 0.0
    strict = np.mean([delivered_fraction(500, 2e5, seed=s, config=config) for s in range(1, 11)])
    lenient = np.mean([delivered_fraction(500, 2e5, seed=s) for s in range(1, 11)])
    assert strict < lenient - 0.01


def test_overlap_within_the_first_three_preamble_symbols_is_survived():
    ch = _channel([-110.0, -111.0], preamble_grace_symbols=3.0, sf=12)
    toa, t_sym = int(ch.toa_ms[0]), 2 ** 12 / 125_000 * 1000
    _send(ch, 0, [0])
    _send(ch, toa - int(2.5 * t_sym), [1])  # only 2.5 symbols of node 1's preamble overlap node 0's frame
    assert len(ch.release(10 ** 7)) == 2
    ch = _channel([-110.0, -111.0], preamble_grace_symbols=3.0, sf=12)
    _send(ch, 0, [0])
    _send(ch, toa - int(3.5 * t_sym), [1])
    assert ch.release(10 ** 7) == [] and ch.stats()["lost_collision"] == 2


def test_settings_change_airtime_channels_and_duty_cycle():
    slow = _channel([-100.0], sf=12, coding_rate=4, payload_bytes=40)
    fast = _channel([-100.0], sf=7, bw_hz=250_000)
    assert slow.toa_ms[0] > 20 * fast.toa_ms[0]
    free = _channel([-100.0], duty_cycle=1.0)
    _send(free, 0, [0])
    _send(free, int(free.toa_ms[0]) + 1, [0])  # no duty-cycle wait at 100 %
    assert [t for t, _ in free.release(10 ** 7)] == [int(free.toa_ms[0]), 2 * int(free.toa_ms[0]) + 1]


def test_bad_settings_are_all_reported():
    with pytest.raises(RadioConfigError) as info:
        RadioConfig.from_dict({"sf": 13, "channels": 0, "duty_cycle": 2, "bogus": 1})
    assert "bogus" in str(info.value)
    with pytest.raises(RadioConfigError) as info:
        RadioConfig.from_dict({"sf": 13, "channels": 0, "duty_cycle": 2})
    assert all(word in str(info.value) for word in ("sf", "channels", "duty_cycle"))


def test_link_budget_keeps_only_near_gateways_and_recomputes_any_pair_the_same():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 40_000, 5000), rng.uniform(0, 40_000, 5000)
    config = RadioConfig(near_gateways=3)
    gx, gy = radio.gateway_positions(x, y, 4000.0)
    budget = radio.LinkBudget(x, y, gx, gy, config, seed=7)
    assert len(gx) == 100 and budget.near.shape == (5000, 3) and budget.near_rssi_dbm.shape == (5000, 3)
    nodes = np.arange(5000)
    d_all = np.hypot(x[:, None] - gx[None, :], y[:, None] - gy[None, :])
    assert np.array_equal(np.sort(d_all[nodes[:, None], budget.near], axis=1),
                          np.sort(d_all, axis=1)[:, :3])  # the nearest three, nothing else kept
    again = budget.rssi_dbm(nodes, budget.near[:, 0])
    assert np.allclose(again, budget.near_rssi_dbm[:, 0])
    shadow = radio.shadowing_db(7, nodes, np.zeros(5000, dtype=np.int64), 4.0)
    assert abs(shadow.mean()) < 0.2 and shadow.std() == pytest.approx(4.0, rel=0.05)
