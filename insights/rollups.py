"""Daily roll-ups of brand mentions, built from ``BrandMention`` rows. Pure.

Three tables, one row per day and combination of what the dashboard filters and groups by
(cross-posted copies left out, as every dashboard figure does):

* ``brand_days``: brand rows by brand, the set of ``brands`` the post names, product, source,
  language and the post's sentiment → rows and their stance toward the brand;
* ``touchpoint_days``: the same per touchpoint a post names → rows, negative at the touchpoint;
* ``author_days``: per customer (``insights.customers``; the catalogue's official
  accounts are left out by the reader) and brand → rows, positive, negative, recommendations and
  switches away (what social NPS classes an author by).

``brands`` lets a reader count each post once over several brands: of the rows of one post,
count the one whose brand is the first of the post's brands that are chosen
(:func:`counts_once`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import groupby

from insights.customers import is_customer
from insights.mention_facts import BrandMention
from store.rollups import ROLLUP_COLUMNS

MEASURES = {"brand_days": ("mentions", "negative", "neutral", "positive"),
            "touchpoint_days": ("mentions", "negative"),
            "author_days": ("mentions", "positive", "negative", "recommended", "churned")}
TABLES = {table: (columns[:-len(MEASURES[table])], MEASURES[table])
          for table, columns in ROLLUP_COLUMNS.items()}  # table → (dimensions, measures)


def utc_day(published_at: str | None) -> str | None:
    """The UTC day (``YYYY-MM-DD``) of an ISO time, or None for a missing or bad one."""
    if not published_at:
        return None
    if published_at.endswith(("+00:00", "Z")) or len(published_at) == 10:
        return published_at[:10]
    try:
        when = datetime.fromisoformat(published_at)
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.date().isoformat()


def rollup_rows(mentions: Iterable[BrandMention], days: Iterable[str] | None = None
                ) -> dict[str, list[tuple]]:
    """The rows of each roll-up table for ``mentions`` (all rows of a post together, as
    ``insights.mention_facts`` returns them; only posts of ``days`` if given), in
    ``store.rollups.ROLLUP_COLUMNS`` order."""
    wanted = set(days) if days is not None else None
    sums = {table: _sums(len(MEASURES[table])) for table in TABLES}
    brand_days, touchpoint_days, author_days = (sums[table] for table in TABLES)
    for _, post in groupby(mentions, key=lambda m: m.mention_id):
        post = list(post)
        first = post[0]
        day = utc_day(first.published_at)
        if day is None or first.duplicate or (wanted is not None and day not in wanted):
            continue
        brands = ",".join(sorted({m.brand for m in post}))
        where = (first.source_id, first.language or "", first.sentiment or "")
        for m in post:
            product = m.product or ""
            stance = (m.stance == "negative", m.stance == "neutral", m.stance == "positive")
            _add(brand_days[(day, m.brand, brands, product, *where)], (1, *stance))
            for touchpoint, at in dict(m.touchpoints).items():
                _add(touchpoint_days[(day, touchpoint, m.brand, brands, product, *where)],
                     (1, at == "negative"))
            if is_customer(m):  # NPS counts customers only
                _add(author_days[(day, m.brand, m.author_id, m.source_id, m.language or "")],
                     (1, m.stance == "positive", m.stance == "negative",
                      "recommendation" in m.intents and m.stance != "negative",
                      "churn" in m.intents and m.churn_target != m.brand))
    return {table: [(*key, *values) for key, values in sorted(rows.items())]
            for table, rows in sums.items()}


def _sums(width: int) -> defaultdict[tuple, list[int]]:
    return defaultdict(lambda: [0] * width)


def _add(total: list[int], values: Sequence) -> None:
    for i, value in enumerate(values):
        total[i] += value


def group(rows: Iterable[tuple], table: str, by: Sequence[str],
          where: dict[str, object] | None = None) -> dict[tuple, list[int]]:
    """Sum the measures of ``table`` rows by the columns ``by``, keeping rows whose columns
    match ``where`` (a value, or a list or tuple of values; None matches anything)."""
    dims, measures = TABLES[table]
    columns = (*dims, *measures)
    index = {name: columns.index(name) for name in columns}
    tests = [(index[name], set(value) if isinstance(value, (list, tuple)) else {value})
             for name, value in (where or {}).items() if value is not None]
    keys = [index[name] for name in by]
    first = len(dims)
    out = _sums(len(measures))
    for row in rows:
        if all(row[i] in wanted for i, wanted in tests):
            _add(out[tuple(row[i] for i in keys)], row[first:])
    return dict(out)


def counts_once(brand: str, brands: str, chosen: Iterable[str] | None) -> bool:
    """Whether the row of ``brand`` is the one that counts its post among the ``chosen``
    brands (None: every brand), given the post's ``brands`` as stored."""
    named = brands.split(",")
    if chosen is None:
        return brand == named[0]
    wanted = set(chosen)
    return brand == next((b for b in named if b in wanted), None)
