"""Generate the demo community's data: ``python -m demo.generate --out DIR --seed 42``.

Writes, into ``DIR`` (default ``data/demo-site/``), one data file per source kind that
``demo/community.py`` serves (``forum.json`` in the shape of ``sample_posts.yaml``,
``community.json``, ``reviews.json``, ``news.json``, ``telegram.json``), the answer file
``answers.json`` (the planted facts and every post's ground truth; never served), a
``sources.yaml`` for the real spiders and a ``.gitignore``. Deterministic for a seed and an
end date (the day after the last post; default today, UTC).
"""

from __future__ import annotations

import argparse
import html
import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from demo.generate_story import WINDOW_DAYS, Post, Story, Thread, write_story
from demo.generate_text import world

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "demo-site"
DEFAULT_BASE_URL = "http://127.0.0.1:8765"
DATA_FILES = ("forum.json", "community.json", "reviews.json", "news.json", "telegram.json")
SOURCE_IDS = {"forum": "demo-forum", "community": "demo-community", "reviews": "demo-reviews",
              "news": "demo-news", "telegram": "demo-telegram"}
TRANSLIT = dict(zip("абвгґдеёєжзиіїйклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "g", "d", "e", "e", "ye", "zh", "z", "i", "i", "yi",
                     "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts",
                     "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))


def slugify(text: str) -> str:
    """An ASCII URL slug, as Discourse makes one from a title."""
    latin = "".join(TRANSLIT.get(ch, ch) for ch in text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", latin).strip("-")
    return slug[:60].rstrip("-") or "topic"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def discourse_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------------
# Per-source data

class Builder:
    """Turns a :class:`Story` into each source's data and every post's permalink path."""

    def __init__(self, story: Story):
        self.story = story
        self.rng = story.rng
        self.paths: dict[int, str] = {}  # id(post) → URL path as the spider stores it
        self.native: dict[int, str] = {}  # id(post) → the source's own id

    def threads(self, source: str) -> list[Thread]:
        return [t for t in self.story.threads if t.source == source]

    # -- phpBB -------------------------------------------------------------------------------

    def forum(self) -> dict:
        rng, spec = self.rng, world()["forum"]
        threads = self.threads("forum")
        posts = sorted((p for t in threads for p in t.posts), key=lambda p: p.time)
        for earlier, later in zip(posts, posts[1:], strict=False):
            if later.time <= earlier.time:  # phpBB numbers posts by time: no ties
                later.time = earlier.time + timedelta(seconds=1)
        post_ids = {id(p): 1001 + i for i, p in enumerate(posts)}
        users, user_ids = [], {}
        staff = self.story.staff["forum"]
        user_ids[id(staff)] = 2
        users.append({"id": 2, "name": staff.handle, "colour": spec["staff"]["colour"],
                      "rank": spec["staff"]["rank"], "joined": "2019-02-11T09:00:00+00:00",
                      "location": "Київ"})
        for post in posts:
            author = post.author
            if author.guest or id(author) in user_ids:
                continue
            user_ids[id(author)] = 10 + len(user_ids)
            joined = post.time - timedelta(days=rng.randrange(1, 2200), hours=rng.randrange(24))
            rank = rng.choice(world()["ranks"][author.lang])
            if author.role == "advocate":
                rank = {"ru": "Постоялец", "uk": "Постійний", "en": "Regular"}[author.lang]
                joined = min(joined, post.time - timedelta(days=1500))
            user = {"id": user_ids[id(author)], "name": author.handle, "rank": rank,
                    "joined": iso(joined)}
            if rng.random() < 0.5:
                user["location"] = rng.choice(world()["cities"][author.lang])
            users.append(user)
        boards = []
        topic_id = 10
        for board in spec["boards"]:
            topics = []
            for thread in threads:
                if thread.place != board["key"]:
                    continue
                topic_id += 1
                rows = []
                for post in thread.posts:
                    number = post_ids[id(post)]
                    self.paths[id(post)] = f"/forum/viewtopic.php?p={number}#p{number}"
                    self.native[id(post)] = str(number)
                    row = {"id": number, "author": post.author.handle,
                           "user_id": 1 if post.author.guest else user_ids[id(post.author)],
                           "time": iso(post.time), "text": post.text}
                    if post.quote is not None:
                        row["quotes"] = [{"author": post.quote.author.handle,
                                          "post_id": post_ids[id(post.quote)],
                                          "text": post.quote_text}]
                    if post.edited:
                        row["edited"] = {"time": iso(post.edited), "count": rng.randrange(1, 3)}
                    rows.append(row)
                topics.append({"id": topic_id, "title": thread.title,
                               "views": 20 + len(rows) * rng.randrange(15, 70), "posts": rows})
            boards.append({key: board[key] for key in ("id", "title", "description", "charset",
                                                        "lang")} | {"topics": topics})
        return {"forum": {"title": spec["title"], "description": spec["description"]},
                "users": users, "boards": boards}

    # -- Discourse ---------------------------------------------------------------------------

    def community(self) -> dict:
        rng, spec = self.rng, world()["community"]
        threads = sorted(self.threads("community"), key=lambda t: t.start)
        posts = sorted((p for t in threads for p in t.posts), key=lambda p: p.time)
        post_ids = {id(p): 5001 + i for i, p in enumerate(posts)}
        users: dict[str, dict] = {}
        categories = {c["key"]: c for c in spec["categories"]}
        topics = []
        for number, thread in enumerate(threads, start=101):
            slug = slugify(thread.title)
            rows, numbers = [], {}
            for index, post in enumerate(thread.posts, start=1):
                numbers[id(post)] = index
                author = post.author
                if author.handle not in users:
                    users[author.handle] = {
                        "id": 10 + len(users), "username": author.handle, "name": author.name,
                        "trust_level": 4 if author.role == "staff" else
                        3 if author.role == "advocate" else rng.randrange(0, 3),
                        "staff": author.role == "staff"}
                self.paths[id(post)] = f"/community/t/{slug}/{number}/{index}"
                self.native[id(post)] = str(post_ids[id(post)])
                reply_to = post.reply_to if post.reply_to is not None else None
                row = {"id": post_ids[id(post)], "post_number": index,
                       "username": author.handle, "created_at": discourse_time(post.time),
                       "cooked": cooked(post, numbers.get(id(post.quote)) if post.quote else None,
                                        number),
                       "reply_to_post_number": numbers.get(id(reply_to)) if index > 1
                       and reply_to is not None and numbers.get(id(reply_to)) != 1 else None,
                       "like_count": rng.choice((0, 0, 0, 1, 1, 2, 3, 5, 8)),
                       "version": 2 if post.edited else 1,
                       "updated_at": discourse_time(post.edited or post.time)}
                rows.append(row)
            topics.append({"id": number, "slug": slug, "title": thread.title,
                           "category_id": categories[thread.place]["id"],
                           "views": 15 + len(rows) * rng.randrange(10, 60), "posts": rows})
        return {"title": spec["title"],
                "categories": [{"id": c["id"], "slug": c["slug"], "name": c["name"]}
                               for c in spec["categories"]],
                "users": list(users.values()), "topics": topics}

    # -- reviews, news, Telegram -------------------------------------------------------------

    def reviews(self) -> dict:
        spec = world()["reviews"]
        reviews = sorted((p for p in self.story.posts if p.source == "reviews"),
                         key=lambda p: p.time)
        ids = {id(p): 3001 + i for i, p in enumerate(reviews)}
        products = []
        for product in spec["products"]:
            rows = []
            for post in reviews:
                if post.place != product["id"]:
                    continue
                number = ids[id(post)]
                self.paths[id(post)] = f"/reviews/review/{number}"
                self.native[id(post)] = str(number)
                rows.append({"id": number, "author": post.author.handle,
                             "author_slug": slugify(post.author.handle),
                             "published": iso(post.time), "title": post.title,
                             "body": post.text, "rating": post.rating})
            products.append({key: product[key] for key in ("id", "slug", "name", "brand",
                                                           "description")}
                            | {"reviews": rows[::-1]})  # newest first
        return {"site": spec["site"], "products": products}

    def news(self) -> dict:
        spec = world()["news"]
        articles = sorted((p for p in self.story.posts if p.source == "news"),
                          key=lambda p: p.time)
        rows = []
        for number, post in enumerate(articles, start=10401):
            path = f"/news/{post.time:%Y/%m}/{post.place}.html"
            self.paths[id(post)] = path
            self.native[id(post)] = str(number)
            key = next(label.split(":", 1)[1] for label in post.labels
                       if label.startswith("article:"))
            item = next(a for a in news_spec()["articles"] if a["key"] == key)
            rows.append({"id": number, "path": path, "title": post.title,
                         "author": post.author.handle, "published": iso(post.time),
                         "categories": item["categories"], "summary": item["summary"],
                         "lang": post.lang, "paragraphs": post.text.split("\n\n")})
        return {"title": spec["title"], "description": spec["description"],
                "articles": rows[::-1]}

    def telegram(self) -> dict:
        channels = []
        for spec in world()["telegram"]:
            posts = sorted((p for p in self.story.posts if p.source == "telegram"
                            and p.place == spec["name"]), key=lambda p: p.time)
            rows = []
            for number, post in enumerate(posts, start=101 if spec["name"] != "volna_official"
                                          else 1201):
                self.paths[id(post)] = f"/tg/{spec['name']}/{number}"
                self.native[id(post)] = str(number)
                rows.append({"id": number, "time": iso(post.time), "text": post.text,
                             "views": self.rng.randrange(800, 25000)})
            channels.append({**spec, "posts": rows})
        return {"channels": channels}


def news_spec() -> dict:
    from demo.generate_text import news

    return news()


def cooked(post: Post, quoted_number: int | None, topic_id: int) -> str:
    """A post's text as Discourse cooks it: paragraphs, line breaks, links, a quote aside."""
    parts = []
    if post.quote is not None:
        user = post.quote.author.handle
        number = f' data-post="{quoted_number}"' if quoted_number else ""
        parts.append(
            f'<aside class="quote no-group" data-username="{html.escape(user)}"{number} '
            f'data-topic="{topic_id}">\n<div class="title">\n<div class="quote-controls"></div>\n'
            f'<img loading="lazy" alt="" width="24" height="24" '
            f'src="/user_avatar/community/{html.escape(user)}/48/1_2.png" class="avatar"> '
            f"{html.escape(user)}:</div>\n<blockquote>\n<p>{html.escape(post.quote_text)}</p>\n"
            f"</blockquote>\n</aside>")
    for paragraph in post.text.split("\n\n"):
        escaped = html.escape(paragraph).replace("\n", "<br>\n")
        escaped = re.sub(r"(https?://[^\s<]+)",
                         r'<a href="\1" rel="noopener nofollow ugc">\1</a>', escaped)
        parts.append(f"<p>{escaped}</p>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Answers and sources

def sources_config(base_url: str, since_days: int) -> dict:
    """The sources file for the demo site at ``base_url`` (one source per spider kind)."""
    base = base_url.rstrip("/")
    spec = world()

    def common() -> dict:
        return {"brands": ["volna", "telenova"], "since_days": since_days, "max_pages": 5000}

    return {"sources": [
        {"id": SOURCE_IDS["forum"], "kind": "forum", "title": "Volna Community forum (demo)",
         "url": f"{base}/forum/", **common(),
         "options": {"engine": "phpbb",
                     "boards": [f"viewforum.php?f={b['id']}" for b in spec["forum"]["boards"]]}},
        {"id": SOURCE_IDS["community"], "kind": "discourse",
         "title": "Volna Community Hub (demo Discourse)", "url": f"{base}/community", **common(),
         "options": {"categories": [f"{c['slug']}/{c['id']}"
                                    for c in spec["community"]["categories"]]}},
        {"id": SOURCE_IDS["reviews"], "kind": "reviews", "title": "Otzyvy.example (demo)",
         "url": f"{base}/reviews/", **common(),
         "options": {"pages": [f"{p['slug']}.html" for p in spec["reviews"]["products"]]}},
        {"id": SOURCE_IDS["news"], "kind": "rss", "title": "Связь-Инфо (demo news)",
         "url": f"{base}/news/feed.rss", **common(),
         "options": {"feeds": ["feed.rss"], "full_text": True}},
        {"id": SOURCE_IDS["telegram"], "kind": "telegram",
         "title": "Telegram channels (demo)", "url": f"{base}/tg", **common(),
         "options": {"channels": [c["name"] for c in spec["telegram"]]}},
    ]}


def since_days_for(end: date, today: date | None = None) -> int:
    """Enough days back from today to reach the first post (at least 120)."""
    today = today or datetime.now(UTC).date()
    first = end - timedelta(days=WINDOW_DAYS)
    return max(120, (today - first).days + 30)


def answers(story: Story, builder: Builder, seed: int) -> dict:
    """The planted facts and each post's ground truth (URL paths relative to the base URL)."""
    cal = story.cal
    posts = story.every_post()
    source_id = {id(p): SOURCE_IDS[p.source] for p in posts}

    def where(post: Post) -> dict:
        return {"source": source_id[id(post)], "id": builder.native[id(post)],
                "path": builder.paths[id(post)]}

    def daily(label: str) -> dict:
        days = Counter(p.time.date().isoformat() for p in posts if label in p.labels)
        return dict(sorted(days.items()))

    incident_days = daily("incident")
    billing_days = daily("billing")
    peak = max(incident_days, key=incident_days.get)
    advocates = []
    for author in story.advocates:
        own = [p for p in posts if p.author is author]
        advocates.append({"handle": author.handle, "source": SOURCE_IDS[author.source],
                          "lang": author.lang, "posts": len(own),
                          "first": iso(own[0].time), "last": iso(own[-1].time)})
    spam = [p for p in posts if p.author is story.spammer]
    switchers = []
    for item in story.switchers:
        post = item["post"]
        switchers.append({"handle": item["author"].handle,
                          "source": SOURCE_IDS[item["source"]], "lang": item["author"].lang,
                          "touchpoint": item["touchpoint"], "failed_at": iso(item["failed"]),
                          "switched_at": iso(item["switched"]), "announcement": where(post)})
    unanswered = [where(t.posts[0]) | {"lang": t.lang, "touchpoint": t.touchpoint,
                                       "title": t.title}
                  for t in story.threads if t.unanswered]
    truth = [where(p) | {"author": p.author.handle, "time": iso(p.time), "lang": p.lang,
                         "touchpoint": p.touchpoint, "sentiment": p.sentiment,
                         "brand": p.brand, "product": p.product, "role": p.role,
                         "labels": p.labels} for p in posts]
    return {
        "seed": seed,
        "end": cal.end.isoformat(),
        "window": {"first_day": cal.start.date().isoformat(),
                   "last_day": (cal.stop - timedelta(days=1)).date().isoformat()},
        "posts_per_source": dict(Counter(source_id[id(p)] for p in posts)),
        "posts_per_language": dict(Counter(p.lang for p in posts).most_common()),
        "posts_per_touchpoint": dict(Counter(p.touchpoint or "none" for p in posts)
                                     .most_common()),
        "authors": len({(p.source, p.author.handle) for p in posts}),
        "incidents": [
            {"id": "esim-activation", "touchpoint": "onboarding", "brand": "volna",
             "product": "volna-mobile",
             "what": "eSIM self-activation and new APN settings launched in the My Volna app; "
                     "customers misread the instructions and lose mobile data",
             "launch": cal.launch.date().isoformat(), "start": min(incident_days),
             "peak": peak, "end": max(incident_days),
             "negative_posts": sum(incident_days.values()), "daily": incident_days},
            {"id": "double-charge-refund", "touchpoint": "billing", "brand": "volna",
             "product": "volna-mobile",
             "what": "monthly fee charged twice; refund promised in 3 days, paid after 2 weeks",
             "charged": cal.charge.date().isoformat(), "start": iso(cal.billing),
             "end": iso(cal.billing_end), "refund_paid": cal.refund.date().isoformat(),
             "negative_posts": sum(billing_days.values()), "daily": billing_days},
        ],
        "advocates": advocates,
        "spammer": {"handle": story.spammer.handle, "source": SOURCE_IDS["forum"],
                    "posts": len(spam)},
        "staff": [{"handle": a.handle, "source": SOURCE_IDS[s]} for s, a in story.staff.items()],
        "switchers": switchers,
        "unanswered_questions": unanswered,
        "mentions": truth,
    }


# ---------------------------------------------------------------------------------------------
# Writing it all

def generate(out: str | Path = DEFAULT_OUT, seed: int = 42, end: date | None = None,
             base_url: str = DEFAULT_BASE_URL) -> dict:
    """Write the demo site's data into ``out``; returns the answers (also in answers.json)."""
    end = end or datetime.now(UTC).date()
    story = write_story(seed, end)
    builder = Builder(story)
    data = {"forum.json": builder.forum(), "community.json": builder.community(),
            "reviews.json": builder.reviews(), "news.json": builder.news(),
            "telegram.json": builder.telegram()}
    result = answers(story, builder, seed)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, value in data.items():
        write_json(folder / name, value)
    write_json(folder / "answers.json", result)
    write_sources(folder, base_url, since_days=since_days_for(end))
    (folder / ".gitignore").write_text("# generated by python -m demo.generate\n*\n",
                                       encoding="utf-8")
    return result


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_sources(data_dir: str | Path, base_url: str, path: str | Path | None = None, *,
                  since_days: int | None = None) -> Path:
    """Write a sources file for the site served at ``base_url`` (default
    ``DATA_DIR/sources.yaml``); returns its path."""
    folder = Path(data_dir)
    if since_days is None:
        end = date.fromisoformat(json.loads((folder / "answers.json").read_text(
            encoding="utf-8"))["end"])
        since_days = since_days_for(end)
    target = Path(path) if path else folder / "sources.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    text = ("# The demo community's sources, written by demo.generate / demo.community.\n"
            + yaml.safe_dump(sources_config(base_url, since_days), allow_unicode=True,
                             sort_keys=False))
    target.write_text(text, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.generate",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for the data (default data/demo-site)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end", type=date.fromisoformat, default=None,
                        help="YYYY-MM-DD, the day after the last post (default: today, UTC)")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL,
                        help="where the site will be served, for sources.yaml")
    args = parser.parse_args(argv)
    result = generate(args.out, args.seed, args.end, args.base_url)
    total = sum(result["posts_per_source"].values())
    print(f"wrote {total} posts by {result['authors']} authors to {args.out} "
          f"({result['window']['first_day']} .. {result['window']['last_day']})")
    for source, count in result["posts_per_source"].items():
        print(f"  {source}: {count}")


if __name__ == "__main__":
    main()
