"""The forum engine fixtures (``tests/fixtures/engines/<style>/``) and how a reading of their
topic pages is scored against each style's ``expected.yaml``.

Shared by the tests and ``bench/forum_extraction.py``. A post is right when its author, its
date (within a minute) and its own words (start, end, nothing quoted, no signature or UI
label) are right; quotes are scored apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from scrapy.http import HtmlResponse
from scrapy.utils.response import get_base_url
from w3lib.encoding import http_content_type_encoding

from crawlers.dates import timezone
from crawlers.encoding import choose_encoding
from crawlers.engines import engines
from crawlers.forum_pages import PageContext, ReadPost, read_topic
from crawlers.items import Mention
from crawlers.pipelines import clean_mention

ENGINES = Path(__file__).resolve().parent / "fixtures" / "engines"
BASE = "http://forum.test"


def styles() -> list[str]:
    """Every fixture style, by folder name."""
    return sorted(p.parent.name for p in ENGINES.glob("*/expected.yaml"))


def expected(style: str) -> dict:
    return yaml.safe_load((ENGINES / style / "expected.yaml").read_text(encoding="utf-8"))


def fixture_file(style: str, target: str) -> Path:
    """The file the fixture server answers ``target`` (path and query) from."""
    parts = urlsplit(target)
    relative = parts.path.lstrip("/")
    if not relative or relative.endswith("/"):
        relative += "index.html"
    return ENGINES / style / (f"{relative}@{parts.query}" if parts.query else relative)


def response(style: str, target: str) -> HtmlResponse:
    """A fixture page as Scrapy would receive it from ``BASE`` (its headers included)."""
    path = fixture_file(style, target)
    headers = {}
    sidecar = path.with_name(path.name + ".headers")
    if sidecar.exists():
        for line in sidecar.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition(":")
            if value:
                headers[name.strip()] = value.strip()
    headers.setdefault("Content-Type", "text/html")
    body = path.read_bytes().replace(b"{{BASE}}", BASE.encode())
    url = f"{BASE}/{target.lstrip('/')}"
    page = HtmlResponse(url=url, body=body, headers=headers)
    # as the crawl's encoding check repairs it (a page whose header lies about its charset)
    choice = choose_encoding(body, http_content_type_encoding(headers["Content-Type"]))
    return page.replace(encoding=choice.encoding) if choice.repaired else page


def read_style(style: str, use_selectors: bool) -> tuple[list[ReadPost], list[str]]:
    """The posts of a style's topic over its pages (following each page's next link), and
    the strategy each page was read by."""
    spec = expected(style)
    family = {"ipb": "invision"}.get(spec["engine"], spec["engine"])
    engine = engines().get(family) if use_selectors else None
    target, posts, strategies = spec["topics"][0], [], []
    for _ in range(5):
        page = response(style, target)
        context = PageContext(page.url, datetime.fromisoformat(str(spec["now"])),
                              timezone(spec.get("timezone")), False, f"{BASE}/",
                              get_base_url(page))
        reading = read_topic(page.selector, context, engine)
        posts += reading.posts
        strategies.append(reading.strategy)
        if not reading.next_url or not reading.next_url.startswith(BASE):
            break
        target = reading.next_url.removeprefix(BASE)
        if not fixture_file(style, target).exists():
            break
    return posts, strategies


@dataclass
class Score:
    """How many of a style's expected posts were read right, part by part."""

    expected: int
    found: int = 0
    authors: int = 0
    dates: int = 0
    texts: int = 0
    quotes: int = 0
    right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def share_right(self) -> float:
        return self.right / self.expected if self.expected else 0.0


def score(style: str, posts: list[ReadPost]) -> Score:
    """Match read posts to the expected ones by the post id in their permalink, in order."""
    spec = expected(style)
    wanted = spec["posts"]
    result = Score(expected=len(wanted))
    readable = [post for post in posts if post.problem is None]
    by_id = {}
    for post in readable:
        for item in wanted:
            if str(item["id"]) in (post.url or "") and str(item["id"]) not in by_id:
                by_id[str(item["id"])] = post
                break
    for item in wanted:
        post = by_id.get(str(item["id"]))
        if post is None:
            result.misses.append(f"{item['id']}: not found")
            continue
        result.found += 1
        checks = {"author": post.author == item["author"],
                  "date": _same_minute(post.published_at, item["date"]),
                  "text": _own_text_right(post, item),
                  "quotes": _quotes_right(post, item)}
        result.authors += checks["author"]
        result.dates += checks["date"]
        result.texts += checks["text"]
        result.quotes += checks["quotes"]
        if checks["author"] and checks["date"] and checks["text"]:
            result.right += 1
        else:
            wrong = [name for name, ok in checks.items() if not ok]
            result.misses.append(f"{item['id']}: {', '.join(wrong)} "
                                 f"(got {post.author!r}, {post.published_at}, "
                                 f"{_text(post)[:60]!r})")
    return result


def _same_minute(got: str | None, want) -> bool:
    if not got:
        return False
    want_time = want if isinstance(want, datetime) else datetime.fromisoformat(str(want))
    return abs(datetime.fromisoformat(got) - want_time) <= timedelta(minutes=1)


def _text(post: ReadPost) -> str:
    mention = clean_mention(Mention(source="x", url=post.url or "", body_html=post.body_html,
                                    quotes=list(post.quotes)))
    return mention.text


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def _own_text_right(post: ReadPost, item: dict) -> bool:
    text = _norm(_text(post))
    return (text.startswith(_norm(item["text_start"])) and text.endswith(_norm(item["text_end"]))
            and not any(_norm(bad) in text for bad in item.get("not_in_text") or []))


def _quotes_right(post: ReadPost, item: dict) -> bool:
    wanted = item.get("quotes") or []
    if not wanted:
        return not post.quotes
    authors = {quote.get("author") for quote in wanted}
    return bool(post.quotes) and all(quote.get("author") in authors for quote in post.quotes)
