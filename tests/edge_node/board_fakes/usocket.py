"""A fake `usocket` with a scripted broker: answers, or goes silent the way a dead broker does.

`broker` = "ok" (CONNACK and PUBACKs), "silent" (accepts TCP, never answers) or
"no_puback" (CONNACK, then nothing). A read with nothing to read and no timeout set
raises Hang: on a board it would block for ever (the test fails on it); with a
timeout it raises OSError(ETIMEDOUT) as MicroPython's sockets do.
"""

ETIMEDOUT = 110
broker = "ok"
timeouts_seen = []  # every timeout a socket was given


class Hang(BaseException):
    """A read that would never return: BaseException, so no `except Exception` can turn it into an error."""


def getaddrinfo(host, port, *args):
    return [(2, 1, 0, "", (host, port))]


class socket:
    def __init__(self, *args):
        self.timeout = None
        self.inbox = b""

    def settimeout(self, value):
        self.timeout = value
        timeouts_seen.append(value)

    def setblocking(self, flag):
        self.timeout = None if flag else 0

    def connect(self, addr):
        pass

    def write(self, data, n=None):
        data = bytes(data[:n] if n is not None else data)
        if data[:1] == b"\x10" and broker in ("ok", "no_puback"):
            self.inbox += b"\x20\x02\x00\x00"  # CONNACK
        elif data and data[0] & 0xF6 == 0x32 and broker == "ok":  # PUBLISH at QoS 1 (any retain flag)
            self.inbox += b"\x40\x02" + data[1:3]  # PUBACK for the packet id
        return len(data)

    def read(self, n):
        if not self.inbox:
            if self.timeout is None:
                raise Hang("read blocks for ever: no timeout on the socket")
            raise OSError(ETIMEDOUT)
        out, self.inbox = self.inbox[:n], self.inbox[n:]
        return out

    def close(self):
        pass
