"""What a node remembers across deep sleep, and where it keeps it.

Deep sleep wipes RAM, so everything the next wake needs (feature averages,
detector window, seq counter, unsent messages) is packed into one small blob
in RTC memory: it survives deep sleep and costs no flash wear. The blob
carries a length and an Adler-32 checksum; a blob that fails either check is
ignored and the node starts afresh instead of acting on garbage.

RTC memory is lost with the battery, but `seq` must never repeat (the gateway
deduplicates by it), so seq is reserved in blocks on flash: one small flash
write every SEQ_BLOCK messages, and after any loss the node resumes above
every number it may already have used. A flash write that fails does not stop the
node: it carries on from RTC memory and reports FAULT_STORAGE until a write succeeds.
Runs on MicroPython and CPython.
"""

try:
    import json
except ImportError:  # very old MicroPython ports
    import ujson as json  # type: ignore

from edge_node.errors import StorageError

MAGIC = b"EW"
BLOB_VERSION = 2
_HEADER_LEN = 9  # magic 2, version 1, length 2, adler32 4
SEQ_BLOCK = 64
RTC_MEMORY_BYTES = 2048  # ESP32 port default (MICROPY_HW_RTC_USER_MEM_MAX)


def adler32(data: bytes) -> int:
    a = 1
    b = 0
    for byte in data:
        a = (a + byte) % 65521
        b = (b + a) % 65521
    return (b << 16) | a


_FIELDS = ("seq", "seq_reserved", "last_sample_ms", "last_heartbeat_ms", "retry_after_ms", "radio_failures",
           "boot", "last_sync_ms", "resync_s", "storage_fault", "wakes",
           "features", "detector", "outbox", "held", "last_error")
_N_INTS = 11  # the first _N_INTS fields are integers, then lists, then one text


class NodeState:
    """Everything one wake hands to the next; plain ints, lists and one short text only."""

    def __init__(self) -> None:
        self.seq = 0                 # last seq used; the next message gets seq + 1
        self.seq_reserved = 0        # flash holds a floor >= every seq used so far
        self.last_sample_ms = -1     # event time of the previous reading (-1: none yet)
        self.last_heartbeat_ms = -1
        self.retry_after_ms = 0      # radio backoff after a failed connection
        self.radio_failures = 0      # consecutive failed connections
        self.boot = 0                # boot counter (its truth is on flash; this is the cached copy)
        self.last_sync_ms = -1       # when NTP last set the clock (-1: never)
        self.resync_s = 0            # current NTP resync interval (0: the configured one)
        self.storage_fault = 0       # 1 while flash writes fail
        self.wakes = 0
        self.features: list = []     # FeatureState.to_list()
        self.detector: list = []     # Detector.to_list()
        self.outbox: list = [0, 0, []]  # Outbox.to_list()
        self.held: list = []         # alerts raised while the clock was unset, not yet encoded
        self.last_error = ""         # the previous wake's error, so a repeat is not logged again

    def to_list(self) -> list:
        return [getattr(self, name) for name in _FIELDS]

    @classmethod
    def from_list(cls, values) -> "NodeState":
        if not isinstance(values, list) or len(values) != len(_FIELDS):
            raise ValueError("state has the wrong shape")
        for i in range(_N_INTS):
            if isinstance(values[i], bool) or not isinstance(values[i], int):
                raise ValueError("state counter is not an integer")
        for i in range(_N_INTS, len(_FIELDS) - 1):
            if not isinstance(values[i], list):
                raise ValueError("state section is not a list")
        if not isinstance(values[-1], str):
            raise ValueError("state error text is not text")
        state = cls()
        for i in range(len(_FIELDS)):
            setattr(state, _FIELDS[i], values[i])
        return state


def pack_state(state: NodeState) -> bytes:
    body = json.dumps(state.to_list()).encode()
    n = len(body)
    check = adler32(body)
    header = MAGIC + bytes([BLOB_VERSION, n >> 8, n & 0xFF,
                            (check >> 24) & 0xFF, (check >> 16) & 0xFF, (check >> 8) & 0xFF, check & 0xFF])
    return header + body


def unpack_state(blob) -> NodeState:
    """Blob -> NodeState; ValueError for anything torn, stale, foreign or corrupt."""
    if blob is None or len(blob) < _HEADER_LEN:
        raise ValueError("no saved state")
    blob = bytes(blob)
    if blob[0:2] != MAGIC or blob[2] != BLOB_VERSION:
        raise ValueError("saved state has an unknown header")
    n = (blob[3] << 8) | blob[4]
    body = blob[_HEADER_LEN:_HEADER_LEN + n]
    if len(body) != n:
        raise ValueError("saved state is truncated")
    check = (blob[5] << 24) | (blob[6] << 16) | (blob[7] << 8) | blob[8]
    if adler32(body) != check:
        raise ValueError("saved state fails its checksum")
    try:
        values = json.loads(body)
    except (ValueError, UnicodeError):
        raise ValueError("saved state is not JSON")
    return NodeState.from_list(values)


class RtcMemoryStore:
    """Blob in the RTC slow memory (`machine.RTC().memory()`), kept through deep sleep."""

    def __init__(self, rtc, capacity: int = RTC_MEMORY_BYTES) -> None:
        self.rtc = rtc
        self.capacity = capacity

    def load(self):
        return self.rtc.memory()

    def save(self, blob: bytes) -> None:
        if len(blob) > self.capacity:
            raise ValueError("state blob of " + str(len(blob)) + " bytes exceeds RTC memory")
        self.rtc.memory(blob)


class FileStore:
    """Blob in a flash file, written to a temporary name then renamed into place."""

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self):
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError:
            return None

    def save(self, blob: bytes) -> None:
        import os
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(blob)
        try:
            os.rename(tmp, self.path)
        except OSError:  # FAT cannot rename over an existing file
            os.remove(self.path)
            os.rename(tmp, self.path)


def read_seq_floor(store) -> int:
    """The flash seq reservation; 0 when missing or unreadable (first boot)."""
    raw = store.load()
    try:
        value = int(bytes(raw).decode()) if raw else 0
    except (ValueError, UnicodeError):
        return 0
    return value if value > 0 else 0


def load_state(store, seq_store):
    """(state, why_fresh): the saved state, or a fresh one resuming seq above flash's floor."""
    try:
        return unpack_state(store.load()), ""
    except ValueError as exc:
        why = str(exc)
    state = NodeState()
    floor = read_seq_floor(seq_store)
    state.seq = floor
    state.seq_reserved = floor
    return state, why


def next_seq(state: NodeState, seq_store) -> int:
    """Take the next seq, reserving a new block on flash before its first use.

    A failed flash write sets state.storage_fault and the node carries on from RTC memory
    (the reservation is retried by `retry_seq_floor` each wake until flash takes it).
    """
    state.seq += 1
    if state.seq > state.seq_reserved:
        state.seq_reserved = state.seq + SEQ_BLOCK - 1
        write_seq_floor(state, seq_store)
    return state.seq


def write_seq_floor(state: NodeState, seq_store) -> bool:
    try:
        seq_store.save(str(state.seq_reserved + 1).encode())
    except (OSError, StorageError):
        state.storage_fault = 1
        return False
    state.storage_fault = 0
    return True


def retry_seq_floor(state: NodeState, seq_store) -> None:
    """While flash is failing, try the pending seq reservation again (one small write a wake)."""
    if state.storage_fault:
        write_seq_floor(state, seq_store)
