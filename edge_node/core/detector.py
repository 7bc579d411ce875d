"""Alert decision: score over threshold in k of the last n samples gives an alert level, then a cooldown
that never mutes news.

Levels (schema.LEVEL_*): SUSPECT as soon as the debounced score is over threshold;
FIRE only when the anomaly has lasted FIRE_PERSIST_S and the channels agree
(`fire_signature`): a short puff of perfume, a lighter or a passing exhaust stays
at most suspect, a fire persists and shows in more than one way.
The cooldown keeps a burning area from flooding the network with repeats of the
same news, but it never holds back a change in the news: an escalation from
suspect to fire always goes out, and so does a score at least STRONGER_FACTOR x
the last alert's (a growing fire is heard, at a cost of one message per doubling).
Wet air is no evidence of fire, however unusual it is, and neither is air that is neither
smoky nor warming (see `no_fire_evidence`).
"""

from edge_node.core.schema import FAULT_GAS, LEVEL_FIRE, LEVEL_SUSPECT

# Relative humidity this far above the node's own slow baseline (centi-%RH), while the air is
# not warming, means rain, fog or dew. Smoke can wet the air too (the real smoke set's fire event
# reaches +25 %RH as it starts), but then the air warms; a rain shower cools it.
WET_AIR_RH_LEVEL_CP = 2500

FIRE_PERSIST_S = 180      # an anomaly must have lasted this long to be called fire
GAS_ALONE_PERSIST_S = 900  # smoke without heat (a far fire) must last longer than any passing exhaust
# ... unless it is still holding: a fire's smoke keeps coming (and grows as the fire does), while a
# puff (perfume, a lighter, an exhaust) peaks and decays. Gas alone that has lasted this long and is
# still at least GAS_HOLDING_NUM/GAS_HOLDING_DEN of the anomaly's peak gas index counts as fire.
GAS_HOLDING_PERSIST_S = 360
GAS_HOLDING_NUM = 2
GAS_HOLDING_DEN = 3
HEAT_ALONE_PERSIST_S = 600  # heat alone counts only when the gas channel cannot speak (faulty)
GAS_EVIDENCE_Q8 = 64       # gas index 1/4 doubling over the node's baseline (resistance -16 %)
GAS_ARRIVING_Q8 = 32       # ... or 1/8 doubling (resistance -8 %) while it is still arriving:
GAS_ARRIVING_TREND_Q8 = 32  # the last minute 1/8 doubling over the last ten, net of wetting air.
# A fire's smoke reaches a node 100-300 m away as a rise over minutes (simulator, 200 m grid: the first
# node past 1 ppm CO 0.3-3.4 min after 11 of 15 ignitions, past 2 ppm 0-5 min after that) while a node's
# clean air wanders that far over hours (drift, the diurnal cycle): a plain 1/8-doubling level raised
# suspects on a synthetic forest day the node had calibrated on, 1/8 arriving in minutes does not.
GAS_Q8_PER_RH_CP_NUM = 3   # 0.03 gas index per centi-%RH: resistance -0.8 % per %RH (log2 q8: 3 per %RH)
GAS_Q8_PER_RH_CP_DEN = 100
HEAT_EVIDENCE_CC = 150     # 1.5 degC over the node's baseline ...
HEAT_RISING_CC = 100       # ... and the last minute 1 degC over the last ten: heat arriving now.
# An afternoon is also 1.5 degC over a 6-hour baseline, but it warms 0.01 degC a minute: with the
# level alone, every passing exhaust plume on a warm afternoon read as "gas and heat" (simulator).
# A sunny morning warms faster, 2-5 degC an hour, which puts the 1-minute average 0.3-0.75 degC over
# the 10-minute one (540 s x the rate) before any turbulence: at 0.4 degC, two exhaust plumes on
# 8-9 am mornings became fire-level alerts (simulator seed 1). 1 degC is over 6 degC an hour, which
# weather does not do and the air next to a fire does.
STRONGER_FACTOR = 2


def wet_air(features):
    """True where the air is far wetter than usual and not warming: no evidence of fire.

    Written with comparisons and `&` only, so the same line serves a node's list of
    ints and the simulator's (6, N) numpy array of a whole fleet.
    """
    rh_level_cp, temp_trend_cc = features[2], features[1]  # see features.FEATURE_NAMES
    return (rh_level_cp > WET_AIR_RH_LEVEL_CP) & (temp_trend_cc <= 0)


def gas_evidence(features):
    """The gas index is well above the node's baseline, more than wetter air explains (lists and fleet arrays).

    A metal-oxide layer's resistance also falls in humid air (about 1 % per %RH for tin-oxide
    sensors), so a rain shower or an evening's dew raises the gas index with no smoke at all.
    The part of the gas level that the humidity rise explains, GAS_Q8_PER_RH_CP per centi-%RH
    over the baseline, is not evidence; drier air than usual earns no credit. Smoke that is still
    arriving (the gas index rising fast, net of wetting air) counts from GAS_ARRIVING_Q8, half the
    level that a settled reading needs: that is where a fire's first minutes are heard 100-300 m away.
    """
    wetter_cp = (features[2] > 0) * features[2]
    net_q8 = features[4] - wetter_cp * GAS_Q8_PER_RH_CP_NUM // GAS_Q8_PER_RH_CP_DEN
    wetting_cp = (features[3] > 0) * features[3]
    arriving = features[5] - wetting_cp * GAS_Q8_PER_RH_CP_NUM // GAS_Q8_PER_RH_CP_DEN > GAS_ARRIVING_TREND_Q8
    return (net_q8 > GAS_EVIDENCE_Q8) | ((net_q8 > GAS_ARRIVING_Q8) & arriving)


def no_fire_evidence(features, smoky=None):
    """True where the reading cannot speak for a fire, however unusual it is (lists and fleet arrays).

    smoky: gas_evidence(features) if the caller has it already (a node computes it once a wake).

    Wet air (`wet_air`), or air whose gas channel shows no smoke and which is not warming: a fire
    makes smoke or arriving heat, so a node carried from a warm pocket into cool damp air (BME688
    clean-air set: -6 degC and +20 %RH in two minutes) or a change of weather is not one. Smoke
    without heat (a far fire) still counts through the gas channel, heat without smoke (a node
    whose gas heater is still settling) through the warming. Air merely warmer than usual does
    not count: a warm afternoon is, and a shower that cools it read as fire evidence (simulator).
    """
    if smoky is None:
        smoky = gas_evidence(features)
    return wet_air(features) | ((features[1] <= 0) & (smoky == 0))


def heat_evidence(features):
    """Warmer than usual and warming fast: the heat of a fire, or a sun fleck; not an afternoon."""
    return (features[0] > HEAT_EVIDENCE_CC) & (features[1] > HEAT_RISING_CC)


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
        self.since_ms = -1      # when the current anomaly began (-1: none going on)
        self.last_level = 0     # level and score of the last alert sent
        self.last_score = 0
        self.peak_gas_q8 = 0    # the highest gas index of the current anomaly

    def update(self, score: int, t_ms: int, signature_s: int = -1, gas_q8: int = 0) -> int:
        """Feed one score at event time t_ms; return the level of the alert this sample raises (0: none).

        signature_s: how long the anomaly must have lasted for this sample's channel evidence
        to count as fire (see fire_persist_s); -1: this sample shows no fire signature.
        gas_q8: this sample's gas index feature; gas alone that still holds near the anomaly's
        peak is fire after GAS_HOLDING_PERSIST_S instead of GAS_ALONE_PERSIST_S.
        """
        over = 1 if score > self.threshold else 0
        self.window = ((self.window << 1) | over) & ((1 << self.n) - 1)
        hits = 0
        bits = self.window
        while bits:
            hits += bits & 1
            bits >>= 1
        debounced = hits >= self.k
        # Hysteresis: an anomaly starts at k of n but ends only at 0 of n. One quieter reading in the
        # middle of a fire (real smoke is patchy: smoke block F dips for one sample 30 s in) must not
        # restart the clock that fire level is measured on.
        if debounced:
            self.anomalous = True
        elif hits == 0:
            self.anomalous = False
        if not self.anomalous:
            self.since_ms = -1
            self.peak_gas_q8 = 0
            return 0
        if self.since_ms < 0:
            self.since_ms = t_ms
            self.peak_gas_q8 = gas_q8
        elif gas_q8 > self.peak_gas_q8:
            self.peak_gas_q8 = gas_q8
        if not debounced:
            return 0
        if (signature_s == GAS_ALONE_PERSIST_S
                and GAS_HOLDING_DEN * gas_q8 >= GAS_HOLDING_NUM * self.peak_gas_q8):
            signature_s = GAS_HOLDING_PERSIST_S
        level = LEVEL_SUSPECT
        if signature_s >= 0 and t_ms - self.since_ms >= signature_s * 1000:
            level = LEVEL_FIRE
        if (self.last_alert_ms >= 0 and t_ms - self.last_alert_ms < self.cooldown_ms
                and level <= self.last_level and score < STRONGER_FACTOR * self.last_score):
            return 0
        self.last_alert_ms = t_ms
        self.last_level = level
        self.last_score = score
        return level

    def to_list(self) -> list:
        return [self.window, self.last_alert_ms, 1 if self.anomalous else 0, self.since_ms,
                self.last_level, self.last_score, self.peak_gas_q8]

    def restore(self, values) -> None:
        if len(values) in (3, 6, 7):
            self.window, self.last_alert_ms = values[0], values[1]
            self.anomalous = bool(values[2])
        if len(values) in (6, 7):
            self.since_ms, self.last_level, self.last_score = values[3], values[4], values[5]
        if len(values) == 7:
            self.peak_gas_q8 = values[6]


def fire_persist_s(features, faults: int, smoky=None) -> int:
    """How long an anomaly showing these features must last to be fire; -1: never (no signature).

    Gas and heat together: FIRE_PERSIST_S. Gas alone (a far fire's smoke, or an exhaust
    plume): GAS_ALONE_PERSIST_S. Heat alone (a sun fleck, or a fire next to a node whose
    gas channel is faulty): only when the gas channel is faulty, HEAT_ALONE_PERSIST_S.
    """
    gas = gas_evidence(features) if smoky is None else smoky
    heat = heat_evidence(features)
    if gas and heat:
        return FIRE_PERSIST_S
    if gas:
        return GAS_ALONE_PERSIST_S
    if heat and faults & FAULT_GAS:
        return HEAT_ALONE_PERSIST_S
    return -1

