"""``otklik analyze``: alerts, advocate scores and complaint clusters written to the store,
and each change of an alert posted to the webhook once. Re-running it is safe: alerts update
in place, scores and clusters are replaced, delivered alert changes are not posted again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlite_utils import Database

from config.catalogue import Catalogue
from insights.alerts import find_alerts
from insights.complaints import brand_names, complaint_clusters
from insights.mention_facts import brand_mentions
from insights.report import advocates as ranked_advocates
from insights.webhook import WebhookTarget, deliver_alerts
from store import count_mentions
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
    where new, grown and ended alerts are posted (counts ``webhook_sent`` and
    ``webhook_failed``; a dry run's messages in ``webhook_payloads``)."""
    now = now or datetime.now(UTC)
    own = {brand.id for brand in catalogue.own_brands}
    report = step or (lambda _: None)
    report("reading tagged mentions")
    mentions = brand_mentions(db)
    report("looking for negative spikes")
    created = updated = 0
    for alert in find_alerts(mentions, own, now, brand_words(catalogue)):
        _, is_new = upsert_alert(db, alert.pop("key"), alert)
        created += is_new
        updated += not is_new
    report("scoring advocates")
    advocates = 0
    for brand, ranked in ranked_advocates(db, catalogue, now, mentions).items():
        advocates += replace_advocate_scores(db, brand, ranked)
    report("clustering complaints")
    clusters = replace_clusters(db, complaint_clusters(db, now, pipeline,
                                                       brand_names(catalogue)))
    counts = {"mentions": count_mentions(db), "alerts_new": created,
              "brand_mentions": len({m.mention_id for m in mentions}),
              "alerts_updated": updated, "advocates": advocates, "clusters": clusters}
    if webhook is not None:
        report("posting alerts to the webhook")
        delivered = deliver_alerts(db, webhook, now)
        counts |= {"webhook_sent": delivered["sent"], "webhook_failed": delivered["failed"],
                   "webhook_payloads": delivered["payloads"]}
    return counts
