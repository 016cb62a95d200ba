"""Reading what the weekly digest (``insights.digest``) is made of, for one week and the week
before, through the insights read queries."""

from __future__ import annotations

from sqlite_utils import Database

from config.catalogue import Catalogue
from insights import daily, queries
from insights.customers import official_author_ids
from insights.digest import DigestFacts, Week
from insights.report import at_risk


def digest_facts(db: Database, catalogue: Catalogue, week: Week) -> DigestFacts:
    """Incidents under way in ``week``, complaint clusters with their members per day, own
    brands' touchpoint mentions per day over the week and the one before, the at-risk queue
    of the week (as of its end), and scored advocates with their first post."""
    own = [brand.id for brand in catalogue.own_brands]
    with daily.window(db, week.previous.monday.isoformat(), week.sunday.isoformat()) as window:
        touchpoints = window.totals("touchpoint_days", ("day", "touchpoint"), brand=own)
    official = official_author_ids(catalogue)
    advocates = [row for row in queries.advocates(db, limit=500)
                 if row["author_id"] not in official]
    first = queries.first_posts(db, [row["author_id"] for row in advocates])
    return DigestFacts(
        incidents=queries.incidents_between(db, week.start.isoformat(), week.end.isoformat()),
        clusters=queries.complaint_clusters(db),
        cluster_days=queries.cluster_days(db),
        touchpoint_days={key: tuple(values) for key, values in touchpoints.items()},
        at_risk=at_risk(db, catalogue, week.end, days=7),
        advocates=[{**row, "first_post": first.get(row["author_id"])} for row in advocates],
    )
