"""RAK3172 (RUI3 firmware) LoRaWAN modem over a UART, in its documented AT dialect.

Why the RAK3172 with RUI3: the STM32WLE5 module runs the whole LoRaWAN 1.0.3 stack (MAC, duty
cycle, retransmissions, session keys in its own flash) and RAKwireless documents every status
string and asynchronous event of its AT firmware (RUI3 AT Command Manual); it sleeps at 1.69 uA
(RAK3172 datasheet) with AT+LPM=1 and wakes on UART. The Seeed Wio-E5 (same STM32WLE5 chip) would
do, but its AT firmware reports sends as multi-line "+MSG:" texts with no status token per error.

Dialect used here (RUI3 AT Command Manual):
  AT+NJS=?          -> "AT+NJS=1" (or "1"), "OK"           joined?
  AT+JOIN=1:0:10:8  -> "OK", later "+EVT:JOINED" | "+EVT:JOIN_FAILED_RX_TIMEOUT"
  AT+CFM=1|0        -> "OK"                                confirmed / unconfirmed uplinks
  AT+SEND=<port>:<hex> -> "OK" | "AT_BUSY_ERROR" | "AT_NO_NETWORK_JOINED" | "AT_DUTYCYCLE_RESTRICTED" | ...
                    later "+EVT:TX_DONE" (unconfirmed), "+EVT:SEND_CONFIRMED_OK" or
                    "+EVT:SEND_CONFIRMED_FAILED(4)", and for a downlink
                    "+EVT:RX_1:<rssi>:<snr>:UNICAST:<port>:<hex>" (RX_2 from the second window)
Runs on MicroPython; the UART and the tick functions are passed in (tests use a stand-in).
"""

from edge_node.ticks import sleep_ms as _sleep_ms
from edge_node.ticks import ticks_diff as _ticks_diff
from edge_node.ticks import ticks_ms as _ticks_ms

STATUS_OK = "OK"
# Final status strings of a command (RUI3 AT Command Manual, "status codes"); one older RUI3 build
# spells the duty-cycle one without the second C.
STATUS_ERRORS = ("AT_ERROR", "AT_PARAM_ERROR", "AT_BUSY_ERROR", "AT_TEST_PARAM_OVERFLOW", "AT_NO_CLASSB_ENABLE",
                 "AT_NO_NETWORK_JOINED", "AT_RX_ERROR", "AT_MODE_NO_SUPPORT", "AT_DUTYCYCLE_RESTRICTED",
                 "AT_DUTYCYLE_RESTRICTED", "AT_CRYPTO_ERROR")


class ModemError(Exception):
    """The modem answered with an error status, or nothing in time; `status` says which."""

    def __init__(self, status: str, command: str) -> None:
        super().__init__(command + ": " + status)
        self.status = status


class AtModem:
    def __init__(self, uart, ticks_ms=_ticks_ms, sleep_ms=_sleep_ms, ticks_diff=_ticks_diff) -> None:
        self.uart = uart
        self.ticks_ms = ticks_ms
        self.sleep_ms = sleep_ms
        self.ticks_diff = ticks_diff
        self.events: list = []  # "+EVT:..." lines seen while waiting for something else

    def _readline(self, deadline_ms: int):
        """One line without CR/LF, or None at the deadline. Polls: the UART read never blocks."""
        while True:
            raw = self.uart.readline()
            if raw:
                line = raw.decode().strip() if isinstance(raw, bytes) else str(raw).strip()
                if line:
                    return line
                continue
            if self.ticks_diff(deadline_ms, self.ticks_ms()) <= 0:
                return None
            self.sleep_ms(10)

    def command(self, text: str, timeout_ms: int = 2000) -> list:
        """Send one command; the lines before OK. ModemError(status) for an error or a timeout."""
        self.uart.write((text + "\r\n").encode())
        deadline = self.ticks_ms() + timeout_ms
        lines: list = []
        while True:
            line = self._readline(deadline)
            if line is None:
                raise ModemError("TIMEOUT", text)
            if line == STATUS_OK:
                return lines
            if line in STATUS_ERRORS:
                raise ModemError(line, text)
            if line.startswith("+EVT:"):
                self.events.append(line)
            else:
                lines.append(line)

    def query(self, name: str) -> str:
        """`AT+NAME=?` -> its value (RUI3 echoes "AT+NAME=value"; some builds print the value alone)."""
        for line in self.command("AT+" + name + "=?"):
            prefix = "AT+" + name + "="
            return line[len(prefix):] if line.startswith(prefix) else line
        raise ModemError("NO_VALUE", "AT+" + name + "=?")

    def wait_event(self, prefixes, timeout_ms: int):
        """The first "+EVT:" line starting with one of prefixes (earlier events are kept), or None."""
        for i in range(len(self.events)):
            if self._matches(self.events[i], prefixes):
                return self.events.pop(i)
        deadline = self.ticks_ms() + timeout_ms
        while True:
            line = self._readline(deadline)
            if line is None:
                return None
            if self._matches(line, prefixes):
                return line
            if line.startswith("+EVT:"):
                self.events.append(line)

    def drain_events(self, quiet_ms: int) -> list:
        """Every event already printed or printed within quiet_ms (a downlink follows the send event)."""
        deadline = self.ticks_ms() + quiet_ms
        while True:
            line = self._readline(deadline)
            if line is None:
                break
            if line.startswith("+EVT:"):
                self.events.append(line)
        out = self.events
        self.events = []
        return out

    @staticmethod
    def _matches(line: str, prefixes) -> bool:
        for prefix in prefixes:
            if line.startswith(prefix):
                return True
        return False


def parse_downlink(event: str):
    """"+EVT:RX_1:-46:10:UNICAST:10:4817 70" -> (port, payload bytes, rssi, snr), or None if not one."""
    if not (event.startswith("+EVT:RX_1:") or event.startswith("+EVT:RX_2:")
            or event.startswith("+EVT:RX_B:") or event.startswith("+EVT:RX_C:")):
        return None
    parts = event.split(":")
    if len(parts) < 7:
        return None
    try:
        rssi, snr, port = int(parts[2]), int(parts[3]), int(parts[5])
        data = parts[6].replace(" ", "")
        payload = bytes(int(data[i:i + 2], 16) for i in range(0, len(data), 2))
    except ValueError:
        return None
    return port, payload, rssi, snr
