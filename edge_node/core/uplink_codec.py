"""Compact binary LoRaWAN payloads: alert, heartbeat and status uplinks, config downlinks.

A LoRaWAN frame can be as small as 11 bytes (US915 DR0), so every uplink here
fits in 11: bit-packed, most significant bit first, integers only, so an ESP32
on MicroPython, the gateway on CPython and the network server's JavaScript
formatter (deploy/lorawan/codec.js) agree to the byte (tests/core/data/
uplink_vectors.json is checked on all three).

Byte 0 of every frame: version (2 bits, 1 here) | kind (2 bits) | 4 kind-specific bits.

alert (11 bytes, 88 bits)
  ver 2 | kind 2 (0) | lvl 1 (0 suspect, 1 fire) | boot 3 (boot counter mod 8)
  seq 16 (node seq mod 65536; the gateway unwraps it: frame counters restart at a
         rejoin, the node's seq does not)
  age 8  (seconds from the reading to the send, see age_code)
  ratio 16 (score * 256 // threshold, saturating: the score on a threshold-256 scale)
  temp 10 (0.2 degC from -40.0, 1023 = channel faulty) | rh 7 (1 %RH, 127 = faulty)
  gas 10 (gas_q8 >> 4, two's complement, -512 = faulty) | bat 7 (20 mV from 1800 mV) | flt 6
heartbeat (11 bytes, 83 bits used)
  ver 2 | kind 2 (1) | boot 3 | 0 | seq 16 | age 8 | bat 7 | bat_pct 7 (127 = unknown)
  | queued 4 (saturating) | flt 6 | temp 10 | rh 7 | gas 10
status (11 bytes, 85 bits used): sent after a join and after a config downlink
  ver 2 | kind 2 (2) | reason 4 | boot 24 (mod 2^24) | thr 16 | sample_s 17 | heartbeat_s 20
config downlink (1-9 bytes)
  ver 2 | kind 2 (0) | flags 4 (8 thr, 4 sample_s, 2 heartbeat_s, 1 ask for a status)
  then, for each flag set, in that order: thr u16, sample_s u24, heartbeat_s u24 (big-endian)

Runs on MicroPython and CPython.
"""

CODEC_VERSION = 1
FPORT = 10  # uplinks and downlinks; byte 0 says which kind

KIND_ALERT = 0
KIND_HEARTBEAT = 1
KIND_STATUS = 2
KIND_NAMES = ("alert", "heartbeat", "status")

STATUS_BOOT = 0            # first uplink after a power-on / join
STATUS_CONFIG_APPLIED = 1
STATUS_CONFIG_REJECTED = 2
STATUS_REQUESTED = 3

FRAME_BYTES = 11

# Downlink bounds, checked by the node before applying and by `emberwatch node config` before sending.
THRESHOLD_RANGE = (1, 65535)
SAMPLE_INTERVAL_RANGE_S = (10, 86400)
HEARTBEAT_INTERVAL_RANGE_S = (60, 7 * 86400)

_TEMP_ABSENT = 1023
_RH_ABSENT = 127
_GAS_ABSENT = -512
_BAT_PCT_ABSENT = 127
_AGE_MAX_CODE = 255


class CodecError(ValueError):
    """Bytes that are not a frame of this codec, or values it cannot carry."""


class _Bits:
    """Big-endian bit writer with small integers only (no bignums on a microcontroller)."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, bits: int) -> None:
        value &= (1 << bits) - 1
        while bits:
            take = bits if bits <= 8 else 8
            bits -= take
            self.acc = (self.acc << take) | ((value >> bits) & ((1 << take) - 1))
            self.n += take
            while self.n >= 8:
                self.n -= 8
                self.out.append((self.acc >> self.n) & 0xFF)
                self.acc &= (1 << self.n) - 1

    def done(self, length: int) -> bytes:
        if self.n:
            self.put(0, 8 - self.n)
        while len(self.out) < length:
            self.out.append(0)
        return bytes(self.out)


class _Reader:
    def __init__(self, data) -> None:
        self.data = data
        self.pos = 0  # in bits

    def get(self, bits: int) -> int:
        value = 0
        for _ in range(bits):
            byte = self.data[self.pos >> 3]
            value = (value << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def signed(self, bits: int) -> int:
        value = self.get(bits)
        return value - (1 << bits) if value >> (bits - 1) else value


def _clamp(value: int, low: int, high: int) -> int:
    return low if value < low else high if value > high else value


def age_code(age_s: int) -> int:
    """Seconds -> one byte: exact below a minute, minutes up to an hour, hours up to 136 h
    (rounded down), 255 beyond."""
    if age_s < 60:
        return age_s if age_s > 0 else 0
    if age_s < 7200:
        return 59 + _clamp(age_s // 60, 1, 60)
    if age_s < 137 * 3600:
        return 118 + age_s // 3600
    return _AGE_MAX_CODE


def age_seconds(code: int) -> int:
    if code < 60:
        return code
    if code < 120:
        return (code - 59) * 60
    return (code - 118) * 3600


def _header(kind: int, low4: int) -> int:
    return (CODEC_VERSION << 6) | (kind << 4) | (low4 & 15)


def _put_readings(w: _Bits, temp_cc, rh_cp, gas_q8) -> None:
    w.put(_TEMP_ABSENT if temp_cc is None else _clamp((temp_cc + 4010) // 20, 0, 1022), 10)
    w.put(_RH_ABSENT if rh_cp is None else _clamp((rh_cp + 50) // 100, 0, 100), 7)
    w.put(_GAS_ABSENT if gas_q8 is None else _clamp(gas_q8 >> 4, -511, 511), 10)


def _get_readings(r: _Reader, out: dict) -> None:
    temp, rh, gas = r.get(10), r.get(7), r.signed(10)
    out["temp_cc"] = None if temp == _TEMP_ABSENT else temp * 20 - 4000
    out["rh_cp"] = None if rh == _RH_ABSENT or rh > 100 else rh * 100
    out["gas_q8"] = None if gas == _GAS_ABSENT else gas * 16


def _bat_code(bat_mv: int) -> int:
    return _clamp((bat_mv - 1790) // 20, 0, 126)


def encode_alert(seq: int, age_s: int, score: int, thr: int, lvl: int, boot: int, bat_mv: int,
                 temp_cc=None, rh_cp=None, gas_q8=None, flt: int = 0) -> bytes:
    """An 11-byte alert; readings of a faulty channel are None."""
    ratio = 65535 if thr <= 0 else _clamp(score * 256 // thr, 0, 65535)
    w = _Bits()
    w.put(_header(KIND_ALERT, (8 if lvl >= 2 else 0) | (boot & 7)), 8)
    w.put(seq, 16)
    w.put(age_code(age_s), 8)
    w.put(ratio, 16)
    _put_readings(w, temp_cc, rh_cp, gas_q8)
    w.put(_bat_code(bat_mv), 7)
    w.put(flt, 6)
    return w.done(FRAME_BYTES)


def encode_heartbeat(seq: int, age_s: int, boot: int, bat_mv: int, queued: int = 0, flt: int = 0,
                     temp_cc=None, rh_cp=None, gas_q8=None, bat_pct=None) -> bytes:
    w = _Bits()
    w.put(_header(KIND_HEARTBEAT, (boot & 7) << 1), 8)
    w.put(seq, 16)
    w.put(age_code(age_s), 8)
    w.put(_bat_code(bat_mv), 7)
    w.put(_BAT_PCT_ABSENT if bat_pct is None else _clamp(bat_pct, 0, 100), 7)
    w.put(_clamp(queued, 0, 15), 4)
    w.put(flt, 6)
    _put_readings(w, temp_cc, rh_cp, gas_q8)
    return w.done(FRAME_BYTES)


def encode_status(reason: int, boot: int, thr: int, sample_interval_s: int, heartbeat_interval_s: int) -> bytes:
    w = _Bits()
    w.put(_header(KIND_STATUS, reason), 8)
    w.put(boot, 24)
    w.put(_clamp(thr, 0, 65535), 16)
    w.put(_clamp(sample_interval_s, 0, (1 << 17) - 1), 17)
    w.put(_clamp(heartbeat_interval_s, 0, (1 << 20) - 1), 20)
    return w.done(FRAME_BYTES)


def frame_from_message(kind: str, msg: dict, now_ms: int) -> bytes:
    """A decoded schema-v2 alert or heartbeat (edge_node/core/schema.py) -> its frame, aged from its
    t_ms to now_ms. Used by the firmware's LoRaWAN radio and the simulator alike."""
    age_s = (now_ms - msg["t_ms"]) // 1000
    flt = msg.get("flt", 0)
    if kind == "alert":
        return encode_alert(msg["seq"], age_s, msg["score"], msg["thr"], msg.get("lvl", 2), msg.get("boot", 0),
                            msg["bat_mv"], msg.get("temp_cc"), msg.get("rh_cp"), msg.get("gas_q8"), flt)
    if kind == "heartbeat":
        return encode_heartbeat(msg["seq"], age_s, msg.get("boot", 0), msg["bat_mv"], msg.get("queued", 0), flt,
                                msg.get("temp_cc"), msg.get("rh_cp"), msg.get("gas_q8"), msg.get("bat_pct"))
    raise CodecError("LoRaWAN frames carry alerts and heartbeats, not " + kind)


def decode_uplink(data) -> dict:
    """Frame bytes -> dict of integers (None for an absent reading); CodecError if not ours."""
    if len(data) != FRAME_BYTES:
        raise CodecError("frame must be " + str(FRAME_BYTES) + " bytes, got " + str(len(data)))
    r = _Reader(data)
    version, kind, low4 = r.get(2), r.get(2), r.get(4)
    if version != CODEC_VERSION:
        raise CodecError("codec version " + str(version) + " not supported")
    out: dict = {}
    if kind == KIND_ALERT:
        out = {"k": "alert", "lvl": 2 if low4 & 8 else 1, "boot3": low4 & 7, "seq16": r.get(16),
               "age_s": age_seconds(r.get(8)), "ratio_q8": r.get(16)}
        _get_readings(r, out)
        out["bat_mv"] = 1800 + 20 * r.get(7)
        out["flt"] = r.get(6)
        return out
    if kind == KIND_HEARTBEAT:
        out = {"k": "heartbeat", "boot3": (low4 >> 1) & 7, "seq16": r.get(16), "age_s": age_seconds(r.get(8)),
               "bat_mv": 1800 + 20 * r.get(7)}
        pct = r.get(7)
        out["bat_pct"] = None if pct > 100 else pct
        out["queued"] = r.get(4)
        out["flt"] = r.get(6)
        _get_readings(r, out)
        return out
    if kind == KIND_STATUS:
        return {"k": "status", "reason": low4, "boot24": r.get(24), "thr": r.get(16),
                "sample_interval_s": r.get(17), "heartbeat_interval_s": r.get(20)}
    raise CodecError("unknown frame kind " + str(kind))


def encode_config(thr=None, sample_interval_s=None, heartbeat_interval_s=None, ask_status: bool = False) -> bytes:
    """A config downlink; raises CodecError for a value outside its bounds."""
    flags = 0
    body = bytearray()
    for value, flag, bounds, width in ((thr, 8, THRESHOLD_RANGE, 2),
                                       (sample_interval_s, 4, SAMPLE_INTERVAL_RANGE_S, 3),
                                       (heartbeat_interval_s, 2, HEARTBEAT_INTERVAL_RANGE_S, 3)):
        if value is None:
            continue
        _check_bound(flag, value, bounds)
        flags |= flag
        for shift in range(8 * (width - 1), -1, -8):
            body.append((value >> shift) & 0xFF)
    if ask_status:
        flags |= 1
    if not flags:
        raise CodecError("a config downlink needs at least one setting")
    return bytes([_header(0, flags)]) + bytes(body)


def decode_config(data) -> dict:
    """Downlink bytes -> {"thr", "sample_interval_s", "heartbeat_interval_s": int or None,
    "ask_status": bool}; CodecError for anything malformed or out of bounds (apply nothing then)."""
    if not 1 <= len(data) <= 9:
        raise CodecError("config downlink must be 1-9 bytes")
    head = data[0]
    if head >> 6 != CODEC_VERSION or (head >> 4) & 3 != 0:
        raise CodecError("not a version-" + str(CODEC_VERSION) + " config downlink")
    flags = head & 15
    out: dict = {"thr": None, "sample_interval_s": None, "heartbeat_interval_s": None, "ask_status": bool(flags & 1)}
    pos = 1
    for name, flag, bounds, width in (("thr", 8, THRESHOLD_RANGE, 2),
                                      ("sample_interval_s", 4, SAMPLE_INTERVAL_RANGE_S, 3),
                                      ("heartbeat_interval_s", 2, HEARTBEAT_INTERVAL_RANGE_S, 3)):
        if not flags & flag:
            continue
        if pos + width > len(data):
            raise CodecError("config downlink is truncated")
        value = 0
        for i in range(width):
            value = (value << 8) | data[pos + i]
        pos += width
        _check_bound(flag, value, bounds)
        out[name] = value
    if pos != len(data):
        raise CodecError("config downlink has trailing bytes")
    return out


def _check_bound(flag: int, value, bounds) -> None:
    names = {8: "threshold", 4: "sample_interval_s", 2: "heartbeat_interval_s"}
    if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        raise CodecError(names[flag] + " must be an integer in " + str(bounds[0]) + ".." + str(bounds[1]))
