"""Structured logs: one JSON object per line, for log shippers and `jq`."""

from __future__ import annotations

import json
import logging
import re
import sys
import time

# scheme://user:password@host -> scheme://user:***@host, in every line the gateway writes.
_URL_SECRET = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'\"]*):[^@/\s'\"]*@")


def redact(text: str) -> str:
    """Hide the password of any URL in text (config errors and exceptions quote URLs)."""
    return _URL_SECRET.sub(r"\1:***@", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        fields = getattr(record, "fields", None)  # logger.info(..., extra={"fields": {...}})
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class RateLimitedLog:
    """At most one line per key every interval_s; the next line says how many were held back.

    A flood of hostile messages then costs a counter increment each, not a log line each
    (the counters in /metrics still count every one).
    """

    def __init__(self, logger: logging.Logger, interval_s: float = 10.0, clock_s=time.monotonic) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self.clock_s = clock_s
        self._next_s: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def log(self, level: int, key: str, msg: str, fields: dict[str, object]) -> bool:
        """True if the line was written."""
        now = self.clock_s()
        if now < self._next_s.get(key, 0.0):
            self._held[key] = self._held.get(key, 0) + 1
            return False
        if len(self._next_s) > 1000:  # keys are reasons (a handful); never let them pile up
            self._next_s.clear()
            self._held.clear()
        self._next_s[key] = now + self.interval_s
        held = self._held.pop(key, 0)
        self.logger.log(level, msg + (f" ({held} more like it in the last {self.interval_s:.0f}s not logged)"
                                      if held else ""), extra={"fields": {**fields, "suppressed": held}})
        return True
