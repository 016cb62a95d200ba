"""Per-author facts for advocate scoring and social NPS, from brand mentions. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from insights.advocates import AuthorFacts
from insights.customers import is_customer
from insights.mention_facts import BrandMention
from insights.nps import AuthorStance


def _week(published_at: str) -> str:
    return datetime.fromisoformat(published_at).strftime("%G-%V")


def advocate_facts(mentions: list[BrandMention], brand: str,
                   official: Collection[str] = ()) -> list[AuthorFacts]:
    """What each customer (``insights.customers``; ``official``: the brand's own author
    ids) said about ``brand``: stance counts, recommendations, defences of the brand in
    threads where someone else complained, answers to others, weeks active, reach, and the
    spam signals (cross-posted copies, links)."""
    complained_in: dict[str, str] = {}  # thread → time of its first complaint about the brand
    asked_in: dict[str, str] = {}
    for m in mentions:
        if m.brand == brand and m.stance == "negative":
            complained_in.setdefault(m.thread, m.published_at)
        if "question" in m.intents:
            asked_in.setdefault(m.thread, m.published_at)
    by_author: dict[str, list[BrandMention]] = defaultdict(list)
    for m in mentions:
        if m.brand == brand and is_customer(m, official):
            by_author[m.author_id].append(m)
    facts = []
    for author, own in sorted(by_author.items()):
        positive = [m for m in own if m.stance == "positive"]
        facts.append(AuthorFacts(
            author_id=author, brand=brand, posts=len(own), positive=len(positive),
            negative=sum(m.stance == "negative" for m in own),
            recommendations=sum("recommendation" in m.intents for m in own
                                if m.stance != "negative"),
            defences=sum(m.thread in complained_in and m.published_at > complained_in[m.thread]
                         for m in positive),
            answers=sum("answer" in m.intents and m.thread in asked_in
                        and m.published_at > asked_in[m.thread] for m in own),
            active_weeks=len({_week(m.published_at) for m in positive}),
            last_positive_at=max((m.published_at for m in positive), default=None),
            reach=float(sum(m.likes + m.replies + m.views / 100 for m in own)),
            duplicates=sum(m.duplicate for m in own),
            with_links=sum(m.has_link for m in own),
        ))
    return facts


def author_stances(mentions: list[BrandMention], brand: str, product: str | None = None,
                   official: Collection[str] = ()) -> list[AuthorStance]:
    """Each customer's stances about a brand (or one of its products), for social NPS."""
    grouped: dict[str, list[BrandMention]] = defaultdict(list)
    for m in mentions:
        if m.brand == brand and is_customer(m, official) \
                and (product is None or m.product == product) and not m.duplicate:
            grouped[m.author_id].append(m)
    return [AuthorStance(author, brand, tuple(m.stance or "neutral" for m in own),
                         recommended=any("recommendation" in m.intents
                                         and m.stance != "negative" for m in own),
                         churned=any("churn" in m.intents and m.churn_target != brand
                                     for m in own))
            for author, own in sorted(grouped.items())]
