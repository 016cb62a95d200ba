"""Incidents: the alerts one event raised, grouped, and what the group says as a whole.

One event about a brand raises alerts on many slices at once (the brand, a product, each
touchpoint its posts name, product x touchpoint), each with nearly the same posts and words.
Alerts of one brand whose windows overlap are one incident when their posts agree (most of
the smaller side's posts are shared) or their distinctive words do. Each alert joins one
group only, the one it shares most posts with, and the slices an event is most about start
the groups: the brand's alert, or a touchpoint every complaint names (the app), holds the
posts of two events of one week but does not join them into one.

The incident's touchpoints are ranked by how far its posts lean to each against the brand's
negatives of the weeks before (share x log(share / baseline share), a term of the
Kullback-Leibler divergence), so the touchpoint the event is about comes first, not the one
every complaint mentions. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from insights.alert_terms import distinctive_terms
from insights.mention_facts import BrandMention

POST_AGREEMENT = 0.5  # share of the smaller alert's posts in the other
SHARED_TERMS = 3  # distinctive words two alerts must share (of their top TOP_TERMS)
TOP_TERMS = 8
SLACK = timedelta(hours=12)  # windows this close count as overlapping
BASELINE_DAYS = 28
EXAMPLES = 5
HOURLY_COURSE_DAYS = 3  # an incident shorter than this is followed hour by hour


@dataclass(frozen=True)
class AlertSlice:
    """An alert as the grouping sees it: its slice, window, size and posts."""

    alert_id: int
    brand: str
    product: str | None
    touchpoint: str | None
    started_at: datetime
    last_seen_at: datetime
    period: str
    observed: float
    expected: float
    ongoing: bool
    posts: frozenset[str]
    terms: tuple[str, ...] = ()

    @property
    def end(self) -> datetime:
        """The end of the alert's last period."""
        return self.last_seen_at + (timedelta(hours=1) if self.period == "hour"
                                    else timedelta(days=1))

    @property
    def key(self) -> str:
        return f"{self.brand}/{self.product or '*'}/{self.touchpoint or '*'}"


def group_alerts(alerts: Iterable[AlertSlice]) -> list[list[AlertSlice]]:
    """The alerts grouped into incidents, each group oldest alert first, groups by start.

    One pass, touchpoint slices first, then product × touchpoint, products, brands (within
    each, the largest excess first). The first alert of a group is its seed. An alert joins
    the group of its brand and time whose seed it shares most posts with, when it agrees with
    that seed (posts or words) or when most of its posts are in the seeds about then;
    otherwise it starts a group. Comparing with seeds, not with everything a group gathered,
    keeps a slice two events share (the app, support) from joining them into one.
    """
    groups: list[list[AlertSlice]] = []
    for alert in sorted(alerts, key=_order):
        home = _home(alert, groups)
        if home is None:
            groups.append([alert])
        else:
            home.append(alert)
    for group in groups:
        group.sort(key=lambda a: (a.started_at, a.alert_id))
    return sorted(groups, key=lambda g: (g[0].brand, g[0].started_at, g[0].alert_id))


def _order(alert: AlertSlice) -> tuple:
    level = (0 if not alert.product else 1) if alert.touchpoint else (2 if alert.product else 3)
    return (alert.brand, level, -alert.observed / max(alert.expected, 1e-9), alert.started_at,
            alert.alert_id)


def _overlap(a: AlertSlice, b: AlertSlice) -> bool:
    return a.brand == b.brand and a.started_at <= b.end + SLACK and b.started_at <= a.end + SLACK


def _terms_agree(a: AlertSlice, b: AlertSlice) -> bool:
    first, second = set(a.terms[:TOP_TERMS]), set(b.terms[:TOP_TERMS])
    shared = len(first & second)
    return shared >= SHARED_TERMS and shared >= POST_AGREEMENT * min(len(first), len(second))


def _home(alert: AlertSlice, groups: list[list[AlertSlice]]) -> list[AlertSlice] | None:
    """The group this alert joins, or None when it starts one (see ``group_alerts``)."""
    near = [group for group in groups if any(_overlap(alert, member) for member in group)]
    if not near:
        return None
    shared = [len(alert.posts & group[0].posts) for group in near]
    agreeing = [i for i, group in enumerate(near)
                if (shared[i] > 0 and shared[i] >= POST_AGREEMENT * min(
                    len(alert.posts), len(group[0].posts)))
                or _terms_agree(alert, group[0])]
    covered = len(alert.posts & frozenset().union(*(group[0].posts for group in near)))
    if agreeing:
        return near[max(agreeing, key=lambda i: (shared[i], -i))]
    if covered and covered >= POST_AGREEMENT * len(alert.posts):
        return near[max(range(len(near)), key=lambda i: (shared[i], -i))]
    return None


@dataclass(frozen=True)
class TouchpointShare:
    """A touchpoint of an incident: its negative posts, their share of the incident's, the
    share the touchpoint had of the brand's negatives before, and the ranking score."""

    touchpoint: str
    posts: int
    share: float
    baseline_share: float
    score: float


def rank_touchpoints(posts: list[BrandMention], baseline: list[BrandMention],
                     ) -> list[TouchpointShare]:
    """The incident's touchpoints, the one it is most about first.

    ``posts``: its negative posts; ``baseline``: the brand's negative posts of the weeks
    before. The baseline share is smoothed (half a post per touchpoint) so a touchpoint
    nobody complained about before does not score infinitely.
    """
    during = Counter(t for m in posts for t in _negative_touchpoints(m))
    before = Counter(t for m in baseline for t in _negative_touchpoints(m))
    kinds = len(set(during) | set(before)) or 1
    ranked = []
    for touchpoint, count in during.items():
        share = count / len(posts)
        base = (before[touchpoint] + 0.5) / (len(baseline) + 0.5 * kinds)
        ranked.append(TouchpointShare(touchpoint, count, round(share, 4), round(base, 4),
                                      round(share * math.log(share / base), 4)))
    return sorted(ranked, key=lambda t: (-t.score, -t.posts, t.touchpoint))


def _negative_touchpoints(m: BrandMention) -> set[str]:
    return {t for t, stance in m.touchpoints if stance == "negative"}


def describe_incident(group: list[AlertSlice], mentions: dict[str, BrandMention],
                      brand_mentions: list[BrandMention], exclude_words: Iterable[str] = (),
                      ) -> dict:
    """What an incident says as a whole (the fields ``store.incidents`` keeps).

    ``mentions``: the brand's rows by mention id (the alerts' posts are looked up there);
    ``brand_mentions``: every row of the brand, for the baseline before the incident.
    """
    brand = group[0].brand
    start = min(a.started_at for a in group)
    end = max(a.end for a in group)
    # the touchpoint slices hold the event's posts; brand- and product-wide slices hold
    # every negative of their window, so they count only where no touchpoint slice is
    specific = [a for a in group if a.touchpoint] or group
    ids = sorted(frozenset().union(*(a.posts for a in specific)))
    posts = [mentions[i] for i in ids if i in mentions]
    since = start - timedelta(days=BASELINE_DAYS)
    before = [m for m in brand_mentions if m.brand == brand and not m.duplicate
              and since <= _when(m) < start]
    touchpoints = rank_touchpoints(posts, [m for m in before if m.stance == "negative"])
    main = touchpoints[0].touchpoint if touchpoints else None
    products = Counter(m.product for m in posts if m.product)
    terms = distinctive_terms([m.text for m in posts], [m.text for m in before],
                              exclude=exclude_words)
    examples = sorted(posts, key=lambda m: (main not in _negative_touchpoints(m),
                                            -(m.likes + m.replies), m.published_at))
    period = "hour" if end - start <= timedelta(days=HOURLY_COURSE_DAYS) else "day"
    lead = next((a for a in group if a.touchpoint == main and not a.product),
                max(group, key=lambda a: a.observed))
    return {
        "brand": brand,
        "alert_ids": [a.alert_id for a in group],
        "started_at": _iso(start),
        "last_seen_at": _iso(max(a.last_seen_at for a in group)),
        "state": "open" if any(a.ongoing for a in group) else "ended",
        "posts": len(posts),
        "magnitude": round(lead.observed / max(lead.expected, 1e-9), 3),
        "period": period,
        "touchpoints": [asdict(t) for t in touchpoints],
        "products": [{"product": p, "posts": n} for p, n in products.most_common()],
        "terms": [asdict(term) for term in terms],
        "example_ids": [m.mention_id for m in examples[:EXAMPLES]],
        "course": course(posts, start, end, period),
    }


def course(posts: Iterable[BrandMention], start: datetime, end: datetime,
           period: str) -> list[list]:
    """``[[period start, posts], …]`` from ``start`` to ``end``, quiet periods included."""
    step = timedelta(hours=1) if period == "hour" else timedelta(days=1)
    origin = start.replace(minute=0, second=0, microsecond=0)
    if period == "day":
        origin = origin.replace(hour=0)
    slots = max(1, math.ceil((end - origin) / step))
    counts = [0] * slots
    for m in posts:
        slot = int((_when(m) - origin) / step)
        if 0 <= slot < slots:
            counts[slot] += 1
    return [[_iso(origin + i * step), n] for i, n in enumerate(counts)]


def _when(m: BrandMention) -> datetime:
    return datetime.fromisoformat(m.published_at)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
