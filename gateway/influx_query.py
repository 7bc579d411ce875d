"""Reading the store back over InfluxQL (the v1 /query API, which every InfluxDB generation serves).

One reader for every gateway-side tool that reads what the gateway wrote: `emberwatch alerts`,
the incident engine's rebuild and operator actions, and the fire-weather resume at start.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

from gateway.config import StoreSettings
from gateway.sink import SinkUnavailable


class StoreNotReadable(RuntimeError):
    """The store refuses reads to these credentials (a write-only login)."""


def influxql_rows(settings: StoreSettings, q: str, timeout_s: float = 30.0) -> list[dict]:
    """Every row of every series of `q` as a dict (series tags merged in), times in epoch ms.

    A database that does not exist yet reads as no rows. Raises StoreNotReadable on 401/403 and
    SinkUnavailable when the store cannot answer or refuses the query.
    """
    request = urllib.request.Request(settings.url.rstrip("/") + "/query?" + urllib.parse.urlencode(
        {"db": settings.database, "q": q, "epoch": "ms"}))
    if settings.username:
        cred = f"{settings.username}:{settings.password or ''}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(cred).decode())
    elif settings.token:
        request.add_header("Authorization", "Token " + settings.token)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise StoreNotReadable(f"InfluxDB refuses reads to this login ({exc.code}); grant it READ on "
                                   f"{settings.database}") from exc
        raise SinkUnavailable(f"InfluxDB answered {exc.code}: {exc.read()[:300].decode(errors='replace')}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SinkUnavailable(f"cannot query InfluxDB at {settings.url}: {exc}") from exc
    result = (body.get("results") or [{}])[0]
    if "error" in result:
        if "database not found" in result["error"]:
            return []
        raise SinkUnavailable(f"InfluxQL error for {q!r}: {result['error']}")
    rows = []
    for series in result.get("series", []):
        tags = series.get("tags", {})
        for values in series["values"]:
            rows.append({**dict(zip(series["columns"], values)), **tags})
    return rows
