"""numpy replicas of edge_node.core's integer arithmetic, for a whole fleet at once.

Every function here must give exactly what the core gives node by node
(tests/simulator/test_engine_parity.py checks it). The traps: Python's // and
>> floor towards minus infinity, and so do numpy's on int64 (C's / would not);
products must stay inside int64, which the core's value ranges guarantee.
"""

import numpy as np

from edge_node.core.calibration import BLOCK_S, HIGH_MUL, LEARN_S, LOW_DIV, MARGIN
from edge_node.core.detector import (
    FIRE_PERSIST_S,
    GAS_ALONE_PERSIST_S,
    GAS_HOLDING_DEN,
    GAS_HOLDING_NUM,
    GAS_HOLDING_PERSIST_S,
    HEAT_ALONE_PERSIST_S,
    STRONGER_FACTOR,
    gas_evidence,
    heat_evidence,
)
from edge_node.core.faults import (
    GAS_DEAD_Q8,
    RH_SATURATED_CP,
    STUCK_READINGS,
    TEMP_RAIL_HIGH_CC,
    TEMP_RAIL_LOW_CC,
)
from edge_node.core.features import _EMA_FRAC_BITS, TAU_FAST_S, TAU_MID_S, TAU_SLOW_S
from edge_node.core.heater import GAP_FACTOR, GAP_SLACK_S, SETTLE_READINGS
from edge_node.core.schema import FAULT_GAS, FAULT_RH, FAULT_TEMP, LEVEL_FIRE, LEVEL_SUSPECT

_TAUS_S = (TAU_FAST_S, TAU_MID_S, TAU_SLOW_S)


def _fraction_table() -> np.ndarray:
    """log2_q8's 8 fraction bits depend only on the 16-bit Q15 mantissa: tabulate all 32768."""
    m0 = np.arange(1 << 15, 1 << 16, dtype=np.int64)
    m, frac = m0.copy(), np.zeros_like(m0)
    for _ in range(8):  # the core's squaring loop, once, for every mantissa
        m = (m * m) >> 15
        frac <<= 1
        big = m >= (1 << 16)
        m = np.where(big, m >> 1, m)
        frac |= big.astype(np.int64)
    return frac


_FRACTION = _fraction_table()


def log2_q8(values: np.ndarray) -> np.ndarray:
    """Vector edge_node.core.features.log2_q8 (floor(log2(v) * 256), mantissa squaring)."""
    v = np.maximum(np.asarray(values, dtype=np.int64), 1)
    exponent = np.frexp(v.astype(np.float64))[1].astype(np.int64) - 1  # exact below 2**53
    m = np.where(exponent >= 15, v >> np.maximum(exponent - 15, 0), v << np.maximum(15 - exponent, 0))
    return (exponent << 8) | _FRACTION[m - (1 << 15)]


def gas_index_q8(gas_raw: np.ndarray, gas_sign: int) -> np.ndarray:
    return gas_sign * log2_q8(gas_raw)


def requantize(acc: np.ndarray, multiplier, shift) -> np.ndarray:
    """Vector edge_node.core.int8.requantize; multiplier/shift broadcast (per column)."""
    total_shift = 31 - np.asarray(shift, dtype=np.int64)
    return (acc * np.asarray(multiplier, dtype=np.int64) + (np.int64(1) << (total_shift - 1))) >> total_shift


class FleetFeatures:
    """FeatureState for N nodes: ema is (9, N) int64, rows [fast, mid, slow] x [temp, rh, gas]."""

    def __init__(self, n: int) -> None:
        self.ema = np.zeros((9, n), dtype=np.int64)
        self.started = np.zeros((3, n), dtype=bool)  # channel c has had its first unheld reading

    def update(self, temp_cc, rh_cp, gas_q8, dt_s: int, adapt_slow: np.ndarray, active: np.ndarray,
               hold: np.ndarray | None = None) -> np.ndarray:
        """Return features (6, N); nodes not `active` keep their state untouched, held channels
        (hold bit c, as FeatureState) keep theirs and give 0 features."""
        xs = (np.asarray(temp_cc, np.int64), np.asarray(rh_cp, np.int64), np.asarray(gas_q8, np.int64))
        dt_s = max(dt_s, 1)
        out = np.zeros((6, self.ema.shape[1]), dtype=np.int64)
        for c in range(3):
            live = active if hold is None else active & ((hold >> c) & 1 == 0)
            fresh = live & ~self.started[c]
            if fresh.any():
                self.ema[3 * c:3 * c + 3, fresh] = xs[c][fresh] << _EMA_FRAC_BITS
                self.started[c] |= fresh
            # None: every node updates (the usual case), skipping the masked select
            everyone = None if live.all() else live
            slow = live & adapt_slow
            everyone_slow = None if slow.all() else slow
            target = xs[c] << _EMA_FRAC_BITS
            for j, tau in enumerate(_TAUS_S):
                k = 3 * c + j
                step = min(dt_s, tau)
                new = self.ema[k] + ((target - self.ema[k]) * step) // tau
                mask = everyone_slow if j == 2 else everyone
                if mask is None:
                    self.ema[k] = new
                else:
                    self.ema[k] = np.where(mask, new, self.ema[k])
            out[2 * c] = np.where(live, (self.ema[3 * c] - self.ema[3 * c + 2]) >> _EMA_FRAC_BITS, 0)
            out[2 * c + 1] = np.where(live, (self.ema[3 * c] - self.ema[3 * c + 1]) >> _EMA_FRAC_BITS, 0)
        return out


class FleetRiseRule:
    def __init__(self, rule) -> None:
        self.temp_limit = rule.temp_trend_limit_cc
        self.gas_limit = rule.gas_trend_limit_q8
        self.threshold = rule.threshold

    def score(self, feats: np.ndarray) -> np.ndarray:
        temp = feats[1] * 100 // self.temp_limit
        gas = feats[5] * 100 // self.gas_limit
        return np.maximum(np.maximum(temp, gas), 0)


_EXACT_FLOAT = float(1 << 53)  # integers below this are exact in float64
_CHUNK = 2048                  # nodes per pass: keeps the (8, chunk) temporaries in cache


def _scale_and_offset(multiplier, shift, zero_point):
    """requantize(acc, m, s) + zp == floor(acc * scale + offset) with scale = m * 2**(s - 31), offset = 0.5 + zp.

    Exact in float64 while |acc * m| + 2**(30 - s) < 2**53: scale is m times a power of two, so
    acc * scale is the exact value (acc * m) / 2**(31 - s), the sums are exact, and floor() is the
    arithmetic shift of the integer kernel.
    """
    m = np.asarray(multiplier, dtype=np.float64)
    sh = np.asarray(shift, dtype=np.float64)
    return m * np.exp2(sh - 31), 0.5 + np.asarray(zero_point, dtype=np.float64) + np.zeros_like(m)


def _tflm_rounding(multiplier, shift, zero_point) -> tuple:
    """Per-row constants for multiply_by_quantized_multiplier(acc, m, s) + zp on exact float64 integers.

    high = floor(acc * m * 2**(max(s, 0) - 31) + 0.5) is SaturatingRoundingDoublingHighMul (exact
    while |acc * m| < 2**53, checked by the caller); with e = max(-s, 0), RoundingDivideByPOT(high, e)
    == floor((high + half - [high < 0]) / 2**e) for e >= 1 (half = 2**(e - 1)), and high itself for e = 0.
    """
    m = np.asarray(multiplier, dtype=np.float64)
    sh = np.asarray(shift, dtype=np.float64)
    right = np.maximum(-sh, 0.0)
    high_scale = m * np.exp2(np.maximum(sh, 0.0) - 31)
    half = np.where(right > 0, np.exp2(right - 1), 0.0)
    away = (right > 0).astype(np.float64)
    return high_scale, np.exp2(-right), half, away, float(zero_point)


class FleetAutoencoder:
    """Int8Autoencoder for N nodes, as (features, nodes) float64 arrays holding exact integers.

    The constructor proves every layer stays below 2**53 (int8 inputs and weights bound the
    accumulators); the input features are checked on every call and quantized with the int64
    kernel in the rare case they are too large for the float path.
    """

    def __init__(self, model) -> None:
        self.threshold = model.threshold
        self.in_mult = np.array(model.input_multipliers, dtype=np.int64)[:, None]
        self.in_shift = np.array(model.input_shifts, dtype=np.int64)[:, None]
        self.in_zp = model.input_zp
        self.in_scale, self.in_offset = _scale_and_offset(self.in_mult, self.in_shift, model.input_zp)
        # largest |feature| for which feature * multiplier + rounding (+ zero point) stays exact, with margin
        self.float_feature_limit = float(np.min((_EXACT_FLOAT / 2 - np.exp2(30 - self.in_shift)) / self.in_mult))
        self.out_zp = model.output_zp
        self.out_mult = model.out_mult
        self.out_shift = model.out_shift
        # output -> input units, minus the input zero point: d = x_q - (y_in + zp_in)
        self.back_scale, back_offset = _scale_and_offset(model.out_mult, model.out_shift, 0)
        self.back_offset = float(back_offset - self.back_scale * model.output_zp)
        self.layers = []
        for layer in model.layers:
            w = np.array(layer.weights, dtype=np.float64).reshape(layer.n_out, layer.n_in)
            bias = np.array(layer.bias, dtype=np.float64)[:, None]
            mult = np.array(layer.multipliers, dtype=np.float64)[:, None]
            shift = np.array(layer.shifts, dtype=np.float64)[:, None]
            # |int8 - zero point| <= 255 and |weight| <= 128 bound the accumulator
            acc_bound = np.abs(bias) + layer.n_in * 255 * 128
            if np.any(acc_bound * mult * np.exp2(np.maximum(shift, 0)) + np.exp2(30) >= _EXACT_FLOAT):
                raise ValueError("layer too large for the exact float64 fleet kernel")
            folded_bias = bias - layer.input_zp * w.sum(axis=1, keepdims=True)  # W (x - zp) + b = W x + b'
            self.layers.append((w, folded_bias) + _tflm_rounding(mult, shift, layer.output_zp)
                               + (float(layer.act_min), float(layer.act_max)))

    def score(self, feats: np.ndarray) -> np.ndarray:
        """feats: (6, N) int64 -> (N,) int64 reconstruction errors."""
        n = feats.shape[1]
        out = np.empty(n, dtype=np.int64)
        exact = np.abs(feats).max(initial=0) < self.float_feature_limit
        for lo in range(0, n, _CHUNK):
            out[lo:lo + _CHUNK] = self._score_chunk(feats[:, lo:lo + _CHUNK], exact)
        return out

    def _score_chunk(self, feats: np.ndarray, exact: bool) -> np.ndarray:
        if exact:
            xq = np.floor(feats * self.in_scale + self.in_offset)
        else:
            xq = (requantize(feats, self.in_mult, self.in_shift) + self.in_zp).astype(np.float64)
        np.clip(xq, -128.0, 127.0, out=xq)
        y = xq
        for w, bias, high_scale, right_scale, half, away, zp, lo, hi in self.layers:
            acc = w @ y
            acc += bias
            # TFLM's two roundings (edge_node.core.int8.multiply_by_quantized_multiplier): round half up
            # to the high product, then half away from zero by the right shift
            acc *= high_scale
            acc += 0.5
            np.floor(acc, out=acc)
            acc += half - away * (acc < 0)
            acc *= right_scale
            np.floor(acc, out=acc)
            acc += zp
            y = np.clip(acc, lo, hi, out=acc)
        # (x_q - zp_in) - requantize(y - zp_out) == x_q - zp_in - floor(y * s + offset)
        y *= self.back_scale
        y += self.back_offset
        np.floor(y, out=y)
        d = xq - self.in_zp - y
        return np.einsum("ij,ij->j", d, d).astype(np.int64)


def _popcount(window: np.ndarray, n_bits: int) -> np.ndarray:
    """Set bits among the low n_bits (np.bitwise_count needs numpy 2; pyproject allows 1.26)."""
    hits = np.zeros_like(window)
    for b in range(n_bits):
        hits += (window >> b) & 1
    return hits


class FleetDetector:
    """detector.Detector for N nodes; update returns each node's alert level (0: none)."""

    def __init__(self, detector, n: int) -> None:
        self.threshold = np.full(n, detector.threshold, dtype=np.int64)
        self.k = detector.k
        self.n_bits = detector.n
        self.mask = (1 << detector.n) - 1
        self.cooldown_ms = detector.cooldown_ms
        self.window = np.zeros(n, dtype=np.int64)
        self.last_alert_ms = np.full(n, -1, dtype=np.int64)
        self.anomalous = np.zeros(n, dtype=bool)
        self.since_ms = np.full(n, -1, dtype=np.int64)
        self.last_level = np.zeros(n, dtype=np.int64)
        self.last_score = np.zeros(n, dtype=np.int64)
        self.peak_gas_q8 = np.zeros(n, dtype=np.int64)

    def update(self, score: np.ndarray, t_ms: np.ndarray, active: np.ndarray, signature_s: np.ndarray,
               gas_q8: np.ndarray) -> np.ndarray:
        over = (score > self.threshold).astype(np.int64)
        window = ((self.window << 1) | over) & self.mask
        hits = _popcount(window, self.n_bits)
        debounced = hits >= self.k
        anomalous = debounced | (self.anomalous & (hits > 0))  # detector.Detector's hysteresis
        gas_q8 = np.asarray(gas_q8, dtype=np.int64)
        peak = np.where(anomalous, np.where(self.since_ms < 0, gas_q8, np.maximum(self.peak_gas_q8, gas_q8)), 0)
        since = np.where(anomalous, np.where(self.since_ms < 0, t_ms, self.since_ms), -1)
        holding = (signature_s == GAS_ALONE_PERSIST_S) & (GAS_HOLDING_DEN * gas_q8 >= GAS_HOLDING_NUM * peak)
        signature_s = np.where(holding, GAS_HOLDING_PERSIST_S, signature_s)
        fire = (signature_s >= 0) & (t_ms - since >= signature_s * 1000)
        level = np.where(anomalous, np.where(fire, LEVEL_FIRE, LEVEL_SUSPECT), 0)
        muted = ((self.last_alert_ms >= 0) & (t_ms - self.last_alert_ms < self.cooldown_ms)
                 & (level <= self.last_level) & (score < STRONGER_FACTOR * self.last_score))
        alert = active & debounced & ~muted
        self.window = np.where(active, window, self.window)
        self.anomalous = np.where(active, anomalous, self.anomalous)
        self.since_ms = np.where(active, since, self.since_ms)
        self.peak_gas_q8 = np.where(active, peak, self.peak_gas_q8)
        self.last_alert_ms = np.where(alert, t_ms, self.last_alert_ms)
        self.last_level = np.where(alert, level, self.last_level)
        self.last_score = np.where(alert, score, self.last_score)
        return np.where(alert, level, 0)


def fire_persist_s(feats: np.ndarray, faults: np.ndarray, smoky: np.ndarray | None = None) -> np.ndarray:
    """detector.fire_persist_s for (6, N) features."""
    gas = gas_evidence(feats) if smoky is None else smoky
    heat = heat_evidence(feats)
    return np.where(gas & heat, FIRE_PERSIST_S,
                    np.where(gas, GAS_ALONE_PERSIST_S,
                             np.where(heat & ((faults & FAULT_GAS) != 0), HEAT_ALONE_PERSIST_S, -1)))


class FleetFaults:
    """faults.SensorFaults for N nodes."""

    def __init__(self, n: int) -> None:
        self.last = np.zeros((3, n), dtype=np.int64)
        self.repeats = np.zeros((3, n), dtype=np.int64)

    def update(self, temp_cc, rh_cp, gas_q8, active: np.ndarray) -> np.ndarray:
        xs = np.stack([np.asarray(temp_cc, np.int64), np.asarray(rh_cp, np.int64), np.asarray(gas_q8, np.int64)])
        same = xs == self.last
        repeats = np.where(same, np.minimum(self.repeats + 1, STUCK_READINGS), 0)
        self.repeats = np.where(active, repeats, self.repeats)
        self.last = np.where(active, xs, self.last)
        stuck = self.repeats >= STUCK_READINGS
        frozen = stuck[0] & stuck[1]
        t, rh, g = xs
        bits = np.where((t <= TEMP_RAIL_LOW_CC) | (t >= TEMP_RAIL_HIGH_CC) | frozen, FAULT_TEMP, 0)
        bits |= np.where((rh <= 0) | (rh > RH_SATURATED_CP) | frozen, FAULT_RH, 0)
        bits |= np.where(((g > -GAS_DEAD_Q8) & (g < GAS_DEAD_Q8)) | (frozen & stuck[2]), FAULT_GAS, 0)
        return np.where(active, bits, 0)


class FleetHeater:
    """heater.HeaterSettle for N nodes (one dt for the whole fleet per step)."""

    def __init__(self, n: int) -> None:
        self.usual_dt_s = np.zeros(n, dtype=np.int64)
        self.settle_left = np.full(n, SETTLE_READINGS, dtype=np.int64)

    def update(self, dt_s: int, first: np.ndarray, active: np.ndarray) -> np.ndarray:
        dt = max(dt_s, 1)
        usual = self.usual_dt_s
        learn = active & ~first
        gap = learn & (usual > 0) & (dt > GAP_FACTOR * usual + GAP_SLACK_S)
        settle = np.where(gap, SETTLE_READINGS, self.settle_left)
        new_usual = np.where((usual == 0) | (dt < usual), dt, usual + (dt - usual + 15) // 16)
        self.usual_dt_s = np.where(learn, new_usual, usual)
        held = active & (settle > 0)
        self.settle_left = np.where(held, settle - 1, np.where(active, settle, self.settle_left))
        return held


class FleetCalibration:
    """calibration.SelfCalibration for N nodes."""

    def __init__(self, factory_threshold: int, n: int) -> None:
        self.factory = factory_threshold
        self.learned_s = np.zeros(n, dtype=np.int64)
        self.block_max = np.zeros(n, dtype=np.int64)
        self.threshold = np.full(n, factory_threshold, dtype=np.int64)
        self.maxima = np.zeros((n, LEARN_S // BLOCK_S), dtype=np.int64)

    def update(self, score: np.ndarray, dt_s: int, anomalous: np.ndarray, active: np.ndarray) -> np.ndarray:
        learning = active & (self.learned_s < LEARN_S)
        if not learning.any():
            return self.threshold
        quiet = learning & ~anomalous
        self.block_max = np.where(quiet & (score > self.block_max), score, self.block_max)
        before = self.learned_s // BLOCK_S
        self.learned_s = np.where(learning, self.learned_s + max(dt_s, 1), self.learned_s)
        after = np.minimum(self.learned_s // BLOCK_S, LEARN_S // BLOCK_S)
        for block in range(self.maxima.shape[1]):  # every block finished this step takes this block's maximum
            finished = learning & (before <= block) & (block < after)
            self.maxima[finished, block] = self.block_max[finished]
        self.block_max = np.where(learning & (after > before), 0, self.block_max)
        done = learning & (self.learned_s >= LEARN_S)
        if done.any():
            median = np.sort(self.maxima[done], axis=1)[:, self.maxima.shape[1] // 2]
            low, high = self.factory // LOW_DIV, self.factory * HIGH_MUL
            self.threshold[done] = np.clip(MARGIN * median, low, high)
        return self.threshold
