"""Dashboard speed on a large store: the reads and computations behind each page, cold (a
fresh process, as after a restart or when the 5-minute cache has expired) and warm (the same
process again), and what a cached rerun costs (``st.cache_data`` hit: unpickling).

    nice -n 19 .venv/bin/python bench/dashboard.py generate --db /tmp/otklik-bench/1m.db
    nice -n 19 .venv/bin/python bench/dashboard.py run --db /tmp/otklik-bench/1m.db

``generate`` writes a year of synthetic tagged mentions (default 1,000,000) in bulk with
``executemany`` on the store's own schema (opened and migrated by ``store.open_db``): ru / uk /
en texts naming Volna and Telenova, their products and journey touchpoints, with hits and
offsets, tags with evidence, the trigram full-text index, 8 sources, Zipf-distributed
authors, threads with questions and answers, cross-posted copies, alerts, advocate scores,
risk statuses, corrections, complaint clusters and crawl runs. A few minutes.

``run`` times every page with the default filters (the last 28 days, compared with the 28
before), each page in its own fresh process, and prints a table. The Complaints and Mentions
rows use the read queries proposed for ``insights/queries.py`` (reference implementations in
``tests/test_app.py``). Goal: every page under 1.5 s cold on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import store  # noqa: E402
from store.identity import author_id, fold_for_search, mention_id  # noqa: E402

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
    db.close()
    print(f"generated {count:,} mentions in {time.perf_counter() - started:.0f} s: {path} "
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
    replace_clusters(db, [{
        "id": f"c{k:03d}", "label": f"complaint group {k}", "terms": [["роуминг", 0.4]],
        "size": len(members[k * size:(k + 1) * size]), "details": {},
        "members": [(m, rng.random(), i < 3)
                    for i, m in enumerate(members[k * size:(k + 1) * size])]}
        for k in range(30)])
    for source, _, _ in SOURCES:
        run = store.start_run(db, source)
        store.finish_run(db, run, "finished", {"otklik/stored/inserted": 120,
                                               "log_count/ERROR": rng.randint(0, 3)},
                         ["layout changed"] if source == "vk-group" else [])


# --- timing -----------------------------------------------------------------------------

def _page_loads():
    """Each page's reads and computations on first load with the default filters, through
    the same functions the page calls (its cached ``load``), plus the sidebar's summary."""
    from dashboard import data, views
    from dashboard.filters import default_filters, with_changes

    catalogue = data.read_catalogue()

    def context(path):
        with store.open_db(path) as db:
            info = data.store_summary(db, catalogue)
        return info, default_filters(info["choices"])

    def rows(path, filters, since=None):
        with store.open_db(path) as db:
            return data.mentions_since(db, since or filters.since())

    def language_of(path, needed):
        if data.has_language_field() or not needed:
            return data.language_getter(None)
        with store.open_db(path) as db:
            return data.language_getter(data.mention_languages(db))

    def overview(path, filters):
        loaded = rows(path, filters)
        with store.open_db(path) as db:
            return views.overview(db, loaded, filters, catalogue,
                                  language_of(path, bool(filters.language)))

    def overview_uk(path, filters):
        return overview(path, with_changes(filters, language="uk"))

    def journey(path, filters):
        return views.journey(rows(path, filters), filters, catalogue, language_of(path, False))

    def trends(path, filters):
        loaded = rows(path, filters)
        with store.open_db(path) as db:
            return views.trends(db, loaded, filters, catalogue, language_of(path, False))

    def at_risk(path, filters):
        since = min(filters.since(), (filters.now - timedelta(days=30)).isoformat())
        loaded = rows(path, filters, since)
        with store.open_db(path) as db:
            return views.at_risk(db, loaded, filters, catalogue)

    def complaints(path, filters):
        with store.open_db(path) as db:
            page = views.complaints(db, rows(path, filters), filters)
            if page["clusters"]:
                page["posts"] = views.cluster_posts(db, page["clusters"][0]["id"])
        return page

    def advocates(path, filters):
        loaded = rows(path, filters)
        with store.open_db(path) as db:
            page = views.advocates(db, loaded, filters, catalogue, language_of(path, False), 1)
            page["export"] = views.advocate_export(db, page["table"], catalogue, filters)
        return page

    def questions(path, filters):
        with store.open_db(path) as db:
            return views.questions(db, filters, catalogue)

    def mentions(path, filters):
        loaded = rows(path, filters)
        with store.open_db(path) as db:
            return views.mentions(db, loaded, filters, language_of(path, False))

    def mentions_search(path, filters):
        loaded = rows(path, filters)
        with store.open_db(path) as db:
            return views.mentions(db, loaded, filters, language_of(path, False),
                                  text="роуминг")

    def sources(path, filters):
        with store.open_db(path) as db:
            return views.sources(db)

    return context, {
        "Overview": overview, "Overview, language uk": overview_uk,
        "Customer journey": journey, "Trends & alerts": trends, "Customers at risk": at_risk,
        "Complaints": complaints, "Advocates": advocates, "Community questions": questions,
        "Mentions (browse)": mentions, "Mentions (search)": mentions_search,
        "Sources": sources}


# The changes the report proposes for files the dashboard does not own, to measure them:
PROPOSED_SQL = [
    "CREATE INDEX IF NOT EXISTS hits_mention_kind_key ON hits (mention_id, kind, key)",
    "ANALYZE",
]


def proposed_brand_mentions(db, since=None):
    """``insights.mention_facts.brand_mentions`` with its hits read only for the mentions
    of the window (today it reads every hit of the store)."""
    from insights.mention_facts import EFFECTIVE_SENTIMENT, _per_brand

    where = "WHERE m.published_at >= ?" if since else ""
    params = [since] if since else []
    rows = db.execute(
        f"""SELECT m.id, m.author_id, m.source_id,
                   m.source_id || ':' || coalesce(m.thread_id, m.id), m.published_at,
                   {EFFECTIVE_SENTIMENT}, coalesce(m.likes, 0), coalesce(m.replies, 0),
                   coalesce(m.views, 0), m.duplicate_of IS NOT NULL,
                   m.text LIKE '%http%' OR m.text LIKE '%www.%', m.url, m.text
            FROM mentions m {where} ORDER BY m.published_at, m.seq""", params).fetchall()
    hits: dict[str, list] = {}
    # CROSS JOIN keeps the window's mentions as the outer loop (a plain JOIN with ORDER BY
    # h.mention_id makes SQLite scan every hit in index order).
    for mention, kind, key, sentiment, extra in db.execute(
            f"""SELECT h.mention_id, h.kind, h.key, h.sentiment, h.extra
                FROM mentions m CROSS JOIN hits h ON h.mention_id = m.id {where}
                ORDER BY m.published_at, m.seq, h.start, h.id"""
            if since else """SELECT h.mention_id, h.kind, h.key, h.sentiment, h.extra FROM hits h
                             ORDER BY h.mention_id, h.start, h.id""", params):
        hits.setdefault(mention, []).append((kind, key, sentiment, extra))
    return [item for row in rows for item in _per_brand(row, hits.get(row[0], []))]


def proposed_thread_posts(db, since=None):
    """``insights.questions.thread_posts`` for the posts published since ``since``."""
    from insights.questions import ThreadPost

    where, params = ("AND m.published_at >= ?", [since]) if since else ("", [])
    rows = db.execute(
        f"""SELECT m.id, m.source_id || ':' || coalesce(m.thread_id, m.id), a.handle,
                  m.published_at,
                  EXISTS (SELECT 1 FROM hits h WHERE h.mention_id = m.id AND h.kind = 'intent'
                          AND h.key = 'question'), m.url, m.text
           FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
           WHERE m.published_at IS NOT NULL {where} ORDER BY m.published_at, m.seq""",
        params).fetchall()
    return [ThreadPost(*row[:4], bool(row[4]), row[5], row[6]) for row in rows]


def apply_proposed_sql(path: str) -> float:
    began = time.perf_counter()
    with store.open_db(path) as db:
        for statement in PROPOSED_SQL:
            db.execute(statement)
    return time.perf_counter() - began


def _install_proposed_functions(since: str) -> None:
    from dashboard import data, views

    data.brand_mentions = proposed_brand_mentions
    views.thread_posts = lambda db: proposed_thread_posts(db, since)


def _install_proposed_queries() -> None:
    import test_app

    from insights import queries

    for name in ("mention_evidence", "complaint_clusters", "cluster_members"):
        if not hasattr(queries, name):
            setattr(queries, name, getattr(test_app, name))


def time_page(path: str, name: str, proposed: bool = False) -> dict:
    """In this (fresh) process: the sidebar summary, the page cold, again warm, and a
    ``st.cache_data`` hit; with ``proposed``, through the proposed read functions."""
    import logging

    import streamlit as st

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    _install_proposed_queries()
    context, pages = _page_loads()
    load = pages[name]
    began = time.perf_counter()
    _, filters = context(path)
    summary = time.perf_counter() - began
    if proposed:
        _install_proposed_functions(filters.since(with_previous=False))
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
    return {"page": name, "summary_s": summary, "cold_s": cold, "warm_s": warm,
            "cached_s": hit, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            / 1024}


def run(path: Path, only: list[str] | None, timeout: int = 300, proposed: bool = False) -> None:
    if not path.exists():
        raise SystemExit(f"no database at {path}; run `generate` first")
    if proposed:
        took = apply_proposed_sql(str(path))
        print(f"applied {'; '.join(PROPOSED_SQL)} in {took:.0f} s", file=sys.stderr)
    _, pages = _page_loads()
    with store.open_db(path) as db:
        count = store.count_mentions(db)
    results = []
    for name in pages:
        if only and name not in only:
            continue
        try:
            command = [sys.executable, __file__, "page", name, "--db", str(path)]
            output = subprocess.run(command + (["--proposed"] if proposed else []),
                                    capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            results.append({"page": name, "timeout": timeout})
            print(f"{name}: over {timeout} s", file=sys.stderr)
            continue
        if output.returncode:
            raise SystemExit(f"{name} failed:\n{output.stderr[-3000:]}")
        results.append(json.loads(output.stdout.strip().splitlines()[-1]))
        print(f"{name}: {results[-1]['cold_s']:.2f} s cold", file=sys.stderr)
    print(f"\nDashboard pages on {count:,} mentions ({path.stat().st_size / 1e9:.2f} GB), "
          f"{os.cpu_count()} cores, default filters (28 days + 28 before); one fresh process "
          f"per page" + ("; WITH the proposed index, ANALYZE and read functions" if proposed
                         else "; the store as it is"))
    print(f"{'page':<24} {'cold s':>8} {'warm s':>8} {'cached s':>9} {'+sidebar s':>10} "
          f"{'peak MB':>8}  goal {GOAL_S} s")
    for r in results:
        if "timeout" in r:
            print(f"{r['page']:<24} {'> ' + str(r['timeout']):>8} {'–':>8} {'–':>9} {'–':>10} "
                  f"{'–':>8}  SLOW (stopped)")
            continue
        verdict = "ok" if r["cold_s"] + r["summary_s"] < GOAL_S else "SLOW"
        print(f"{r['page']:<24} {r['cold_s']:>8.2f} {r['warm_s']:>8.2f} {r['cached_s']:>9.3f} "
              f"{r['summary_s']:>10.2f} {r['peak_rss_mb']:>8.0f}  {verdict}")
    print("cold: first call in a fresh process (SQLite cache empty, OS file cache as it is); "
          "warm: second call; cached: st.cache_data hit; +sidebar: the filters' summary, "
          "read once per session and cached.")


# --- the proposed pre-aggregated daily table ---------------------------------------------

DAILY_SCHEMA = """
CREATE TABLE IF NOT EXISTS brand_days (
    day TEXT NOT NULL,                    -- UTC day of publication, YYYY-MM-DD
    brand TEXT NOT NULL,
    product TEXT NOT NULL DEFAULT '',     -- '' when no product is named
    touchpoint TEXT NOT NULL DEFAULT '',  -- '' on the brand row; else one row per touchpoint
    source_id TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT '',
    mentions INTEGER NOT NULL,
    negative INTEGER NOT NULL,
    neutral INTEGER NOT NULL,
    positive INTEGER NOT NULL,
    PRIMARY KEY (day, brand, product, touchpoint, source_id, language)
) WITHOUT ROWID"""
DAILY_REFRESH = """
WITH per_brand AS (
    SELECT h.mention_id,
           CASE WHEN h.kind = 'product' THEN json_extract(h.extra, '$.brand') ELSE h.key END
               AS brand,
           coalesce(min(CASE WHEN h.kind = 'product' THEN h.key END), '') AS product,
           CASE WHEN sum(h.sentiment = 'negative') THEN 'negative'
                WHEN sum(h.sentiment = 'positive') THEN 'positive'
                WHEN sum(h.sentiment = 'neutral') THEN 'neutral' END AS stance
    FROM hits h WHERE h.kind IN ('brand', 'competitor', 'product')
      AND h.mention_id IN (SELECT id FROM mentions WHERE published_at >= :since)
    GROUP BY h.mention_id, 2
), rows AS (
    SELECT substr(m.published_at, 1, 10) AS day, b.brand, b.product, '' AS touchpoint,
           m.source_id, coalesce(m.language, '') AS language, b.stance
    FROM per_brand b JOIN mentions m ON m.id = b.mention_id
    WHERE m.duplicate_of IS NULL AND m.published_at >= :since
    UNION ALL
    SELECT substr(m.published_at, 1, 10), b.brand, b.product, t.key, m.source_id,
           coalesce(m.language, ''), t.sentiment
    FROM per_brand b JOIN mentions m ON m.id = b.mention_id
    JOIN hits t ON t.mention_id = b.mention_id AND t.kind = 'touchpoint'
    WHERE m.duplicate_of IS NULL AND m.published_at >= :since
)
INSERT OR REPLACE INTO brand_days
SELECT day, brand, product, touchpoint, source_id, language, count(*),
       sum(stance = 'negative'), sum(stance = 'neutral'), sum(stance = 'positive')
FROM rows GROUP BY day, brand, product, touchpoint, source_id, language"""
DAILY_QUERIES = {  # what the pages would read from it (default filters, all sources)
    "Overview KPIs + daily series (56 days)": """
        SELECT day, brand, sum(mentions), sum(negative), sum(positive) FROM brand_days
        WHERE day BETWEEN :first AND :end AND touchpoint = '' GROUP BY day, brand""",
    "Overview, language uk": """
        SELECT day, brand, sum(mentions), sum(negative), sum(positive) FROM brand_days
        WHERE day BETWEEN :first AND :end AND touchpoint = '' AND language = 'uk'
        GROUP BY day, brand""",
    "Journey heatmap (touchpoint x week)": """
        SELECT touchpoint, date(day, 'weekday 1', '-7 days') AS week, sum(mentions),
               sum(negative) FROM brand_days
        WHERE day BETWEEN :start AND :end AND touchpoint != '' AND brand = 'volna'
        GROUP BY touchpoint, week""",
    "Trends (product x touchpoint x day)": """
        SELECT product, touchpoint, day, sum(negative), sum(mentions) FROM brand_days
        WHERE day BETWEEN :first AND :end AND brand = 'volna' GROUP BY product, touchpoint, day""",
}


def daily(path: Path) -> None:
    """Build the proposed ``brand_days`` table for the whole store and time what the
    Overview, Journey and Trends pages would read from it, cold (fresh connection)."""
    from dashboard import data
    from dashboard.filters import default_filters

    with store.open_db(path) as db:
        filters = default_filters(data.store_summary(db, data.read_catalogue())["choices"])
        began = time.perf_counter()
        with db.atomic():
            db.execute(DAILY_SCHEMA)
            db.execute("DELETE FROM brand_days")
            db.execute(DAILY_REFRESH, {"since": "0000"})
        full = time.perf_counter() - began
        rows = db.execute("SELECT count(*) FROM brand_days").fetchone()[0]
        began = time.perf_counter()
        with db.atomic():  # the nightly/after-tagging refresh of the last two days
            since = (filters.end - timedelta(days=1)).isoformat()
            db.execute("DELETE FROM brand_days WHERE day >= ?", [since])
            db.execute(DAILY_REFRESH, {"since": since})
        recent = time.perf_counter() - began
    print(f"brand_days: {rows:,} rows; full build {full:.1f} s; refresh of the last 2 days "
          f"{recent:.2f} s")
    params = {"first": filters.previous[0].isoformat(), "start": filters.start.isoformat(),
              "end": filters.end.isoformat()}
    for name, sql in DAILY_QUERIES.items():
        with store.open_db(path) as db:
            began = time.perf_counter()
            count = len(db.execute(sql, params).fetchall())
            took = time.perf_counter() - began
        print(f"{name:<40} {took:>7.3f} s  ({count} groups)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="write the synthetic store")
    make.add_argument("--db", type=Path, required=True)
    make.add_argument("--mentions", type=int, default=1_000_000)
    make.add_argument("--seed", type=int, default=7)
    timing = commands.add_parser("run", help="time every page, print the table")
    timing.add_argument("--db", type=Path, required=True)
    timing.add_argument("--page", action="append", help="only this page (repeatable)")
    timing.add_argument("--timeout", type=int, default=300,
                        help="stop a page after this many seconds")
    timing.add_argument("--proposed", action="store_true",
                        help="first add the proposed index and ANALYZE to the database, and "
                             "read through the proposed functions")
    day_table = commands.add_parser("daily", help="build the proposed brand_days table and "
                                    "time the page reads on it")
    day_table.add_argument("--db", type=Path, required=True)
    one = commands.add_parser("page", help="(internal) time one page in this process")
    one.add_argument("name")
    one.add_argument("--db", type=Path, required=True)
    one.add_argument("--proposed", action="store_true")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.db, args.mentions, args.seed)
    elif args.command == "daily":
        daily(args.db)
    elif args.command == "run":
        run(args.db, args.page, args.timeout, args.proposed)
    else:
        print(json.dumps(time_page(str(args.db), args.name, args.proposed)))


if __name__ == "__main__":
    main()
