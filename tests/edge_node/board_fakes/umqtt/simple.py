"""A fake `umqtt.simple` that uses its socket exactly as the real one does (micropython-lib).

Module-level `socket` (the real one imports usocket as socket), connect() makes the socket and
reads the CONNACK, publish() at QoS 1 reads until the PUBACK through wait_msg(), which calls
setblocking(True) after its first read; the real user/password check (len() of the password
whenever a user is set). Only acknowledged messages are recorded.
"""

import usocket as socket

published = []  # (topic, msg, retain, qos), once acknowledged
wills = []
logins = []    # (user, password)
broker_up = True


class MQTTException(Exception):
    pass


class MQTTClient:
    def __init__(self, client_id, server, port=0, user=None, password=None, keepalive=0, ssl=None):
        self.client_id = client_id
        self.server = server
        self.port = port
        self.user = user
        self.pswd = password
        self.sock = None
        self.pid = 0

    def set_last_will(self, topic, msg, retain=False, qos=0):
        wills.append((topic, msg, retain, qos))

    def connect(self, clean_session=True):
        if not broker_up:
            raise OSError(113)  # EHOSTUNREACH
        self.sock = socket.socket()
        addr = socket.getaddrinfo(self.server, self.port)[0][-1]
        self.sock.connect(addr)
        size = 12 + len(self.client_id)
        if self.user:
            size += 2 + len(self.user) + 2 + len(self.pswd)  # TypeError on a None password, as umqtt
            logins.append((self.user, self.pswd))
        self.sock.write(b"\x10" + bytes([size & 0x7F]))
        resp = self.sock.read(4)
        if resp[0] != 0x20 or resp[1] != 0x02:
            raise MQTTException("bad CONNACK")
        if resp[3] != 0:
            raise MQTTException(resp[3])
        return resp[2] & 1

    def publish(self, topic, msg, retain=False, qos=0):
        self.pid += 1
        self.sock.write(bytes([0x30 | qos << 1 | retain, self.pid >> 8, self.pid & 0xFF]))
        if qos == 1:
            while 1:
                op = self.wait_msg()
                if op == 0x40:
                    self.sock.read(1)
                    rcv = self.sock.read(2)
                    if (rcv[0] << 8 | rcv[1]) == self.pid:
                        break
        published.append((topic, msg, retain, qos))

    def wait_msg(self):
        res = self.sock.read(1)
        self.sock.setblocking(True)
        return res[0]

    def disconnect(self):
        self.sock.write(b"\xe0\x00")
        self.sock.close()
