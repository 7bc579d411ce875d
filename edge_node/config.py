"""The node's on-flash `config.json`: parsed and checked once at boot, before any I/O.

Every problem is reported at once (a node on a ladder in a forest is no place
to fix them one by one). Runs on MicroPython and CPython.
"""

try:
    import json
except ImportError:  # very old MicroPython ports
    import ujson as json  # type: ignore

from edge_node.core.battery_state import CHEMISTRIES
from edge_node.core.schema import is_valid_id

CONFIG_PATH = "config.json"

# name -> default; None means required.
_REQUIRED_TEXT = ("wifi_ssid", "broker_host", "site", "node")
_WIFI_ONLY = ("wifi_ssid", "broker_host")  # a LoRaWAN node has no access point and no broker
RADIOS = ("wifi", "lorawan")
_OPTIONAL_TEXT = {"wifi_password": "", "broker_user": "", "broker_password": "", "ntp_host": "pool.ntp.org",
                  "battery": "2xAA", "static_ip": "", "netmask": "255.255.255.0", "gateway_ip": "", "dns_ip": ""}
# How many messages fit the 2 KB of RTC memory next to the rest of the state, each the longest a
# node can make (32-char node id, every field at its widest): tests/edge_node/test_wake_cycle.py
# fills the queue with such messages and checks the state still fits.
QUEUE_CAPACITY_MAX = 6
# name -> (default or None when required, lowest, highest)
_INTS = {
    "broker_port": (1883, 1, 65535),
    # The default model's calibration (model_weights.SAMPLE_INTERVAL_S; a test keeps them equal).
    "sample_interval_s": (30, 1, 86400),
    "heartbeat_interval_s": (3600, 60, 7 * 86400),
    "queue_capacity": (6, 1, QUEUE_CAPACITY_MAX),
    "i2c_sda_pin": (21, 0, 48),
    "i2c_scl_pin": (22, 0, 48),
    "bme_addr": (0x77, 0x76, 0x77),
    "battery_adc_pin": (35, 0, 48),
    "battery_divider_top_kohm": (100, 0, 10000),
    "battery_divider_bottom_kohm": (100, 1, 10000),
    "wifi_timeout_s": (10, 1, 120),
    # LoRaWAN modem (RAK3172, RUI3) on UART 1: edge_node/lorawan_radio.py
    "uart_tx_pin": (17, 0, 48),
    "uart_rx_pin": (16, 0, 48),
    "lorawan_join_timeout_s": (90, 10, 600),
    "lorawan_send_budget_s": (30, 1, 300),
    # Every network read and write (DNS aside) gives up after this: umqtt.simple has no timeout.
    "socket_timeout_s": (5, 1, 30),
    # NTP again after this long (halved while the RTC drifts more than 10 s between syncs).
    "ntp_resync_s": (21600, 3600, 7 * 86400),
}


class ConfigError(ValueError):
    """config.json is missing, unreadable or has invalid values; `problems` lists each one."""

    def __init__(self, problems) -> None:
        super().__init__("config.json: " + "; ".join(problems))
        self.problems = problems


class NodeConfig:
    """Validated settings; build it with `parse_config(dict)` or `load_config(path)`."""

    def __init__(self, values: dict) -> None:
        self.wifi_ssid = values["wifi_ssid"]
        self.wifi_password = values["wifi_password"]
        self.broker_host = values["broker_host"]
        self.broker_port = values["broker_port"]
        self.broker_user = values["broker_user"]
        self.broker_password = values["broker_password"]
        self.site = values["site"]
        self.node = values["node"]
        self.lat_e6 = values["lat_e6"]
        self.lon_e6 = values["lon_e6"]
        self.sample_interval_s = values["sample_interval_s"]
        self.heartbeat_interval_s = values["heartbeat_interval_s"]
        self.queue_capacity = values["queue_capacity"]
        self.i2c_sda_pin = values["i2c_sda_pin"]
        self.i2c_scl_pin = values["i2c_scl_pin"]
        self.bme_addr = values["bme_addr"]
        self.battery_adc_pin = values["battery_adc_pin"]
        self.battery_divider_top_kohm = values["battery_divider_top_kohm"]
        self.battery_divider_bottom_kohm = values["battery_divider_bottom_kohm"]
        self.wifi_timeout_s = values["wifi_timeout_s"]
        self.radio = values["radio"]
        self.uart_tx_pin = values["uart_tx_pin"]
        self.uart_rx_pin = values["uart_rx_pin"]
        self.lorawan_join_timeout_s = values["lorawan_join_timeout_s"]
        self.lorawan_send_budget_s = values["lorawan_send_budget_s"]
        self.socket_timeout_s = values["socket_timeout_s"]
        self.ntp_resync_s = values["ntp_resync_s"]
        self.ntp_host = values["ntp_host"]
        self.battery = values["battery"]
        # (ip, netmask, gateway, dns) for a static address, None for DHCP (see docs/energy.md: DHCP
        # costs about a second and 100 mC more per Wi-Fi session)
        self.static_ip = None
        if values["static_ip"]:
            self.static_ip = (values["static_ip"], values["netmask"], values["gateway_ip"],
                              values["dns_ip"] or values["gateway_ip"])


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def degrees_to_e6(value) -> int:
    """Degrees (number or decimal string) -> integer micro-degrees.

    Strings are converted exactly with integers, so single-precision float
    builds (ESP32) do not lose the last digits; numbers are rounded.
    """
    if isinstance(value, bool):
        raise ValueError("not a number")
    if _is_int(value):
        return value * 1000000
    if isinstance(value, float):
        return int(round(value * 1000000))
    if not isinstance(value, str):
        raise ValueError("not a number")
    text = value.strip()
    sign = 1
    if text[:1] in ("-", "+"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    whole, _, frac = text.partition(".")
    if not (whole or frac) or not (whole + frac).isdigit() or len(frac) > 6:
        raise ValueError("not a decimal with at most 6 places")
    return sign * (int(whole or "0") * 1000000 + int((frac + "000000")[:6]))


def is_ipv4(text) -> bool:
    if not isinstance(text, str):
        return False
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)


def _credential_problems(values: dict) -> list:
    """Credentials a radio would reject only at connect time, found before any I/O."""
    problems = []
    ssid, password = values["wifi_ssid"], values["wifi_password"]
    if isinstance(ssid, str) and len(ssid.encode()) > 32:
        problems.append("wifi_ssid is longer than 32 bytes")
    if isinstance(password, str) and password:
        hex_key = len(password) == 64 and all(c in "0123456789abcdefABCDEF" for c in password)
        if not hex_key and not 8 <= len(password) <= 63:
            problems.append("wifi_password must be empty (open network), 8-63 characters or 64 hex digits")
    user, secret = values["broker_user"], values["broker_password"]
    if isinstance(user, str) and isinstance(secret, str) and secret and not user:
        problems.append("broker_password needs broker_user (MQTT sends no password without a user name)")
    for name in ("broker_user", "broker_password"):
        if isinstance(values[name], str) and len(values[name].encode()) > 65535:
            problems.append(name + " is longer than MQTT's 65535 bytes")
    if isinstance(values["battery"], str) and values["battery"] not in CHEMISTRIES:
        problems.append("battery must be one of " + ", ".join(CHEMISTRIES) + ", got " + repr(values["battery"])[:40])
    if values["static_ip"]:
        for name in ("static_ip", "netmask", "gateway_ip"):
            if not is_ipv4(values[name]):
                problems.append(name + " must be a dotted IPv4 address for a static address, got "
                                + repr(values[name])[:40])
        if values["dns_ip"] and not is_ipv4(values["dns_ip"]):
            problems.append("dns_ip must be a dotted IPv4 address, got " + repr(values["dns_ip"])[:40])
    return problems


def parse_config(raw) -> NodeConfig:
    """Check a decoded config.json object; raise ConfigError naming every problem."""
    if not isinstance(raw, dict):
        raise ConfigError(["top level must be a JSON object"])
    problems = []
    values: dict = {}
    radio = raw.get("radio", "wifi")
    if radio not in RADIOS:
        problems.append("radio must be wifi or lorawan, got " + repr(radio)[:40])
    values["radio"] = radio
    for name in _REQUIRED_TEXT:
        value = raw.get(name)
        if radio == "lorawan" and name in _WIFI_ONLY:
            value = value or ""
        elif not isinstance(value, str) or not value:
            problems.append(name + " is required (non-empty text)")
        values[name] = value
    for name in _OPTIONAL_TEXT:
        value = raw.get(name, _OPTIONAL_TEXT[name])
        if not isinstance(value, str):
            problems.append(name + " must be text")
        values[name] = value
    for name in ("site", "node"):
        if isinstance(values[name], str) and values[name] and not is_valid_id(values[name]):
            problems.append(name + " must be 1-32 chars of [A-Za-z0-9_-], got " + repr(values[name])[:40])
    for name in _INTS:
        default, low, high = _INTS[name]
        value = raw.get(name, default)
        if not _is_int(value):
            problems.append(name + " must be an integer")
        elif not low <= value <= high:
            problems.append(name + "=" + str(value) + " outside " + str(low) + ".." + str(high))
        values[name] = value
    for name, limit in (("lat", 90), ("lon", 180)):
        values[name + "_e6"] = None
        if name not in raw:
            continue
        try:
            e6 = degrees_to_e6(raw[name])
        except ValueError:
            problems.append(name + " must be a number of degrees, got " + repr(raw[name])[:40])
            continue
        if not -limit * 1000000 <= e6 <= limit * 1000000:
            problems.append(name + " outside -" + str(limit) + ".." + str(limit))
        values[name + "_e6"] = e6
    problems.extend(_credential_problems(values))
    if (values["lat_e6"] is None) != (values["lon_e6"] is None):
        problems.append("lat and lon must be given together")
    if (_is_int(values["heartbeat_interval_s"]) and _is_int(values["sample_interval_s"])
            and values["heartbeat_interval_s"] < values["sample_interval_s"]):
        problems.append("heartbeat_interval_s must be >= sample_interval_s")
    known = set(_REQUIRED_TEXT) | set(_OPTIONAL_TEXT) | set(_INTS) | {"lat", "lon", "radio"}
    for name in raw:
        if name not in known and not name.startswith("_"):
            problems.append("unknown setting " + repr(name)[:40] + " (a typo?)")
    if problems:
        raise ConfigError(problems)
    return NodeConfig(values)


def load_config(path: str = CONFIG_PATH) -> NodeConfig:
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError([path + " not found: copy config.example.json, fill it in, upload it"])
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ConfigError([path + " is not valid JSON: " + str(exc)[:80]])
    return parse_config(raw)
