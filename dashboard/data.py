"""Reading what the pages need, through the read API of ``store`` and ``insights`` only
(no SQL here). Read functions that the insights package does not offer yet are looked up by
name, so the pages light up as soon as they land (see ``OPTIONAL_QUERIES``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlite_utils import Database

from config.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue
from dashboard.filters import Choices
from insights import queries
from insights.mention_facts import BrandMention, brand_mentions

# name in insights.queries → what the dashboard uses it for
OPTIONAL_QUERIES = {
    "mention_evidence": "the tags, matched words and evidence sentences of a mention",
    "complaint_clusters": "the complaint clusters",
    "cluster_members": "the posts of a complaint cluster",
}


def catalogue_path() -> Path:
    """``$OTKLIK_CATALOGUE`` or the bundled ``data/catalogue.yaml``."""
    return Path(os.environ.get("OTKLIK_CATALOGUE") or DEFAULT_CATALOGUE)


def read_catalogue() -> Catalogue:
    return load_catalogue(catalogue_path())


def display_names(catalogue: Catalogue) -> dict[str, str]:
    """Display names of brand, product and touchpoint ids."""
    names = {}
    for brand in catalogue.brands:
        names[brand.id] = brand.name
        names.update({product.id: product.name for product in brand.products})
    names.update({touchpoint.id: touchpoint.name for touchpoint in catalogue.touchpoints})
    return names


def store_summary(db: Database, catalogue: Catalogue) -> dict:
    """Totals and the choices of the global filters, from cheap queries."""
    totals = queries.overview(db)
    languages = [lang for lang, _ in queries.counts_by(db, "language") if lang != "untagged"]
    sources = [source for source, _ in queries.counts_by(db, "source_id")]
    last = totals["last_published"]
    first = totals["first_published"]
    choices = Choices(
        brands=tuple(brand.id for brand in catalogue.brands),
        languages=tuple(sorted(languages)),
        sources=tuple(sorted(sources)),
        last_day=date.fromisoformat(last[:10]) if last else None,
        first_day=date.fromisoformat(first[:10]) if first else None,
    )
    return {"totals": totals, "choices": choices}


def mentions_since(db: Database, since: str | None) -> list[BrandMention]:
    """Tagged (mention, brand) rows published since ``since``."""
    return brand_mentions(db, since)


def has_language_field() -> bool:
    """Whether ``BrandMention`` carries the mention's language (else a map is needed)."""
    return "language" in BrandMention.__dataclass_fields__


def mention_languages(db: Database) -> dict[str, str]:
    """Mention id → language, for when ``BrandMention`` has no language field. Reads every
    mention (``mentions_for_export``): slow on a large store, so only loaded on demand."""
    return {row["id"]: row["language"] for row in queries.mentions_for_export(db)
            if row["language"]}


def language_getter(languages: dict[str, str] | None
                    ) -> Callable[[BrandMention], str | None]:
    """A function giving a row's language, from the row itself or from the map."""
    if has_language_field():
        return lambda m: m.language
    table = languages or {}
    return lambda m: table.get(m.mention_id)


def optional_query(name: str) -> Callable | None:
    """``insights.queries.<name>`` if that read function exists."""
    return getattr(queries, name, None)


def mention_evidence(db: Database, mention_ids: list[str]) -> dict[str, dict] | None:
    """Tags, hits and corrections per mention, or None while the query is missing."""
    query = optional_query("mention_evidence")
    return query(db, mention_ids) if query else None


def complaint_clusters(db: Database) -> list[dict] | None:
    query = optional_query("complaint_clusters")
    return query(db) if query else None


def cluster_members(db: Database, cluster_id: str | None = None) -> list[dict] | None:
    query = optional_query("cluster_members")
    return query(db, cluster_id) if query else None
