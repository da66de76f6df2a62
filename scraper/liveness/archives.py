"""Finding the archived copy of a dead link or a gone post nearest to when it was cited.

The Wayback Machine's availability API answers
``GET {wayback}?url=URL&timestamp=YYYYMMDD`` with
``{"archived_snapshots": {"closest": {"url": ..., "timestamp": "YYYYMMDDhhmmss",
"available": true, "status": "200"}}}``, or with empty ``archived_snapshots`` when it has
no copy. Only a copy the archive marks available is taken.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote


class ArchiveAnswerError(Exception):
    """The archive answered, but not in the form its API documents."""


def availability_url(endpoint: str, url: str, near: str | None) -> str:
    """The availability API request for ``url``, nearest to the ISO date ``near``."""
    request = f"{endpoint}?url={quote(url, safe='')}"
    stamp = "".join(ch for ch in (near or "")[:10] if ch.isdigit())
    if len(stamp) == 8:
        request += f"&timestamp={stamp}"
    return request


def wayback_time(stamp: str) -> str | None:
    """``20130919044612`` as ISO 8601 UTC, or None when it is not such a timestamp."""
    if len(stamp) != 14 or not stamp.isdigit():
        return None
    try:
        moment = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.isoformat(timespec="seconds")


def read_availability(body: bytes) -> tuple[str, str] | None:
    """The closest available copy's URL and ISO time, or None when there is none.

    Raises :class:`ArchiveAnswerError` when the body is not the API's JSON.
    """
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveAnswerError(f"not JSON: {exc}") from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("archived_snapshots"), dict):
        raise ArchiveAnswerError("no archived_snapshots in the answer")
    closest = answer["archived_snapshots"].get("closest")
    if not isinstance(closest, dict) or closest.get("available") is not True:
        return None
    url, stamp = closest.get("url"), closest.get("timestamp")
    when = wayback_time(stamp) if isinstance(stamp, str) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or when is None:
        raise ArchiveAnswerError("the closest copy has no usable url or timestamp")
    return url, when
