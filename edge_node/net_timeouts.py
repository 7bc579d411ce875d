"""Socket timeouts for umqtt.simple, which has none.

umqtt.simple makes its socket inside `connect()` with `socket.socket()` from the module
it imported, and `wait_msg()` calls `setblocking(True)` after its first read, which
clears any timeout set before. Swapping the module's `socket` for a factory of
`TimeoutSocket`s covers the TCP connect, the CONNACK and every PUBACK wait, on every
umqtt.simple version (those with `connect(timeout=)` too): a blocking mode or a None
timeout always means "at most timeout_s" here. Runs on MicroPython and CPython.
"""


class TimeoutSocket:
    """A socket whose reads and writes give up after timeout_s, whatever its user asks."""

    def __init__(self, sock, timeout_s) -> None:
        self._sock = sock
        self._timeout_s = timeout_s
        sock.settimeout(timeout_s)

    def settimeout(self, value) -> None:
        if value is None or value > self._timeout_s:
            value = self._timeout_s
        self._sock.settimeout(value)

    def setblocking(self, flag) -> None:
        if flag:
            self._sock.settimeout(self._timeout_s)
        else:
            self._sock.setblocking(False)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class TimeoutSocketModule:
    """Stands in for the `socket` module inside umqtt.simple: same functions, sockets with timeouts."""

    def __init__(self, module, timeout_s) -> None:
        self._module = module
        self.timeout_s = timeout_s

    def socket(self, *args):
        return TimeoutSocket(self._module.socket(*args), self.timeout_s)

    def __getattr__(self, name):
        return getattr(self._module, name)


def install(client_module, timeout_s) -> None:
    """Give every socket `client_module` (umqtt.simple) creates from now on a timeout_s timeout."""
    current = client_module.socket
    if isinstance(current, TimeoutSocketModule):
        current.timeout_s = timeout_s
    else:
        client_module.socket = TimeoutSocketModule(current, timeout_s)
