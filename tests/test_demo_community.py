"""The generated demo community: deterministic data, an answer file that matches it, a site that
serves every source kind, and a real crawl (``cli.py crawl``) that stores every post once."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.error
import urllib.request
from collections import Counter
from datetime import date, datetime
from itertools import combinations
from pathlib import Path

import pytest
import yaml
from conftest import run_crawl
from scrapy.http import HtmlResponse

from crawlers.article import extract_article
from crawlers.dedup import THRESHOLD, band_keys, signature, similarity
from crawlers.spiders.reviews import extract_reviews
from crawlers.spiders.rss import parse_feed
from demo.community import start_community
from demo.generate import DATA_FILES, generate, write_sources
from store.identity import canonical_url

SEED, END = 42, date(2026, 11, 24)
ROOT = Path(__file__).resolve().parent.parent
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo-site")
    generate(folder, SEED, END)
    return folder


@pytest.fixture(scope="module")
def answers(site_dir) -> dict:
    return json.loads((site_dir / "answers.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data(site_dir) -> dict:
    return {name.split(".")[0]: json.loads((site_dir / name).read_text(encoding="utf-8"))
            for name in DATA_FILES}


@pytest.fixture
def served(site_dir):
    server, base_url = start_community(site_dir)
    yield base_url
    server.shutdown()
    server.server_close()


def fetch(url: str) -> tuple[int, dict, bytes]:
    try:
        with _opener.open(url, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def page(url: str) -> HtmlResponse:
    status, headers, body = fetch(url)
    assert status == 200, url
    return HtmlResponse(url, body=body, headers={"Content-Type": headers["Content-Type"]})


def texts_by_author(data: dict) -> dict[tuple[str, str], list[str]]:
    """(source id, handle) → the texts of that author's posts, from the data files."""
    found: dict[tuple[str, str], list[str]] = {}
    for board in data["forum"]["boards"]:
        for topic in board["topics"]:
            for post in topic["posts"]:
                found.setdefault(("demo-forum", post["author"]), []).append(post["text"])
    for topic in data["community"]["topics"]:
        for post in topic["posts"]:
            text = re.sub(r"<aside.*?</aside>|<[^>]+>", " ", post["cooked"], flags=re.S)
            found.setdefault(("demo-community", post["username"]), []).append(text)
    for product in data["reviews"]["products"]:
        for review in product["reviews"]:
            found.setdefault(("demo-reviews", review["author"]), []).append(review["body"])
    return found


def switcher_text(data: dict, mention: dict) -> str:
    """The text of the post at a mention's path."""
    post_id = mention["id"]
    if mention["source"] == "demo-forum":
        return next(p["text"] for b in data["forum"]["boards"] for t in b["topics"]
                    for p in t["posts"] if str(p["id"]) == post_id)
    if mention["source"] == "demo-community":
        return next(p["cooked"] for t in data["community"]["topics"] for p in t["posts"]
                    if str(p["id"]) == post_id)
    return next(r["body"] for p in data["reviews"]["products"] for r in p["reviews"]
                if str(r["id"]) == post_id)


# -- generation --------------------------------------------------------------------------------

def test_generation_is_deterministic_for_a_seed(site_dir, tmp_path):
    again = tmp_path / "again"
    generate(again, SEED, END)
    names = sorted(p.name for p in site_dir.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (site_dir / name).read_bytes() == (again / name).read_bytes(), name
    other = tmp_path / "other"
    generate(other, SEED + 1, END)
    assert (other / "forum.json").read_bytes() != (site_dir / "forum.json").read_bytes()
    assert (site_dir / ".gitignore").read_text().strip().endswith("*")


def test_three_months_of_multilingual_posts_across_every_touchpoint(answers):
    total = sum(answers["posts_per_source"].values())
    assert 1500 <= total <= 2500
    assert 120 <= answers["authors"] <= 180
    assert answers["window"] == {"first_day": "2026-08-25", "last_day": "2026-11-23"}
    shares = {lang: n / total for lang, n in answers["posts_per_language"].items()}
    for lang, share in {"ru": 0.55, "uk": 0.30, "en": 0.15}.items():
        assert abs(shares[lang] - share) < 0.06, shares
    catalogue = yaml.safe_load((ROOT / "data" / "catalogue.yaml").read_text(encoding="utf-8"))
    touchpoints = {tp["id"] for tp in catalogue["touchpoints"]}
    assert touchpoints <= set(answers["posts_per_touchpoint"])
    assert all(answers["posts_per_touchpoint"][tp] >= 30 for tp in touchpoints)
    days = Counter(m["time"][:10] for m in answers["mentions"])
    assert len(days) >= 85 and min(m["time"] for m in answers["mentions"]) >= "2026-08-25"
    assert max(m["time"] for m in answers["mentions"]) < "2026-11-24"


def test_answer_file_counts_match_the_data(answers, data):
    counts = {
        "demo-forum": sum(len(t["posts"]) for b in data["forum"]["boards"] for t in b["topics"]),
        "demo-community": sum(len(t["posts"]) for t in data["community"]["topics"]),
        "demo-reviews": sum(len(p["reviews"]) for p in data["reviews"]["products"]),
        "demo-news": len(data["news"]["articles"]),
        "demo-telegram": sum(len(c["posts"]) for c in data["telegram"]["channels"]),
    }
    assert answers["posts_per_source"] == counts
    assert all(count > 0 for count in counts.values())
    assert len(answers["mentions"]) == sum(counts.values())
    assert len({(m["source"], m["path"]) for m in answers["mentions"]}) == sum(counts.values())
    assert any(board["charset"] == "windows-1251" and board["topics"]
               for board in data["forum"]["boards"])


def test_planted_incident_grows_then_fades(answers):
    incident, billing = answers["incidents"]
    assert (incident["touchpoint"], incident["brand"]) == ("onboarding", "volna")
    daily = list(incident["daily"].values())
    peak = daily.index(max(daily))
    assert incident["start"] == incident["launch"] and daily[0] <= 1
    assert 3 <= peak <= 4 and 15 <= daily[peak] <= 25
    assert daily[:peak + 1] == sorted(daily[:peak + 1])
    assert daily[peak:] == sorted(daily[peak:], reverse=True) and daily[-1] <= 2
    planted = [m for m in answers["mentions"] if "incident" in m["labels"]]
    assert len(planted) == incident["negative_posts"]
    assert all(m["touchpoint"] == "onboarding" and m["sentiment"] == "negative" for m in planted)

    assert (billing["touchpoint"], billing["brand"]) == ("billing", "volna")
    start, end = (datetime.fromisoformat(billing[key]) for key in ("start", "end"))
    assert start.weekday() == 4 and start.hour >= 17 and end.weekday() == 6
    spike = [m for m in answers["mentions"] if "billing" in m["labels"]]
    assert 20 <= len(spike) == billing["negative_posts"] <= 30
    assert all(start <= datetime.fromisoformat(m["time"]) <= end for m in spike)
    assert (date.fromisoformat(billing["refund_paid"])
            - date.fromisoformat(billing["charged"])).days == 14


def test_advocates_spammer_switchers_and_unanswered_questions(answers, data):
    by_author = texts_by_author(data)
    recommends = re.compile(r"рекоменд|советую|раджу|recommend", re.IGNORECASE)
    assert 4 <= len(answers["advocates"]) <= 5
    for advocate in answers["advocates"]:
        texts = by_author[(advocate["source"], advocate["handle"])]
        assert len(texts) == advocate["posts"] >= 10
        assert sum(bool(recommends.search(t)) for t in texts) >= 2, advocate["handle"]
        span = datetime.fromisoformat(advocate["last"]) - datetime.fromisoformat(
            advocate["first"])
        assert span.days >= 42
    spammer = answers["spammer"]
    spam = by_author[(spammer["source"], spammer["handle"])]
    assert len(spam) == spammer["posts"] >= 10 and all("https://" in t for t in spam)
    assert len(set(spam)) == len(spam)
    pairs = [similarity(signature(a), signature(b)) for a, b in combinations(spam, 2)]
    assert sum(p >= THRESHOLD for p in pairs) / len(pairs) > 0.3
    assert spammer["handle"] not in {a["handle"] for a in answers["advocates"]}

    truth = {(m["source"], m["path"]): m for m in answers["mentions"]}
    assert 6 <= len(answers["switchers"]) <= 10
    for switcher in answers["switchers"]:
        post = truth[(switcher["announcement"]["source"], switcher["announcement"]["path"])]
        assert post["author"] == switcher["handle"] and "switch" in post["labels"]
        assert switcher["failed_at"] < switcher["switched_at"] == post["time"]
        assert switcher["touchpoint"] in answers["posts_per_touchpoint"]
        said = re.compile(r"(ухожу к|перехожу на|переходжу на|йду до|switching to) "
                          r"(Теленов|Telenova)", re.IGNORECASE)
        assert said.search(switcher_text(data, post)), post

    assert len(answers["unanswered_questions"]) >= 10
    topics = {str(p["id"]): t for b in data["forum"]["boards"] for t in b["topics"]
              for p in t["posts"]}
    topics |= {str(p["id"]): t for t in data["community"]["topics"] for p in t["posts"]}
    for question in answers["unanswered_questions"]:
        assert len(topics[question["id"]]["posts"]) == 1
        assert truth[(question["source"], question["path"])]["role"] == "starter-question"


def test_texts_vary_no_copies_but_the_spammers(answers, data):
    texts = [(handle, text) for (_, handle), items in texts_by_author(data).items()
             for text in items]
    assert len({" ".join(t.casefold().split()) for _, t in texts}) == len(texts)
    spammer = answers["spammer"]["handle"]
    sigs = [sig for handle, text in texts if handle != spammer and (sig := signature(text))]
    bands: dict[int, list[bytes]] = {}
    copies = 0
    for sig in sigs:  # as the crawl's dedup pipeline looks for cross-posts
        keys = band_keys(sig)
        copies += any(similarity(sig, other) >= THRESHOLD for key in keys
                      for other in bands.get(key, ()))
        for key in keys:
            bands.setdefault(key, []).append(sig)
    assert copies <= len(sigs) // 100


# -- the site ----------------------------------------------------------------------------------

def test_site_serves_each_kind(served, answers, data):
    base = served
    status, headers, body = fetch(f"{base}/robots.txt")
    assert status == 200 and b"User-agent: *" in body
    for path in ("/answers.json", "/nope", "/community/t/999999.json", "/tg/s/nobody",
                 "/reviews/nothing.html", "/news/2020/01/none.html"):
        assert fetch(base + path)[0] == 404, path

    board = next(b for b in data["forum"]["boards"] if b["charset"] == "windows-1251")
    listing = page(f"{base}/forum/viewforum.php?f={board['id']}")
    assert listing.encoding == "cp1251" and board["title"] in listing.text
    topic = board["topics"][0]
    shown = page(f"{base}/forum/viewtopic.php?t={topic['id']}")
    assert len(shown.css("div.post")) == min(10, len(topic["posts"]))
    assert shown.css("div.post p.author time::attr(datetime)").get() == topic["posts"][0]["time"]

    latest = json.loads(fetch(f"{base}/community/latest.json")[2])
    topics = latest["topic_list"]["topics"]
    assert len(topics) == 30 and latest["topic_list"]["more_topics_url"].endswith("?page=1")
    assert [t["bumped_at"] for t in topics] == sorted((t["bumped_at"] for t in topics),
                                                      reverse=True)
    longest = max(data["community"]["topics"], key=lambda t: len(t["posts"]))
    full = json.loads(fetch(f"{base}/community/t/{longest['id']}.json")[2])
    stream = full["post_stream"]["stream"]
    assert len(stream) == len(longest["posts"]) > 20 and len(full["post_stream"]["posts"]) == 20
    query = "&".join(f"post_ids[]={i}" for i in stream[20:40])
    chunk = json.loads(fetch(f"{base}/community/t/{longest['id']}/posts.json?{query}")[2])
    assert [p["id"] for p in chunk["post_stream"]["posts"]] == stream[20:40]
    category = data["community"]["categories"][0]
    assert fetch(f"{base}/community/c/{category['slug']}/{category['id']}.json")[0] == 200

    product = max(data["reviews"]["products"], key=lambda p: len(p["reviews"]))
    url = f"{base}/reviews/{product['slug']}.html"
    first = page(url)
    found = extract_reviews(first.text, url)
    assert len(found.reviews) == 10 and found.aggregate["count"] == len(product["reviews"])
    assert first.css("link[rel=next]::attr(href)").get() == f"{product['slug']}.html?page=2"
    truth = {m["path"]: m for m in answers["mentions"] if m["source"] == "demo-reviews"}
    for review in found.reviews:
        sentiment = truth[review.url.removeprefix(base)]["sentiment"]
        assert review.rating in {"negative": (1, 2), "neutral": (3,),
                                 "positive": (4, 5)}[sentiment]

    feed = parse_feed(fetch(f"{base}/news/feed.rss")[2], f"{base}/news/feed.rss")
    assert len(feed.items) == len(data["news"]["articles"]) and not feed.problems
    article = extract_article(fetch(feed.items[0].link)[2].decode("utf-8"))
    assert article is not None and article.method == "itemprop"
    assert article.text.startswith(data["news"]["articles"][0]["paragraphs"][0][:40])

    channel = data["telegram"]["channels"][0]
    newest = page(f"{base}/tg/s/{channel['name']}")
    ids = [int(x.split("/")[1]) for x in newest.css(".tgme_widget_message::attr(data-post)")
           .getall()]
    assert ids == [p["id"] for p in channel["posts"][-20:]]
    before = newest.css("a.tme_messages_more::attr(data-before)").get()
    older = page(f"{base}/tg/s/{channel['name']}?before={before}")
    assert max(int(x.split("/")[1]) for x in older.css(
        ".tgme_widget_message::attr(data-post)").getall()) < int(before)


# -- the real crawl ----------------------------------------------------------------------------

def stored(db_path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT source_id, canonical_url FROM mentions").fetchall()
    found: dict[str, set[str]] = {}
    for source, url in rows:
        found.setdefault(source, set()).add(url)
    assert sum(len(urls) for urls in found.values()) == len(rows)
    return found


def test_real_crawl_stores_every_post_once(served, site_dir, answers, data, tmp_path):
    sources = write_sources(site_dir, served, tmp_path / "sources.yaml")
    db_path = tmp_path / "demo.db"
    first = run_crawl(sources, db_path, jobs=False, timeout=180)
    assert first.returncode == 0, first.stderr[-3000:]
    expected: dict[str, set[str]] = {}
    for mention in answers["mentions"]:
        expected.setdefault(mention["source"], set()).add(
            canonical_url(served + mention["path"]))
    assert stored(db_path) == expected
    assert {s: len(u) for s, u in expected.items()} == answers["posts_per_source"]

    with sqlite3.connect(db_path) as db:  # the windows-1251 board's words arrive intact
        text = dict(db.execute("SELECT canonical_url, text FROM mentions"))
    board = next(b for b in data["forum"]["boards"] if b["charset"] == "windows-1251")
    for post in board["topics"][0]["posts"]:
        url = canonical_url(f"{served}/forum/viewtopic.php?p={post['id']}#p{post['id']}")
        assert " ".join(text[url].split()) == " ".join(post["text"].split())

    second = run_crawl(sources, db_path, jobs=False, timeout=180)
    assert second.returncode == 0, second.stderr[-3000:]
    assert stored(db_path) == expected
    for source in answers["posts_per_source"]:
        assert re.search(rf"{source}: 0 new, 0 edited", second.stdout), second.stdout
