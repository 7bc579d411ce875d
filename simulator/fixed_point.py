"""numpy replicas of edge_node.core's integer arithmetic, for a whole fleet at once.

Every function here must give exactly what the core gives node by node
(tests/simulator/test_engine_parity.py checks it). The traps: Python's // and
>> floor towards minus infinity, and so do numpy's on int64 (C's / would not);
products must stay inside int64, which the core's value ranges guarantee.
"""

import numpy as np

from edge_node.core.features import _EMA_FRAC_BITS, TAU_FAST_S, TAU_MID_S, TAU_SLOW_S

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
        self.started = np.zeros(n, dtype=bool)

    def update(self, temp_cc, rh_cp, gas_q8, dt_s: int, adapt_slow: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Return features (6, N); nodes not `active` keep their state untouched."""
        xs = (np.asarray(temp_cc, np.int64), np.asarray(rh_cp, np.int64), np.asarray(gas_q8, np.int64))
        fresh = active & ~self.started
        if fresh.any():
            for c in range(3):
                self.ema[3 * c:3 * c + 3, fresh] = xs[c][fresh] << _EMA_FRAC_BITS
            self.started |= fresh
        dt_s = max(dt_s, 1)
        # None: every node updates (the usual case), skipping the masked select
        everyone = None if active.all() else active
        slow = active & adapt_slow
        everyone_slow = None if slow.all() else slow
        out = np.empty((6, self.ema.shape[1]), dtype=np.int64)
        for c in range(3):
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
            out[2 * c] = (self.ema[3 * c] - self.ema[3 * c + 2]) >> _EMA_FRAC_BITS
            out[2 * c + 1] = (self.ema[3 * c] - self.ema[3 * c + 1]) >> _EMA_FRAC_BITS
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


class FleetAutoencoder:
    """Int8Autoencoder for N nodes. Matmuls run in float64: int8 x int8 sums are exact there."""

    def __init__(self, model) -> None:
        self.threshold = model.threshold
        self.in_mult = np.array(model.input_multipliers, dtype=np.int64)
        self.in_shift = np.array(model.input_shifts, dtype=np.int64)
        self.in_zp = model.input_zp
        self.out_zp = model.output_zp
        self.out_mult = model.out_mult
        self.out_shift = model.out_shift
        self.layers = []
        for layer in model.layers:
            w = np.array(layer.weights, dtype=np.float64).reshape(layer.n_out, layer.n_in)
            bias = np.array(layer.bias, dtype=np.int64)
            # keeps acc * multiplier inside int64
            if int(np.abs(bias).max(initial=0)) + layer.n_in * 256 * 128 >= 1 << 31:
                raise ValueError("layer bias too large for the int64 fleet kernel")
            self.layers.append((w, bias, layer.input_zp, layer.output_zp,
                                np.array(layer.multipliers, dtype=np.int64), np.array(layer.shifts, dtype=np.int64),
                                layer.act_min, layer.act_max))

    def score(self, feats: np.ndarray) -> np.ndarray:
        x = feats.T  # (N, 6)
        xq = np.clip(requantize(x, self.in_mult[None, :], self.in_shift[None, :]) + self.in_zp, -128, 127)
        y = xq
        for w, bias, in_zp, out_zp, mult, shift, lo, hi in self.layers:
            acc = (np.asarray(y - in_zp, dtype=np.float64) @ w.T).astype(np.int64) + bias[None, :]
            y = np.clip(requantize(acc, mult[None, :], shift[None, :]) + out_zp, lo, hi)
        y_in = requantize(y - self.out_zp, self.out_mult, self.out_shift)
        d = (xq - self.in_zp) - y_in
        return (d * d).sum(axis=1)


class FleetDetector:
    def __init__(self, detector, n: int) -> None:
        self.threshold = detector.threshold
        self.k = detector.k
        self.mask = (1 << detector.n) - 1
        self.cooldown_ms = detector.cooldown_ms
        self.window = np.zeros(n, dtype=np.int64)
        self.last_alert_ms = np.full(n, -1, dtype=np.int64)
        self.anomalous = np.zeros(n, dtype=bool)

    def update(self, score: np.ndarray, t_ms: np.ndarray, active: np.ndarray) -> np.ndarray:
        over = (score > self.threshold).astype(np.int64)
        window = ((self.window << 1) | over) & self.mask
        anomalous = np.bitwise_count(window) >= self.k
        cooling = (self.last_alert_ms >= 0) & (t_ms - self.last_alert_ms < self.cooldown_ms)
        alert = active & anomalous & ~cooling
        self.window = np.where(active, window, self.window)
        self.anomalous = np.where(active, anomalous, self.anomalous)
        self.last_alert_ms = np.where(alert, t_ms, self.last_alert_ms)
        return alert
