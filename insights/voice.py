"""Share of voice: mentions and net sentiment of own brands against competitors, per
period, with the change against the previous period. Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from insights.mention_facts import BrandMention


@dataclass(frozen=True)
class Voice:
    brand: str
    mentions: int
    share: float
    net_sentiment: float | None  # (positive − negative) / mentions
    previous_mentions: int
    previous_share: float
    change: float  # share points against the previous period


def share_of_voice(mentions: list[BrandMention], brands: list[str], now: datetime,
                   days: int = 30) -> list[Voice]:
    """Each brand's voice in the last ``days`` against the ``days`` before."""
    start, before = now - timedelta(days=days), now - timedelta(days=2 * days)
    current, previous, positive, negative = Counter(), Counter(), Counter(), Counter()
    for m in mentions:
        if m.brand not in brands or m.duplicate:
            continue
        when = datetime.fromisoformat(m.published_at)
        if start <= when <= now:
            current[m.brand] += 1
            positive[m.brand] += m.stance == "positive"
            negative[m.brand] += m.stance == "negative"
        elif before <= when < start:
            previous[m.brand] += 1
    total, total_before = sum(current.values()), sum(previous.values())
    voices = []
    for brand in brands:
        share = current[brand] / total if total else 0.0
        share_before = previous[brand] / total_before if total_before else 0.0
        net = (positive[brand] - negative[brand]) / current[brand] if current[brand] else None
        voices.append(Voice(brand, current[brand], round(share, 3),
                            round(net, 3) if net is not None else None, previous[brand],
                            round(share_before, 3), round(share - share_before, 3)))
    return voices
