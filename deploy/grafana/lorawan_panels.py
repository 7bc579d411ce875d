"""The LoRaWAN radio dashboard: how well each LoRaWAN node is heard (fleet health).

Built by build_dashboards.py with its panel helpers passed in (as incident_panels.py). The
gateway's LoRaWAN source (gateway/lorawan/) stores, on every alert and heartbeat point of a
LoRaWAN node, the best gateway's `rssi_dbm` and `snr_db`, the spreading factor `sf`, how many
`gateways` heard the frame and the LoRaWAN frame counter `fcnt`. Heartbeats come every hour, so
they carry the trend; nodes on Wi-Fi have no such fields and do not show. Every query here runs
against a real InfluxDB filled by a real gateway from ChirpStack uplinks in
tests/deploy/test_lorawan_panels.py.
"""

from __future__ import annotations

from types import ModuleType

UID = "emberwatch-lorawan"
SITE_FILTER = '"site" =~ /^$site$/ AND "node" =~ /^$node$/'

Q_RADIO_PER_NODE = ('SELECT last("rssi_dbm") AS "rssi_dbm", "snr_db", "sf", "gateways", "fcnt" FROM "heartbeat" '
                    f'WHERE {SITE_FILTER} AND $timeFilter GROUP BY "site", "node"')
Q_RSSI = (f'SELECT mean("rssi_dbm") FROM "heartbeat" WHERE {SITE_FILTER} AND $timeFilter '
          'GROUP BY time($__interval), "site", "node" fill(none)')
Q_SNR = (f'SELECT mean("snr_db") FROM "heartbeat" WHERE {SITE_FILTER} AND $timeFilter '
         'GROUP BY time($__interval), "site", "node" fill(none)')
Q_WEAK_LINKS = ('SELECT count("rssi_dbm") AS "nodes" FROM (SELECT last("rssi_dbm") AS "rssi_dbm" FROM "heartbeat" '
                f'WHERE {SITE_FILTER} AND $timeFilter GROUP BY "site", "node") WHERE "rssi_dbm" < -120')

# SX126x/SX127x sensitivity at SF12/125 kHz is about -137 dBm, at SF7 -123 dBm: below -120 dBm a
# node has little margin left at the lower spreading factors.
RSSI_COLORS = (("red", None), ("orange", -120), ("green", -110))


def lorawan_dashboard(b: ModuleType) -> dict:
    panels = [
        b.stat("Weak links", "LoRaWAN nodes whose latest heartbeat was heard below -120 dBm (little margin "
               "left: check the antenna, or add a gateway).", (0, 0, 6, 4), Q_WEAK_LINKS,
               b.thresholds(("green", None), ("orange", 1))),
        b.table("Radio per node", "Latest heartbeat of each LoRaWAN node: best gateway's RSSI and SNR, spreading "
                "factor, how many gateways heard it, LoRaWAN frame counter (restarts at every join).",
                (6, 0, 18, 10), [b.target("A", Q_RADIO_PER_NODE)],
                [b.override("Time", ("unit", "dateTimeFromNow"), ("displayName", "last heartbeat")),
                 b.override("rssi_dbm", ("unit", "dBm"), ("thresholds", b.thresholds(*RSSI_COLORS)),
                            ("custom.cellOptions", {"type": "color-text"})),
                 b.override("snr_db", ("unit", "dB"))]),
        b.timeseries("RSSI per node", "Best gateway's received signal strength of each heartbeat.",
                     (0, 10, 12, 9), Q_RSSI, "$tag_site/$tag_node", "dBm"),
        b.timeseries("SNR per node", "Signal-to-noise ratio at the best gateway (LoRa decodes down to about "
                     "-20 dB at SF12).", (12, 10, 12, 9), Q_SNR, "$tag_site/$tag_node", "dB"),
    ]
    return b.dashboard(UID, "Emberwatch - LoRaWAN radio", panels, "now-7d")
