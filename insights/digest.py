"""The weekly digest: what changed in one ISO week, as sections of lines, each line linking to
the dashboard view behind it. Pure: the facts come in (``insights.digest_facts`` reads them),
sections go out (``insights.digest_render`` writes Markdown and e-mail HTML).

Sections: incidents opened, grown and ended; complaint themes that grew most and new ones;
touchpoints whose negative share moved most against the week before; customers at risk not
yet contacted; advocates who appeared.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

DEFAULT_BASE_URL = "http://localhost:8501"
TOP = 5  # lines per section before "… and N more"
MIN_MENTIONS = 5  # a touchpoint's share is compared when both weeks have this many mentions
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Week:
    """An ISO week, Monday to Sunday (UTC)."""

    monday: date

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def previous(self) -> Week:
        return Week(self.monday - timedelta(days=7))

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, datetime.min.time(), UTC)

    @property
    def end(self) -> datetime:
        """The Monday after, 00:00 UTC (exclusive)."""
        return self.start + timedelta(days=7)

    def contains(self, moment: str | None) -> bool:
        """Whether an ISO time or day falls in the week."""
        return bool(moment) and self.monday.isoformat() <= moment[:10] <= self.sunday.isoformat()

    def describe(self) -> str:
        return f"{self.label} ({self.monday:%d %b} – {self.sunday:%d %b %Y})"


def parse_week(text: str | None, today: date | None = None) -> Week:
    """``YYYY-Www`` (``2026-W46``), or a date (``YYYY-MM-DD``: its week); default: the last
    full week before ``today``'s (UTC today by default). Raises ValueError naming the value
    and the forms."""
    if not text:
        today = today or datetime.now(UTC).date()
        return Week(today - timedelta(days=today.weekday() + 7))
    text = text.strip()
    if match := _WEEK.match(text):
        try:
            return Week(date.fromisocalendar(int(match[1]), int(match[2]), 1))
        except ValueError:
            pass
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        if day:
            return Week(day - timedelta(days=day.weekday()))
    raise ValueError(f"week {text!r} is neither an ISO week (YYYY-Www, e.g. 2026-W46) nor a "
                     "date (YYYY-MM-DD)")


@dataclass(frozen=True)
class DigestLine:
    text: str
    link: str


@dataclass(frozen=True)
class DigestSection:
    title: str
    lines: tuple[DigestLine, ...]
    none: str  # what an empty section says


@dataclass(frozen=True)
class Digest:
    week: Week
    sections: tuple[DigestSection, ...]
    link: str  # the digest page of the dashboard

    @property
    def empty(self) -> bool:
        return not any(section.lines for section in self.sections)


@dataclass
class DigestFacts:
    """What the digest is made of, read from the store for the week and the one before.

    ``incidents``: incidents under way in the week (``queries.incidents_between``);
    ``clusters``: complaint clusters (``queries.complaint_clusters``) and ``cluster_days``
    their members per day; ``touchpoint_days``: ``(day, touchpoint) → (mentions,
    negative)`` of own brands over both weeks; ``at_risk``: the at-risk queue of the week
    (``insights.report.at_risk`` rows); ``advocates``: scored advocates with ``first_post``.
    """

    incidents: list[dict] = field(default_factory=list)
    clusters: list[dict] = field(default_factory=list)
    cluster_days: Mapping[str, Counter] = field(default_factory=dict)
    touchpoint_days: Mapping[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    at_risk: list[dict] = field(default_factory=list)
    advocates: list[dict] = field(default_factory=list)


class _Links:
    """Deep links into the dashboard: ``{base}/{page}?{filters of the week, page params}``."""

    def __init__(self, base_url: str, week: Week):
        self.base = base_url.rstrip("/")
        self.period = {"from": week.monday.isoformat(), "to": week.sunday.isoformat()}
        self.both = {"from": week.previous.monday.isoformat(), "to": week.sunday.isoformat()}

    def __call__(self, page: str, params: dict | None = None, two_weeks: bool = False) -> str:
        query = {**(self.both if two_weeks else self.period), **(params or {})}
        return f"{self.base}/{page}?{urlencode({k: v for k, v in query.items() if v})}"


def build_digest(week: Week, facts: DigestFacts, base_url: str = DEFAULT_BASE_URL,
                 names: Mapping[str, str] | None = None) -> Digest:
    """The digest of ``week`` from ``facts``; ``names``: display names of catalogue ids."""
    links, names = _Links(base_url, week), names or {}
    opened, grown, ended = _incidents(week, facts.incidents, links, names)
    grew, new = _themes(week, facts.clusters, facts.cluster_days, links)
    sections = (
        DigestSection("Incidents opened", opened, "No incident opened this week."),
        DigestSection("Incidents that grew", grown, "No earlier incident grew this week."),
        DigestSection("Incidents ended", ended, "No earlier incident ended this week."),
        DigestSection("Complaint themes that grew most", grew,
                      "No complaint theme grew against the week before."),
        DigestSection("New complaint themes", new, "No new complaint theme this week."),
        DigestSection("Touchpoints whose negative share moved most",
                      _touchpoints(week, facts.touchpoint_days, links, names),
                      "No touchpoint had enough mentions in both weeks to compare."),
        DigestSection("Customers at risk not yet contacted",
                      _at_risk(week, facts.at_risk, links, names),
                      "Nobody at risk this week is waiting for contact."),
        DigestSection("Advocates who appeared", _advocates(week, facts.advocates, links, names),
                      "No new advocate this week."),
    )
    return Digest(week, sections, f"{links.base}/digest?{urlencode({'week': week.label})}")


def _name(names: Mapping[str, str], key: str | None) -> str:
    return names.get(key, key) if key else ""


def _capped(lines: list[DigestLine], more_link: str) -> tuple[DigestLine, ...]:
    if len(lines) <= TOP:
        return tuple(lines)
    return (*lines[:TOP], DigestLine(f"… and {len(lines) - TOP} more", more_link))


def _incidents(week, incidents, links, names):
    opened, grown, ended = [], [], []
    for incident in sorted(incidents, key=lambda i: (-i["posts"], i["id"])):
        this_week = sum(n for at, n in incident["course"] if week.contains(at))
        where = " · ".join(p for p in (
            _name(names, incident["brand"]),
            _name(names, incident["touchpoints"][0]["touchpoint"])
            if incident["touchpoints"] else "") if p)
        touchpoints = ", ".join(f"{_name(names, t['touchpoint'])} {t['posts']}"
                                for t in incident["touchpoints"][:3])
        words = ", ".join(t["term"] for t in incident["terms"][:4])
        detail = (f"{incident['posts']} negative posts"
                  + (f" ({touchpoints})" if touchpoints else "")
                  + (f"; words: {words}" if words else ""))
        link = links("trends", {"brand": incident["brand"], "incident": incident["id"]})
        over = incident["state"] == "ended"
        if week.contains(incident["started_at"]):
            state = f", over {incident['last_seen_at'][:10]}" if over else ", ongoing"
            opened.append(DigestLine(
                f"{where}: since {incident['started_at'][:16].replace('T', ' ')}{state}; "
                f"{detail}", link))
        elif over and week.contains(incident["last_seen_at"]):
            ended.append(DigestLine(
                f"{where}: over {incident['last_seen_at'][:10]}, began "
                f"{incident['started_at'][:10]}; {detail}", link))
        elif this_week:
            grown.append(DigestLine(
                f"{where}: +{this_week} posts this week, began {incident['started_at'][:10]}; "
                f"{detail}", link))
    more = links("trends")
    return _capped(opened, more), _capped(grown, more), _capped(ended, more)


def _themes(week, clusters, cluster_days, links):
    grew, new = [], []
    for cluster in clusters:
        days = cluster_days.get(cluster["id"], Counter())
        now = sum(n for day, n in days.items() if week.contains(day))
        before = sum(n for day, n in days.items() if week.previous.contains(day))
        earlier = sum(n for day, n in days.items() if day < week.monday.isoformat())
        if not now:
            continue
        label = cluster.get("label") or cluster["id"]
        link = links("complaints", {"cluster": cluster["id"]})
        if not earlier:
            new.append((now, DigestLine(f"{label}: {now} posts", link)))
        elif now > before:
            grew.append((now - before, DigestLine(
                f"{label}: {now} posts, {before} the week before (+{now - before})", link)))
    more = links("complaints")
    return (_capped([line for _, line in sorted(grew, key=lambda g: -g[0])], more),
            _capped([line for _, line in sorted(new, key=lambda g: -g[0])], more))


def _touchpoints(week, touchpoint_days, links, names):
    sums: dict[str, list[int]] = {}
    for (day, touchpoint), (mentions, negative) in touchpoint_days.items():
        if not touchpoint:
            continue
        slot = 0 if week.contains(day) else 2 if week.previous.contains(day) else None
        if slot is None:
            continue
        counts = sums.setdefault(touchpoint, [0, 0, 0, 0])
        counts[slot] += mentions
        counts[slot + 1] += negative
    moved = []
    for touchpoint, (mentions, negative, before, before_negative) in sums.items():
        if mentions < MIN_MENTIONS or before < MIN_MENTIONS:
            continue
        share, earlier = negative / mentions, before_negative / before
        moved.append((abs(share - earlier), DigestLine(
            f"{_name(names, touchpoint)}: {share:.0%} negative, {earlier:.0%} the week before "
            f"({100 * (share - earlier):+.0f} points; {mentions} mentions)",
            links("journey", two_weeks=True))))
    moved.sort(key=lambda m: -m[0])
    return tuple(line for _, line in moved[:TOP])


def _at_risk(week, queue, links, names):
    waiting = [row for row in queue if row.get("status", "new") == "new"
               and week.contains(row.get("last_at"))]
    lines = []
    for row in sorted(waiting, key=lambda r: -r.get("priority", 0)):
        leaving = ""
        if row.get("churn"):
            leaving = f"; leaving for {_name(names, row.get('churn_target')) or 'another brand'}"
        touchpoints = ", ".join(_name(names, t) for t in row.get("touchpoints") or [])
        lines.append(DigestLine(
            f"{row.get('handle') or row['author_id']} ({row.get('source') or '?'}): "
            f"{row['negatives']} negative post(s) about {_name(names, row['brand'])}"
            + (f" at {touchpoints}" if touchpoints else "") + leaving
            + ("" if row.get("answered") else "; nobody answered"),
            links("at-risk", {"status": "new"})))
    return _capped(lines, links("at-risk", {"status": "new"}))


def _advocates(week, advocates, links, names):
    lines = [DigestLine(
        f"{row.get('handle') or row['author_id']} ({row.get('source') or '?'}): score "
        f"{row['score']:.0f} for {_name(names, row['brand'])}, first post "
        f"{row['first_post'][:10]}", links("advocates", {"brand": row["brand"]}))
        for row in sorted(advocates, key=lambda r: -r["score"])
        if row["score"] > 0 and week.contains(row.get("first_post"))]
    return _capped(lines, links("advocates"))
