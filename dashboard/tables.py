"""Tables the action pages show (advocates, NPS classes, questions, crawl status, complaint
clusters) and rows ready for export. Pure: no streamlit, no SQL."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime

from dashboard.aggregates import Totals, alert_terms, author_stance, week_of
from dashboard.filters import Filters
from insights.nps import classify

# --- advocates and NPS --------------------------------------------------------------------

def author_languages(totals: Totals) -> dict[str, str]:
    """Each author's most frequent language, from ``author_days`` totals keyed
    ``(author_id, language)``."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for (author, language), sums in totals.items():
        if language:
            counts[author][language] += sums[0]
    return {author: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            for author, c in counts.items()}


def advocate_table(advocates: Iterable[dict], *, source: str | None = None,
                   language: str | None = None, min_mentions: int = 0,
                   languages: dict[str, str] | None = None) -> list[dict]:
    """Advocates passing the filters, best first, score components as columns."""
    out = []
    for row in advocates:
        if source and row.get("source") != source:
            continue
        author_language = (languages or {}).get(row["author_id"])
        if language and author_language != language:
            continue
        if (row.get("mentions") or 0) < min_mentions:
            continue
        flat = {key: row.get(key) for key in ("author_id", "handle", "name", "source", "brand",
                                              "score", "mentions", "last_seen", "profile_url")}
        flat["language"] = author_language
        for name, value in sorted((row.get("components") or {}).items()):
            flat[name] = round(value, 1) if isinstance(value, float) else value
        out.append(flat)
    return sorted(out, key=lambda r: (-(r["score"] or 0), r["handle"] or ""))


def nps_classes(totals: Totals, brands: Iterable[str]) -> list[dict]:
    """Each author's NPS class per brand, from ``author_days`` totals keyed ``(brand,
    author_id)``: ``{author_id, brand, class, posts, positive, negative, recommended,
    churned}``, detractors first."""
    out = []
    for brand in brands:
        for (of, author), sums in sorted(totals.items()):
            if of != brand:
                continue
            stance = author_stance(author, brand, sums)
            out.append({"author_id": author, "brand": brand, "class": classify(stance),
                        "posts": sums[0], "positive": sums[1], "negative": sums[2],
                        "recommended": stance.recommended, "churned": stance.churned})
    order = {"detractor": 0, "passive": 1, "promoter": 2}
    return sorted(out, key=lambda r: (order[r["class"]], -r["posts"], r["author_id"]))


# --- customers at risk, questions, sources -------------------------------------------------

def flatten_for_export(rows: Iterable[dict]) -> list[dict]:
    """Rows whose list and dict cells are readable text, as ``insights.exports`` writes
    them (posts of an at-risk entry: one ``time url`` line each)."""
    out = []
    for row in rows:
        flat = {}
        for key, value in row.items():
            if key == "posts" and isinstance(value, list):
                value = "\n".join(f"{p.get('published_at')} {p.get('url')}" for p in value)
            elif isinstance(value, list):
                value = ", ".join(map(str, value))
            elif isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
            flat[key] = value
        out.append(flat)
    return out


def question_rows(questions: Iterable[dict], filters: Filters, sources: dict[str, str],
                  slow_hours: float) -> list[dict]:
    """Questions asked in the period (and source): ``status`` is unanswered, slow (first
    answer after ``slow_hours``) or answered; hours waited so far for unanswered ones."""
    now = filters.now
    out = []
    for q in questions:
        if not filters.contains(q["asked_at"]):
            continue
        source = sources.get(q["mention_id"])
        if filters.source and source != filters.source:
            continue
        hours = q.get("hours_to_answer")
        if q.get("answered_at") is None:
            status = "unanswered"
            waited = (now - datetime.fromisoformat(q["asked_at"])).total_seconds() / 3600
            hours = round(max(0.0, waited), 1)
        elif hours is not None and hours > slow_hours:
            status = "slow"
        else:
            status = "answered"
        out.append({**q, "status": status, "hours": hours, "source": source})
    order = {"unanswered": 0, "slow": 1, "answered": 2}
    return sorted(out, key=lambda r: (order[r["status"]], -(r["hours"] or 0)))


ERROR_KEYS = ("log_count/ERROR", "otklik/dropped/invalid")


def source_rows(runs: Iterable[dict], mention_counts: Iterable[tuple[str, int]]) -> list[dict]:
    """Crawl status per source: last run, outcome, counts, errors and health flags; sources
    with stored mentions but no recorded run are listed too."""
    counts = dict(mention_counts)
    out = []
    for run in runs:
        stats = {k.removeprefix("otklik/"): v for k, v in run["stats"].items()}
        raw = run["stats"]
        http_errors = sum(v for k, v in raw.items()
                          if k.startswith("downloader/response_status_count/")
                          and k.rsplit("/", 1)[-1][:1] in ("4", "5"))
        out.append({
            "source": run["source"],
            "status": run["status"],
            "last crawl": run["finished_at"] or run["started_at"],
            "stored mentions": counts.pop(run["source"], 0),
            "new": stats.get("stored/inserted", 0),
            "edited": stats.get("stored/updated", 0),
            "skipped": sum(v for k, v in stats.items() if k.startswith(("skipped/", "dropped/"))),
            "errors": sum(raw.get(k, 0) for k in ERROR_KEYS) + http_errors,
            "flags": ", ".join(run["flags"]) or "ok",
            "layout changed": "layout changed" in run["flags"],
        })
    for source, stored in sorted(counts.items()):
        out.append({"source": source, "status": "no crawl recorded", "last crawl": None,
                    "stored mentions": stored, "new": 0, "edited": 0, "skipped": 0,
                    "errors": 0, "flags": "ok", "layout changed": False})
    return out


def cluster_rows(clusters: Iterable[dict], days: dict[str, Counter],
                 filters: Filters) -> list[dict]:
    """Each complaint theme or cluster with its title, its theme (``parent_id``; ``None`` for
    a theme), size, members in the period, weekly trend (members per week, the last 12 weeks
    with any), and the languages, products and touchpoints of its members as the clustering
    stage counted them; largest first. ``title`` falls back to the label (key phrases)."""
    out = []
    for cluster in clusters:
        members = days.get(cluster["id"], Counter())
        weeks: Counter = Counter()
        for day, count in members.items():
            weeks[week_of(day)] += count
        details = cluster.get("details") or {}
        out.append({
            "id": cluster["id"], "label": cluster.get("label") or cluster["id"],
            "title": cluster.get("title") or cluster.get("label") or cluster["id"],
            "parent_id": cluster.get("parent_id"),
            "size": cluster.get("size") or sum(members.values()),
            "in_period": sum(count for day, count in members.items() if filters.contains(day)),
            "trend": [weeks[week] for week in sorted(weeks)[-12:]],
            "languages": _ranked(details.get("languages")),
            "products": _ranked(details.get("products"), 3),
            "touchpoints": _ranked(details.get("touchpoints"), 3),
            "terms": ", ".join(alert_terms(cluster.get("terms") or [])),
        })
    return sorted(out, key=lambda r: (-r["size"], r["label"]))


def _ranked(counted: list | None, limit: int | None = None) -> str:
    """``"a, b"`` from ``[[value, count], …]`` (most first), at most ``limit`` values."""
    return ", ".join(str(value) for value, _ in (counted or [])[:limit])
