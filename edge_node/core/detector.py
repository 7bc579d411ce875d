"""Alert decision: score over threshold in k of the last n samples, then a cooldown.

Debounce keeps one noisy sample from waking the radio; the cooldown keeps a
burning area from flooding the network with repeats of the same news.
Wet air is no evidence of fire, however unusual it is (see `wet_air`).
"""

# Relative humidity this far above the node's own slow baseline (centi-%RH), while the air is
# not warming, means rain, fog or dew. Smoke can wet the air too (the real smoke set's fire event
# reaches +25 %RH as it starts), but then the air warms; a rain shower cools it.
WET_AIR_RH_LEVEL_CP = 2500


def wet_air(features):
    """True where the air is far wetter than usual and not warming: no evidence of fire.

    Written with comparisons and `&` only, so the same line serves a node's list of
    ints and the simulator's (6, N) numpy array of a whole fleet.
    """
    rh_level_cp, temp_trend_cc = features[2], features[1]  # see features.FEATURE_NAMES
    return (rh_level_cp > WET_AIR_RH_LEVEL_CP) & (temp_trend_cc <= 0)


class Detector:
    def __init__(self, threshold: int, k: int, n: int, cooldown_s: int) -> None:
        if not 1 <= k <= n <= 30:
            raise ValueError("debounce needs 1 <= k <= n <= 30")
        if threshold < 0 or cooldown_s < 0:
            raise ValueError("threshold and cooldown must be >= 0")
        self.threshold = threshold
        self.k = k
        self.n = n
        self.cooldown_ms = cooldown_s * 1000
        self.window = 0  # bit i set: the sample i steps ago was over threshold
        self.last_alert_ms = -1
        self.anomalous = False

    def update(self, score: int, t_ms: int) -> bool:
        """Feed one score at event time t_ms; True when this sample raises an alert."""
        over = 1 if score > self.threshold else 0
        self.window = ((self.window << 1) | over) & ((1 << self.n) - 1)
        hits = 0
        bits = self.window
        while bits:
            hits += bits & 1
            bits >>= 1
        self.anomalous = hits >= self.k
        if not self.anomalous:
            return False
        if self.last_alert_ms >= 0 and t_ms - self.last_alert_ms < self.cooldown_ms:
            return False
        self.last_alert_ms = t_ms
        return True

    def to_list(self) -> list:
        return [self.window, self.last_alert_ms, 1 if self.anomalous else 0]

    def restore(self, values) -> None:
        if len(values) == 3:
            self.window, self.last_alert_ms = values[0], values[1]
            self.anomalous = bool(values[2])
