"""Per-node self-calibration: a node learns how high its own quiet scores run and sets its threshold.

Sites differ (a windy ridge, a damp hollow, a sensor with a noisy heater), and one
factory threshold, set on the training recordings of many sensors and rooms, is far
looser than a quiet forest node needs: in the simulator a steady smoke signal of
3 ppm CO (gas index +0.4 doublings) scores a tenth of it. In its first LEARN_S
seconds in place a node therefore notes the highest quiet score of each BLOCK_S
block (readings while the detector sees an anomaly are skipped, so a fire in those
hours is not learned as normal). When the learning time is up the threshold
becomes MARGIN x the median of those block maxima, bounded to
[factory / LOW_DIV, factory x HIGH_MUL], and stays there.

Why block maxima: an hour's maximum of ~120 readings is about the node's 99th
percentile; their median ignores the one or two hours a passing exhaust plume or a
sun fleck spoilt, where a single maximum would learn the nuisance as normal. (A
running stochastic quantile, the first design, moved 0.1 % of its value a reading
and never got near the real quantile in six hours.)

The learned threshold applies to readings whose gas channel shows smoke
(detector.gas_evidence: the gas index well above baseline, or rising fast, more than
wetter air explains); every other reading keeps the factory threshold if that is looser. Six
quiet hours say little about the weather a node has yet to meet (a front, a hot
afternoon: tightening every channel made the simulator's nodes alert on weather
hundreds of times a month), while smoke is what a fire-watch node must hear
early, and the gas channel's quiet level is what those hours do measure.

Before it has learned (and whenever it has been reset) the node uses the factory
threshold that `emberwatch train` or `emberwatch calibrate` set: it alerts exactly
as an uncalibrated node would.
"""

LEARN_S = 6 * 3600     # the first hours of a node's life
BLOCK_S = 3600         # one maximum per hour: LEARN_S // BLOCK_S blocks
MARGIN = 2             # threshold = 2 x the median hourly maximum of the node's quiet scores
LOW_DIV = 16           # at most 16x more sensitive than the factory threshold
HIGH_MUL = 4           # at most 4x less sensitive


class SelfCalibration:
    """Integers only: seconds learned, the current block's maximum, the threshold, the finished blocks' maxima."""

    def __init__(self, factory_threshold: int) -> None:
        self.factory = factory_threshold
        self.learned_s = 0
        self.block_max = 0
        self.threshold = factory_threshold
        self.maxima: list = []

    def to_list(self) -> list:
        return [self.learned_s, self.block_max, self.threshold] + self.maxima

    def restore(self, values) -> None:
        # 3 + finished blocks; an older state (a running quantile) restarts learning unless it had finished
        if 3 <= len(values) <= 3 + LEARN_S // BLOCK_S:
            self.learned_s, self.block_max, self.threshold = values[0], values[1], values[2]
            self.maxima = list(values[3:])
            if self.learned_s < LEARN_S and len(self.maxima) != self.learned_s // BLOCK_S:
                self.learned_s, self.block_max, self.maxima = 0, 0, []

    def update(self, score: int, dt_s: int, anomalous: bool) -> int:
        """Feed one quiet-or-not score; return the threshold to use for it."""
        if self.learned_s >= LEARN_S:
            return self.threshold
        if not anomalous and score > self.block_max:
            self.block_max = score
        before = self.learned_s // BLOCK_S
        self.learned_s += dt_s if dt_s > 0 else 1
        # a long gap can skip blocks: they count as blocks with this block's maximum
        for _ in range(min(self.learned_s // BLOCK_S, LEARN_S // BLOCK_S) - before):
            self.maxima.append(self.block_max)
        if self.learned_s // BLOCK_S > before:
            self.block_max = 0
        if self.learned_s >= LEARN_S:
            self.threshold = bound_threshold(MARGIN * median_high(self.maxima), self.factory)
        return self.threshold


def threshold_in_force(learned, factory, smoky):
    """learned where this reading shows smoke, else the looser of learned and factory.

    Arithmetic only, so the same line serves a node's ints and the simulator's fleet arrays.
    """
    looser_by = (factory > learned) * (factory - learned)
    return learned + (smoky == 0) * looser_by


def median_high(values) -> int:
    """The upper median of a short list of ints (no statistics module on MicroPython)."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0


def bound_threshold(threshold: int, factory: int) -> int:
    low = factory // LOW_DIV
    high = factory * HIGH_MUL
    return low if threshold < low else (high if threshold > high else threshold)
