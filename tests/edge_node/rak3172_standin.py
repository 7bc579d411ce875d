"""A RAK3172 running RUI3, as its host MCU sees it over the UART: the documented AT dialect.

Replies follow the RUI3 AT Command Manual: "AT+NJS=?" -> "AT+NJS=<0|1>" + "OK"; "AT+JOIN=..."
-> "OK" then "+EVT:JOINED" / "+EVT:JOIN_FAILED_RX_TIMEOUT"; "AT+SEND=<port>:<hex>" -> "OK" or
a status (AT_BUSY_ERROR, AT_NO_NETWORK_JOINED, AT_DUTYCYCLE_RESTRICTED, AT_PARAM_ERROR), then
"+EVT:TX_DONE" or "+EVT:SEND_CONFIRMED_OK" / "+EVT:SEND_CONFIRMED_FAILED(4)", and a downlink
as "+EVT:RX_1:<rssi>:<snr>:UNICAST:<port>:<hex>". What the network does is scripted: `joins`
and `sends` are lists of outcomes consumed one per command ("ok" when empty).
The session (joined, frame counter) survives the host's deep sleep, as on the module.
Runs on MicroPython and CPython; keeps time with the FakeTicks it is given.
"""

MAX_PAYLOAD = 51  # EU868 DR0-DR2


class FakeTicks:
    """ticks_ms / sleep_ms / ticks_diff that only move when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0

    def ticks_ms(self) -> int:
        return self.now

    def sleep_ms(self, ms: int) -> None:
        self.now += ms

    def ticks_diff(self, a: int, b: int) -> int:
        return a - b


class Rak3172StandIn:
    def __init__(self, ticks) -> None:
        self.ticks = ticks
        self.joined = False
        self.cfm = 0
        self.lpm = 0
        self.fcnt = 0
        self.joins = []       # outcomes per AT+JOIN: "ok", "fail"
        self.sends = []       # outcomes per AT+SEND: "ok", "busy", "duty", "noack", "lost", "silent"
        self.confirmed_sends = []  # outcomes for confirmed sends only, used before `sends`
        self.downlinks = []   # (port, hex) delivered after the next send that reached the network
        self.commands = []
        self.uplinks = []     # (port, payload hex, confirmed, fcnt) that reached the network
        self._out = []

    # --- UART side ---
    def write(self, data) -> int:
        text = bytes(data).decode().strip()
        self.commands.append(text)
        self._handle(text)
        return len(data)

    def readline(self):
        if not self._out:
            return None
        self.ticks.now += 2  # a line at 115200 baud
        return (self._out.pop(0) + "\r\n").encode()

    def any(self) -> int:
        return len(self._out)

    # --- the module ---
    def _say(self, *lines) -> None:
        for line in lines:
            self._out.append(line)

    def _handle(self, text: str) -> None:
        if text == "AT":
            self._say("OK")
        elif text == "AT+NJS=?":
            self._say("AT+NJS=" + ("1" if self.joined else "0"), "OK")
        elif text == "AT+NJM=1" or text == "AT+LPM=1":
            if text == "AT+LPM=1":
                self.lpm = 1
            self._say("OK")
        elif text.startswith("AT+CFM="):
            value = text[7:]
            if value not in ("0", "1"):
                self._say("AT_PARAM_ERROR")
                return
            self.cfm = int(value)
            self._say("OK")
        elif text.startswith("AT+JOIN="):
            self._join()
        elif text.startswith("AT+SEND="):
            self._send(text[8:])
        else:
            self._say("AT_ERROR")

    def _join(self) -> None:
        outcome = self.joins.pop(0) if self.joins else "ok"
        self._say("OK")
        self.ticks.now += 6000  # join request, join accept in RX1 at 5 s
        if outcome == "ok":
            self.joined = True
            self.fcnt = 0  # frame counters restart at every join
            self._say("+EVT:JOINED")
        else:
            self._say("+EVT:JOIN_FAILED_RX_TIMEOUT")

    def _send(self, args: str) -> None:
        port_text, _, data = args.partition(":")
        try:
            port = int(port_text)
            payload = bytes(int(data[i:i + 2], 16) for i in range(0, len(data), 2))
        except ValueError:
            self._say("AT_PARAM_ERROR")
            return
        if not 1 <= port <= 223 or len(data) % 2 or len(payload) > MAX_PAYLOAD:
            self._say("AT_PARAM_ERROR")
            return
        if not self.joined:
            self._say("AT_NO_NETWORK_JOINED")
            return
        if self.cfm and self.confirmed_sends:
            outcome = self.confirmed_sends.pop(0)
        else:
            outcome = self.sends.pop(0) if self.sends else "ok"
        if outcome == "busy":
            self._say("AT_BUSY_ERROR")
            return
        if outcome == "duty":
            self._say("AT_DUTYCYCLE_RESTRICTED")
            return
        if outcome == "lost":  # brown-out: the module rebooted without its session
            self.joined = False
            self._say("AT_NO_NETWORK_JOINED")
            return
        self._say("OK")
        self.ticks.now += 3000  # time on air + RX1 + RX2
        if outcome == "silent":
            return
        self.fcnt += 1
        if outcome == "noack":
            self._say("+EVT:SEND_CONFIRMED_FAILED(4)" if self.cfm else "+EVT:TX_DONE")
            return
        self.uplinks.append((port, data, self.cfm, self.fcnt))
        self._say("+EVT:SEND_CONFIRMED_OK" if self.cfm else "+EVT:TX_DONE")
        if self.downlinks:
            port_down, hex_down = self.downlinks.pop(0)
            self._say("+EVT:RX_1:-87:7:UNICAST:" + str(port_down) + ":" + hex_down)
