"""MQTT over TLS with username/password against a real Mosquitto TLS listener (self-signed CA made here)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import schema
from tests.harness import servers
from tests.harness.gateway_runner import running_gateway
from tests.harness.servers import wait_until

pytestmark = pytest.mark.integration


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    ca_key, ca_crt = folder / "ca.key", folder / "ca.crt"
    key, csr, crt = folder / "server.key", folder / "server.csr", folder / "server.crt"
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=emberwatch test CA",
        "-keyout", str(ca_key), "-out", str(ca_crt))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(csr))
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "2", "-extfile", str(ext), "-out", str(crt))
    return ca_crt, crt, key


def test_gateway_connects_over_tls_with_credentials(tmp_path: Path, gateway_env: dict[str, str]) -> None:
    ca, crt, key = make_certificates(tmp_path)
    passwd = servers.password_file(tmp_path / "passwd", {"gateway": "tls-secret", "node": "node-secret"})
    site = gateway_env["EMBERWATCH_SITE"]
    with servers.running(servers.mosquitto(tmp_path / "mosquitto", extra_conf=(
            f"cafile {ca}\ncertfile {crt}\nkeyfile {key}\nallow_anonymous false\npassword_file {passwd}\n"))) as broker:
        env = {**gateway_env, "EMBERWATCH_MQTT_URL": f"mqtts://127.0.0.1:{broker.port}",
               "EMBERWATCH_MQTT_CA_FILE": str(ca), "EMBERWATCH_MQTT_USERNAME": "gateway",
               "EMBERWATCH_MQTT_PASSWORD": "tls-secret"}
        with running_gateway(env) as gateway:  # subscribed over TLS
            node = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tls-node")
            node.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
            node.username_pw_set("node", "node-secret")
            node.connect("127.0.0.1", broker.port)
            node.loop_start()
            payload = schema.encode_alert("n01", 1, int(time.time() * 1000), 900, 500, 2500, 3000, 1, -1, 3700)
            node.publish(schema.topic(site, "n01", "alert"), payload, qos=1).wait_for_publish(10)
            node.disconnect()
            node.loop_stop()
            wait_until(lambda: gateway.stats.stored >= 1, 15, "alert stored")


def test_a_broker_with_an_untrusted_certificate_is_refused(tmp_path: Path, gateway_env: dict[str, str]) -> None:
    ca, crt, key = make_certificates(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    other_ca, _, _ = make_certificates(other)
    with servers.running(servers.mosquitto(tmp_path / "mosquitto", extra_conf=(
            f"cafile {ca}\ncertfile {crt}\nkeyfile {key}\nallow_anonymous true\n"))) as broker:
        env = {**gateway_env, "EMBERWATCH_MQTT_URL": f"mqtts://127.0.0.1:{broker.port}",
               "EMBERWATCH_MQTT_CA_FILE": str(other_ca)}
        with running_gateway(env, subscribed_s=None) as gateway:
            assert not gateway.wait_subscribed(3)
            assert gateway.source is not None and not gateway.source.connected
