"""Sensor-agnostic, integer-only feature extraction that every node runs.

A node reports temperature (centi-degC), relative humidity (centi-%) and one
raw gas value. The gas value becomes a sensor-agnostic index, log2 in Q8
(256 = a doubling), oriented so that smoke raises it: metal-oxide resistance
(BME680/688, MQ-series) falls in smoke, so its sign is -1; concentration
readings (SGP30 TVOC/eCO2) rise, so +1. Absolute gas levels differ between
sensors and places; the log ratio to the node's own baseline does not.

Each channel keeps three exponential moving averages (fast, mid, slow) on a
real-time scale (tau in seconds, dt passed in), so features mean the same at
1 s or 5 min sampling:
  level = fast - slow   (how far from this node's usual)
  trend = fast - mid    (how fast it is moving now)
Feature order: temp_level, temp_trend, rh_level, rh_trend, gas_level, gas_trend.
"""

GAS_SIGN_RESISTANCE = -1
GAS_SIGN_CONCENTRATION = 1

FEATURE_NAMES = ("temp_level_cc", "temp_trend_cc", "rh_level_cp", "rh_trend_cp",
                 "gas_level_q8", "gas_trend_q8")
N_FEATURES = 6

TAU_FAST_S = 60
TAU_MID_S = 600
TAU_SLOW_S = 6 * 3600

_EMA_FRAC_BITS = 8  # EMAs carry 8 extra fraction bits so slow averages still move


def log2_q8(value: int) -> int:
    """log2(value) * 256 for value >= 1, at most 2 below the exact value (Q15 mantissa squaring)."""
    if value < 1:
        value = 1
    exponent = 0
    v = value
    while v >= 2:
        v >>= 1
        exponent += 1
    # mantissa in Q15, in [1, 2)
    if exponent >= 15:
        m = value >> (exponent - 15)
    else:
        m = value << (15 - exponent)
    frac = 0
    for _ in range(8):
        m = (m * m) >> 15
        frac <<= 1
        if m >= 1 << 16:
            m >>= 1
            frac |= 1
    return (exponent << 8) | frac


def gas_index_q8(gas_raw: int, gas_sign: int) -> int:
    return gas_sign * log2_q8(gas_raw)


def _ema_step(ema: int, x: int, dt_s: int, tau_s: int) -> int:
    step = dt_s if dt_s < tau_s else tau_s
    return ema + (((x << _EMA_FRAC_BITS) - ema) * step) // tau_s


class FeatureState:
    """Per-node feature memory: nine EMAs and a bitmask of started channels, small enough for RTC memory."""

    def __init__(self) -> None:
        self.ema = [0] * 9  # [fast, mid, slow] x [temp, rh, gas], Q8
        self.started = 0    # bit c: channel c has had its first (unheld) reading

    def to_list(self) -> list:
        return self.ema + [self.started] if self.started else []

    @classmethod
    def from_list(cls, values) -> "FeatureState":
        state = cls()
        if len(values) in (9, 10):
            state.ema = list(values[:9])
            state.started = values[9] if len(values) == 10 else 7
        return state

    def update(self, temp_cc: int, rh_cp: int, gas_q8: int, dt_s: int, adapt_slow: bool = True,
               hold: int = 0) -> list:
        """Feed one reading and return the six features.

        adapt_slow=False freezes the slow baseline (the caller passes False while
        the detector sees an anomaly, so a fire does not become the new normal).
        hold: bit c set (c = 0 temp, 1 rh, 2 gas) leaves channel c out of this reading:
        its averages keep their value and its two features are 0 (a faulty channel,
        or a gas heater still settling after a gap; see faults.py and heater.py).
        """
        xs = (temp_cc, rh_cp, gas_q8)
        if dt_s < 1:
            dt_s = 1
        ema = self.ema
        out = []
        for c in range(3):
            k = 3 * c
            bit = 1 << c
            if hold & bit:
                out.append(0)
                out.append(0)
                continue
            if not self.started & bit:
                ema[k] = ema[k + 1] = ema[k + 2] = xs[c] << _EMA_FRAC_BITS
                self.started |= bit
            ema[k] = _ema_step(ema[k], xs[c], dt_s, TAU_FAST_S)
            ema[k + 1] = _ema_step(ema[k + 1], xs[c], dt_s, TAU_MID_S)
            if adapt_slow:
                ema[k + 2] = _ema_step(ema[k + 2], xs[c], dt_s, TAU_SLOW_S)
            out.append((ema[k] - ema[k + 2]) >> _EMA_FRAC_BITS)
            out.append((ema[k] - ema[k + 1]) >> _EMA_FRAC_BITS)
        return out
