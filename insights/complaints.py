"""Complaint themes from the store: negative mentions through the clustering pipeline, as
themes and their clusters (sub-themes), each with its trend, languages, products and
touchpoints, ids kept across runs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime

from sqlite_utils import Database

from config.catalogue import Catalogue
from insights.clustering import Cluster, ClusterPipeline, ClusterRef, cluster_trend
from insights.mention_facts import EFFECTIVE_SENTIMENT
from insights.phrases import ClassTfidfLabeler
from insights.themes import TitlePicker
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


def previous_clusters(db: Database) -> tuple[list[ClusterRef], list[ClusterRef]]:
    """Last run's clusters and themes, for keeping their ids. Rows of a store clustered
    before themes existed (none has a theme) are all clusters."""
    members: dict[str, list[str]] = {}
    for cluster, mention in db.execute("SELECT cluster_id, mention_id FROM cluster_members"):
        members.setdefault(cluster, []).append(mention)
    rows = db.execute("SELECT id, details, parent_id FROM clusters").fetchall()
    two_levels = any(parent is not None for _, _, parent in rows)
    clusters, themes = [], []
    for cluster, details, parent in rows:
        ref = ClusterRef.from_record({"id": cluster, "details": json.loads(details)},
                                     members.get(cluster, []))
        (themes if two_levels and parent is None else clusters).append(ref)
    return clusters, themes


def _hit_keys(db: Database, mention_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """Products and touchpoints each mention names (its hits)."""
    keys: dict[str, list[tuple[str, str]]] = {}
    for mention in mention_ids:
        keys[mention] = db.execute(
            "SELECT kind, key FROM hits WHERE mention_id = ? AND kind IN ('product', "
            "'touchpoint')", [mention]).fetchall()
    return keys


def brand_names(catalogue: Catalogue) -> list[str]:
    """The names and aliases of every brand: what key phrases leave out (product names stay:
    "интернет" of "Волна Домашний интернет" is what a complaint is about)."""
    return [name for brand in catalogue.brands for name in (brand.name, *brand.aliases)]


def default_pipeline(exclude: Sequence[str] = ()) -> ClusterPipeline:
    """The default pipeline, with ``exclude`` (brand and product names) kept out of key
    phrases and titles' scoring."""
    labeler = ClassTfidfLabeler(exclude=exclude)
    return ClusterPipeline(label=labeler, title=TitlePicker(lemmatiser=labeler.lemmatiser))


def complaint_clusters(db: Database, now: datetime, pipeline: ClusterPipeline | None = None,
                       exclude: Sequence[str] = ()) -> list[dict]:
    """Themes and clusters of the negative mentions, ready for
    ``store.insights.replace_clusters`` (themes first). ``exclude``: names left out of key
    phrases when the default pipeline is used."""
    rows = negative_mentions(db)
    if len(rows) < MIN_COMPLAINTS:
        return []
    ids = [row[0] for row in rows]
    stored_ids, matrix = load_embeddings(db, EMBEDDING_MODEL, ids)
    vectors = dict(zip(stored_ids, matrix, strict=True))
    old_clusters, old_themes = previous_clusters(db)
    result = (pipeline or default_pipeline(exclude)).run(
        ids, [row[1] for row in rows], vectors, old_clusters, old_themes)
    facts = {row[0]: row for row in rows}
    hits = _hit_keys(db, {m for c in result.clusters for m in c.member_ids})
    return [_record(group, facts, hits, now) for group in [*result.themes, *result.clusters]]


def _record(cluster: Cluster, facts: dict, hits: dict, now: datetime) -> dict:
    """A ``clusters`` row with its members' trend, languages, products and touchpoints."""
    record = cluster.record()
    members = cluster.member_ids
    record["details"].update({
        "trend": asdict(cluster_trend([facts[m][2] for m in members], now)),
        "languages": Counter(facts[m][3] or "other" for m in members).most_common(),
        "products": Counter(k for m in members for kind, k in hits.get(m, [])
                            if kind == "product").most_common(5),
        "touchpoints": Counter(k for m in members for kind, k in hits.get(m, [])
                               if kind == "touchpoint").most_common(5),
    })
    record["members"] = [(m["mention_id"], m["score"], bool(m["representative"]))
                         for m in cluster.member_records()]
    return record
