"""Social NPS: authors classed as promoters, passives or detractors from their stance across
their posts about a brand; NPS = % promoters − % detractors. Pure functions."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from insights.customers import is_customer
from insights.mention_facts import BrandMention
from insights.rollups import utc_day

SENTIMENT_VALUE = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
PROMOTER_STANCE = 0.5
DETRACTOR_STANCE = -0.25


@dataclass(frozen=True)
class AuthorStance:
    """One author's posts about one brand: their sentiments and intent signals."""

    author_id: str
    brand: str
    sentiments: tuple[str, ...]
    recommended: bool = False
    churned: bool = False


def stance_of(author_id: str, brand: str, rows: Iterable[BrandMention]) -> AuthorStance:
    """An author's stance from their rows about ``brand`` (no sentiment reads as neutral;
    a recommendation counts unless negative; a churn counts unless toward ``brand``)."""
    rows = list(rows)
    return AuthorStance(author_id, brand, tuple(m.stance or "neutral" for m in rows),
                        recommended=any("recommendation" in m.intents
                                        and m.stance != "negative" for m in rows),
                        churned=any("churn" in m.intents and m.churn_target != brand
                                    for m in rows))


def classify(stance: AuthorStance) -> str:
    """``promoter``, ``passive`` or ``detractor``.

    A recommendation makes a promoter unless the author is mostly negative; announcing a
    switch away (churn) makes a detractor; otherwise the mean sentiment decides.
    """
    values = [SENTIMENT_VALUE[s] for s in stance.sentiments if s in SENTIMENT_VALUE]
    mean = sum(values) / len(values) if values else 0.0
    if stance.churned or mean <= DETRACTOR_STANCE:
        return "detractor"
    if stance.recommended or mean >= PROMOTER_STANCE:
        return "promoter"
    return "passive"


@dataclass(frozen=True)
class NpsResult:
    promoters: int
    passives: int
    detractors: int

    @property
    def authors(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        """% promoters − % detractors, −100…100; ``None`` with no authors."""
        if not self.authors:
            return None
        return round(100.0 * (self.promoters - self.detractors) / self.authors, 1)


def social_nps(stances: list[AuthorStance]) -> NpsResult:
    """NPS over authors (each counted once, whatever their number of posts)."""
    classes = Counter(classify(stance) for stance in stances)
    return NpsResult(classes["promoter"], classes["passive"], classes["detractor"])


PERIODS = ("week", "month")


@dataclass(frozen=True)
class PeriodNps:
    """Social NPS of a brand (``product`` None) or one of its products in one period."""

    brand: str
    product: str | None
    period: str  # ISO week "2026-W47" or month "2026-11"
    result: NpsResult


def period_of(day: str, by: str) -> str:
    """The ISO week (``2026-W47``) or calendar month (``2026-11``) of a ``YYYY-MM-DD`` day."""
    _check_period(by)
    when = date.fromisoformat(day)
    if by == "month":
        return when.strftime("%Y-%m")
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


def _check_period(by: str) -> None:
    if by not in PERIODS:
        raise ValueError(f"cannot group NPS by {by!r}; choose one of {', '.join(PERIODS)}")


def nps_over_time(mentions: Iterable[BrandMention], by: str = "week",
                  official: Collection[str] = ()) -> list[PeriodNps]:
    """Social NPS per brand and per product per period (``by``: ``week`` or ``month``, of
    the UTC day of publication), each author classed from their own posts of that period
    only; customers only (``insights.customers``), cross-posted copies left out. Sorted by
    brand, product (the brand as a whole first) and period."""
    _check_period(by)
    grouped: dict[tuple, dict[str, list[BrandMention]]] = defaultdict(lambda: defaultdict(list))
    for m in mentions:
        day = utc_day(m.published_at)
        if day is None or m.duplicate or not is_customer(m, official):
            continue
        period = period_of(day, by)
        grouped[(m.brand, None, period)][m.author_id].append(m)
        if m.product:
            grouped[(m.brand, m.product, period)][m.author_id].append(m)
    return [PeriodNps(brand, product, period,
                      social_nps([stance_of(author, brand, rows)
                                  for author, rows in sorted(authors.items())]))
            for (brand, product, period), authors in sorted(
                grouped.items(), key=lambda item: (item[0][0], item[0][1] or "", item[0][2]))]
