"""The incident engine, pure: events in, transitions out, with a clock the test controls."""

from __future__ import annotations

import math

import pytest

from edge_node.core import schema
from edge_node.core.faults import SensorFaults
from gateway.incidents.engine import IncidentEngine
from gateway.incidents.geometry import M_PER_DEG_LAT
from gateway.incidents.records import incident_from_row, sqlite_row
from gateway.incidents.settings import IncidentSettings
from gateway.ingest import Event

SITE = "ridge"
LAT0, LON0 = 41.9, -6.8
T0 = 1_782_864_000_000
MIN = 60_000
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))


def at(x_m: float, y_m: float) -> tuple[int, int]:
    return round((LAT0 + y_m / M_PER_DEG_LAT) * 1e6), round((LON0 + x_m / M_PER_DEG_LON) * 1e6)


def xy(lat_e6: int, lon_e6: int) -> tuple[float, float]:
    return (lon_e6 / 1e6 - LON0) * M_PER_DEG_LON, (lat_e6 / 1e6 - LAT0) * M_PER_DEG_LAT


def heartbeat(node: str, x_m: float, y_m: float, t_ms: int = T0, flt: int = 0) -> Event:
    lat, lon = at(x_m, y_m)
    return Event("heartbeat", SITE, node, 1, t_ms, {"boot": 1, "bat_mv": 3000, "queued": 0, "flt": flt,
                                                    "temp_cc": 2000, "rh_cp": 4000, "gas_q8": -3900,
                                                    "lat_e6": lat, "lon_e6": lon})


_seq = iter(range(2, 1 << 30))


def alert(node: str, t_ms: int, score: int = 2000, lvl: int = schema.LEVEL_FIRE, flt: int = 0,
          readings: tuple[int, int, int, int] | None = None) -> Event:
    temp, rh, gas, gas_q8 = readings or (2500 + next(_seq) % 97, 3000 + next(_seq) % 89, 30000, -3700)
    fields: dict[str, int | str] = {"score": score, "thr": 1000, "lvl": lvl, "boot": 1, "bat_mv": 3000,
                                    "temp_cc": temp, "rh_cp": rh, "gas": gas, "gas_q8": gas_q8}
    if flt:
        fields["flt"] = flt
    return Event("alert", SITE, node, next(_seq), t_ms, fields)


def grid_engine(spacing_m: float = 200.0, n: int = 5, **settings) -> IncidentEngine:
    engine = IncidentEngine(IncidentSettings(**settings))
    engine.observe([(heartbeat(f"n{i}{j}", i * spacing_m, j * spacing_m), T0) for i in range(n) for j in range(n)], T0)
    return engine


def feed(engine: IncidentEngine, *events: Event) -> list[Event]:
    out = []
    for e in events:
        out += engine.observe([(e, e.t_ms or T0)], e.t_ms or T0)
    return out


def states(transitions: list[Event]) -> list[tuple[str, str]]:
    return [(str(t.fields["incident"]), str(t.fields["state"])) for t in transitions]


def test_fire_alert_opens_and_a_neighbour_confirms_one_incident_located_between_them() -> None:
    engine = grid_engine()
    out = feed(engine, alert("n22", T0 + MIN), alert("n23", T0 + 3 * MIN))
    (first, opened), (second, confirmed) = states(out)
    assert (opened, confirmed) == ("opened", "confirmed") and first == second
    x, y = xy(int(out[-1].fields["lat_e6"]), int(out[-1].fields["lon_e6"]))
    assert 390 <= x <= 410 and 400 <= y <= 500  # between (400, 400) and (400, 600), nearer the earlier node
    assert out[-1].fields["nodes"] == 2 and out[-1].fields["alerting"] == 1
    assert out[0].t_ms < out[1].t_ms and int(out[1].fields["radius_m"]) >= 100


def test_nodes_far_apart_do_not_confirm_each_other() -> None:
    engine = grid_engine()
    out = feed(engine, alert("n00", T0), alert("n44", T0 + MIN))
    assert [s for _, s in states(out)] == ["opened", "opened"]
    assert len({i for i, _ in states(out)}) == 2


def test_a_faulty_sensor_never_opens_an_incident() -> None:
    engine = grid_engine()
    engine.observe([(heartbeat("n11", 200, 200, flt=schema.FAULT_GAS), T0)], T0)
    out = feed(engine,
               alert("n22", T0 + MIN, flt=schema.FAULT_TEMP),  # the alert says so itself
               alert("n11", T0 + 2 * MIN),  # its last heartbeat said so
               alert("n33", T0 + 3 * MIN, readings=(-4000, 0, 0, 0)),  # a v1 node's dead sensor
               alert("n44", T0 + 4 * MIN, readings=(2222, 3333, 40000, -3500)),
               alert("n44", T0 + 15 * MIN, readings=(2222, 3333, 40000, -3500)))  # stuck
    assert states(out) == [(states(out)[0][0], "opened")]  # only n44's first alert counted
    assert sum(engine.ignored.values()) == 4


@pytest.mark.parametrize(("temp_cc", "rh_cp", "gas_q8"), [
    (-4000, 3000, -3700), (-3995, 3000, -3700), (8500, 3000, -3700), (8499, 3000, -3700),
    (2500, 0, -3700), (2500, 1, -3700), (2500, 10001, -3700), (2500, 10000, -3700),
    (2500, 3000, 255), (2500, 3000, -255), (2500, 3000, 256), (2500, 3000, -256)])
def test_a_v1_nodes_readings_are_judged_dead_exactly_where_the_node_itself_would_flag_them(
        temp_cc: int, rh_cp: int, gas_q8: int) -> None:
    node_says_faulty = SensorFaults().update(temp_cc, rh_cp, gas_q8) != 0
    engine = grid_engine()
    out = feed(engine, alert("n22", T0 + MIN, readings=(temp_cc, rh_cp, 30000, gas_q8)))
    assert (out == []) == node_says_faulty
    assert engine.ignored["readings of a dead sensor"] == int(node_says_faulty)


def test_one_suspect_is_not_an_incident_two_near_ones_are() -> None:
    engine = grid_engine()
    assert feed(engine, alert("n00", T0, lvl=schema.LEVEL_SUSPECT)) == []
    assert feed(engine, alert("n44", T0 + MIN, lvl=schema.LEVEL_SUSPECT)) == []  # far away
    out = feed(engine, alert("n01", T0 + 5 * MIN, lvl=schema.LEVEL_SUSPECT))
    assert [s for _, s in states(out)] == ["opened"] and out[0].fields["nodes"] == 2
    assert out[0].t_ms == T0 + 5 * MIN and out[0].fields["first_ms"] == T0  # stamped when decided; since T0


def test_two_agreeing_suspects_confirm_once_one_of_them_has_doubled() -> None:
    engine = grid_engine()
    sus = schema.LEVEL_SUSPECT
    out = feed(engine, alert("n00", T0, lvl=sus), alert("n01", T0 + 2 * MIN, lvl=sus),
               alert("n00", T0 + 3 * MIN, score=3900, lvl=sus))  # grew 1.95x: not yet
    assert [s for _, s in states(out)] == ["opened", "updated"]
    out = feed(engine, alert("n01", T0 + 4 * MIN, score=4000, lvl=sus))  # 2x its first alert
    assert [s for _, s in states(out)] == ["confirmed"] and "grew 2.0x" in str(out[0].fields["reason"])
    other = grid_engine(grown_factor=0)
    out = feed(other, alert("n00", T0, lvl=sus), alert("n01", T0 + 2 * MIN, lvl=sus),
               alert("n01", T0 + 4 * MIN, score=4000, lvl=sus))
    assert "confirmed" not in [s for _, s in states(out)]


def test_a_lone_node_confirms_by_persisting() -> None:
    engine = grid_engine()
    out = feed(engine, *(alert("n22", T0 + k * 10 * MIN) for k in range(3)))
    assert [s for _, s in states(out)] == ["opened", "updated", "confirmed"]


def test_quiet_incident_resolves_once_at_last_evidence_plus_quiet_period() -> None:
    engine = grid_engine(quiet_ms=30 * MIN)
    (opened,) = feed(engine, alert("n22", T0))
    assert feed(engine, heartbeat("n00", 0, 0, T0 + 29 * MIN)) == []
    assert engine.tick(T0 + 90 * MIN) == []  # the site's own clock says 29 min, whatever the gateway's
    (resolved,) = feed(engine, heartbeat("n00", 0, 0, T0 + 45 * MIN))
    assert resolved.fields["state"] == "resolved" and resolved.t_ms == T0 + 30 * MIN
    assert resolved.fields["open"] == 0 and engine.tick(T0 + 90 * MIN) == []
    assert resolved.fields["incident"] == opened.fields["incident"]


def test_evidence_between_two_incidents_merges_them_into_the_older() -> None:
    engine = grid_engine()
    out = feed(engine, alert("n20", T0), alert("n24", T0 + MIN), alert("n22", T0 + 2 * MIN),
               alert("n21", T0 + 3 * MIN), alert("n23", T0 + 4 * MIN))
    older = states(out)[0][0]
    assert ("merged" in [s for _, s in states(out)])
    merged = [t for t in out if t.fields["state"] == "merged"]
    assert all(t.fields["merged_into"] == older for t in merged)
    assert [i.id for i in engine.open_incidents()] == [older]
    assert engine.open_incidents()[0].confirmed


def test_wind_moves_the_estimate_upwind_and_lets_a_downwind_node_agree() -> None:
    calm, windy = grid_engine(), grid_engine()
    # a westerly: blows FROM 270 degrees, so smoke drifts east and the fire is west of the nodes
    windy.observe([(Event("weather", SITE, "wx", 1, T0, {"wind_cms": 400, "wdir_deg": 270, "rain_um": 0}), T0)], T0)
    (a,) = feed(calm, alert("n22", T0 + MIN))
    (b,) = feed(windy, alert("n22", T0 + MIN))
    assert xy(int(b.fields["lat_e6"]), int(b.fields["lon_e6"]))[0] < xy(int(a.fields["lat_e6"]),
                                                                         int(a.fields["lon_e6"]))[0] - 50
    # 600 m east (downwind) is beyond the neighbour distance but inside the plume's cone
    assert [s for _, s in states(feed(windy, alert("n42", T0 + 5 * MIN)))] == ["confirmed"]
    assert [s for _, s in states(feed(calm, alert("n42", T0 + 5 * MIN)))] == ["opened"]


def test_an_incident_rebuilt_from_its_stored_row_carries_on_under_its_id() -> None:
    engine = grid_engine()
    (opened,) = feed(engine, alert("n22", T0))
    row = {**sqlite_row(opened), "site": opened.site, "node": opened.node, "time": opened.t_ms}
    restored = incident_from_row(row)
    assert restored is not None and restored.id == opened.fields["incident"]
    fresh = grid_engine()
    fresh.restore(restored)
    (confirmed,) = feed(fresh, alert("n23", T0 + 2 * MIN))
    assert confirmed.fields["incident"] == opened.fields["incident"] and confirmed.fields["state"] == "confirmed"
    assert confirmed.t_ms > opened.t_ms


def test_neighbours_agree_only_when_their_evidence_is_close_in_time() -> None:
    late, prompt = grid_engine(), grid_engine()
    feed(late, alert("n22", T0))
    assert [s for _, s in states(feed(late, alert("n23", T0 + 25 * MIN, lvl=schema.LEVEL_SUSPECT)))] == ["updated"]
    feed(prompt, alert("n22", T0))
    assert [s for _, s in states(feed(prompt, alert("n23", T0 + 6 * MIN, lvl=schema.LEVEL_SUSPECT)))] == ["confirmed"]


def test_rebuild_takes_transitions_still_in_the_spool(tmp_path) -> None:
    """Killed while the store was down: the incident lives only in the spool until it drains."""
    from gateway.incidents.processor import rebuild, spooled_incident_rows
    from gateway.incidents.store import SqliteIncidentStore
    from gateway.spool import Spool
    from gateway.sqlite_sink import SqliteSink

    engine = grid_engine()
    (opened,) = feed(engine, alert("n22", T0))
    spool = Spool(str(tmp_path / "spool"))
    spool.append([(opened, T0)])
    spool.close()
    SqliteSink(str(tmp_path / "store.sqlite")).close()  # the store holds nothing of it
    fresh = grid_engine()
    assert rebuild(fresh, SqliteIncidentStore(str(tmp_path / "store.sqlite")), T0 + MIN,
                   spooled_incident_rows(str(tmp_path / "spool"))) == 1
    (confirmed,) = feed(fresh, alert("n23", T0 + 2 * MIN))
    assert confirmed.fields["incident"] == opened.fields["incident"]


def test_a_merge_keeps_the_confirmed_incident_which_has_paged_already() -> None:
    engine = grid_engine()
    out = feed(engine, alert("n01", T0), alert("n03", T0 + 20 * MIN), alert("n04", T0 + 21 * MIN))
    older, confirmed = states(out)[0][0], states(out)[-1]
    assert confirmed[1] == "confirmed" and confirmed[0] != older
    (merged, updated) = feed(engine, alert("n02", T0 + 22 * MIN))
    assert merged.fields["state"] == "merged" and merged.fields["incident"] == older
    assert merged.fields["merged_into"] == confirmed[0] and updated.fields["incident"] == confirmed[0]


def test_rebuild_puts_a_stored_suspect_back_in_wait_for_its_neighbour(tmp_path) -> None:
    """SQLite store (the InfluxDB path runs in test_incident_restart.py): a suspect that opened nothing
    before the restart still pairs with its neighbour's after it; a faulty one and an old one do not."""
    from gateway.incidents.processor import rebuild
    from gateway.incidents.store import SqliteIncidentStore
    from gateway.sqlite_sink import SqliteSink

    path = str(tmp_path / "store.sqlite")
    sink = SqliteSink(path)
    sink.write([(e, T0) for e in (alert("n22", T0, lvl=schema.LEVEL_SUSPECT),
                                  alert("n00", T0, lvl=schema.LEVEL_SUSPECT, flt=schema.FAULT_GAS),
                                  alert("n44", T0 - 40 * MIN, lvl=schema.LEVEL_SUSPECT))])
    sink.close()
    fresh = grid_engine()
    rebuild(fresh, SqliteIncidentStore(path), T0 + MIN)
    assert [s.node for s in fresh.site(SITE).suspects] == ["n22"]
    (opened,) = feed(fresh, alert("n23", T0 + 2 * MIN, lvl=schema.LEVEL_SUSPECT))
    assert opened.fields["state"] == "opened" and opened.fields["nodes"] == 2
    assert feed(fresh, alert("n01", T0 + 3 * MIN, lvl=schema.LEVEL_SUSPECT)) == []  # n00's faulty one waits not


def test_a_nodes_own_earlier_suspect_makes_its_fire_level_alert_an_escalation() -> None:
    engine = grid_engine()
    assert feed(engine, alert("n22", T0, lvl=schema.LEVEL_SUSPECT)) == []
    out = feed(engine, alert("n22", T0 + 6 * MIN, lvl=schema.LEVEL_FIRE))
    assert [s for _, s in states(out)] == ["opened", "confirmed"]
    assert out[0].t_ms == T0 + 6 * MIN and out[1].fields["reason"] == "n22 escalated from suspect to fire"
    assert engine.site(SITE).suspects == []
