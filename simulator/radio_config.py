"""The LoRa radio a simulated deployment uses: every setting, checked before a run starts.

Defaults are an EU868 LoRaWAN network in a forest: spreading factor per node by
link budget (as ADR would), 125 kHz, coding rate 4/5, the compact binary frame,
three default channels, 1 % duty cycle, 6 dB capture, Okumura-Hata path loss
with foliage loss and 4 dB shadowing. `RadioConfig.lorasim()` gives the
reference settings of LoRaSim (Bor et al., MSWiM 2016) for comparison runs.
"""

from typing import Any

from simulator.battery_ledger import MESSAGE_PAYLOAD_BYTES

PATH_LOSS_MODELS = ("hata", "log-distance")
LORAWAN_OVERHEAD_BYTES = 13  # MHDR + FHDR + FPort + MIC around the application payload
BANDWIDTHS_HZ = (125_000, 250_000, 500_000)


class RadioConfigError(ValueError):
    """Bad radio settings; the message lists every problem."""


class RadioConfig:
    FIELDS = ("sf", "bw_hz", "coding_rate", "payload_bytes", "channels", "duty_cycle", "capture_db",
              "preamble_symbols", "preamble_grace_symbols", "path_loss", "tx_power_dbm", "shadowing_db",
              "foliage_loss_db", "log_distance_pl_d0_db", "log_distance_d0_m", "log_distance_gamma",
              "link_margin_db", "gateway_spacing_m", "tx_jitter_ms", "max_queue_wait_s", "near_gateways")

    def __init__(self, sf: int | str = "adr", bw_hz: int = 125_000, coding_rate: int = 1,
                 payload_bytes: int = MESSAGE_PAYLOAD_BYTES + LORAWAN_OVERHEAD_BYTES, channels: int = 3,
                 duty_cycle: float = 0.01, capture_db: float = 6.0, preamble_symbols: int = 8,
                 preamble_grace_symbols: float = 3.0, path_loss: str = "hata", tx_power_dbm: float = 14.0,
                 shadowing_db: float = 4.0, foliage_loss_db: float = 10.0, log_distance_pl_d0_db: float = 127.41,
                 log_distance_d0_m: float = 40.0, log_distance_gamma: float = 2.08, link_margin_db: float = 5.0,
                 gateway_spacing_m: float = 4000.0, tx_jitter_ms: int = 2000, max_queue_wait_s: float = 3600.0,
                 near_gateways: int = 4) -> None:
        self.sf = sf                      # 7..12 for every node, or "adr": lowest SF the link budget allows
        self.bw_hz = bw_hz
        self.coding_rate = coding_rate    # 1..4 for 4/5..4/8
        self.payload_bytes = payload_bytes  # PHY payload: application frame + LoRaWAN overhead
        self.channels = channels
        self.duty_cycle = duty_cycle      # 1.0 = no duty-cycle limit
        self.capture_db = capture_db
        self.preamble_symbols = preamble_symbols
        # a frame survives an overlap confined to its first N preamble symbols (LoRaSim: 8 - 5 = 3); 0 = any overlap
        self.preamble_grace_symbols = preamble_grace_symbols
        self.path_loss = path_loss
        self.tx_power_dbm = tx_power_dbm
        self.shadowing_db = shadowing_db
        self.foliage_loss_db = foliage_loss_db  # added to Okumura-Hata only
        self.log_distance_pl_d0_db = log_distance_pl_d0_db  # LoRaSim's measured fit (Bor et al. 2016)
        self.log_distance_d0_m = log_distance_d0_m
        self.log_distance_gamma = log_distance_gamma
        self.link_margin_db = link_margin_db
        self.gateway_spacing_m = gateway_spacing_m
        self.tx_jitter_ms = tx_jitter_ms
        self.max_queue_wait_s = max_queue_wait_s
        self.near_gateways = near_gateways  # gateways remembered per node (memory stays linear in nodes)

    @classmethod
    def lorasim(cls) -> "RadioConfig":
        """LoRaSim experiment 0 with the full collision check: SF12, BW125, CR4/8, 20-byte payload, one channel."""
        return cls(sf=12, coding_rate=4, payload_bytes=20, channels=1, duty_cycle=1.0, capture_db=6.0,
                   preamble_grace_symbols=3.0, path_loss="log-distance", shadowing_db=0.0, tx_jitter_ms=0)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RadioConfig":
        if not isinstance(data, dict):
            raise RadioConfigError(f"radio settings must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.FIELDS))
        if unknown:
            raise RadioConfigError(f"unknown radio setting(s) {', '.join(unknown)}; known: {', '.join(cls.FIELDS)}")
        config = cls(**data)
        problems = config.problems()
        if problems:
            raise RadioConfigError("bad radio settings: " + "; ".join(problems))
        return config

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def problems(self) -> list[str]:
        out = []
        if not (self.sf == "adr" or (isinstance(self.sf, int) and 7 <= self.sf <= 12)):
            out.append(f"sf must be 7..12 or 'adr', got {self.sf!r}")
        if self.bw_hz not in BANDWIDTHS_HZ:
            out.append(f"bw_hz must be one of {BANDWIDTHS_HZ}, got {self.bw_hz!r}")
        if self.coding_rate not in (1, 2, 3, 4):
            out.append(f"coding_rate must be 1..4 (4/5..4/8), got {self.coding_rate!r}")
        if not (isinstance(self.payload_bytes, int) and 1 <= self.payload_bytes <= 255):
            out.append(f"payload_bytes must be 1..255, got {self.payload_bytes!r}")
        if not (isinstance(self.channels, int) and 1 <= self.channels <= 64):
            out.append(f"channels must be 1..64, got {self.channels!r}")
        if not (isinstance(self.duty_cycle, (int, float)) and 0 < self.duty_cycle <= 1):
            out.append(f"duty_cycle must be in (0, 1], got {self.duty_cycle!r}")
        if self.path_loss not in PATH_LOSS_MODELS:
            out.append(f"path_loss must be one of {', '.join(PATH_LOSS_MODELS)}, got {self.path_loss!r}")
        for name in ("capture_db", "preamble_grace_symbols", "shadowing_db", "foliage_loss_db", "link_margin_db",
                     "tx_jitter_ms", "max_queue_wait_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value >= 0):
                out.append(f"{name} must be a number >= 0, got {value!r}")
        if not (isinstance(self.preamble_symbols, int) and 0 <= self.preamble_symbols <= 65535):
            out.append(f"preamble_symbols must be an integer 0..65535, got {self.preamble_symbols!r}")
        for name in ("gateway_spacing_m", "log_distance_d0_m", "log_distance_gamma"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0):
                out.append(f"{name} must be > 0, got {value!r}")
        if not (isinstance(self.near_gateways, int) and 1 <= self.near_gateways <= 16):
            out.append(f"near_gateways must be 1..16, got {self.near_gateways!r}")
        return out
