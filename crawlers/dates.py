"""Dates as forums print them → ISO-8601 in UTC. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime


class BadDate(ValueError):
    """A date string that could not be understood."""


def to_utc_iso(value: str, *, assume_tz=UTC) -> str:
    """Parse an ISO-8601 timestamp (``Z`` or an offset allowed) into UTC ``…+00:00``.

    A timestamp without an offset is taken to be in ``assume_tz``.
    """
    text = (value or "").strip()
    if not text:
        raise BadDate("empty date")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadDate(f"not an ISO date: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=assume_tz)
    return moment.astimezone(UTC).isoformat(timespec="seconds")
