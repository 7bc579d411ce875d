"""GatewayConfig.from_env: every problem at once, before any I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import config as config_module
from gateway.config import ConfigError, GatewayConfig

BASE = {"EMBERWATCH_INFLUX_URL": "http://127.0.0.1:8086"}


def test_defaults_are_a_working_local_setup() -> None:
    config = GatewayConfig.from_env(BASE)
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.tls) == ("127.0.0.1", 1883, False)
    assert config.mqtt.client_id == "emberwatch-gateway" and config.mqtt.share_group is None
    assert config.store.kind == "influx" and config.store.database == "emberwatch"
    assert config.health_port is None and config.spool_dir is None
    assert (config.liveness.heartbeat_interval_s, config.liveness.allowed_misses) == (900, 2)
    assert GatewayConfig.from_env({**BASE, "EMBERWATCH_MQTT_RECEIVER": "thread"}).mqtt.receiver == "thread"


@pytest.mark.parametrize(("cpus", "expected"), [(1, "thread"), (2, "process"), (16, "process")])
def test_receiver_auto_uses_a_child_process_only_with_a_second_cpu(cpus: int, expected: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_module.os, "sched_getaffinity", lambda pid: set(range(cpus)))
    assert GatewayConfig.from_env(BASE).mqtt.receiver == expected
    assert GatewayConfig.from_env({**BASE, "EMBERWATCH_MQTT_RECEIVER": "process"}).mqtt.receiver == "process"


def test_tls_credentials_share_group_spool_and_health(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    config = GatewayConfig.from_env({
        **BASE, "EMBERWATCH_MQTT_URL": "mqtts://gw:p%40ss@broker.example:8884",
        "EMBERWATCH_MQTT_CA_FILE": str(ca), "EMBERWATCH_MQTT_SHARE_GROUP": "gateways",
        "EMBERWATCH_SPOOL_DIR": str(tmp_path / "spool"), "EMBERWATCH_HEALTH_PORT": "9108",
        "EMBERWATCH_HEARTBEAT_INTERVAL_S": "60", "EMBERWATCH_HEARTBEAT_ALLOWED_MISSES": "3",
        "UNRELATED": "ignored"})
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.tls) == ("broker.example", 8884, True)
    assert (config.mqtt.username, config.mqtt.password) == ("gw", "p@ss")
    assert config.mqtt.share_group == "gateways" and config.mqtt.ca_file == str(ca)
    assert config.spool_dir == str(tmp_path / "spool") and config.health_port == 9108
    assert (config.liveness.heartbeat_interval_s, config.liveness.allowed_misses) == (60, 3)


def test_username_and_password_variables_win_over_the_url() -> None:
    config = GatewayConfig.from_env({**BASE, "EMBERWATCH_MQTT_URL": "mqtt://a:b@h",
                                     "EMBERWATCH_MQTT_USERNAME": "gateway", "EMBERWATCH_MQTT_PASSWORD": "s3"})
    assert (config.mqtt.username, config.mqtt.password) == ("gateway", "s3")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    a_file = tmp_path / "f"
    a_file.write_text("")
    with pytest.raises(ConfigError) as err:
        GatewayConfig.from_env({
            "EMBERWATCH_MQTT_URL": "mqtt://h", "EMBERWATCH_MQTT_CA_FILE": str(tmp_path / "missing.pem"),
            "EMBERWATCH_MQTT_SHARE_GROUP": "bad/group", "EMBERWATCH_SITE": "a b",
            "EMBERWATCH_MQTT_PASSWORD": "orphan", "EMBERWATCH_BATCH_SIZE": "lots",
            "EMBERWATCH_FLUSH_INTERVAL_MS": "0", "EMBERWATCH_SPOOL_DIR": str(a_file),
            "EMBERWATCH_HEALTH_PORT": "70000", "EMBERWATCH_HEARTBEAT_INTERVAL_S": "-1",
            "EMBERWATCH_INFLUX_URL": "ftp://x", "EMBERWATCH_INFLUX_API": "v9", "EMBERWATCH_MQTT_RECEIVER": "fork"})
    text = "\n".join(err.value.problems)
    for needle in ("CA_FILE", "does not exist", "not mqtts", "SHARE_GROUP", "EMBERWATCH_SITE", "PASSWORD",
                   "BATCH_SIZE", "FLUSH_INTERVAL_MS", "SPOOL_DIR", "HEALTH_PORT", "HEARTBEAT_INTERVAL_S",
                   "INFLUX_URL", "INFLUX_API", "MQTT_RECEIVER"):
        assert needle in text, needle
    assert len(err.value.problems) == 13


def test_spool_parent_must_exist_and_no_store_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        GatewayConfig.from_env({"EMBERWATCH_SPOOL_DIR": str(tmp_path / "no" / "spool")})
    assert len(err.value.problems) == 2
    assert any("parent folder" in p for p in err.value.problems)
    assert any("EMBERWATCH_INFLUX_URL" in p for p in err.value.problems)


def test_bad_mqtt_scheme_and_both_stores() -> None:
    with pytest.raises(ConfigError) as err:
        GatewayConfig.from_env({"EMBERWATCH_MQTT_URL": "http://h", **BASE,
                                "EMBERWATCH_SQLITE_PATH": "/tmp/x.db"})
    assert len(err.value.problems) == 2


def test_command_flags_override_the_environment_and_are_checked_the_same_way() -> None:
    import argparse

    from gateway.command import add_arguments, config_from

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    env = {**BASE, "EMBERWATCH_BATCH_SIZE": "50", "EMBERWATCH_MQTT_RECEIVER": "process"}
    config = config_from(parser.parse_args(["--receiver", "thread", "--batch-size", "200"]), env)
    assert (config.mqtt.receiver, config.batch_size) == ("thread", 200)
    assert config_from(parser.parse_args([]), env).batch_size == 50
    with pytest.raises(ConfigError) as err:
        config_from(parser.parse_args(["--receiver", "fork"]), env)
    assert "EMBERWATCH_MQTT_RECEIVER='fork'" in "\n".join(err.value.problems)
