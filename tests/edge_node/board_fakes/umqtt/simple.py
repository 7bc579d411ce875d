"""A fake `umqtt.simple`: MQTTClient with the real one's signatures, recording what a broker would get."""

published = []  # (topic, msg, retain, qos)
wills = []
broker_up = True


class MQTTException(Exception):
    pass


class MQTTClient:
    def __init__(self, client_id, server, port=0, user=None, password=None, keepalive=0, ssl=None):
        self.client_id = client_id
        self.server = server
        self.port = port

    def set_last_will(self, topic, msg, retain=False, qos=0):
        wills.append((topic, msg, retain, qos))

    def connect(self, clean_session=True, timeout=None):
        if not broker_up:
            raise OSError(113)  # EHOSTUNREACH
        return 0

    def publish(self, topic, msg, retain=False, qos=0):
        published.append((topic, msg, retain, qos))

    def disconnect(self):
        pass
