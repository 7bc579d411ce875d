"""10,000 seeded malformed messages: no crash, each rejected with the reason it deserves.

Most go straight into Ingest; a smaller batch goes through the real broker to a
running gateway, whose stored data must hold only the good messages.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from edge_node.core import schema
from gateway.ingest import Duplicate, Event, Ingest, Rejection
from tests.gateway.malformed import bad_message
from tests.harness.gateway_runner import running_gateway
from tests.harness.influx_query import influxql
from tests.harness.node_publisher import StreamPublisher, alert_keys, alert_messages
from tests.harness.servers import wait_until


def test_ten_thousand_malformed_messages_are_each_rejected_with_their_reason() -> None:
    rng = random.Random(20261123)
    ingest = Ingest()
    expected: Counter[str] = Counter()
    for _ in range(10_000):
        topic, payload, reason = bad_message(rng, "ridge", f"n{rng.randrange(50):02d}")
        outcome = ingest.accept(topic, payload)
        assert isinstance(outcome, Rejection) and outcome.reason == reason, (topic, payload[:120], outcome)
        expected[reason] += 1
    assert ingest.rejected == expected and sum(ingest.rejected.values()) == 10_000
    assert len(expected) == 11  # every reason the generator can provoke did occur
    assert not ingest.accepted and ingest.duplicates == 0
    # The ingest still takes good messages afterwards.
    good = schema.encode_alert("n01", 1, 1_782_864_000_000, 900, 500, 2500, 3000, 1000, -3000, 3700)
    assert isinstance(ingest.accept(schema.topic("ridge", "n01", "alert"), good), Event)


def test_duplicates_are_dropped_and_a_far_lower_seq_is_a_new_epoch() -> None:
    ingest = Ingest()
    topic = schema.topic("ridge", "n01", "alert")

    def alert(seq: int) -> bytes:
        return schema.encode_alert("n01", seq, 1_782_864_000_000 + seq, 900, 500, 2500, 3000, 1000, -3000, 3700)

    assert isinstance(ingest.accept(topic, alert(10_000)), Event)
    assert isinstance(ingest.accept(topic, alert(9_990)), Event)  # late, inside the window: new
    assert isinstance(ingest.accept(topic, alert(9_990)), Duplicate)
    # Far below the window: the node's count restarted (or an old message came back, which the
    # store writes over itself): heard, not rejected, and counted.
    assert isinstance(ingest.accept(topic, alert(10)), Event)
    assert isinstance(ingest.accept(topic, alert(10)), Duplicate)
    assert not ingest.rejected and ingest.duplicates == 2 and ingest.tracker.new_epochs == 1
    # Another node's seq space is its own.
    other = schema.encode_alert("n02", 10, 1_782_864_000_000, 900, 500, 2500, 3000, 1000, -3000, 3700)
    assert isinstance(ingest.accept(schema.topic("ridge", "n02", "alert"), other), Event)


@pytest.mark.integration
def test_malformed_messages_through_the_real_broker_are_counted_and_never_stored(
        gateway_env: dict[str, str], mosquitto_server, influx_server) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    rng = random.Random(7)
    bad = [bad_message(rng, site, f"n{rng.randrange(10):03d}", topic_faults=False) for _ in range(500)]
    good = alert_messages(site, nodes=10, per_node=20)
    mixed = [(t, p) for t, p, _ in bad] + good
    rng.shuffle(mixed)
    with running_gateway(gateway_env) as gateway:
        StreamPublisher(mosquitto_server.port, mixed).start().join()
        wait_until(lambda: gateway.stats.received >= len(mixed), 30, "every message received")
        wait_until(lambda: gateway.inbox.qsize() == 0, 10, "inbox drained")
        rejected = Counter(gateway.ingest.rejected)
    assert rejected == Counter(reason for _, _, reason in bad)
    stored = {(r["node"], r["seq"]) for r in influxql(influx_server.port, "SELECT seq, node FROM alert", db)}
    assert stored == alert_keys(good)
