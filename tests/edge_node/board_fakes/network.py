"""A fake `network` module: a station interface that joins at once (or never, when `reachable` is False)."""

STA_IF = 0
reachable = True
ifconfigs = []  # static addresses set before a join


class WLAN:
    def __init__(self, interface):
        self.on = False
        self.joined = False

    def active(self, on=None):
        if on is not None:
            self.on = on
            if not on:
                self.joined = False
        return self.on

    def isconnected(self):
        return self.joined

    def connect(self, ssid, password):
        self.joined = reachable

    def ifconfig(self, config=None):
        if config is not None:
            ifconfigs.append(tuple(config))
        return ("10.0.0.9", "255.255.255.0", "10.0.0.1", "10.0.0.1")
