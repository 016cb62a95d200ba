"""Dashboard speed on a large store: what each page reads and computes, cold (a fresh
process, as after a restart or when the 5-minute cache has expired) and warm (the same
process again), and what a cached rerun costs (``st.cache_data`` hit: unpickling).

    nice -n 10 .venv/bin/python bench/dashboard.py generate --db /tmp/otklik-bench/1m.db
    nice -n 10 .venv/bin/python bench/dashboard.py run --db /tmp/otklik-bench/1m.db
    nice -n 10 .venv/bin/python bench/dashboard.py refresh --db /tmp/otklik-bench/1m.db

``generate`` writes a year of synthetic tagged mentions (default 1,000,000) in bulk with
``executemany`` on the store's own schema (opened and migrated by ``store.open_db``): ru / uk /
en texts naming Volna and Telenova, their products and journey touchpoints, with hits and
offsets, tags with evidence, the trigram full-text index, 8 sources, Zipf-distributed
authors, threads with questions and answers, cross-posted copies, alerts, advocate scores,
risk statuses, corrections, complaint clusters and crawl runs; then it stores the daily
roll-ups as ``otklik analyze`` does. A few minutes.

``run`` times every page through the functions the page's cached ``load`` calls
(``dashboard.views``), with the default filters (the last 28 days, compared with the 28
before) and with a language filter, each run in its own fresh process, ``--repeat`` times;
it prints the medians. ``refresh`` times storing the roll-ups again after the last two days
changed, and with ``--full`` after every day changed. Goal: every page under 1.5 s cold on
2 cores.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import store  # noqa: E402
from insights import daily  # noqa: E402
from store.identity import author_id, fold_for_search, mention_id  # noqa: E402
from store.rollups import stale_days  # noqa: E402

END = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
DAYS = 365
GOAL_S = 1.5
BATCH = 20_000
SOURCES = [("forum-volna", "forum", 0.28), ("reviews-otzovik", "reviews", 0.12),
           ("telegram-chat", "telegram", 0.2), ("vk-group", "vk", 0.15),
           ("reddit-telecom", "reddit", 0.08), ("news-rss", "rss", 0.05),
           ("discourse-help", "discourse", 0.1), ("hackernews", "hackernews", 0.02)]
LANGUAGES = [("ru", 0.55), ("uk", 0.25), ("en", 0.2)]
SENTIMENTS = [("negative", 0.38), ("neutral", 0.32), ("positive", 0.3)]
BRAND_ALIASES = {
    "volna": {"ru": ["Волна", "Волны", "Волной"], "uk": ["Волна", "Волни"],
              "en": ["Volna", "Volna Telecom"]},
    "telenova": {"ru": ["Теленова", "Теленовы"], "uk": ["Теленова"], "en": ["Telenova"]},
}
PRODUCTS = {
    "volna": [("volna-mobile", "Volna Smart"), ("volna-home", "Volna Home"),
              ("volna-tv", "Volna TV"), ("volna-app", "Моя Волна")],
    "telenova": [("telenova-mobile", "Telenova Go"), ("telenova-home", "Telenova Fiber")],
}
TOUCHPOINTS = {  # id: (weight, ru, uk, en cue phrases)
    "billing": (0.22, "списали деньги", "списали гроші", "charged twice"),
    "network": (0.18, "нет сети", "немає мережі", "no signal"),
    "support": (0.16, "поддержка не отвечает", "підтримка не відповідає", "support never answers"),
    "onboarding": (0.1, "не смог подключить", "не зміг підключити", "setup failed"),
    "digital": (0.1, "приложение виснет", "застосунок зависає", "the app crashes"),
    "purchase": (0.07, "оформил тариф", "оформив тариф", "ordered a plan"),
    "churn": (0.06, "ухожу к другому оператору", "йду до іншого оператора", "switching carrier"),
    "stores": (0.04, "в салоне нагрубили", "у салоні нагрубили", "rude staff in the store"),
    "awareness": (0.04, "реклама везде", "реклама всюди", "saw an ad"),
    "delivery": (0.03, "курьер опоздал", "кур'єр запізнився", "the courier was late"),
}
MOOD = {
    "negative": {"ru": ["ужас, верните деньги.", "сколько можно терпеть.", "очень плохо."],
                 "uk": ["жах, поверніть гроші.", "скільки можна терпіти.", "дуже погано."],
                 "en": ["awful, refund me.", "this is unacceptable.", "really bad."]},
    "neutral": {"ru": ["подскажите, как быть?", "кто сталкивался?", "обычная ситуация."],
                "uk": ["підкажіть, що робити?", "хто стикався?", "звичайна ситуація."],
                "en": ["any advice?", "has anyone seen this?", "just wondering."]},
    "positive": {"ru": ["спасибо, всё отлично!", "рекомендую всем.", "доволен."],
                 "uk": ["дякую, все чудово!", "рекомендую всім.", "задоволений."],
                 "en": ["thanks, works great!", "I recommend it.", "very happy."]},
}
FILLER = {"ru": "Пишу уже не первый раз", "uk": "Пишу вже не вперше", "en": "Writing again"}


def _pick(rng: random.Random, weighted):
    return rng.choices([item[0] for item in weighted], [item[-1] for item in weighted])[0]


@dataclass
class Row:
    n: int
    source: str
    handle: str
    thread: int
    when: datetime
    language: str
    stance: str
    text: str
    hits: list


def _mention(rng: random.Random, n: int, when: datetime, authors: int) -> Row:
    source = _pick(rng, SOURCES)
    language = _pick(rng, LANGUAGES)
    stance = _pick(rng, SENTIMENTS)
    roll = rng.random()
    brands = ["volna"] if roll < 0.6 else ["telenova"] if roll < 0.9 else ["volna", "telenova"]
    parts, hits, at = [], [], 0

    def add(piece: str, hit=None):
        nonlocal at
        if hit:
            hits.append((*hit, at, at + len(piece), piece))
        parts.append(piece)
        at += len(piece) + 1

    add(FILLER[language])
    for brand in brands:
        product = rng.random() < 0.5
        if product:
            key, alias = rng.choice(PRODUCTS[brand])
            add(alias, ("product", key, stance, {"brand": brand}))
        else:
            kind = "brand" if brand == "volna" else "competitor"
            add(rng.choice(BRAND_ALIASES[brand][language]), (kind, brand, stance, {}))
    count = rng.choices([0, 1, 2], [0.3, 0.5, 0.2])[0]
    weights = [(key, value[0]) for key, value in TOUCHPOINTS.items()]
    for touchpoint in {_pick(rng, weights) for _ in range(count)}:
        cue = TOUCHPOINTS[touchpoint][1 + ("ru", "uk", "en").index(language)]
        add(cue, ("touchpoint", touchpoint, stance, {}))
    mood = rng.choice(MOOD[stance][language])
    intent = None
    if stance == "neutral" and rng.random() < 0.18:
        intent = "question"
    elif stance == "positive" and rng.random() < 0.12:
        intent = "recommendation"
    elif stance == "negative" and rng.random() < 0.05:
        intent = "churn"
    add(mood, ("intent", intent, None, {"target": "telenova"} if intent == "churn" else {})
        if intent else None)
    add(f"#{n}")
    # Zipf-like authors (log-uniform rank): a few very active, a long tail
    handle = f"user{int(authors ** rng.random())}"
    thread = n // 6
    return Row(n, source, handle, thread, when, language, stance, " ".join(parts), hits)


def generate(path: Path, count: int, seed: int = 7) -> None:
    """Write the synthetic store (see the module docstring)."""
    from insights.advocates import AdvocateScore
    from store.insights import (
        replace_advocate_scores,
        replace_clusters,
        set_risk_status,
        upsert_alert,
    )

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise SystemExit(f"{path} exists; remove it first or use another --db")
    rng = random.Random(seed)
    started = time.perf_counter()
    db = store.open_db(path)
    conn = db.conn
    conn.execute("PRAGMA synchronous=OFF")
    now = store.utc_now()
    with db.atomic():
        conn.executemany("INSERT INTO sources (id, kind, url, title, created_at) "
                         "VALUES (?,?,?,?,?)",
                         [(s, kind, f"https://{s}.example.com", s, now) for s, kind, _ in SOURCES])
    authors_per_source = max(1000, count // 8)
    start = END - timedelta(days=DAYS)
    step = DAYS * 86400 / count
    seen_authors: set[str] = set()
    negatives: list[str] = []
    previous: list[str] = []
    for first in range(0, count, BATCH):
        mentions, fts, tags, hits, authors = [], [], [], [], []
        for n in range(first, min(count, first + BATCH)):
            when = start + timedelta(seconds=n * step + rng.random() * step)
            row = _mention(rng, n, when, authors_per_source)
            author = author_id(row.source, row.handle)
            if author not in seen_authors:
                seen_authors.add(author)
                authors.append((author, row.source, row.handle, None,
                                f"https://{row.source}.example.com/u/{row.handle}", now, now))
            url = f"https://{row.source}.example.com/t/{row.thread}#p{n}"
            mid = mention_id(row.source, url)
            digest = hashlib.md5(row.text.encode()).hexdigest()
            duplicate = rng.choice(previous) if previous and rng.random() < 0.02 else None
            published = row.when.isoformat(timespec="seconds")
            mentions.append((n + 1, mid, row.source, url, url, "post", str(row.thread), author,
                             published, published, row.text, row.language, 0 if rng.random()
                             < 0.5 else rng.randint(1, 40), rng.randint(0, 5),
                             rng.randint(0, 900), digest, duplicate))
            fts.append((n + 1, "", fold_for_search(row.text)))
            tags.append((mid, "language", row.language, 0.98, "lid", "bench", digest,
                         json.dumps({"why": ["script"]}), now))
            tags.append((mid, "sentiment", row.stance, 0.9, "sentiment", "bench", digest,
                         json.dumps({"sentences": [{"index": 0, "text": row.text,
                                                    "label": row.stance, "score": 0.9}]},
                                    ensure_ascii=False), now))
            for kind, key, stance, extra, begin, end, words in row.hits:
                hits.append((mid, kind, key, words, stance, 0.9, begin, end, words, "pattern",
                             "bench", 0, json.dumps(extra)))
            if row.stance == "negative" and rng.random() < 0.1:
                negatives.append(mid)
            if rng.random() < 0.05:
                previous = [*previous[-200:], mid]
        with db.atomic():
            conn.executemany("INSERT INTO authors VALUES (?,?,?,?,?,?,?)", authors)
            conn.executemany(
                """INSERT INTO mentions (seq, id, source_id, url, canonical_url, kind, thread_id,
                   author_id, published_at, fetched_at, text, language, likes, replies, views,
                   content_hash, duplicate_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                mentions)
            conn.executemany("INSERT INTO mentions_fts (rowid, title, text) VALUES (?,?,?)", fts)
            conn.executemany("INSERT INTO tags VALUES (?,?,?,?,?,?,?,?,?)", tags)
            conn.executemany(
                """INSERT INTO hits (mention_id, kind, key, label, sentiment, confidence, start,
                   end, evidence, method, model_version, sentence, extra)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""", hits)
        done = min(count, first + BATCH)
        print(f"\r{done:,} mentions, {time.perf_counter() - started:.0f} s", end="",
              file=sys.stderr, flush=True)
    print(file=sys.stderr)
    _insights(db, rng, negatives, AdvocateScore, replace_advocate_scores, replace_clusters,
              set_risk_status, upsert_alert)
    written = time.perf_counter() - started
    began = time.perf_counter()
    days = daily.refresh(db)
    db.close()
    print(f"generated {count:,} mentions in {written:.0f} s, daily roll-ups of {days} days "
          f"stored in {time.perf_counter() - began:.0f} s: {path} "
          f"({path.stat().st_size / 1e9:.2f} GB)")


def _insights(db, rng, negatives, AdvocateScore, replace_advocate_scores, replace_clusters,
              set_risk_status, upsert_alert) -> None:
    """Alerts, advocate scores, risk statuses, corrections, clusters and crawl runs."""
    for k in range(60):
        touchpoint = list(TOUCHPOINTS)[k % len(TOUCHPOINTS)]
        began = END - timedelta(days=rng.randint(0, 300))
        upsert_alert(db, f"volna/*/{touchpoint}", {
            "brand": "volna", "touchpoint": touchpoint, "started_at": began.isoformat(),
            "last_seen_at": (began + timedelta(days=2)).isoformat(), "magnitude": 3.0,
            "baseline": 2.0, "terms": [{"term": "роуминг", "score": 3.0, "incident_posts": 9,
                                        "baseline_posts": 1}],
            "example_ids": negatives[k * 5:k * 5 + 5], "ongoing": began > END - timedelta(3)})
    authors = [row[0] for row in db.execute(
        "SELECT author_id FROM mentions WHERE author_id IS NOT NULL GROUP BY author_id "
        "ORDER BY count(*) DESC LIMIT 2000")]
    replace_advocate_scores(db, "volna", [
        AdvocateScore(a, "volna", round(90 - i * 0.04, 2),
                      {"positive": 15.0, "recommendations": 10.0, "consistency": 8.0}, False)
        for i, a in enumerate(authors)])
    for author in authors[:300]:
        set_risk_status(db, author, rng.choice(["contacted", "resolved"]))
    for mention in negatives[:1000]:
        store.add_correction(db, mention, "sentiment", "neutral", "bench")
    members = negatives[1000:]
    size = max(1, len(members) // 30)
    groups = [members[k * size:(k + 1) * size] for k in range(30)]
    replace_clusters(db, [{
        "id": f"c{k:03d}", "label": f"complaint group {k}", "terms": [["роуминг", 0.4]],
        "size": len(group), "details": _cluster_details(db, group),
        "members": [(m, rng.random(), i < 3) for i, m in enumerate(group)]}
        for k, group in enumerate(groups)])
    for source, _, _ in SOURCES:
        run = store.start_run(db, source)
        store.finish_run(db, run, "finished", {"otklik/stored/inserted": 120,
                                               "log_count/ERROR": rng.randint(0, 3)},
                         ["layout changed"] if source == "vk-group" else [])


def _cluster_details(db, members: list[str]) -> dict:
    """What ``insights.complaints`` keeps with a cluster: its members' languages, and the
    products and touchpoints they name most."""
    ids = json.dumps(members)
    languages = db.execute(
        "SELECT coalesce(language, 'other'), count(*) FROM mentions "
        "WHERE id IN (SELECT value FROM json_each(?)) GROUP BY 1 ORDER BY 2 DESC", [ids])
    named = {kind: db.execute(
        "SELECT key, count(*) FROM hits WHERE kind = ? AND mention_id IN "
        "(SELECT value FROM json_each(?)) GROUP BY 1 ORDER BY 2 DESC LIMIT 5", [kind, ids])
        .fetchall() for kind in ("product", "touchpoint")}
    return {"languages": languages.fetchall(), "products": named["product"],
            "touchpoints": named["touchpoint"]}


# --- timing -----------------------------------------------------------------------------

def _page_loads():
    """Each page's first load, through the functions its cached ``load`` calls with the
    same arguments; the rows with a comma are what a page reads when a cell, a cluster or a
    search is chosen (from the URL or a click)."""
    from dashboard import data, views

    catalogue = data.read_catalogue()

    def summary(path):
        with store.open_db(path) as db:
            return data.store_summary(db, catalogue)

    def page(function, *args, **kwargs):
        def load(path, filters):
            with store.open_db(path) as db:
                return function(db, filters, *args, **kwargs)
        return load

    def journey_cell(path, filters):
        cells = page(views.journey, catalogue)(path, filters)["cells"]
        worst = max((c for c in cells if c["week"]), key=lambda c: c["negative"])
        return page(views.journey_posts, catalogue, None, worst["touchpoint"],
                    worst["week"])(path, filters)

    def advocates(path, filters):
        with store.open_db(path) as db:
            shown = views.advocates(db, filters, catalogue, 1)
            shown["export"] = views.advocate_export(db, shown["table"], catalogue, filters)
            return shown

    def cluster(path, filters):
        with store.open_db(path) as db:
            first = views.complaints(db, filters)[0]["id"]
            return views.cluster_posts(db, first)

    def sources(path, filters):
        with store.open_db(path) as db:
            return views.sources(db)

    return summary, {
        "Overview": page(views.overview, catalogue),
        "Customer journey": page(views.journey, catalogue),
        "Journey, a cell's posts": journey_cell,
        "Trends & alerts": page(views.trends, catalogue),
        "Customers at risk": page(views.at_risk, catalogue),
        "Complaints": page(views.complaints),
        "Complaints, a cluster": cluster,
        "Advocates": advocates,
        "Community questions": page(views.questions, catalogue),
        "Mentions": page(views.mentions),
        "Mentions, search": page(views.mentions, text="списали деньги"),
        "Mentions, touchpoint": page(views.mentions, touchpoint="delivery",
                                     sentiment="negative"),
        "Sources": sources,
    }


FILTER_SETS = {"default": {}, "lang uk": {"language": "uk"}}


def time_page(path: str, name: str, filter_set: str) -> dict:
    """In this (fresh) process: the sidebar summary, the page cold, again warm, and a
    ``st.cache_data`` hit."""
    import logging

    import streamlit as st

    from dashboard.filters import default_filters, with_changes

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    summary, pages = _page_loads()
    load = pages[name]
    began = time.perf_counter()
    choices = summary(path)["choices"]
    sidebar = time.perf_counter() - began
    filters = with_changes(default_filters(choices), **FILTER_SETS[filter_set])
    began = time.perf_counter()
    load(path, filters)
    cold = time.perf_counter() - began
    began = time.perf_counter()
    load(path, filters)
    warm = time.perf_counter() - began
    cached = st.cache_data(load)
    cached(path, filters)
    began = time.perf_counter()
    cached(path, filters)
    hit = time.perf_counter() - began
    return {"page": name, "filters": filter_set, "sidebar_s": sidebar, "cold_s": cold,
            "warm_s": warm, "cached_s": hit,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _mark_latest_days(db, days: int | None) -> None:
    """Mark the ``days`` latest days with roll-ups (every day: None) as changed, as a day's
    crawl and tagging (or a re-tag of everything) would."""
    latest = "" if days is None else f"LIMIT {int(days)}"
    with db.atomic():
        db.execute(f"""INSERT OR IGNORE INTO rollup_stale_days (day)
                       SELECT DISTINCT date(published_at) FROM mentions
                       WHERE published_at >= (SELECT coalesce(min(day), '0000') FROM (
                           SELECT day FROM brand_days GROUP BY day ORDER BY day DESC
                           {latest}) latest)""")


def run(path: Path | str, only: list[str] | None, repeat: int = 3, timeout: int = 300,
        stale: int = 0) -> None:
    """Time every page ``repeat`` times each with each filter set, a fresh process per run
    (pages interleaved, so a background load spreads over all); print the medians. With
    ``stale``, the latest days are first marked changed (computed on the fly by the pages)
    and stored again at the end."""
    if not isinstance(path, str) and not path.exists():
        raise SystemExit(f"no database at {path}; run `generate` first")
    _, pages = _page_loads()
    with store.open_db(path) as db:
        count = store.count_mentions(db)
        size = (db.execute("SELECT pg_database_size(current_database())").fetchone()[0]
                if isinstance(path, str) else path.stat().st_size)
        if stale:
            _mark_latest_days(db, stale)
        changed = len(stale_days(db))
    names = [name for name in pages if not only or name in only]
    runs: dict[tuple[str, str], list[dict]] = {}
    for attempt in range(repeat):
        for name in names:
            for filter_set in FILTER_SETS:
                command = [sys.executable, __file__, "page", name, "--db", str(path),
                           "--filters", filter_set]
                try:
                    output = subprocess.run(command, capture_output=True, text=True,
                                            timeout=timeout)
                except subprocess.TimeoutExpired:
                    raise SystemExit(f"{name} ({filter_set}) took over {timeout} s") from None
                if output.returncode:
                    raise SystemExit(f"{name} failed:\n{output.stderr[-3000:]}")
                result = json.loads(output.stdout.strip().splitlines()[-1])
                runs.setdefault((name, filter_set), []).append(result)
                print(f"run {attempt + 1}/{repeat} {name} ({filter_set}): "
                      f"{result['cold_s']:.2f} s cold", file=sys.stderr)
    print(f"\nDashboard pages on {count:,} mentions ({size / 1e9:.2f} GB, {db.dialect}, "
          f"{changed} days changed since their roll-ups were stored), {os.cpu_count()} cores; "
          f"last 28 days + 28 before; "
          f"median of {repeat} runs, each in a fresh process")
    print(f"{'page':<26} {'filters':<8} {'cold s':>7} {'(min–max)':>12} {'warm s':>7} "
          f"{'cached s':>8} {'sidebar s':>9} {'peak MB':>7}  goal {GOAL_S} s cold + sidebar")
    for (name, filter_set), results in runs.items():
        def median(key, results=results):
            return statistics.median(r[key] for r in results)
        colds = [r["cold_s"] for r in results]
        verdict = "ok" if median("cold_s") + median("sidebar_s") < GOAL_S else "SLOW"
        print(f"{name:<26} {filter_set:<8} {median('cold_s'):>7.2f} "
              f"{f'{min(colds):.2f}–{max(colds):.2f}':>12} {median('warm_s'):>7.2f} "
              f"{median('cached_s'):>8.3f} {median('sidebar_s'):>9.2f} "
              f"{median('peak_rss_mb'):>7.0f}  {verdict}")
    print("cold: first call in a fresh process (database cache empty, OS file cache as it is); "
          "warm: second call; cached: st.cache_data hit; sidebar: the filters' choices, "
          "read once per session and cached.")
    if stale:
        with store.open_db(path) as db:
            daily.refresh(db)


def refresh(path: Path | str, full: bool) -> None:
    """Time storing the roll-ups again after the last two days changed (as after a day's
    crawl and tagging), or after every day changed (``--full``: a re-tag of everything)."""
    with store.open_db(path) as db:
        _mark_latest_days(db, None if full else 2)
        began = time.perf_counter()
        days = daily.refresh(db)
        took = time.perf_counter() - began
    print(f"stored the roll-ups of {days} day(s) in {took:.1f} s "
          f"({took / max(days, 1):.2f} s a day, statistics included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="write the synthetic store")
    make.add_argument("--db", type=Path, required=True)
    make.add_argument("--mentions", type=int, default=1_000_000)
    make.add_argument("--seed", type=int, default=7)
    timing = commands.add_parser("run", help="time every page, print the table")
    timing.add_argument("--db", type=store.store_target, required=True,
                        help="a SQLite file or a postgresql:// URL")
    timing.add_argument("--page", action="append", help="only this page (repeatable)")
    timing.add_argument("--repeat", type=int, default=3, help="runs per page and filters")
    timing.add_argument("--timeout", type=int, default=300,
                        help="give up when one run takes longer (seconds)")
    timing.add_argument("--stale", type=int, default=0,
                        help="first mark this many latest days changed since the last "
                             "refresh (stored again at the end)")
    again = commands.add_parser("refresh", help="time storing the roll-ups of changed days")
    again.add_argument("--db", type=store.store_target, required=True)
    again.add_argument("--full", action="store_true", help="every day changed")
    one = commands.add_parser("page", help="(internal) time one page in this process")
    one.add_argument("name")
    one.add_argument("--db", type=store.store_target, required=True)
    one.add_argument("--filters", choices=FILTER_SETS, default="default")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.db, args.mentions, args.seed)
    elif args.command == "refresh":
        refresh(args.db, args.full)
    elif args.command == "run":
        run(args.db, args.page, args.repeat, args.timeout, args.stale)
    else:
        print(json.dumps(time_page(str(args.db), args.name, args.filters)))


if __name__ == "__main__":
    main()
