"""Numbers the dashboard pages show, computed from ``BrandMention`` rows (one per mention and
brand it names, see ``insights.mention_facts``). Pure: lists and dicts in, lists and dicts
out; no streamlit, no SQL."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dashboard.filters import Filters, day_of
from insights.advocate_facts import author_stances
from insights.alerts import slices_of
from insights.mention_facts import BrandMention
from insights.nps import social_nps
from insights.voice import share_of_voice

SENTIMENTS = ("negative", "neutral", "positive")
LanguageOf = Callable[[BrandMention], str | None]


def no_language(_: BrandMention) -> str | None:
    return None


def apply_filters(mentions: Iterable[BrandMention], filters: Filters,
                  language_of: LanguageOf = no_language, *, brand: bool = True,
                  previous: bool = True) -> list[BrandMention]:
    """Rows inside the period (and the previous one, for changes) matching the source,
    language and (unless ``brand`` is False, for share of voice) brand filters.
    Cross-posted copies are left out: each post counts once."""
    first = (filters.previous[0] if previous else filters.start).isoformat()
    last = filters.end.isoformat()
    out = []
    for m in mentions:
        day = day_of(m.published_at)
        if day is None or not first <= day <= last or m.duplicate:
            continue
        if filters.source and m.source_id != filters.source:
            continue
        if brand and filters.brand and m.brand != filters.brand:
            continue
        if filters.language and language_of(m) != filters.language:
            continue
        out.append(m)
    return out


def split_periods(mentions: Iterable[BrandMention], filters: Filters
                  ) -> tuple[list[BrandMention], list[BrandMention]]:
    """Rows of the period and rows of the previous period of the same length."""
    current, previous = [], []
    for m in mentions:
        if filters.contains(m.published_at):
            current.append(m)
        elif filters.in_previous(m.published_at):
            previous.append(m)
    return current, previous


def scope(mentions: Iterable[BrandMention], brands: Iterable[str]) -> list[BrandMention]:
    wanted = set(brands)
    return [m for m in mentions if m.brand in wanted]


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


def unique_mentions(rows: Iterable[BrandMention]) -> int:
    return len({m.mention_id for m in rows})


def negative_share(rows: list[BrandMention]) -> float | None:
    """% of brand mentions whose stance toward the brand is negative."""
    if not rows:
        return None
    return round(100.0 * sum(m.stance == "negative" for m in rows) / len(rows), 1)


def net_sentiment(rows: list[BrandMention]) -> float | None:
    """(positive − negative) / mentions, in points from −100 to 100."""
    if not rows:
        return None
    positive = sum(m.stance == "positive" for m in rows)
    negative = sum(m.stance == "negative" for m in rows)
    return round(100.0 * (positive - negative) / len(rows), 1)


def nps(rows: list[BrandMention], brands: Iterable[str]) -> float | None:
    """Social NPS over the authors of ``rows``, each author counted once per brand."""
    stances = [stance for brand in brands for stance in author_stances(rows, brand)]
    return social_nps(stances).nps


def voice_share(rows: list[BrandMention], brands: list[str], chosen: Iterable[str],
                filters: Filters) -> tuple[float | None, float | None]:
    """Share of voice (%) of the chosen brands among ``brands`` in the period and before."""
    if not rows:
        return None, None
    voices = share_of_voice(rows, brands, filters.now, filters.days)
    chosen = set(chosen)
    current = sum(v.mentions for v in voices if v.brand in chosen)
    total = sum(v.mentions for v in voices)
    before = sum(v.previous_mentions for v in voices if v.brand in chosen)
    total_before = sum(v.previous_mentions for v in voices)
    return (round(100.0 * current / total, 1) if total else None,
            round(100.0 * before / total_before, 1) if total_before else None)


def overview_kpis(rows: list[BrandMention], all_brands_rows: list[BrandMention],
                  filters: Filters, own_brands: list[str], all_brands: list[str]) -> list[Kpi]:
    """Mentions, negative share, net sentiment, social NPS and share of voice for the brand
    of the filters (or all own brands), each with its previous-period value.

    ``rows`` are filtered by brand; ``all_brands_rows`` are not (share of voice needs the
    competitors)."""
    chosen = [filters.brand] if filters.brand else list(own_brands)
    current, previous = split_periods(scope(rows, chosen), filters)
    share, share_before = voice_share(all_brands_rows, all_brands, chosen, filters)
    return [
        Kpi("Mentions", unique_mentions(current), unique_mentions(previous),
            help="Posts naming the brand in the period (cross-posted copies counted once)."),
        Kpi("Negative share", negative_share(current), negative_share(previous), "%",
            higher_is_better=False,
            help="Share of brand mentions whose sentences about the brand are negative."),
        Kpi("Net sentiment", net_sentiment(current), net_sentiment(previous), "pts",
            help="(positive − negative) / mentions × 100."),
        Kpi("Social NPS", nps(current, chosen), nps(previous, chosen), "pts",
            help="% promoters − % detractors among authors, from their stance in posts."),
        Kpi("Share of voice", share, share_before, "%",
            help="Mentions of the brand among mentions of all catalogue brands."),
    ]


def daily_sentiment(rows: Iterable[BrandMention], filters: Filters) -> list[dict]:
    """Mentions per day and stance in the period: ``{day, sentiment, mentions}`` rows, every
    day of the period present (zeros included) so the chart shows quiet days."""
    counts: Counter = Counter()
    seen = set()
    for m in rows:
        if not filters.contains(m.published_at) or (m.mention_id, m.brand) in seen:
            continue
        seen.add((m.mention_id, m.brand))
        counts[(day_of(m.published_at), m.stance or "untagged")] += 1
    labels = [*SENTIMENTS, *sorted({s for _, s in counts} - set(SENTIMENTS))]
    out = []
    for offset in range(filters.days):
        day = (filters.start + timedelta(days=offset)).isoformat()
        out += [{"day": day, "sentiment": label, "mentions": counts[(day, label)]}
                for label in labels]
    return out


# --- customer journey ---------------------------------------------------------------------

def week_of(day: str | date) -> str:
    """The Monday (ISO) of the week holding ``day``."""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return (value - timedelta(days=value.weekday())).isoformat()


def journey_cells(rows: Iterable[BrandMention], touchpoints: Iterable[str] = ()) -> list[dict]:
    """Touchpoint × week: ``{touchpoint, week, mentions, negative, negative_share}``. A post
    counts once per touchpoint it names; it is negative there when the sentence naming the
    touchpoint is. Touchpoints of the catalogue with no post are listed too (empty weeks
    are simply absent)."""
    cells: dict[tuple[str, str], dict[str, bool]] = defaultdict(dict)
    for m in rows:
        day = day_of(m.published_at)
        if day is None:
            continue
        for touchpoint, stance in dict(m.touchpoints).items():
            posts = cells[(touchpoint, week_of(day))]
            posts[m.mention_id] = posts.get(m.mention_id, False) or stance == "negative"
    out = []
    for (touchpoint, week), posts in sorted(cells.items()):
        negative = sum(posts.values())
        out.append({"touchpoint": touchpoint, "week": week, "mentions": len(posts),
                    "negative": negative,
                    "negative_share": round(100.0 * negative / len(posts), 1)})
    named = {cell["touchpoint"] for cell in out}
    return out + [{"touchpoint": t, "week": None, "mentions": 0, "negative": 0,
                   "negative_share": None} for t in touchpoints if t not in named]


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


# --- negative trends ------------------------------------------------------------------------

def slice_key(brand: str, product: str | None = None, touchpoint: str | None = None) -> str:
    """The key alerts use for a slice: ``brand/product-or-*/touchpoint-or-*``."""
    return f"{brand}/{product or '*'}/{touchpoint or '*'}"


def slice_table(rows: Iterable[BrandMention], filters: Filters) -> list[dict]:
    """Every brand × product × touchpoint slice (as the alerts see them) with its mentions
    and negatives in the period and negatives before, most negatives first."""
    table: dict[str, dict] = {}
    for m in rows:
        current = filters.contains(m.published_at)
        if not current and not filters.in_previous(m.published_at):
            continue
        for piece, negative in slices_of(m):
            entry = table.setdefault(piece.key, {
                "slice": piece.key, "brand": piece.brand, "product": piece.product,
                "touchpoint": piece.touchpoint, "mentions": 0, "negative": 0,
                "previous_negative": 0})
            if current:
                entry["mentions"] += 1
                entry["negative"] += negative
            else:
                entry["previous_negative"] += negative
    out = []
    for entry in table.values():
        entry["negative_share"] = (round(100.0 * entry["negative"] / entry["mentions"], 1)
                                   if entry["mentions"] else None)
        entry["change"] = entry["negative"] - entry["previous_negative"]
        out.append(entry)
    return sorted(out, key=lambda e: (-e["negative"], -e["change"], e["slice"]))


def negative_series(rows: Iterable[BrandMention], filters: Filters,
                    keys: Iterable[str]) -> list[dict]:
    """Negative mentions per day of the period for the given slices: ``{day, slice,
    negative}``, zero days included."""
    wanted = set(keys)
    counts: Counter = Counter()
    for m in rows:
        if not filters.contains(m.published_at):
            continue
        for piece, negative in slices_of(m):
            if negative and piece.key in wanted:
                counts[(day_of(m.published_at), piece.key)] += 1
    days = [(filters.start + timedelta(days=i)).isoformat() for i in range(filters.days)]
    return [{"day": day, "slice": key, "negative": counts[(day, key)]}
            for key in sorted(wanted) for day in days]


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


def alert_title(alert: dict, names: dict[str, str] | None = None) -> str:
    """``Volna · Volna home internet · Billing`` (names of brand, product, touchpoint)."""
    names = names or {}
    parts = [alert.get("brand"), alert.get("product"), alert.get("touchpoint")]
    return " · ".join(names.get(p, p) for p in parts if p)


# --- lookups ------------------------------------------------------------------------------

def by_mention(rows: Iterable[BrandMention]) -> dict[str, list[BrandMention]]:
    """Rows grouped by mention id (a mention naming two brands has two rows)."""
    out: dict[str, list[BrandMention]] = defaultdict(list)
    for m in rows:
        out[m.mention_id].append(m)
    return dict(out)


def newest_posts(rows: Iterable[BrandMention], *, product: str | None = None,
                 touchpoint: str | None = None, sentiment: str | None = None,
                 limit: int = 50) -> tuple[list[BrandMention], int]:
    """Distinct posts matching the page filters, newest first, with how many matched."""
    chosen: dict[str, BrandMention] = {}
    for m in rows:
        if product and m.product != product:
            continue
        if touchpoint and touchpoint not in dict(m.touchpoints):
            continue
        if sentiment and (m.sentiment or "untagged") != sentiment:
            continue
        chosen.setdefault(m.mention_id, m)
    ordered = sorted(chosen.values(), key=lambda m: (m.published_at, m.mention_id), reverse=True)
    return ordered[:limit], len(ordered)


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
