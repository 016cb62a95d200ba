"""The global filters of the dashboard (date range, brand, language, source) and their form
in the URL query string, so that a view can be shared: ``?from=2026-10-01&to=2026-10-28&
brand=volna&lang=uk&source=forum``. Pure: no streamlit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from urllib.parse import urlencode

from insights.rollups import utc_day as day_of

DEFAULT_DAYS = 28


@dataclass(frozen=True)
class Choices:
    """What the filters can take, from the data: known brands, languages, sources, and the
    day of the latest mention (the default period ends there)."""

    brands: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    last_day: date | None = None
    first_day: date | None = None


@dataclass(frozen=True)
class Filters:
    """One view of the data: an inclusive day range and optional brand, language, source."""

    start: date
    end: date
    brand: str | None = None
    language: str | None = None
    source: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> tuple[date, date]:
        """The period of the same length just before this one."""
        return self.start - timedelta(days=self.days), self.start - timedelta(days=1)

    def since(self, with_previous: bool = True) -> str:
        """ISO time from which mentions are needed (the previous period included)."""
        first = self.previous[0] if with_previous else self.start
        return datetime.combine(first, datetime.min.time(), UTC).isoformat()

    @property
    def now(self) -> datetime:
        """The end of the period, as the "now" of recency-based insights."""
        return datetime.combine(self.end, datetime.max.time(), UTC).replace(microsecond=0)

    @cached_property
    def _bounds(self) -> tuple[str, str, str, str]:
        """The ISO days of the period and of the previous one (compared as strings)."""
        first, last = self.previous
        return (self.start.isoformat(), self.end.isoformat(), first.isoformat(),
                last.isoformat())

    def contains(self, published_at: str | None) -> bool:
        day = day_of(published_at)
        start, end, _, _ = self._bounds
        return day is not None and start <= day <= end

    def in_previous(self, published_at: str | None) -> bool:
        day = day_of(published_at)
        _, _, first, last = self._bounds
        return day is not None and first <= day <= last

    def key(self) -> tuple:
        """A hashable, picklable form (for caches)."""
        return (self.start.isoformat(), self.end.isoformat(), self.brand, self.language,
                self.source)

    @classmethod
    def from_key(cls, key: tuple) -> Filters:
        start, end, brand, language, source = key
        return cls(date.fromisoformat(start), date.fromisoformat(end), brand, language, source)

    def to_query(self) -> dict[str, str]:
        """The query-string parameters of these filters (unset ones left out)."""
        params = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name, value in (("brand", self.brand), ("lang", self.language),
                            ("source", self.source)):
            if value:
                params[name] = value
        return params

    def describe(self) -> str:
        """A one-line summary for captions, e.g. ``2026-10-01 – 2026-10-28 · volna · uk``."""
        parts = [f"{self.start.isoformat()} – {self.end.isoformat()}"]
        parts += [value for value in (self.brand, self.language, self.source) if value]
        return " · ".join(parts)


def default_filters(choices: Choices, today: date | None = None,
                    days: int = DEFAULT_DAYS) -> Filters:
    """The last ``days`` days up to the latest mention (or today on an empty store)."""
    end = choices.last_day or today or datetime.now(UTC).date()
    return Filters(end - timedelta(days=days - 1), end)


def _one(value: str | Sequence[str] | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        value = value[-1] if len(value) else None
    return value.strip() if value and value.strip() else None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def from_query(params: Mapping[str, str | Sequence[str]], choices: Choices,
               today: date | None = None) -> tuple[Filters, list[str]]:
    """Filters from URL parameters; bad or unknown values are dropped and named in the
    returned problems, so a stale link still opens."""
    base = default_filters(choices, today)
    problems = []
    start_text, end_text = _one(params.get("from")), _one(params.get("to"))
    start, end = _date(start_text), _date(end_text)
    if start_text and start is None:
        problems.append(f"'from' {start_text!r} is not a date (YYYY-MM-DD)")
    if end_text and end is None:
        problems.append(f"'to' {end_text!r} is not a date (YYYY-MM-DD)")
    if start and not end:
        end = max(start, base.end)
    if end and not start:
        start = end - timedelta(days=base.days - 1)
    start, end = start or base.start, end or base.end
    if start > end:
        start, end = end, start
    values = {}
    for name, field, known in (("brand", "brand", choices.brands),
                               ("lang", "language", choices.languages),
                               ("source", "source", choices.sources)):
        value = _one(params.get(name))
        if value and value not in known:
            problems.append(f"{name} {value!r} is not one of: {', '.join(known) or 'none yet'}")
            value = None
        values[field] = value
    return Filters(start, end, **values), problems


def with_changes(filters: Filters, **changes) -> Filters:
    """A copy with some fields changed; a range given backwards is put in order."""
    changed = replace(filters, **changes)
    if changed.start > changed.end:
        changed = replace(changed, start=changed.end, end=changed.start)
    return changed


def query_string(filters: Filters, extra: Mapping[str, str] | None = None) -> str:
    """``from=…&to=…&brand=…`` plus any page parameters, for a link to share."""
    params = {**filters.to_query(), **{k: v for k, v in (extra or {}).items() if v}}
    return urlencode(params)
