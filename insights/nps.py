"""Social NPS: authors classed as promoters, passives or detractors from their stance across
their posts about a brand; NPS = % promoters − % detractors. Pure functions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

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
