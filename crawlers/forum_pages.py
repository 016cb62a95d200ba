"""Reading one forum page, board or topic, into plain records: by the engine's selectors when
they fit the page, else by the page's structure (``crawlers/structure.py``).

Both readings of a topic page are made and the one with more readable posts wins, so a
forum in a custom style, or of an engine with no selectors, is still read; a block that is
neither a post nor readable as one (a navigation bar that looks like a post) is left out
without making the topic incomplete. The forum spider and ``otklik probe`` share this code.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector

from crawlers import selectors as sel
from crawlers.board_structure import find_topics, next_page, topic_id
from crawlers.dates import BadDate, pick_date
from crawlers.engines import Engine
from crawlers.post_text import clean_body, quoted_post
from crawlers.structure import count_post_blocks, find_posts

SELECTORS, STRUCTURE = "selectors", "structure"


@dataclass(frozen=True)
class PageContext:
    """Where a page came from and how its dates are read."""

    url: str
    now: datetime
    tz: tzinfo
    day_first: bool = False
    source_url: str = ""  # what an engine's ``post_url`` is relative to
    base: str = ""  # what the page's links are relative to (its <base href>, else its URL)

    def join(self, link: str) -> str:
        """A link of the page as an absolute URL."""
        return urljoin(self.base or self.url, link)

    def date(self, candidates: list[str]) -> str:
        """The first readable date among ``candidates``, in UTC; :class:`BadDate` if none."""
        return pick_date(candidates, now=self.now, tz=self.tz, day_first=self.day_first)


@dataclass
class ReadPost:
    """One post as a page shows it; ``problem`` says why it cannot be stored, if so."""

    url: str | None
    author: str | None = None
    author_url: str | None = None
    published_at: str | None = None
    edited_at: str | None = None
    edited: str | None = None
    body_html: str = ""
    quotes: list[dict] = field(default_factory=list)
    problem: str | None = None
    detail: str = ""
    parent_url: str | None = None


@dataclass
class TopicReading:
    """A topic page read: its posts in page order, its title and next page."""

    strategy: str
    posts: list[ReadPost]
    title: str | None
    next_url: str | None
    not_posts: int = 0  # blocks that looked like posts but were none (left out)

    @property
    def readable(self) -> int:
        return sum(post.problem is None for post in self.posts)

    @property
    def quality(self) -> tuple[int, int]:
        """Readable posts with an author, then readable posts: what decides between two
        readings of a page."""
        return (sum(post.problem is None and post.author is not None for post in self.posts),
                self.readable)


@dataclass
class BoardTopic:
    """One topic row of a board page."""

    url: str
    signature: list | None
    last_post: str | None


@dataclass
class BoardReading:
    strategy: str
    topics: list[BoardTopic]
    next_url: str | None


def thread_id(url: str, engine: Engine | None) -> str | None:
    """A topic's id in any of its page URLs: by the engine's pattern, else by the URL shapes
    common engines use."""
    if engine is not None:
        match = re.search(engine.thread_id_pattern, url)
        if match and any(match.groups()):
            return next(group for group in match.groups() if group)
    return topic_id(url)


# -- topic pages -------------------------------------------------------------------------------

def read_topic(page: Selector, context: PageContext, engine: Engine | None) -> TopicReading:
    """The posts of a topic page, by whichever reading finds more readable posts; a reply
    that quotes a post of the same page gets that post as its parent.

    When the selectors read every block whole and as many posts as the page's ids mark, the
    structure could read no more, and its reading (the costlier one) is not made."""
    by_selectors = _topic_by_selectors(page, context, engine) if engine is not None else None
    if by_selectors is not None and _whole(by_selectors) and (
            len(by_selectors.posts) >= count_post_blocks(page.root)):
        reading = by_selectors
    else:
        reading = _topic_by_structure(page, context)
        if by_selectors is not None and by_selectors.quality >= reading.quality and (
                by_selectors.readable or not reading.posts):
            reading = by_selectors
    _link_parents(reading.posts)
    return reading


def _whole(reading: TopicReading) -> bool:
    """Every block read as a post with an author, none left out."""
    return bool(reading.posts) and not reading.not_posts and (
        reading.quality[0] == len(reading.posts))


def _link_parents(posts: list[ReadPost]) -> None:
    """Set each post's parent to the post of this page its first quote names."""
    numbers = {}
    for post in posts:
        for number in re.findall(r"\d{2,}", post.url or ""):
            numbers.setdefault(number, post.url)
    for post in posts:
        quoted = next((q.get("post") for q in post.quotes if q.get("post")), None)
        if quoted and numbers.get(quoted) not in (None, post.url):
            post.parent_url = numbers[quoted]


def _topic_by_structure(page: Selector, context: PageContext) -> TopicReading:
    posts, not_posts = [], 0
    for found in find_posts(page.root, context.base or context.url):
        if found.problem and found.author is None:
            not_posts += 1
            continue
        post = ReadPost(url=found.permalink, author=found.author, author_url=found.author_url,
                        edited=found.edited, quotes=found.quotes, problem=found.problem)
        if found.body is not None:
            post.body_html = etree.tostring(found.body, encoding="unicode", with_tail=False)
        if post.problem is None:
            try:
                post.published_at = context.date(found.date_candidates)
            except BadDate as error:
                post.problem, post.detail = "bad_date", str(error)
        posts.append(post)
    title = _page_title(page)
    return TopicReading(STRUCTURE, posts, title,
                        next_page(page.root, context.base or context.url), not_posts)


def _page_title(page: Selector) -> str | None:
    for query in ("h1::text", "h2::text", "title::text"):
        text = " ".join((page.css(query).get() or "").split())
        if text:
            return text
    return None


def _topic_by_selectors(page: Selector, context: PageContext, engine: Engine) -> TopicReading:
    page = Selector(root=copy.deepcopy(page.root))  # quotes are cut out of the bodies
    posts, not_posts = [], 0
    for block in sel.elements(page, engine.post):
        post = read_post(block, context, engine)
        if post.problem and post.url is None and post.author is None:
            not_posts += 1  # e.g. a navigation block styled like a post
            continue
        posts.append(post)
    next_link = sel.first(page, engine.topic_next)
    return TopicReading(SELECTORS, posts, sel.first(page, engine.topic_title),
                        context.join(next_link) if next_link else None, not_posts)


def read_post(block, context: PageContext, engine: Engine) -> ReadPost:
    """One post container, read by the engine's selectors."""
    e = engine
    permalink = sel.first(block, e.permalink)
    author = sel.first(block, e.author)
    author_url = sel.first(block, e.author_url)
    post = ReadPost(url=post_url(context.join(permalink), e, context.source_url)
                    if permalink else None,
                    author=author,
                    author_url=context.join(author_url) if author_url else None)
    if post.url is None:
        post.problem = "no_permalink"
        return post
    try:
        post.published_at = context.date(sel.candidates(block, e.date))
    except BadDate as error:
        post.problem, post.detail = "bad_date", str(error)
        return post
    bodies = sel.elements(block, e.body)
    if not bodies:
        post.problem = "no_body"
        return post
    body = bodies[0]
    post.edited = sel.first(block, e.edited)
    if post.edited and e.edited_date:
        try:
            post.edited_at = context.date(sel.candidates(block, e.edited_date))
        except BadDate:
            post.edited_at = None
    for element in sel.all_elements(body, e.body_drop):
        element.drop()
    post.edited = clean_body(body.root) or post.edited
    post.quotes = [_read_quote(quote, engine) for quote in sel.outermost(sel.elements(body,
                                                                                      e.quote))]
    post.body_html = body.get() or ""
    return post


def _read_quote(quote, engine: Engine) -> dict:
    """A quote block → ``{"author", "html"}``, removed from the post's own words. Quotes
    nested in it stay part of its text; their citations are dropped."""
    e = engine
    own = Selector(root=copy.deepcopy(quote.root))
    for nested in sel.elements(own, e.quote):
        if nested.root is not own.root:
            nested.drop()
    cited = sel.first(own, e.quote_author) or ""
    match = re.search(e.quote_author_pattern, cited, flags=re.IGNORECASE)
    author = match.group(1).strip() if match and match.group(1) else None
    for element in sel.all_elements(quote, e.quote_drop):
        element.drop()
    html = quote.get()
    post = quoted_post(quote.root.iter())
    quote.drop()
    return {"author": author, "html": html, "post": post}


def post_url(permalink: str, engine: Engine, source_url: str) -> str:
    """The engine's slug-free permalink for a post (``post_url`` relative to the source's
    URL), where it has one; else the permalink as the page links it."""
    if engine.post_url and engine.post_id_pattern:
        match = re.search(engine.post_id_pattern, permalink)
        if match:
            return urljoin(source_url or permalink, engine.post_url.format(id=match.group(1)))
    return permalink


# -- board pages -------------------------------------------------------------------------------

def read_board(page: Selector, context: PageContext, engine: Engine | None) -> BoardReading:
    """The topics a board page lists and its next page: by the engine's row selectors when
    they find rows, else by structure."""
    if engine is not None:
        rows = sel.elements(page, engine.topic_row)
        if rows:
            topics = [topic for row in rows
                      if (topic := _row_by_selectors(row, page, context, engine)) is not None]
            next_link = sel.first(page, engine.board_next)
            return BoardReading(SELECTORS, topics,
                                context.join(next_link) if next_link else None)
    topics = []
    for row in find_topics(page.root, context.base or context.url):
        last_post = _date_or_none(context, row.dates[::-1])
        parts = [row.replies, last_post or next(iter(row.dates[::-1]), None), row.last_link]
        topics.append(BoardTopic(row.url, parts if any(parts) else None, last_post))
    return BoardReading(STRUCTURE, topics, next_page(page.root, context.base or context.url))


def _row_by_selectors(row, page: Selector, context: PageContext,
                      engine: Engine) -> BoardTopic | None:
    link = sel.first(row, engine.topic_link)
    if not link:
        return None
    url = context.join(link)
    shown = sel.candidates(row, engine.topic_last_date)
    last_post = _date_or_none(context, shown)
    parts = [sel.first(row, engine.topic_replies), last_post or next(iter(shown), None),
             sel.first(row, engine.topic_last_link)]
    return BoardTopic(url, parts if any(parts) else None, last_post)


def _date_or_none(context: PageContext, candidates: list[str]) -> str | None:
    try:
        return context.date(candidates)
    except BadDate:
        return None
