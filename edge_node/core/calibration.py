"""Per-node self-calibration: a node learns how high its own quiet scores run and sets its threshold.

Sites differ (a windy ridge, a damp hollow, a sensor with a noisy heater), and one
factory threshold is too tight for some and too loose for others. In its first
LEARN_S seconds of operation a node tracks a running high quantile of its own
scores (a stochastic quantile estimate: one integer, no history kept), skipping
readings while the detector sees an anomaly so that a fire in those hours is not
learned as normal. When the learning time is up the threshold becomes
MARGIN x that quantile, bounded to [factory / LOW_DIV, factory x HIGH_MUL] (with
LOW_DIV = 1: a site can only loosen its threshold, up to 4x), and stays there.

Before it has learned (and whenever it has been reset) the node uses the factory
threshold that `emberwatch train` or `emberwatch calibrate` set: it alerts exactly
as an uncalibrated node would, never more loosely.
"""

LEARN_S = 6 * 3600     # the first hours of a node's life
QUANTILE_UP = 99       # step up 99 units over the estimate, 1 below: it settles at the 99th percentile
MARGIN = 2             # threshold = 2 x the node's own 99th percentile
LOW_DIV = 1            # never more sensitive than the factory threshold: letting quiet sites go down to
                       # factory/2 made the simulator's rain showers and nuisances raise alerts
                       # (tests/simulator/test_scenario.py), so a site only ever loosens its threshold
HIGH_MUL = 4           # never less than 4x less sensitive


class SelfCalibration:
    """Three integers: seconds learned so far, the quantile estimate, and the threshold in force."""

    def __init__(self, factory_threshold: int) -> None:
        self.factory = factory_threshold
        self.learned_s = 0
        self.quantile = factory_threshold // 4
        self.threshold = factory_threshold

    def to_list(self) -> list:
        return [self.learned_s, self.quantile, self.threshold]

    def restore(self, values) -> None:
        if len(values) == 3:
            self.learned_s, self.quantile, self.threshold = values[0], values[1], values[2]

    def learning(self) -> bool:
        return self.learned_s < LEARN_S

    def update(self, score: int, dt_s: int, anomalous: bool) -> int:
        """Feed one quiet-or-not score; return the threshold to use for it."""
        if self.learned_s >= LEARN_S:
            return self.threshold
        if not anomalous:
            step = (self.quantile >> 10) + 1  # 0.1 % of the estimate: scale-free, jitter ~10 %
            if score > self.quantile:
                self.quantile += QUANTILE_UP * step
            elif self.quantile > step:
                self.quantile -= step
        self.learned_s += dt_s if dt_s > 0 else 1
        if self.learned_s >= LEARN_S:
            thr = MARGIN * self.quantile
            low = self.factory // LOW_DIV
            high = self.factory * HIGH_MUL
            self.threshold = low if thr < low else (high if thr > high else thr)
        return self.threshold
