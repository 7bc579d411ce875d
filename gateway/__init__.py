"""Gateway: MQTT in, validated and de-duplicated events out to InfluxDB (or an embedded SQLite store).

Modules by role: `config` (typed settings from the environment), `ingest` (pure:
topic + payload -> event or rejection), `points` (events -> line protocol),
`mqtt_source`, `influx_sink`, `sqlite_sink` (adapters), `service` (wiring).
"""
