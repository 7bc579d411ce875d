"""Simulated time: every scenario starts at the same fixed epoch, so runs are reproducible."""

import datetime

EPOCH_UTC = datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC)
EPOCH_MS = int(EPOCH_UTC.timestamp() * 1000)  # 2026-07-01T00:00Z
MS_PER_S = 1000
S_PER_HOUR = 3600
S_PER_DAY = 86400


def iso_utc(t_ms: int) -> str:
    """Event time as ISO-8601 UTC text, for reports."""
    return datetime.datetime.fromtimestamp(t_ms / 1000, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour_of_day(t_s: float) -> float:
    """Local solar hour (the simulated site keeps UTC to stay simple)."""
    return (t_s % S_PER_DAY) / S_PER_HOUR
