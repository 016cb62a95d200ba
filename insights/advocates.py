"""Brand advocates: who recommends, defends and helps, steadily, and is not a spammer.

Pure scoring over per-author facts gathered by ``insights.advocate_facts``. Every component
is kept so a marketer sees why a person is on the list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

WEIGHTS = {  # points each component can give; they add up to 100
    "positive": 15.0,
    "recommendations": 20.0,
    "defence": 15.0,
    "helping": 15.0,
    "consistency": 15.0,
    "recency": 10.0,
    "reach": 10.0,
}
HALF = {"positive": 4.0, "recommendations": 2.0, "defence": 1.5, "helping": 2.0,
        "consistency": 3.0}
RECENCY_DAYS = 60.0
REACH_FULL = 300.0
SPAM_DUPLICATE_SHARE = 0.5
SPAM_LINK_SHARE = 0.6
SPAM_MIN_POSTS = 3


@dataclass(frozen=True)
class AuthorFacts:
    """What an author said about one brand, from their tagged mentions."""

    author_id: str
    brand: str
    posts: int
    positive: int = 0
    negative: int = 0
    recommendations: int = 0
    defences: int = 0
    answers: int = 0
    active_weeks: int = 0  # weeks with a positive post, an answer or a defence
    last_support_at: str | None = None  # the latest of those
    reach: float = 0.0
    duplicates: int = 0
    with_links: int = 0
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AdvocateScore:
    author_id: str
    brand: str
    score: float
    components: dict[str, float]
    spam_like: bool


def _saturating(value: float, half: float) -> float:
    """0 for nothing, ½ at ``half``, approaching 1: more of the same helps less and less."""
    return value / (value + half) if value > 0 else 0.0


def is_spam_like(facts: AuthorFacts) -> bool:
    """Many near-identical posts or links in most posts: promotion, not advocacy."""
    if facts.posts < SPAM_MIN_POSTS:
        return False
    return (facts.duplicates / facts.posts >= SPAM_DUPLICATE_SHARE
            or facts.with_links / facts.posts >= SPAM_LINK_SHARE)


def score_advocate(facts: AuthorFacts, now: datetime) -> AdvocateScore:
    """Score 0–100 with its components; spam-like authors and critics score 0. The stance
    scales the score: the share of supportive posts (positive ones, answers, defences)
    among them and the negative ones; it is 0 for someone who never spoke well of the
    brand (helpful, perhaps, but no advocate: a brand's own support answers a lot too)."""
    days = None
    if facts.last_support_at:
        days = max(0.0, (now - datetime.fromisoformat(facts.last_support_at)).days)
    parts = {
        "positive": _saturating(facts.positive, HALF["positive"]),
        "recommendations": _saturating(facts.recommendations, HALF["recommendations"]),
        "defence": _saturating(facts.defences, HALF["defence"]),
        "helping": _saturating(facts.answers, HALF["helping"]),
        # one burst is not consistency: only weeks beyond the first count
        "consistency": _saturating(max(0, facts.active_weeks - 1), HALF["consistency"]),
        "recency": math.exp(-days / RECENCY_DAYS) if days is not None else 0.0,
        "reach": min(1.0, math.log1p(facts.reach) / math.log1p(REACH_FULL)),
    }
    components = {name: round(WEIGHTS[name] * value, 2) for name, value in parts.items()}
    supportive = facts.positive + facts.answers + facts.defences
    stance = supportive / (supportive + facts.negative) if facts.positive else 0.0
    spam = is_spam_like(facts)
    score = 0.0 if spam else round(sum(components.values()) * stance, 2)
    components["stance"] = round(stance, 2)
    return AdvocateScore(facts.author_id, facts.brand, score, components, spam)


def rank_advocates(facts: list[AuthorFacts], now: datetime,
                   minimum: float = 1.0) -> list[AdvocateScore]:
    """Advocates above ``minimum``, best first (ties by author id, for stable output)."""
    scored = [score_advocate(item, now) for item in facts]
    return sorted((s for s in scored if s.score >= minimum),
                  key=lambda s: (-s.score, s.author_id))
