"""Numbers the dashboard pages show, computed from the sums of the daily roll-ups
(``insights.daily.Window.totals``: a key tuple of the grouped columns → the table's
measures) and, for lists of posts, from ``BrandMention`` rows. Pure: no streamlit, no SQL."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dashboard.filters import Filters, day_of
from insights.mention_facts import BrandMention
from insights.nps import AuthorStance, period_of, social_nps
from insights.rollups import counts_once

SENTIMENTS = ("negative", "neutral", "positive")
Totals = dict[tuple, list[int]]


def period_days(filters: Filters) -> list[str]:
    """Every day of the period, oldest first."""
    return [(filters.start + timedelta(days=i)).isoformat() for i in range(filters.days)]


def bounds(filters: Filters, previous: bool = False) -> tuple[str, str]:
    """The first and last day of the period (or of the previous one)."""
    first, last = filters.previous if previous else (filters.start, filters.end)
    return first.isoformat(), last.isoformat()


# --- KPIs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kpi:
    """One headline number with its value in the previous period."""

    label: str
    value: float | None
    previous: float | None
    unit: str = ""  # "", "%" or "pts"
    higher_is_better: bool = True
    help: str = ""

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)

    @property
    def relative_change(self) -> float | None:
        """Change in % of the previous value (for counts)."""
        if self.value is None or not self.previous:
            return None
        return round(100.0 * (self.value - self.previous) / self.previous, 1)


def format_number(value: float | None, unit: str = "") -> str:
    """``1 234``, ``12.5%``, ``+4.0`` style text; ``–`` when there is no value."""
    if value is None:
        return "–"
    if unit == "%":
        return f"{value:.1f}%"
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", " ")
    return f"{value:.1f}"


def format_change(kpi: Kpi) -> str | None:
    """The delta text for ``st.metric``: ``+12 (+9.1%)`` for counts, ``+2.5 pts`` for rates,
    ``None`` when there is nothing to compare with."""
    change = kpi.change
    if change is None:
        return None
    if kpi.unit in ("%", "pts"):
        return f"{change:+.1f} pts"
    relative = kpi.relative_change
    text = f"{change:+,.0f}".replace(",", " ")
    return f"{text} ({relative:+.1f}%)" if relative is not None else text


def brand_sums(totals: Totals, chosen: Iterable[str], first: str, last: str) -> dict:
    """Sums over the days ``first``–``last`` of ``brand_days`` totals keyed ``(day, brand,
    brands)``, for the chosen brands: ``posts`` (each post once), ``mentions`` (brand rows)
    and the rows by stance toward the brand."""
    chosen = list(chosen)
    wanted = set(chosen)
    out = dict.fromkeys(("posts", "mentions", "negative", "neutral", "positive"), 0)
    for (day, brand, brands), (mentions, negative, neutral, positive) in totals.items():
        if brand not in wanted or not first <= day <= last:
            continue
        out["mentions"] += mentions
        out["negative"] += negative
        out["neutral"] += neutral
        out["positive"] += positive
        if counts_once(brand, brands, chosen):
            out["posts"] += mentions
    return out


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def author_stance(author: str, brand: str, sums: list[int]) -> AuthorStance:
    """An author's stance toward a brand from their ``author_days`` sums (rows, positive,
    negative, recommendations, switches away)."""
    posts, positive, negative, recommended, churned = sums
    return AuthorStance(author, brand, ("positive",) * positive + ("negative",) * negative
                        + ("neutral",) * (posts - positive - negative),
                        recommended=recommended > 0, churned=churned > 0)


def nps(authors: Totals) -> float | None:
    """Social NPS over ``author_days`` totals keyed ``(brand, author_id)``: each author
    counted once per brand."""
    return social_nps([author_stance(author, brand, sums)
                       for (brand, author), sums in authors.items()]).nps


def nps_by_period(authors: Totals, by: str = "week") -> list[dict]:
    """Social NPS per brand per ISO week or month from ``author_days`` totals keyed
    ``(day, brand, author_id)``, each author classed from that period's posts only (as
    ``insights.nps.nps_over_time`` does for a brand as a whole); sorted by brand and period."""
    grouped: dict[tuple, Totals] = defaultdict(lambda: defaultdict(lambda: [0] * 5))
    for (day, brand, author), sums in authors.items():
        total = grouped[(brand, period_of(day, by))][author]
        for i, value in enumerate(sums):
            total[i] += value
    rows = []
    for (brand, period), by_author in sorted(grouped.items()):
        result = social_nps([author_stance(author, brand, sums)
                             for author, sums in by_author.items()])
        rows.append({"brand": brand, "period": period, "nps": result.nps,
                     "promoters": result.promoters, "passives": result.passives,
                     "detractors": result.detractors})
    return rows


def voice_share(totals: Totals, brands: Iterable[str], chosen: Iterable[str],
                filters: Filters) -> tuple[float | None, float | None]:
    """Share of voice (%) of the chosen brands among ``brands`` (brand rows) in the period
    and in the previous one; None for both when no brand is named at all."""
    if not any(sums[0] for sums in totals.values()):
        return None, None
    shares = []
    for first, last in (bounds(filters), bounds(filters, previous=True)):
        total = brand_sums(totals, brands, first, last)["mentions"]
        shares.append(percent(brand_sums(totals, chosen, first, last)["mentions"], total))
    return shares[0], shares[1]


def overview_kpis(totals: Totals, authors_now: Totals, authors_before: Totals,
                  filters: Filters, chosen: list[str], all_brands: list[str]) -> list[Kpi]:
    """Mentions, negative share, net sentiment, social NPS and share of voice of the chosen
    brands, each with its previous-period value.

    ``totals``: ``brand_days`` by ``(day, brand, brands)`` over both periods, every brand
    (share of voice needs the competitors); ``authors_*``: ``author_days`` of the chosen
    brands by ``(brand, author_id)`` in each period."""
    now = brand_sums(totals, chosen, *bounds(filters))
    before = brand_sums(totals, chosen, *bounds(filters, previous=True))
    share, share_before = voice_share(totals, all_brands, chosen, filters)

    def net(sums: dict) -> float | None:
        return percent(sums["positive"] - sums["negative"], sums["mentions"])

    return [
        Kpi("Mentions", now["posts"], before["posts"],
            help="Posts naming the brand in the period (cross-posted copies counted once)."),
        Kpi("Negative share", percent(now["negative"], now["mentions"]),
            percent(before["negative"], before["mentions"]), "%", higher_is_better=False,
            help="Share of brand mentions whose sentences about the brand are negative."),
        Kpi("Net sentiment", net(now), net(before), "pts",
            help="(positive − negative) / mentions × 100."),
        Kpi("Social NPS", nps(authors_now), nps(authors_before), "pts",
            help="% promoters − % detractors among authors, from their stance in posts."),
        Kpi("Share of voice", share, share_before, "%",
            help="Mentions of the brand among mentions of all catalogue brands."),
    ]


def daily_sentiment(totals: Totals, filters: Filters, chosen: Iterable[str]) -> list[dict]:
    """Brand mentions per day and stance in the period: ``{day, sentiment, mentions}`` rows,
    every day of the period present (zeros included) so the chart shows quiet days;
    ``untagged`` only when some mention has no stance."""
    counts: Counter = Counter()
    wanted = set(chosen)
    for (day, brand, _), (mentions, negative, neutral, positive) in totals.items():
        if brand in wanted and filters.contains(day):
            counts[(day, "negative")] += negative
            counts[(day, "neutral")] += neutral
            counts[(day, "positive")] += positive
            counts[(day, "untagged")] += mentions - negative - neutral - positive
    labels = [*SENTIMENTS, *(["untagged"] if any(
        n for (_, label), n in counts.items() if label == "untagged") else [])]
    return [{"day": day, "sentiment": label, "mentions": counts[(day, label)]}
            for day in period_days(filters) for label in labels]


# --- customer journey ---------------------------------------------------------------------

def week_of(day: str | date) -> str:
    """The Monday (ISO) of the week holding ``day``."""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return (value - timedelta(days=value.weekday())).isoformat()


def journey_cells(totals: Totals, chosen: list[str], product: str | None = None,
                  touchpoints: Iterable[str] = ()) -> list[dict]:
    """Touchpoint × week from ``touchpoint_days`` totals keyed ``(day, touchpoint, brand,
    brands)`` of the chosen brands (and product): ``{touchpoint, week, mentions, negative,
    negative_share}``. A post counts once per touchpoint it names; it is negative there
    when the sentence naming the touchpoint is. Touchpoints of the catalogue with no post
    are listed too (empty weeks are simply absent)."""
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (day, touchpoint, brand, brands), (mentions, negative) in totals.items():
        if brand in chosen and (product or counts_once(brand, brands, chosen)):
            cell = cells[(touchpoint, week_of(day))]
            cell[0] += mentions
            cell[1] += negative
    out = [{"touchpoint": touchpoint, "week": week, "mentions": mentions,
            "negative": negative, "negative_share": percent(negative, mentions)}
           for (touchpoint, week), (mentions, negative) in sorted(cells.items())]
    named = {cell["touchpoint"] for cell in out}
    return out + [{"touchpoint": t, "week": None, "mentions": 0, "negative": 0,
                   "negative_share": None} for t in touchpoints if t not in named]


def post_count(totals: Totals, chosen: list[str] | None, product: str | None = None) -> int:
    """Posts behind totals keyed ``(…, brand, brands)`` (any table), each post once: of the
    chosen brands (None: any brand); with a product, its rows are one per post already."""
    return sum(sums[0] for key, sums in totals.items()
               if (chosen is None or key[-2] in chosen)
               and (product or counts_once(key[-2], key[-1], chosen)))


def hurting(cells: list[dict], week: str | None = None, limit: int = 5) -> list[dict]:
    """Where it hurts in ``week`` (default: the latest week with data): touchpoints by
    negative posts, with the change against the week before."""
    weeks = sorted({c["week"] for c in cells if c["week"]})
    if not weeks:
        return []
    week = week or weeks[-1]
    before = (date.fromisoformat(week) - timedelta(days=7)).isoformat()
    previous = {c["touchpoint"]: c["negative"] for c in cells if c["week"] == before}
    rows = [{**c, "previous_negative": previous.get(c["touchpoint"], 0),
             "change": c["negative"] - previous.get(c["touchpoint"], 0)}
            for c in cells if c["week"] == week and c["negative"] > 0]
    rows.sort(key=lambda c: (-c["negative"], -(c["negative_share"] or 0), c["touchpoint"]))
    return rows[:limit]


def cell_posts(rows: Iterable[BrandMention], touchpoint: str, week: str) -> list[BrandMention]:
    """The posts behind one heatmap cell: negative ones first, then newest first."""
    chosen: dict[str, tuple[bool, BrandMention]] = {}
    for m in rows:
        stances = dict(m.touchpoints)
        day = day_of(m.published_at)
        if touchpoint not in stances or day is None or week_of(day) != week:
            continue
        negative = stances[touchpoint] == "negative"
        if m.mention_id not in chosen or negative:
            chosen[m.mention_id] = (negative, m)
    ordered = sorted(chosen.values(), key=lambda item: item[1].published_at, reverse=True)
    return [m for negative, m in sorted(ordered, key=lambda item: not item[0])]


def cell_rows(rows: Iterable[BrandMention], filters: Filters, chosen: list[str],
              product: str | None = None) -> list[BrandMention]:
    """Rows of the period passing the filters (source, language; cross-posted copies left
    out) of the chosen brands and product."""
    wanted = set(chosen)
    return [m for m in rows if filters.contains(m.published_at) and not m.duplicate
            and m.brand in wanted and (not product or m.product == product)
            and (not filters.source or m.source_id == filters.source)
            and (not filters.language or m.language == filters.language)]


# --- negative trends ------------------------------------------------------------------------

def slice_key(brand: str, product: str | None = None, touchpoint: str | None = None) -> str:
    """The key alerts use for a slice: ``brand/product-or-*/touchpoint-or-*``."""
    return f"{brand}/{product or '*'}/{touchpoint or '*'}"


def slice_days(brand_totals: Totals, touchpoint_totals: Totals) -> Totals:
    """Mentions and negatives per ``(day, brand, product, touchpoint)`` slice (``None``:
    every product or touchpoint), as the alerts see them, from ``brand_days`` totals keyed
    ``(day, brand, product)`` and ``touchpoint_days`` totals keyed ``(day, brand, product,
    touchpoint)``."""
    out: Totals = defaultdict(lambda: [0, 0])

    def add(key: tuple, mentions: int, negative: int) -> None:
        out[key][0] += mentions
        out[key][1] += negative

    for (day, brand, product), (mentions, negative, *_) in brand_totals.items():
        add((day, brand, None, None), mentions, negative)
        if product:
            add((day, brand, product, None), mentions, negative)
    for (day, brand, product, touchpoint), (mentions, negative) in touchpoint_totals.items():
        add((day, brand, None, touchpoint), mentions, negative)
        if product:
            add((day, brand, product, touchpoint), mentions, negative)
    return dict(out)


def slice_table(slices: Totals, filters: Filters) -> list[dict]:
    """Every brand × product × touchpoint slice with its mentions and negatives in the
    period and negatives before, most negatives first."""
    table: dict[str, dict] = {}
    for (day, brand, product, touchpoint), (mentions, negative) in slices.items():
        current = filters.contains(day)
        if not current and not filters.in_previous(day):
            continue
        key = slice_key(brand, product, touchpoint)
        entry = table.setdefault(key, {
            "slice": key, "brand": brand, "product": product, "touchpoint": touchpoint,
            "mentions": 0, "negative": 0, "previous_negative": 0})
        if current:
            entry["mentions"] += mentions
            entry["negative"] += negative
        else:
            entry["previous_negative"] += negative
    for entry in table.values():
        entry["negative_share"] = percent(entry["negative"], entry["mentions"])
        entry["change"] = entry["negative"] - entry["previous_negative"]
    return sorted(table.values(), key=lambda e: (-e["negative"], -e["change"], e["slice"]))


def daily_negatives(slices: Totals, filters: Filters) -> dict[str, dict[str, int]]:
    """Negatives per slice key and day of the period (days with none left out)."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for (day, brand, product, touchpoint), (_, negative) in slices.items():
        if negative and filters.contains(day):
            out[slice_key(brand, product, touchpoint)][day] = negative
    return dict(out)


def negative_series(daily: dict[str, dict[str, int]], filters: Filters,
                    keys: Iterable[str]) -> list[dict]:
    """Negative mentions per day of the period for the given slices: ``{day, slice,
    negative}``, zero days included."""
    return [{"day": day, "slice": key, "negative": daily.get(key, {}).get(day, 0)}
            for key in sorted(set(keys)) for day in period_days(filters)]


def spike_marks(alerts: Iterable[dict], keys: Iterable[str], filters: Filters) -> list[dict]:
    """Alert periods of the given slices that overlap the period, for shading the chart:
    ``{slice, start, end, status, magnitude}`` with days clipped to the period."""
    wanted = set(keys)
    out = []
    for alert in alerts:
        start, end = day_of(alert.get("started_at")), day_of(alert.get("last_seen_at"))
        if alert.get("key") not in wanted or not start or not end:
            continue
        if end < filters.start.isoformat() or start > filters.end.isoformat():
            continue
        out.append({"slice": alert["key"], "id": alert.get("id"),
                    "start": max(start, filters.start.isoformat()),
                    "end": min(end, filters.end.isoformat()),
                    "status": alert.get("status"), "magnitude": alert.get("magnitude")})
    return out


def alert_terms(terms: Iterable | str | None) -> list[str]:
    """Distinctive words of an alert or cluster as short strings: ``роуминг (12 posts)``
    from alert terms, ``роуминг`` from cluster ``[term, score]`` pairs or plain words."""
    if isinstance(terms, str):
        terms = json.loads(terms or "[]")
    out = []
    for term in terms or ():
        if isinstance(term, dict):
            posts = term.get("incident_posts")
            out.append(f"{term.get('term')} ({posts} posts)" if posts else str(term.get("term")))
        elif isinstance(term, (list, tuple)) and term:
            out.append(str(term[0]))
        else:
            out.append(str(term))
    return out


def alert_matches(alert: dict, filters: Filters) -> bool:
    """An alert concerns the filters' brand and source (alerts of any source match)."""
    if filters.brand and alert.get("brand") != filters.brand:
        return False
    return not (filters.source and alert.get("source_id")
                and alert.get("source_id") != filters.source)


def incident_title(incident: dict, names: dict[str, str] | None = None) -> str:
    """``Volna · Volna Mobile · Onboarding``: the brand, its one product (if one), and the
    touchpoint the incident is most about."""
    names = names or {}
    products = incident.get("products") or []
    touchpoints = incident.get("touchpoints") or []
    parts = [incident.get("brand"), products[0]["product"] if len(products) == 1 else None,
             touchpoints[0]["touchpoint"] if touchpoints else None]
    return " · ".join(names.get(p, p) for p in parts if p)


# --- lookups ------------------------------------------------------------------------------

def by_mention(rows: Iterable[BrandMention]) -> dict[str, list[BrandMention]]:
    """Rows grouped by mention id (a mention naming two brands has two rows)."""
    out: dict[str, list[BrandMention]] = defaultdict(list)
    for m in rows:
        out[m.mention_id].append(m)
    return dict(out)


def post_matches(rows: list[BrandMention] | None, filters: Filters, *,
                 product: str | None = None, touchpoint: str | None = None,
                 sentiment: str | None = None, language: str | None = None,
                 has_brand_rows: bool = True) -> bool:
    """Whether a searched post passes the filters, given its brand rows (None when the post
    names no catalogue brand: it passes only when no brand-based filter is set)."""
    if not rows:
        return not (filters.brand or product or touchpoint or sentiment) or not has_brand_rows
    if filters.brand and all(m.brand != filters.brand for m in rows):
        return False
    if product and all(m.product != product for m in rows):
        return False
    if touchpoint and all(touchpoint not in dict(m.touchpoints) for m in rows):
        return False
    return not (sentiment and rows[0].sentiment != sentiment)
