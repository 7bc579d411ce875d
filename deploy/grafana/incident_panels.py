"""The incidents dashboard: what operators act on (one row per fire, not per node alert).

Built by build_dashboards.py, with its panel helpers passed in (this module owns the queries and
the layout, the builder owns the look). Every query here runs against a real InfluxDB that a real
gateway with the incident engine filled, in tests/deploy/test_incident_panels.py.

The `incident` measurement (gateway/incidents/records.py): one point per transition, tags site,
node (the node whose evidence opened it) and incident (its id); fields state, level (1 suspected,
2 confirmed), open, alerting (confirmed, open and not acknowledged), lat, lon, radius_m, nodes,
confidence, first_evidence_ms, last_evidence_ms, acked_by, by, reason.
"""

from __future__ import annotations

from types import ModuleType

UID = "emberwatch-incidents"
# node is the node whose evidence opened the incident, so picking a node shows the fires it raised.
SITE_FILTER = '"site" =~ /^$site$/ AND "node" =~ /^$node$/'
# An open incident writes a transition at least every quiet period (1 h) or resolves: 30 days of
# history holds the newest transition of every incident that can still be open.
OPEN_WINDOW = "time > now() - 30d"
_LAST = ('last("open") AS "open", "state", "level", "alerting", "confidence", "nodes", "lat", "lon", "radius_m", '
         '"first_evidence_ms", "last_evidence_ms", "acked_by", "reason"')

Q_INCIDENTS = (f'SELECT {_LAST} FROM "incident" WHERE {SITE_FILTER} AND $timeFilter GROUP BY "site", "incident"')
Q_OPEN_INCIDENTS = (f'SELECT "state", "level", "alerting", "confidence", "nodes", "lat", "lon", "radius_m", '
                    f'"acked_by" FROM (SELECT {_LAST} FROM "incident" WHERE {SITE_FILTER} AND {OPEN_WINDOW} '
                    'GROUP BY "site", "incident") WHERE "open" = 1 GROUP BY "site", "incident"')
Q_OPEN_COUNT = (f'SELECT count("open") AS "incidents" FROM (SELECT last("open") AS "open" FROM "incident" '
                f'WHERE {SITE_FILTER} AND {OPEN_WINDOW} GROUP BY "site", "incident") WHERE "open" = 1')
Q_PAGING_COUNT = (f'SELECT count("alerting") AS "incidents" FROM (SELECT last("alerting") AS "alerting" '
                  f'FROM "incident" WHERE {SITE_FILTER} AND {OPEN_WINDOW} GROUP BY "site", "incident") '
                  'WHERE "alerting" = 1')
# The alert rule (provisioning/alerting/emberwatch.yaml): one alert instance per incident, firing
# while it is confirmed, open and unacknowledged. Grafana passes the rule's 30-day range as $timeFilter.
Q_ALERT_RULE = ('SELECT last("alerting") AS "alerting" FROM "incident" WHERE $timeFilter '
                'GROUP BY "site", "incident"')

LEVEL_MAPPING = [{"type": "value", "options": {"1": {"text": "suspected", "color": "orange"},
                                               "2": {"text": "confirmed", "color": "red"}}}]


def incidents_dashboard(b: ModuleType) -> dict:
    """The dashboard, from the builder module `b` (its panel, stat, table, override, thresholds...)."""
    red_if_any = b.thresholds(("green", None), ("red", 1))
    incident_map = b.panel(
        "geomap", "Open incidents", "Every open incident at its estimated position (weighted centroid of the "
        "nodes that smelt it, moved upwind when a weather station reports wind). Circle size grows with the "
        "uncertainty radius (radius_m, in the tooltip); red: confirmed, orange: suspected.", (12, 4, 12, 14),
        [b.target("A", Q_OPEN_INCIDENTS)],
        transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}}}],
        fieldConfig={"defaults": {"color": {"mode": "thresholds"},
                                  "thresholds": b.thresholds(("orange", None), ("red", 2))},
                     "overrides": [b.override("level", ("mappings", LEVEL_MAPPING)),
                                   b.override("radius_m", ("unit", "lengthm")),
                                   b.override("confidence", ("unit", "percentunit"))]},
        options=b.geomap_options("Open incidents", {"field": "level", "fixed": "red"},
                                 {"field": "radius_m", "fixed": 20, "min": 12, "max": 80}, 0.35, "incident"))
    panels = [
        b.stat("Open incidents", "Incidents not resolved or merged (suspected and confirmed).", (0, 0, 6, 4),
               Q_OPEN_COUNT, red_if_any),
        b.stat("Paging", "Confirmed incidents nobody has acknowledged yet (`emberwatch incidents ack ID --by "
               "NAME`): the alert rule pages once for each.", (6, 0, 6, 4), Q_PAGING_COUNT, red_if_any),
        b.table("Incidents", "One row per incident with a transition in the time range: its newest state, "
                "where, how sure, since when. Times of first and last evidence are the nodes' event times.",
                (0, 4, 12, 14), [b.target("A", Q_INCIDENTS)],
                [b.override("Time", ("displayName", "last change")),
                 b.override("level", ("mappings", LEVEL_MAPPING), ("custom.cellOptions", {"type": "color-text"})),
                 b.override("confidence", ("unit", "percentunit")), b.override("radius_m", ("unit", "lengthm")),
                 b.override("first_evidence_ms", ("unit", "dateTimeAsIso")),
                 b.override("last_evidence_ms", ("unit", "dateTimeAsIso"))]),
        incident_map,
    ]
    return b.dashboard(UID, "Emberwatch - incidents", panels, "now-7d")
