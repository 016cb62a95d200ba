"""Negative-trend alerts: series of negative mentions per brand, product and touchpoint,
spikes found by ``insights.spikes``, each incident written as one alert."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from insights.alert_terms import distinctive_terms
from insights.mention_facts import BrandMention
from insights.spikes import detect_spikes

HOURLY_FROM_PER_DAY = 24  # slices with fewer negatives a day are watched day by day
BASELINE_DAYS = 28
EXAMPLES = 5


@dataclass(frozen=True)
class Slice:
    brand: str
    product: str | None = None
    touchpoint: str | None = None

    @property
    def key(self) -> str:
        return f"{self.brand}/{self.product or '*'}/{self.touchpoint or '*'}"


def slices_of(m: BrandMention) -> list[tuple[Slice, bool]]:
    """The slices a mention counts in, each with whether it counts as negative there."""
    out = [(Slice(m.brand), m.stance == "negative")]
    if m.product:
        out.append((Slice(m.brand, m.product), m.stance == "negative"))
    for touchpoint, stance in dict(m.touchpoints).items():
        negative = stance == "negative"
        out.append((Slice(m.brand, None, touchpoint), negative))
        if m.product:
            out.append((Slice(m.brand, m.product, touchpoint), negative))
    return out


def series(mentions: list[BrandMention], brands: set[str], now: datetime) -> dict:
    """Per slice: its mentions (with negativity), for counting by hour or day."""
    by_slice: dict[Slice, list[tuple[datetime, bool, BrandMention]]] = defaultdict(list)
    for m in mentions:
        if m.brand not in brands or m.duplicate:
            continue
        when = datetime.fromisoformat(m.published_at)
        if when > now:
            continue
        for piece, negative in slices_of(m):
            by_slice[piece].append((when, negative, m))
    return by_slice


def _counts(events, start: datetime, now: datetime, period: str):
    step = timedelta(hours=1) if period == "hour" else timedelta(days=1)
    size = int((now - start) / step) + 1
    negatives, totals = np.zeros(size), np.zeros(size)
    for when, negative, _ in events:
        slot = int((when - start) / step)
        totals[slot] += 1
        negatives[slot] += negative
    return negatives, totals


def find_alerts(mentions: list[BrandMention], brands: set[str], now: datetime,
                exclude_words: list[str] = ()) -> list[dict]:
    """Alerts (as ``store.upsert_alert`` fields, with their ``key`` and ``mention_ids``, the
    negative posts inside the window) for every slice whose negative series has a spike."""
    alerts = []
    by_slice = series(mentions, brands, now)
    # every slice of a brand is watched from the brand's first mention: quiet weeks before a
    # touchpoint's first complaint are its baseline
    brand_start = {}
    for piece, events in by_slice.items():
        first = min(when for when, _, _ in events)
        brand_start[piece.brand] = min(first, brand_start.get(piece.brand, first))
    for piece, events in sorted(by_slice.items(), key=lambda item: item[0].key):
        negative_days = sum(neg for _, neg, _ in events)
        first = brand_start[piece.brand]
        span_days = max(1.0, (now - first).total_seconds() / 86400)
        period = "hour" if negative_days / span_days >= HOURLY_FROM_PER_DAY else "day"
        start = first.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if period == "day":
            start = start.replace(hour=0)
        negatives, totals = _counts(events, start, now, period)
        for incident in detect_spikes(negatives, start, period, totals):
            alerts.append(_alert(piece, incident, events, by_slice[Slice(piece.brand)],
                                 exclude_words, period))
    return alerts


def _alert(piece: Slice, incident, events, brand_events, exclude_words, period: str) -> dict:
    """The alert of one incident: its negative posts against everything said about the
    brand in the weeks before, for the distinctive words."""
    step = timedelta(hours=1) if period == "hour" else timedelta(days=1)
    inside = [m for when, negative, m in events
              if negative and incident.start <= when < incident.end + step]
    before = [m for when, _, m in brand_events
              if incident.start - timedelta(days=BASELINE_DAYS) <= when < incident.start]
    terms = distinctive_terms([m.text for m in inside], [m.text for m in before],
                              exclude=exclude_words)
    examples = sorted(inside, key=lambda m: (-(m.likes + m.replies), m.published_at))
    fields = incident.alert_fields()
    fields["details"]["period"] = period
    return {"key": piece.key, "brand": piece.brand, "product": piece.product,
            "touchpoint": piece.touchpoint, "ongoing": incident.ongoing,
            "terms": [asdict(term) for term in terms],
            "example_ids": [m.mention_id for m in examples[:EXAMPLES]],
            "mention_ids": sorted({m.mention_id for m in inside}), **fields}
