"""Line protocol: the alert fast path writes exactly what the generic path writes."""

from __future__ import annotations

import random

from gateway.ingest import Event
from gateway.points import event_to_line, line, time_us, to_point


def generic_line(event: Event, received_ms: int) -> str:
    measurement, fields, t_ms = to_point(event, received_ms)
    return line(measurement, event.site, event.node, fields, time_us(event, t_ms))


def test_alert_fast_path_matches_the_generic_path() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        fields = {"score": rng.randrange(1 << 40), "thr": rng.randrange(1 << 20),
                  "temp_cc": rng.randrange(-10000, 30001), "rh_cp": rng.randrange(10001),
                  "gas": rng.randrange(1 << 53), "gas_q8": rng.randrange(-32768, 32768), "bat_mv": rng.randrange(10001)}
        event = Event("alert", "ridge", f"n{rng.randrange(99)}", rng.randrange(1 << 53), rng.randrange(1, 1 << 45),
                      fields)
        assert event_to_line(event, 0) == generic_line(event, 0)


def test_units_and_types_in_the_alert_line() -> None:
    event = Event("alert", "ridge", "n01", 7, 1_782_864_000_123, {"score": 900, "thr": 500, "temp_cc": 4520,
                  "rh_cp": 1800, "gas": 12000, "gas_q8": -3400, "bat_mv": 3650})
    assert event_to_line(event, 0) == (
        "alert,site=ridge,node=n01 seq=7i,score=900i,threshold=500i,temp_c=45.2,rh_pct=18.0,gas=12000i,"
        "gas_index=-13.28125,battery_mv=3650i 1782864000123000")


def test_status_lines_carry_their_reason_and_time() -> None:
    status = Event("status", "ridge", "n01", None, None, {"state": "offline"})
    assert generic_line(status, 5) == 'node_state,site=ridge,node=n01 state="offline",online=0i,reason="status" 5000'
    verdict = Event("status", "ridge", "n01", None, 99, {"state": "offline", "reason": "heartbeat_missed"})
    assert event_to_line(verdict, 5).endswith('reason="heartbeat_missed" 99000')


def test_two_messages_of_a_node_in_one_millisecond_are_two_points_and_a_redelivery_is_the_same() -> None:
    from edge_node.core import schema
    from gateway.ingest import Ingest

    ingest, topic = Ingest(), schema.topic("ridge", "n01", "alert")
    lines = []
    for seq in (1, 2, 3):
        payload = schema.encode_alert("n01", seq, 1_782_864_000_000, 900, 500, 2500, 3000, 1000, -3000, 3700)
        lines.append(event_to_line(ingest.accept(topic, payload), 0).rsplit(" ", 1)[1])
    assert lines == ["1782864000000000", "1782864000000003", "1782864000000004"]
