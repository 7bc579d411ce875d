"""The node's radio: Wi-Fi + MQTT (micropython-lib `umqtt.simple`) behind a small interface.

Interface every radio offers (the wake cycle needs nothing else):
  connect(), publish(topic, payload, retain, qos), disconnect(), and optionally
  sync_clock() for a radio that can set the clock (here: NTP over Wi-Fi),
all raising `errors.RadioError` for any network or broker trouble.

On connect the node sets a retained last will `offline` on its status topic
and publishes a retained `online`, so the gateway learns of a node whose
link died mid-wake. umqtt.simple supports QoS 0 and 1; QoS 1 waits for the
broker's PUBACK, so a message leaves the outbox only once it is stored.
Nothing here can block for ever: the Wi-Fi join has `wifi_timeout_s`, and every
socket operation of MQTT (connect, CONNACK, each PUBACK) and NTP `socket_timeout_s`
(edge_node/net_timeouts.py); the board's watchdog is the last resort.
"""

from edge_node.core import schema
from edge_node.errors import RadioError
from edge_node.net_timeouts import install as install_socket_timeouts
from edge_node.ticks import sleep_ms, ticks_diff, ticks_ms


def _wifi_error(exc) -> RadioError:
    return RadioError("wifi: " + str(exc))


class MqttRadio:
    def __init__(self, config, wlan, client_factory=None, ntp=None) -> None:
        """wlan: a `network.WLAN(network.STA_IF)`; client_factory(client_id, host, port, user,
        password, keepalive, timeout_s) -> an umqtt.simple.MQTTClient-like object (injected by
        tests); ntp: a module like `ntptime` (settime(), `host`, `timeout`), imported when needed."""
        self.cfg = config
        self.wlan = wlan
        self.client_factory = client_factory or _umqtt_client
        self.ntp = ntp
        self.client = None
        self.status_topic = schema.topic(config.site, config.node, schema.KIND_STATUS)

    def connect(self) -> None:
        self._join_wifi()
        cfg = self.cfg
        user = cfg.broker_user or None
        # umqtt.simple sends len(password) whenever a user is set: an empty password is "", never None
        password = cfg.broker_password if user else None
        client = None
        try:
            client = self.client_factory(cfg.site + "-" + cfg.node, cfg.broker_host, cfg.broker_port,
                                         user, password, 60, cfg.socket_timeout_s)
            client.set_last_will(self.status_topic, schema.encode_status(cfg.node, schema.STATE_OFFLINE),
                                 True, 1)
            client.connect()
            self.client = client
            client.publish(self.status_topic, schema.encode_status(cfg.node, schema.STATE_ONLINE), True, 1)
        except Exception as exc:  # umqtt raises OSError (timeouts too) and its own MQTTException
            self.client = None
            self._close_quietly(client)
            raise RadioError("mqtt connect to " + cfg.broker_host + ": " + repr(exc))

    def publish(self, topic: str, payload: bytes, retain: bool, qos: int) -> None:
        if self.client is None:
            raise RadioError("not connected")
        try:
            self.client.publish(topic, payload, retain, qos)
        except Exception as exc:
            client, self.client = self.client, None
            self._close_quietly(client)
            raise RadioError("mqtt publish: " + repr(exc))

    def sync_clock(self) -> None:
        """Set the RTC from NTP (joins Wi-Fi if needed; disconnect() switches it off again)."""
        self._join_wifi()
        ntp = self.ntp
        try:
            if ntp is None:
                import ntptime as ntp  # frozen into the ESP32 firmware
            ntp.host = self.cfg.ntp_host
            ntp.timeout = self.cfg.socket_timeout_s
            ntp.settime()
        except Exception as exc:  # OSError (timeout, DNS), OverflowError, ImportError
            raise RadioError("ntp " + self.cfg.ntp_host + ": " + repr(exc))

    def disconnect(self) -> None:
        client = self.client
        self.client = None
        try:
            if client is not None:
                client.disconnect()
        except Exception as exc:
            raise RadioError("mqtt disconnect: " + repr(exc))
        finally:
            self.wlan.active(False)  # the Wi-Fi radio is the biggest power draw; off before sleep

    def _close_quietly(self, client) -> None:
        sock = getattr(client, "sock", None)
        try:
            if sock is not None:
                sock.close()
        except Exception:
            pass  # closing a dead socket: nothing left to save

    def _join_wifi(self) -> None:
        wlan = self.wlan
        try:
            wlan.active(True)
            if not wlan.isconnected():
                if self.cfg.static_ip is not None:
                    wlan.ifconfig(self.cfg.static_ip)  # no DHCP exchange: the join is about a second shorter
                wlan.connect(self.cfg.wifi_ssid, self.cfg.wifi_password)
            started = ticks_ms()
            while not wlan.isconnected():
                if ticks_diff(ticks_ms(), started) >= self.cfg.wifi_timeout_s * 1000:
                    wlan.active(False)
                    raise RadioError("wifi: no connection to " + repr(self.cfg.wifi_ssid)
                                     + " within " + str(self.cfg.wifi_timeout_s) + " s")
                sleep_ms(50)
        except OSError as exc:
            raise _wifi_error(exc)


def _umqtt_client(client_id, host, port, user, password, keepalive, timeout_s):
    # Frozen into the official ESP32 firmware; otherwise `mpremote mip install umqtt.simple`.
    from umqtt import simple
    install_socket_timeouts(simple, timeout_s)
    return simple.MQTTClient(client_id, host, port=port, user=user, password=password, keepalive=keepalive)
