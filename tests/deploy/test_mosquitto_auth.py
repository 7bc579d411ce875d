"""deploy/mosquitto: the credentials tool and the committed broker config on a real Mosquitto 2.0."""

from __future__ import annotations

import base64
import shlex
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml

from tests.deploy.conftest import CREDENTIALS_TOOL, GATEWAY_PASSWORD, ROOT
from tests.harness import servers
from tests.harness.servers import wait_until


def load_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("credentials", CREDENTIALS_TOOL)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


tool = load_tool()


def run_tool(auth_dir: Path, *args: str) -> subprocess.CompletedProcess:
    import sys

    return subprocess.run([sys.executable, str(CREDENTIALS_TOOL), "--auth-dir", str(auth_dir), *args],
                          capture_output=True, text=True, check=False)


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None, reason="mosquitto_passwd not installed")
def test_password_hash_is_the_one_mosquitto_passwd_writes(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "alice", "s3cret pass"], check=True)
    user, hashed = passwd.read_text().strip().split(":", 1)
    _, kind, iterations, salt, _ = hashed.split("$")
    assert (user, kind) == ("alice", "7")
    assert tool.hash_password("s3cret pass", base64.b64decode(salt), int(iterations)) == hashed


def test_acl_gives_each_role_only_its_topics() -> None:
    acl = tool.acl_for(["gateway", "simulator", "ridge.n01", "intruder", "a.b.c"])
    blocks = [b.strip().splitlines()[-2:] for b in acl.split("\n\n")[1:]]
    assert blocks == [
        ["user gateway", "topic read emberwatch/v1/#"],
        ["user simulator", "topic write emberwatch/v1/#"],
        ["user ridge.n01", "topic write emberwatch/v1/ridge/n01/#"],
    ]  # logins of no known shape get no rights at all


def test_tool_refuses_placeholders_and_bad_ids_and_writes_nothing(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("MQTT_GATEWAY_PASSWORD=change-me\nMQTT_SIMULATOR_PASSWORD=\n")
    result = run_tool(tmp_path / "auth", "init", "--env-file", str(env))
    assert result.returncode == 2
    assert "MQTT_GATEWAY_PASSWORD" in result.stderr and "MQTT_SIMULATOR_PASSWORD" in result.stderr
    result = run_tool(tmp_path / "auth", "add-node", "ridge", "n/01")
    assert result.returncode == 2 and "node id" in result.stderr
    assert not (tmp_path / "auth").exists()


def test_tool_adds_resets_lists_and_removes_logins(tmp_path: Path) -> None:
    auth = tmp_path / "auth"
    first = run_tool(auth, "add-node", "ridge", "n01")
    assert first.returncode == 0 and "username: ridge.n01" in first.stdout
    password = first.stdout.split("password: ")[1].split()[0]
    assert len(password) >= 20  # a fresh random password, shown once
    old_hash = tool.read_passwd(auth / "passwd")["ridge.n01"]
    assert run_tool(auth, "add-node", "ridge", "n01").returncode == 0  # reset, not a second line
    assert tool.read_passwd(auth / "passwd")["ridge.n01"] != old_hash
    assert run_tool(auth, "add-node", "valley", "n01", "--password", "pw-valley").returncode == 0
    assert run_tool(auth, "list").stdout.split() == ["ridge.n01", "valley.n01"]
    assert run_tool(auth, "remove", "ridge.n01").returncode == 0
    assert run_tool(auth, "remove", "ridge.n01").returncode == 1
    assert "ridge" not in (auth / "acl").read_text()
    assert (auth / "passwd").stat().st_mode & 0o777 == 0o644


class Listener:
    """The gateway's view of the broker: everything under emberwatch/v1/ it is allowed to read."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.received: list[str] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="acl-test-listener")
        self.client.username_pw_set(username, password)
        self.client.on_message = lambda c, u, m: self._keep(m.topic, bytes(m.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        wait_until(self.client.is_connected, 10, "listener login")
        self.client.subscribe("emberwatch/v1/#", qos=1)

    def _keep(self, topic: str, payload: bytes) -> None:
        if payload.startswith(b"from-"):  # not the retained statuses other tests left
            with self.lock:
                self.received.append(f"{topic} {payload.decode()}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(port: int, username: str | None, password: str | None, client_id: str) -> tuple[mqtt.Client, list]:
    codes: list = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, reconnect_on_failure=False)
    if username:
        client.username_pw_set(username, password)
    client.on_connect = lambda c, u, f, rc, p: codes.append(rc)
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_until(lambda: codes, 10, f"CONNACK for {username}")
    return client, codes


def login_accepted(port: int, username: str, password: str) -> bool:
    client, codes = connect(port, username, password, "acl-probe")
    client.disconnect()
    client.loop_stop()
    return not codes[0].is_failure


def test_broker_refuses_strangers_and_keeps_each_node_on_its_own_topic(deploy_broker) -> None:
    broker, auth = deploy_broker
    assert run_tool(auth, "add-node", "acltest", "n01", "--password", "pw-n01").returncode == 0
    assert broker.proc is not None
    broker.proc.send_signal(signal.SIGHUP)

    for user, password in ((None, None), ("acltest.n01", "wrong"), ("nobody", "pw-n01")):
        client, codes = connect(broker.port, user, password, f"acl-stranger-{user}")
        assert codes[0].is_failure, f"{user} got in"
        client.loop_stop()

    # use_username_as_clientid: a second `gateway` login would take over the listener's session,
    # so the gateway-as-publisher try comes first, retained: had the broker taken it, the
    # listener would get it on subscribing.
    gateway, _ = connect(broker.port, "gateway", GATEWAY_PASSWORD, "acl-gateway-as-publisher")
    gateway.publish("emberwatch/v1/acltest/n01/alert", b"from-gateway", qos=1, retain=True).wait_for_publish(10)
    gateway.disconnect()
    gateway.loop_stop()
    listener = Listener(broker.port, "gateway", GATEWAY_PASSWORD)
    node = gateway = None
    try:
        wait_until(lambda: login_accepted(broker.port, "acltest.n01", "pw-n01"), 10, "broker reload of the new login")
        node, _ = connect(broker.port, "acltest.n01", "pw-n01", "acl-node")
        # One connection's messages arrive in order, so once its last one is in, the others had their chance.
        for topic in ("emberwatch/v1/acltest/n02/alert", "emberwatch/v1/other/n01/alert",
                      "emberwatch/v1/acltest/n01/alert"):
            node.publish(topic, b"from-n01", qos=1).wait_for_publish(10)
        node.publish("emberwatch/v1/acltest/n01/heartbeat", b"from-n01", qos=1).wait_for_publish(10)
        wait_until(lambda: any("heartbeat" in r for r in listener.received), 10, "the node's own heartbeat")
        assert listener.received == ["emberwatch/v1/acltest/n01/alert from-n01",
                                     "emberwatch/v1/acltest/n01/heartbeat from-n01"]
    finally:
        for publisher in (node, gateway):
            if publisher is not None:
                publisher.disconnect()
                publisher.loop_stop()
        listener.close()


def compose_healthcheck(service: str) -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    test = compose["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    return test[1]


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto_pub (mosquitto-clients) not installed")
def test_broker_healthcheck_command_tells_up_from_down(deploy_broker) -> None:
    broker, _ = deploy_broker
    command = compose_healthcheck("mosquitto")
    assert "-p 1883" in command
    up = subprocess.run(["sh", "-c", command.replace("-p 1883", f"-p {broker.port}")], timeout=20, check=False)
    down = subprocess.run(["sh", "-c", command.replace("-p 1883", f"-p {servers.free_port()}")], timeout=20, check=False)
    assert (up.returncode, down.returncode != 0) == (0, True), shlex.quote(command)
