"""The Things Stack Storage Integration: fetch the uplinks the QoS-0 MQTT feed may have lost.

The Things Stack's MQTT server delivers QoS 0 only: whatever it publishes while the gateway is
disconnected (restart, network outage, crash before the batch was stored) is gone from that
feed. Its Storage Integration, when enabled for the application, keeps uplinks for its
retention period; the gateway asks it for everything after the last uplink it saw each time it
(re)connects, and the ingest drops what it already has (same node and seq). Uplinks older
than the retention, or published while the Storage Integration was off, are lost: state that
to whoever runs the site. ChirpStack publishes to your own broker with QoS 1 and a persistent
session, so that path needs none of this.

API (lorawan-stack docs, integrations/storage/retrieve):
  GET {api}/api/v3/as/applications/{app_id}/packages/storage/uplink_message?after=<RFC 3339>&limit=N
  Authorization: Bearer <API key with RIGHT_APPLICATION_TRAFFIC_READ>
answers one JSON object per line: {"result": <uplink message as on MQTT>}.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

# (url, headers) -> (HTTP status, body); tests pass their own.
HttpGet = Callable[[str, dict[str, str]], tuple[int, bytes]]

PAGE_LIMIT = 1000


class StorageError(RuntimeError):
    """The Storage Integration could not be read (network, auth, or not enabled)."""


def urllib_get(url: str, headers: dict[str, str], timeout_s: float = 30.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise StorageError(f"cannot reach {urllib.parse.urlsplit(url).netloc}: {exc}") from exc


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def fetch_stored_uplinks(api_url: str, application: str, api_key: str, after_ms: int,
                         http_get: HttpGet = urllib_get, limit: int = PAGE_LIMIT) -> list[dict]:
    """Every stored uplink received after `after_ms`, oldest first; StorageError on failure."""
    app_id = application.split("@", 1)[0]
    url = (f"{api_url}/api/v3/as/applications/{urllib.parse.quote(app_id)}/packages/storage/uplink_message?"
           + urllib.parse.urlencode({"after": rfc3339(after_ms), "limit": str(limit), "order": "received_at"}))
    status, body = http_get(url, {"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"})
    if status != 200:
        raise StorageError(f"Storage Integration answered HTTP {status}: {body[:200]!r}")
    results = []
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise StorageError(f"Storage Integration sent a line that is not JSON: {line[:80]!r}") from exc
        if isinstance(item, dict) and isinstance(item.get("result"), dict):
            results.append(item["result"])
    return results
