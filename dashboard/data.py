"""The catalogue and the store summary every page starts from, read through the read API of
``insights`` only (no SQL here)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from sqlite_utils import Database

from config.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue
from dashboard.filters import Choices, day_of
from insights import queries


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
    """Whether any mention is stored, and the choices of the global filters (brands of the
    catalogue; languages, sources and days of the store), from index lookups only."""
    found = queries.filter_choices(db)
    first, last = day_of(found["first_published"]), day_of(found["last_published"])
    choices = Choices(
        brands=tuple(brand.id for brand in catalogue.brands),
        languages=tuple(found["languages"]),
        sources=tuple(found["sources"]),
        last_day=date.fromisoformat(last) if last else None,
        first_day=date.fromisoformat(first) if first else None,
    )
    return {"has_mentions": found["has_mentions"], "choices": choices}
