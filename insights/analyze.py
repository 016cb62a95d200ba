"""``otklik analyze``: alerts grouped into incidents, advocate scores and complaint clusters
written to the store, and each change of an incident posted to the webhook once. Re-running
it is safe: alerts and incidents update in place (an incident keeps its id while it grows),
scores and clusters are replaced, delivered incident changes are not posted again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from itertools import groupby

from sqlite_utils import Database

from config.catalogue import Catalogue
from insights.alerts import find_alerts
from insights.complaints import brand_names, complaint_clusters
from insights.incidents import AlertSlice, describe_incident, group_alerts
from insights.mention_facts import BrandMention, brand_mentions
from insights.report import advocates as ranked_advocates
from insights.webhook import WebhookTarget, deliver_incidents
from store import count_mentions
from store.incidents import alert_slices, save_incidents
from store.insights import replace_advocate_scores, replace_clusters, upsert_alert


def brand_words(catalogue: Catalogue) -> list[str]:
    """Brand and product names, left out of distinctive terms (they say nothing new)."""
    words = []
    for brand in catalogue.brands:
        words += [brand.name, *brand.aliases]
        for product in brand.products:
            words += [product.name, *product.aliases]
    return [part for word in words for part in word.replace("#", " ").split()]


def analyze(db: Database, catalogue: Catalogue, now: datetime | None = None,
            step: Callable[[str], None] | None = None, pipeline=None,
            webhook: WebhookTarget | None = None) -> dict:
    """Run every insights stage; returns counts of what was written. ``pipeline``: the
    complaint-clustering pipeline (default: e5 embeddings, kept by the tagger); ``webhook``:
    where new, grown and ended incidents are posted (counts ``webhook_sent`` and
    ``webhook_failed``; a dry run's messages in ``webhook_payloads``)."""
    now = now or datetime.now(UTC)
    own = {brand.id for brand in catalogue.own_brands}
    report = step or (lambda _: None)
    report("reading tagged mentions")
    mentions = brand_mentions(db)
    report("looking for negative spikes")
    created = updated = 0
    found = []
    for alert in find_alerts(mentions, own, now, brand_words(catalogue)):
        alert_id, is_new = upsert_alert(db, alert.pop("key"), alert)
        found.append(alert_id)
        created += is_new
        updated += not is_new
    report("grouping alerts into incidents")
    incidents_new, incidents_updated = refresh_incidents(db, catalogue, found, mentions)
    report("scoring advocates")
    advocates = 0
    for brand, ranked in ranked_advocates(db, catalogue, now, mentions).items():
        advocates += replace_advocate_scores(db, brand, ranked)
    report("clustering complaints")
    clusters = replace_clusters(db, complaint_clusters(db, now, pipeline,
                                                       brand_names(catalogue)))
    counts = {"mentions": count_mentions(db), "alerts_new": created,
              "brand_mentions": len({m.mention_id for m in mentions}),
              "alerts_updated": updated, "incidents_new": incidents_new,
              "incidents_updated": incidents_updated, "advocates": advocates,
              "clusters": clusters}
    if webhook is not None:
        report("posting incidents to the webhook")
        delivered = deliver_incidents(db, webhook, now)
        counts |= {"webhook_sent": delivered["sent"], "webhook_failed": delivered["failed"],
                   "webhook_payloads": delivered["payloads"]}
    return counts


def refresh_incidents(db: Database, catalogue: Catalogue, alert_ids: list[int] | None = None,
                      mentions: list[BrandMention] | None = None) -> tuple[int, int]:
    """Group the given alerts and those in no incident yet (default: every stored alert)
    into incidents and store them; returns ``(created, updated)``. ``mentions``: the brand
    rows, read when not given."""
    mentions = brand_mentions(db) if mentions is None else mentions
    slices = [_slice(row) for row in alert_slices(db, alert_ids) if row["brand"]]
    by_brand = {brand: list(rows) for brand, rows in groupby(
        sorted(mentions, key=lambda m: m.brand), key=lambda m: m.brand)}
    by_id = {brand: {m.mention_id: m for m in rows} for brand, rows in by_brand.items()}
    words = brand_words(catalogue)
    described = [describe_incident(group, by_id.get(group[0].brand, {}),
                                   by_brand.get(group[0].brand, []), words)
                 for group in group_alerts(slices)]
    return save_incidents(db, described)


def _slice(row: dict) -> AlertSlice:
    details = row["details"] or {}
    return AlertSlice(
        alert_id=row["id"], brand=row["brand"], product=row["product"],
        touchpoint=row["touchpoint"], started_at=datetime.fromisoformat(row["started_at"]),
        last_seen_at=datetime.fromisoformat(row["last_seen_at"]),
        period=details.get("period", "day"), observed=float(details.get("observed") or 0),
        expected=float(row["baseline"] or 0),
        ongoing=bool(details.get("ongoing", row["status"] != "resolved")),
        posts=frozenset(row["posts"]),
        terms=tuple(t["term"] if isinstance(t, dict) else str(t) for t in row["terms"]))
