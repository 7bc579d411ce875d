"""Settings an operator may change over the air (threshold, sample and heartbeat intervals).

A config downlink (edge_node/core/uplink_codec.py) is applied only if every value is inside the
codec's bounds and the heartbeat interval stays >= the sample interval; then it is kept on
flash (`overrides.json`) and re-applied at every boot on top of config.json, so a node that
loses power keeps what the operator set. A corrupt overrides file is ignored, never fatal.
Runs on MicroPython and CPython.
"""

try:
    import json
except ImportError:  # very old MicroPython ports
    import ujson as json  # type: ignore

from edge_node.core import uplink_codec as codec

OVERRIDES_PATH = "overrides.json"


class NodeSettings:
    def __init__(self, config, pipeline, store, boot: int = 0) -> None:
        """config: NodeConfig (its intervals are changed in place); pipeline: NodePipeline (its
        scorer and detector thresholds); store: load() -> bytes or None, save(bytes)."""
        self.config = config
        self.pipeline = pipeline
        self.store = store
        self.boot = boot

    def threshold(self) -> int:
        return self.pipeline.detector.threshold

    def sample_interval_s(self) -> int:
        return self.config.sample_interval_s

    def heartbeat_interval_s(self) -> int:
        return self.config.heartbeat_interval_s

    def load(self) -> bool:
        """Apply the saved overrides; False when there are none or they are unusable."""
        raw = self.store.load()
        if not raw:
            return False
        try:
            saved = json.loads(raw)
            config = {"thr": saved.get("thr"), "sample_interval_s": saved.get("sample_interval_s"),
                      "heartbeat_interval_s": saved.get("heartbeat_interval_s")}
        except (ValueError, AttributeError):
            return False
        return self._set(config, save=False)

    def apply(self, config: dict) -> bool:
        """A decoded config downlink; True when applied (and saved), False when refused whole."""
        return self._set(config, save=True)

    def _set(self, config: dict, save: bool) -> bool:
        thr = config.get("thr")
        sample = config.get("sample_interval_s")
        beat = config.get("heartbeat_interval_s")
        for value, low_high in ((thr, codec.THRESHOLD_RANGE), (sample, codec.SAMPLE_INTERVAL_RANGE_S),
                                (beat, codec.HEARTBEAT_INTERVAL_RANGE_S)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not low_high[0] <= value <= low_high[1]):
                return False
        new_sample = self.config.sample_interval_s if sample is None else sample
        new_beat = self.config.heartbeat_interval_s if beat is None else beat
        if new_beat < new_sample:
            return False
        if thr is not None:
            self.pipeline.detector.threshold = thr
            if hasattr(self.pipeline.scorer, "threshold"):
                self.pipeline.scorer.threshold = thr
        self.config.sample_interval_s = new_sample
        self.config.heartbeat_interval_s = new_beat
        if save:
            try:
                self.store.save(json.dumps({"thr": self.threshold(), "sample_interval_s": new_sample,
                                            "heartbeat_interval_s": new_beat}).encode())
            except OSError:
                pass  # applied for this boot; the status uplink still reports it
        return True
