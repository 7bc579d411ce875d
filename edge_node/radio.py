"""The node's radio: Wi-Fi + MQTT (micropython-lib `umqtt.simple`) behind a small interface.

Interface every radio offers (the wake cycle needs nothing else):
  connect(), publish(topic, payload, retain, qos), disconnect()
all raising `wake.RadioError` for any network or broker trouble.

On connect the node sets a retained last will `offline` on its status topic
and publishes a retained `online`, so the gateway learns of a node whose
link died mid-wake. umqtt.simple supports QoS 0 and 1; QoS 1 waits for the
broker's PUBACK, so a message leaves the outbox only once it is stored.
"""

from edge_node.core import schema
from edge_node.ticks import sleep_ms, ticks_diff, ticks_ms
from edge_node.wake import RadioError


def _wifi_error(exc) -> RadioError:
    return RadioError("wifi: " + str(exc))


class MqttRadio:
    def __init__(self, config, wlan, client_factory=None) -> None:
        """wlan: a `network.WLAN(network.STA_IF)`; client_factory(client_id, host, port, user,
        password, keepalive) -> an umqtt.simple.MQTTClient-like object (injected by tests)."""
        self.cfg = config
        self.wlan = wlan
        self.client_factory = client_factory or _umqtt_client
        self.client = None
        self.status_topic = schema.topic(config.site, config.node, schema.KIND_STATUS)

    def connect(self) -> None:
        self._join_wifi()
        cfg = self.cfg
        try:
            client = self.client_factory(cfg.site + "-" + cfg.node, cfg.broker_host, cfg.broker_port,
                                         cfg.broker_user or None, cfg.broker_password or None, 60)
            client.set_last_will(self.status_topic, schema.encode_status(cfg.node, schema.STATE_OFFLINE),
                                 True, 1)
            client.connect()
            self.client = client
            client.publish(self.status_topic, schema.encode_status(cfg.node, schema.STATE_ONLINE), True, 1)
        except Exception as exc:  # umqtt raises OSError and its own MQTTException; translate both
            self.client = None
            raise RadioError("mqtt connect to " + cfg.broker_host + ": " + repr(exc))

    def publish(self, topic: str, payload: bytes, retain: bool, qos: int) -> None:
        if self.client is None:
            raise RadioError("not connected")
        try:
            self.client.publish(topic, payload, retain, qos)
        except Exception as exc:
            raise RadioError("mqtt publish: " + repr(exc))

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

    def _join_wifi(self) -> None:
        wlan = self.wlan
        try:
            wlan.active(True)
            if not wlan.isconnected():
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


def _umqtt_client(client_id, host, port, user, password, keepalive):
    # Frozen into the official ESP32 firmware; otherwise `mpremote mip install umqtt.simple`.
    from umqtt.simple import MQTTClient
    return MQTTClient(client_id, host, port=port, user=user, password=password, keepalive=keepalive)
