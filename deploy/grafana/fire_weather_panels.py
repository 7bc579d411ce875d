"""Fire-weather panels for the alerts dashboard: the daily Canadian FWI per site (gateway/fire_weather.py).

Called from build_dashboards.py with that module, so the panels share its helpers and variables.
"""

from __future__ import annotations

from types import ModuleType

SITE_FILTER = '"site" =~ /^$site$/'
# One rating per site and day at local noon: the last two days always hold the newest.
Q_FWI_BY_SITE = ('SELECT last("fwi") AS "fwi", "isi", "bui", "ffmc", "dmc", "dc", "temp_c", "rh_pct", "wind_kmh", '
                 f'"rain_mm", "nodes" FROM "fire_weather" WHERE {SITE_FILTER} AND time > now() - 2d GROUP BY "site"')
Q_FWI_HIGHEST = f'SELECT max("fwi") AS "fwi" FROM ({Q_FWI_BY_SITE})'
Q_FWI_DAILY = (f'SELECT last("fwi") AS "fwi" FROM "fire_weather" WHERE {SITE_FILTER} AND $timeFilter '
               'GROUP BY time(1d), "site" fill(none)')


def danger_colors(b: ModuleType) -> dict:
    # The FWI classes most Canadian agencies publish: low < 5, moderate < 10, high < 20, very high < 30, extreme.
    return b.thresholds(("green", None), ("yellow", 5), ("orange", 10), ("red", 20), ("dark-red", 30))


def fire_weather_panels(b: ModuleType, y: int) -> list[dict]:
    """The fire-danger stat for the top row (x 8-12) and a row of two panels starting at height y."""
    colors = danger_colors(b)
    explain = ("Canadian Fire Weather Index per site, rated once a day from the nodes' noon temperature and "
               "humidity and the site weather station's wind and rain (gateway/fire_weather.py).")
    return [
        b.stat("Fire danger (FWI)", "Highest latest FWI of the selected sites. " + explain, (8, 0, 4, 4),
               Q_FWI_HIGHEST, colors),
        b.table("Fire weather by site", "Latest daily rating per site: FWI and its components (ISI spread, BUI "
                "fuel available, FFMC/DMC/DC fuel moisture codes) and the weather they came from. " + explain,
                (0, y, 12, 8), [b.target("A", Q_FWI_BY_SITE)],
                [b.override("Time", ("unit", "dateTimeAsIso"), ("displayName", "rated for")),
                 b.override("fwi", ("decimals", 1), ("color", {"mode": "thresholds"}), ("thresholds", colors),
                            ("custom.cellOptions", {"type": "color-background"})),
                 b.override("temp_c", ("unit", "celsius")), b.override("rh_pct", ("unit", "humidity")),
                 b.override("wind_kmh", ("unit", "velocitykmh")), b.override("rain_mm", ("unit", "lengthmm"))],
                sort_by="fwi"),
        b.timeseries("Fire weather index by site", "Daily FWI per site over the last 30 days. " + explain,
                     (12, y, 12, 8), Q_FWI_DAILY, "$tag_site", "none", time_from="30d",
                     thresholds_style=colors),
    ]
