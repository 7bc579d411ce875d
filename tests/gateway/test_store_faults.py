"""The store and the disk under attack (issue #14 rows 3, 4 and 5), on real Mosquitto and InfluxDB 1.6.7.

- node clocks the store cannot hold, or far ahead, and many messages in one millisecond;
- InfluxDB refusing part of a write (max-values-per-tag);
- the spool's disk filling up while the store is down.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_node.core import schema
from tests.harness import servers
from tests.harness.gateway_process import GatewayProcess
from tests.harness.gateway_runner import own_influx, running_gateway
from tests.harness.influx_query import stored_alert_keys, stored_rows, wait_all_stored
from tests.harness.node_publisher import StreamPublisher, alert_keys, alert_messages
from tests.harness.servers import wait_until

pytestmark = pytest.mark.integration

YEAR_MS = 365 * 86_400_000


def alert(site: str, node: str, seq: int, t_ms: int) -> tuple[str, bytes]:
    return schema.topic(site, node, "alert"), schema.encode_alert(
        node, seq, t_ms, 900, 500, 2500, 3000, 1000, -3000, 3700, boot=1)


def test_bad_node_clocks_are_kept_flagged_and_same_millisecond_alerts_are_all_stored(
        gateway_env: dict[str, str], mosquitto_server, influx_server) -> None:
    """Before: t_ms past 2262 was lost (and miscounted), 20 same-ms alerts left 1 row,
    and a heartbeat a year ahead kept its node online for a year."""
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    env = {**gateway_env, "EMBERWATCH_HEARTBEAT_INTERVAL_S": "1", "EMBERWATCH_HEARTBEAT_ALLOWED_MISSES": "1"}
    now_ms = int(time.time() * 1000)
    beyond_2262 = 2 ** 53 - 1
    messages = [alert(site, "n01", 1, beyond_2262)]
    messages += [alert(site, "n03", seq, now_ms - 5000) for seq in range(1, 21)]
    messages.append((schema.topic(site, "n02", "heartbeat"), schema.encode_heartbeat(
        "n02", 1, now_ms + YEAR_MS, 3700, 2100, 4000, -3000, boot=1)))
    with running_gateway(env) as gateway:
        StreamPublisher(mosquitto_server.port, messages).start().join(30)
        wait_until(lambda: gateway.stats.stored >= 22, 15, "every message stored")
        # The node with the clock a year ahead went quiet: offline after two missed heartbeats.
        wait_until(lambda: ("n02", "offline") in {(r["node"], r["state"]) for r in stored_rows(
            influx_server.port, "SELECT state, node FROM node_state", db)}, 15, "n02 marked offline")
        assert gateway.stats.store_rejected == 0 and gateway.ingest.clock_flagged == 2
    flagged = stored_rows(influx_server.port, "SELECT node_time_ms, clock_suspect, seq FROM alert WHERE node = 'n01'", db)
    assert len(flagged) == 1 and flagged[0]["node_time_ms"] == beyond_2262 and flagged[0]["clock_suspect"] == 1
    assert abs(flagged[0]["time"] - now_ms) < 60_000  # stored at the gateway's receive time
    same_ms = stored_rows(influx_server.port, "SELECT seq FROM alert WHERE node = 'n03'", db)
    assert sorted(r["seq"] for r in same_ms) == list(range(1, 21))
    assert {r["time"] for r in same_ms} == {now_ms - 5000}  # read back in ms: the node's own time


def test_a_partial_write_over_the_tag_limit_is_held_and_stored_once_the_limit_is_raised(
        tmp_path: Path, gateway_env: dict[str, str], mosquitto_server) -> None:
    """Before: past max-values-per-tag a new node's alerts were dropped, and miscounted."""
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    # Recent alerts: with the harness default time (T0_MS, months back, past the 45 min liveness
    # timeout) each node got an `offline` node_state point at the next liveness check (1 s later),
    # counted as stored, whenever the machine was slow enough to reach that check mid-test.
    messages = alert_messages(site, nodes=10, per_node=1, t0_ms=int(time.time() * 1000) - 60_000)
    spooling_env = {**gateway_env, "EMBERWATCH_SPOOL_DIR": str(tmp_path / "spool"), "EMBERWATCH_BATCH_SIZE": "1000"}
    with own_influx(spooling_env, tmp_path / "influxdb", max_values_per_tag=5) as (influx, env):
        with running_gateway(env) as gateway:
            # InfluxDB checks the limit against the values it already has (in whatever batches the
            # gateway writes), so the first 5 node ids go in and every later new one is refused.
            StreamPublisher(mosquitto_server.port, messages[:5]).start().join(30)
            wait_until(lambda: gateway.stats.stored >= 5, 15, "the first nodes stored")
            StreamPublisher(mosquitto_server.port, messages[5:]).start().join(30)
            wait_until(lambda: gateway.stats.store_rejected + gateway.stats.stored >= 10, 15, "the write answered")
            assert gateway.stats.store_rejected == 5 and gateway.stats.stored == 5  # counted one by one
            assert not gateway.stats.node_state_changes  # only the alerts went to the store
            assert len(stored_alert_keys(influx.port, db)) == gateway.stats.stored
            held = gateway.durability.dead_letter  # type: ignore[union-attr]
            assert held is not None and len(held) >= gateway.stats.store_rejected
        influx.stop()
        raised = servers.influxdb(tmp_path / "influxdb", port=influx.port)  # the operator raised the limit
        with servers.running(raised), running_gateway(env) as gateway:  # a restart offers the held events again
            wait_all_stored(raised.port, db, alert_keys(messages), 20)
            assert len(gateway.durability.dead_letter or []) == 0  # type: ignore[union-attr]


@contextlib.contextmanager
def small_disk(path: Path, size_kb: int) -> Iterator[bool]:
    """A tmpfs of size_kb at path when this user may mount one (True), else nothing (False)."""
    path.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def health_answer(port: int) -> tuple[int, list[str]]:
    """(HTTP status, problems) of /healthz, which answers 503 with its reasons when degraded."""
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return resp.status, json.load(resp)["problems"]
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())["problems"]
    except OSError:
        return 0, []


def metric(port: int, name: str) -> float:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except OSError:
        return -1.0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return -1.0


def test_a_full_spool_disk_holds_alerts_unacked_without_crashing(
        tmp_path: Path, gateway_env: dict[str, str], mosquitto_server) -> None:
    """Before: the gateway exited 1 (ValueError: write to closed file). A 128 KiB tmpfs (or,
    where mounting is not allowed, RLIMIT_FSIZE of 128 KiB) holds ~450 of the 1,500 alerts."""
    limit_bytes = 128 * 1024
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    messages = alert_messages(site, nodes=10, per_node=150)
    with own_influx(gateway_env, tmp_path / "influxdb") as (influx, influx_env), \
            small_disk(tmp_path / "disk", 128) as mounted:

        def limit_file_size() -> None:
            if not mounted:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

        with GatewayProcess(tmp_path, influx_env, preexec_fn=limit_file_size,
                            EMBERWATCH_SPOOL_DIR=str(tmp_path / "disk" / "spool")) as gateway:
            health_port = gateway.health_port
            influx.stop()
            publisher = StreamPublisher(mosquitto_server.port, messages, rate_per_s=1000).start()
            wait_until(lambda: metric(health_port, "emberwatch_gateway_spool_failures_total") > 0, 30,
                       "the spool's disk full")
            if mounted:  # a whole disk full (not just one file at its limit): nothing can hold a batch
                wait_until(lambda: health_answer(health_port)[0] == 503
                           and "spool not writable" in health_answer(health_port)[1], 15, "/healthz says so")
            assert gateway.proc is not None and gateway.proc.poll() is None, gateway.log_path.read_text()[-3000:]
            influx.start()
            publisher.join(120)
            wait_all_stored(influx.port, db, alert_keys(messages), 90)
            assert gateway.stop(30) == 0
