"""LoRaWAN: ChirpStack v4 and The Things Stack v3 uplinks into the same ingest as direct nodes."""
