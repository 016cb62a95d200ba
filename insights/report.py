"""The numbers a CX team reads each day, gathered in one place for the CLI and exports."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from sqlite_utils import Database

from config.catalogue import Catalogue
from insights.advocate_facts import advocate_facts, author_stances
from insights.advocates import AdvocateScore, rank_advocates
from insights.customers import official_author_ids
from insights.mention_facts import BrandMention, brand_mentions, thread_replies
from insights.nps import social_nps
from insights.queries import author_profiles, open_incidents, risk_statuses, thread_authors
from insights.questions import community_questions, thread_posts
from insights.risk import customers_at_risk
from insights.voice import share_of_voice


def brand_names(catalogue: Catalogue) -> list[str]:
    """Names that mark a brand's own account among answerers (e.g. "Volna_Support")."""
    return [alias for brand in catalogue.own_brands for alias in (brand.name, *brand.aliases)
            if not alias.startswith("#")]


def advocates(db: Database, catalogue: Catalogue, now: datetime,
              mentions: list[BrandMention] | None = None) -> dict[str, list[AdvocateScore]]:
    """Each own brand's advocates, best first: customers only (``insights.customers``),
    with their answers and defences in the brand's threads, named or not."""
    mentions = brand_mentions(db) if mentions is None else mentions
    official, replies = official_author_ids(catalogue), thread_replies(db, mentions)
    return {brand.id: rank_advocates(advocate_facts(mentions, brand.id, official, replies), now)
            for brand in catalogue.own_brands}


def at_risk(db: Database, catalogue: Catalogue, now: datetime, days: int = 30) -> list[dict]:
    """The customers-at-risk queue with profiles, as plain rows."""
    own = {brand.id for brand in catalogue.own_brands}
    entries = customers_at_risk(brand_mentions(db), own, now, days, risk_statuses(db),
                                thread_authors(db), official_author_ids(catalogue))
    profiles = author_profiles(db, [entry.author_id for entry in entries])
    return [{**profiles.get(entry.author_id, {}), **asdict(entry)} for entry in entries]


def questions(db: Database, catalogue: Catalogue) -> list[dict]:
    """Community questions with whether and how fast they were answered."""
    return [asdict(q) for q in community_questions(thread_posts(db), brand_names(catalogue))]


def summary(db: Database, catalogue: Catalogue, now: datetime) -> dict:
    """Open incidents, social NPS per brand, share of voice, customers at risk, questions."""
    mentions = brand_mentions(db)
    brands = [brand.id for brand in catalogue.brands]
    asked = questions(db, catalogue)
    official = official_author_ids(catalogue)
    return {
        "incidents": open_incidents(db, seen_since=(now - timedelta(days=30)).isoformat()),
        "nps": {brand: social_nps(author_stances(mentions, brand, official=official))
                for brand in brands},
        "voice": share_of_voice(mentions, brands, now),
        "at_risk": at_risk(db, catalogue, now),
        "questions": {"asked": len(asked),
                      "unanswered": sum(q["answered_at"] is None for q in asked),
                      "answered_by_brand": sum(q["by_brand"] for q in asked)},
    }
