"""A metal-oxide heater that has idled reads a different resistance: hold the gas channel until it settles.

Measured on the shared BME688 clean-air set (8 sensors x 10 heater steps, real
timing; docs/model_report.md has the table): the first reading of a heater
step after a ~118 s pause reads 0.5-2.5 doublings *lower* resistance than the
readings at its usual ~11 s cadence, i.e. it looks like smoke, and climbs back
about 0.4 doublings per reading at the usual cadence. So the gas index of the
first readings after a pause longer than the node's usual interval (a radio
session, a brown-out, a reboot, the very first readings after power-up) is not
comparable with the baseline. The pipeline holds the gas channel (no feature,
no baseline update) for SETTLE_READINGS readings at the usual cadence after
such a gap; temperature and humidity are not affected and keep detecting.

The usual interval is learned, not configured: it drops at once to a shorter
interval and creeps 1/16 of the way towards a longer one, so one long gap does
not redefine normal, while a node whose interval was raised (30 s -> 300 s)
stops seeing gaps after about ten readings.
"""

SETTLE_READINGS = 4   # ~0.4 doublings back per reading, 0.5-2.5 doublings to climb: 4 readings
GAP_FACTOR = 2        # a pause over twice the usual interval (plus slack) is a gap
GAP_SLACK_S = 5       # wake-time jitter and a radio session's extra seconds are not a gap


class HeaterSettle:
    """Two integers: the node's usual interval (s, 0 = not known yet) and readings left to settle."""

    def __init__(self) -> None:
        self.usual_dt_s = 0
        self.settle_left = SETTLE_READINGS  # power-up is a cold start

    def to_list(self) -> list:
        return [self.usual_dt_s, self.settle_left]

    def restore(self, values) -> None:
        if len(values) == 2:
            self.usual_dt_s, self.settle_left = values[0], values[1]

    def update(self, dt_s: int, first: bool) -> bool:
        """Feed the seconds since the previous reading (first: there was none since power-up);
        True while the gas channel must be held."""
        if not first:
            usual = self.usual_dt_s
            if dt_s < 1:
                dt_s = 1
            if usual > 0 and dt_s > GAP_FACTOR * usual + GAP_SLACK_S:
                self.settle_left = SETTLE_READINGS
            if usual == 0 or dt_s < usual:
                self.usual_dt_s = dt_s
            else:
                self.usual_dt_s = usual + (dt_s - usual + 15) // 16
        if self.settle_left > 0:
            self.settle_left -= 1
            return True
        return False
