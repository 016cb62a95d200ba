"""Complaint clusters from the store: negative mentions through the clustering pipeline,
with each cluster's trend, languages, products and touchpoints, ids kept across runs."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from datetime import datetime

from sqlite_utils import Database

from insights.clustering import ClusterPipeline, ClusterRef, cluster_trend
from insights.mention_facts import EFFECTIVE_SENTIMENT
from nlp.tagger import EMBEDDING_MODEL
from store.embeddings import load_embeddings

MIN_COMPLAINTS = 10  # fewer negative posts than this are read one by one, not clustered


def negative_mentions(db: Database) -> list[tuple[str, str, str, str | None]]:
    """``(id, text, published_at, language)`` of negative mentions that are not cross-posts."""
    return db.execute(
        f"""SELECT m.id, m.text, m.published_at, m.language FROM mentions m
            WHERE m.duplicate_of IS NULL AND {EFFECTIVE_SENTIMENT} = 'negative'
            ORDER BY m.seq"""
    ).fetchall()


def previous_clusters(db: Database) -> list[ClusterRef]:
    """Last run's clusters, for keeping their ids."""
    members: dict[str, list[str]] = {}
    for cluster, mention in db.execute("SELECT cluster_id, mention_id FROM cluster_members"):
        members.setdefault(cluster, []).append(mention)
    return [ClusterRef.from_record({"id": cluster, "details": json.loads(details)},
                                   members.get(cluster, []))
            for cluster, details in db.execute("SELECT id, details FROM clusters")]


def _hit_keys(db: Database, mention_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    keys: dict[str, list[tuple[str, str]]] = {}
    for mention in mention_ids:
        keys[mention] = db.execute(
            "SELECT kind, key FROM hits WHERE mention_id = ? AND kind IN ('product', "
            "'touchpoint')", [mention]).fetchall()
    return keys


def complaint_clusters(db: Database, now: datetime, pipeline: ClusterPipeline | None = None
                       ) -> list[dict]:
    """Clusters of the negative mentions, ready for ``store.insights.replace_clusters``."""
    rows = negative_mentions(db)
    if len(rows) < MIN_COMPLAINTS:
        return []
    ids = [row[0] for row in rows]
    stored_ids, matrix = load_embeddings(db, EMBEDDING_MODEL, ids)
    vectors = dict(zip(stored_ids, matrix, strict=True))
    result = (pipeline or ClusterPipeline()).run(ids, [row[1] for row in rows], vectors,
                                                 previous_clusters(db))
    facts = {row[0]: row for row in rows}
    clusters = []
    for cluster in result.clusters:
        record = cluster.record()
        members = [m["mention_id"] for m in cluster.member_records()]
        hits = _hit_keys(db, members)
        record["details"].update({
            "trend": asdict(cluster_trend([facts[m][2] for m in members], now)),
            "languages": Counter(facts[m][3] or "other" for m in members).most_common(),
            "products": Counter(k for m in members for kind, k in hits[m]
                                if kind == "product").most_common(5),
            "touchpoints": Counter(k for m in members for kind, k in hits[m]
                                   if kind == "touchpoint").most_common(5),
        })
        record["members"] = [(m["mention_id"], m["score"], bool(m["representative"]))
                             for m in cluster.member_records()]
        clusters.append(record)
    return clusters
