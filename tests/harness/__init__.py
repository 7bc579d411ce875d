"""Test harness: real Mosquitto and InfluxDB on private ports with throwaway data dirs."""
