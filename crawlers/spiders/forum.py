"""HTML forums (phpBB, XenForo, vBulletin, SMF, Invision): board → topics → posts.

Every engine is data (``crawlers/engines.yaml``); this spider has no per-engine code.

Source options:

* ``engine`` — ``phpbb`` (default), ``xenforo``, ``vbulletin``, ``smf`` or ``invision``;
* ``boards`` — board URLs, relative to the source ``url`` (default: the ``url`` itself);
* ``timezone`` — the time zone the forum shows its dates in: an IANA name (``Europe/Kyiv``) or
  an offset (``UTC+3``, ``GMT-06:00``; default ``UTC``); used for dates printed without an
  offset (``12.03.2024, 14:05``, ``вчера в 14:05``);
* ``day_first`` — ``true`` when the forum prints ``03/04/2024`` or ``03-04-2024`` day first;
* ``encoding`` — force a page encoding (e.g. ``windows-1251``) for forums that declare a wrong
  one; without it the HTTP header, then ``<meta charset>`` / ``<meta http-equiv>``, decide.

Incremental crawling: a board page shows each topic's reply count and last post; that
signature goes through :meth:`thread_changed`, and only topics that changed are fetched (all
their pages, so edits on earlier pages are caught too). Boards list topics by last activity,
so once a whole board page holds nothing new the board's later pages are not fetched. A topic
whose page failed (HTTP error, truncated page, a post that could not be read) is forgotten, so
the next crawl looks at it again.
"""

from __future__ import annotations

import codecs
import copy
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from urllib.parse import urljoin, urlsplit

import scrapy
from parsel import Selector
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

from crawlers.dates import BadDate, pick_date, timezone
from crawlers.engines import Engine, Selectors, engine
from crawlers.items import Mention
from crawlers.spiders.base import SourceSpider
from crawlers.text import close_runaway_comments

TRUTHY = {"1", "true", "yes", "on"}
PAGE_END = re.compile(rb"</html\s*>", re.IGNORECASE)


class ForumSpider(SourceSpider):
    """Crawls the boards of one forum; see the module docstring for the options."""

    name = "forum"
    source_kind = "forum"

    # -- configuration (from the source's options) -------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        return engine(self.source.options.get("engine") or "phpbb")

    @cached_property
    def tz(self):
        return timezone(self.source.options.get("timezone"))

    @cached_property
    def day_first(self) -> bool:
        return str(self.source.options.get("day_first", "")).strip().lower() in TRUTHY

    @cached_property
    def forced_encoding(self) -> str | None:
        name = self.source.options.get("encoding")
        if not name:
            return None
        try:
            return codecs.lookup(name).name
        except LookupError:
            raise ValueError(f"unknown encoding {name!r} in source {self.source.id!r}") from None

    @cached_property
    def topics_seen(self) -> set[str]:
        """Topics already looked at in this crawl (a sticky topic shows on every page)."""
        return set()

    async def start(self):
        _ = self.engine, self.tz, self.day_first, self.forced_encoding  # fail early on bad options
        boards = self.source.options.get("boards") or [self.source.url]
        if isinstance(boards, str):
            boards = [boards]
        for board in boards:
            yield scrapy.Request(urljoin(self.source.url, board), callback=self.parse_board,
                                 errback=self.board_failed)

    # -- board pages -------------------------------------------------------------------------

    def parse_board(self, response: Response):
        """A board page: each changed topic, then the next page unless nothing here changed."""
        response = self.decoded(response)
        e = self.engine
        rows = _elements(response, e.topic_row)
        if not rows:
            self.count("pages/no_topics")
            return
        now = served_at(response)
        active = 0
        for row in rows:
            link = _first(row, e.topic_link)
            if not link:
                self.count("topics/no_link")
                continue
            url = response.urljoin(link)
            key = self.thread_key(url)
            if key in self.topics_seen:
                continue
            self.topics_seen.add(key)
            signature, last_post = self.row_signature(row, now)
            if last_post and self.too_old(last_post):
                self.count("threads/too_old")
                continue
            if signature is None:
                self.count("threads/no_signature")  # nothing to compare: always look
            elif not self.thread_changed(key, signature):
                continue
            active += 1
            if not self.page_budget_left():
                self.forget_thread(key)
                self.count("threads/over_budget")
                continue
            yield scrapy.Request(url, callback=self.parse_topic, errback=self.topic_failed,
                                 cb_kwargs={"thread": key})
        if not active:
            self.count("boards/stopped_unchanged")  # later pages list older topics
            return
        next_page = _first(response, e.board_next)
        if next_page and self.page_budget_left():
            yield response.follow(next_page, callback=self.parse_board, errback=self.board_failed)

    def row_signature(self, row, now: datetime) -> tuple[list | None, str | None]:
        """What a board row shows of a topic (reply count, last post time and link) and the
        last post time in UTC when it could be read; ``None`` when the row shows nothing."""
        e = self.engine
        shown = _candidates(row, e.topic_last_date)
        try:
            last_post = pick_date(shown, now=now, tz=self.tz, day_first=self.day_first)
        except BadDate:
            last_post = None
        parts = [_first(row, e.topic_replies), last_post or next(iter(shown), None),
                 _first(row, e.topic_last_link)]
        return (parts if any(parts) else None), last_post

    # -- topic pages -------------------------------------------------------------------------

    def parse_topic(self, response: Response, thread: str | None = None):
        """A topic page: every post, then the topic's next page."""
        response = self.decoded(response)
        key = thread or self.thread_key(response.url)
        if not PAGE_END.search(response.body):
            self.skip("truncated_page", response.url)
            self.forget_thread(key)
            return
        self.count("pages/posts_expected")
        e = self.engine
        now = served_at(response)
        title = _first(response, e.topic_title)
        thread_id = self.thread_id(response.url) or key
        complete = True
        posts = _elements(response, e.post)
        for post in posts:
            mention = self.parse_post(response, post, title=title, thread_id=thread_id, now=now)
            if mention is None:
                complete = False
                continue
            self.count("posts/parsed")
            if self.too_old(mention.published_at):
                self.count("posts/too_old")
                continue
            yield mention
        next_page = _first(response, e.topic_next)
        if next_page and self.page_budget_left():
            yield response.follow(next_page, callback=self.parse_topic, errback=self.topic_failed,
                                  cb_kwargs={"thread": key})
        elif next_page:
            complete = False
        if not posts or not complete:
            self.forget_thread(key)  # look at the whole topic again next time

    def parse_post(self, response: Response, post, *, title=None, thread_id=None,
                   now: datetime | None = None) -> Mention | None:
        """One post container → a ``Mention``; a post without permalink, date or body is
        skipped and counted."""
        e = self.engine
        permalink = _first(post, e.permalink)
        if not permalink:
            self.skip("no_permalink", response.url)
            return None
        url = self.post_url(response.urljoin(permalink))
        moment = now or served_at(response)
        try:
            published = pick_date(_candidates(post, e.date), now=moment, tz=self.tz,
                                  day_first=self.day_first)
        except BadDate as error:
            self.skip("bad_date", url, error)
            return None
        bodies = _elements(post, e.body)
        if not bodies:
            self.skip("no_body", url)
            return None
        body = bodies[0]
        edited = _first(post, e.edited)
        edited_at = None
        if edited and e.edited_date:
            try:
                edited_at = pick_date(_candidates(post, e.edited_date), now=moment, tz=self.tz,
                                      day_first=self.day_first)
            except BadDate:
                edited_at = None
        for element in _all_elements(body, e.body_drop):
            element.drop()
        quotes = [self.parse_quote(quote) for quote in _outermost(_elements(body, e.quote))]
        author_url = _first(post, e.author_url)
        metadata = {"edited": edited} if edited else {}
        return Mention(
            source=self.source.id,
            url=url,
            kind="post",
            body_html=body.get() or "",
            quotes=quotes,
            title=title,
            thread_id=thread_id,
            author_handle=_first(post, e.author),
            author_url=response.urljoin(author_url) if author_url else None,
            published_at=published,
            edited_at=edited_at,
            metadata=metadata,
        )

    def parse_quote(self, quote) -> dict:
        """A quote block → ``{"author", "html"}``, removed from the post's own words. Quotes
        nested in it stay part of its text; their citations are dropped."""
        e = self.engine
        own = Selector(root=copy.deepcopy(quote.root))
        for nested in _elements(own, e.quote):
            if nested.root is not own.root:
                nested.drop()
        cited = _first(own, e.quote_author) or ""
        match = re.search(e.quote_author_pattern, cited, flags=re.IGNORECASE)
        author = match.group(1).strip() if match and match.group(1) else None
        for element in _all_elements(quote, e.quote_drop):
            element.drop()
        html = quote.get()
        quote.drop()
        return {"author": author, "html": html}

    # -- URLs, failures, encodings -----------------------------------------------------------

    def thread_id(self, url: str) -> str | None:
        """The topic id in a topic URL (any of its pages), by the engine's pattern."""
        match = re.search(self.engine.thread_id_pattern, url)
        return next((group for group in match.groups() if group), None) if match else None

    def thread_key(self, url: str) -> str:
        """The key a topic's signature is kept under: its id, else its URL path."""
        parts = urlsplit(url)
        return self.thread_id(url) or f"{parts.path}?{parts.query}"

    def post_url(self, permalink: str) -> str:
        """The engine's slug-free permalink for a post, where it has one."""
        e = self.engine
        if e.post_url and e.post_id_pattern:
            match = re.search(e.post_id_pattern, permalink)
            if match:
                return urljoin(self.source.url, e.post_url.format(id=match.group(1)))
        return permalink

    def decoded(self, response: Response) -> Response:
        """The response in the forced encoding, when the source sets one, with every comment
        opener that is never closed (a literal ``<!--`` typed into a post) written as text, so
        it cannot hide the posts after it."""
        if self.forced_encoding:
            response = response.replace(encoding=self.forced_encoding)
        text = close_runaway_comments(response.text)
        if text != response.text:
            self.count("pages/runaway_comments")
            response = response.replace(body=text.encode("utf-8"), encoding="utf-8")
        return response

    def topic_failed(self, failure):
        self._failed(failure)
        self.forget_thread(failure.request.cb_kwargs.get("thread"))

    def board_failed(self, failure):
        self._failed(failure)

    def _failed(self, failure) -> None:
        if failure.check(HttpError):
            response = failure.value.response
            self.skip("http_error", response.url, response.status)
        else:
            self.skip("fetch_failed", failure.request.url, failure.getErrorMessage())


# ---------------------------------------------------------------------------------------------
# Selector helpers: every engine field is a tuple of alternatives (see crawlers/engines.py).

def _query(selection, query: str):
    if query.startswith("xpath:"):
        return selection.xpath(query.removeprefix("xpath:").strip())
    return selection.css(query)


def _elements(selection, queries: Selectors):
    """The elements of the first alternative that matches any."""
    for query in queries:
        found = _query(selection, query)
        if found:
            return found
    return []


def _all_elements(selection, queries: Selectors) -> list:
    """The elements of every alternative."""
    return [element for query in queries for element in _query(selection, query)]


def _value(node) -> str:
    """An attribute or text node's value, or an element's visible text; spaces collapsed."""
    text = node.root if isinstance(node.root, str) else "".join(node.css("::text").getall())
    return " ".join(text.split())


def _first(selection, queries: Selectors) -> str | None:
    """The first non-blank value, trying the alternatives in order."""
    for query in queries:
        for node in _query(selection, query):
            value = _value(node)
            if value:
                return value
    return None


def _candidates(selection, queries: Selectors) -> list[str]:
    """The first non-blank value of each alternative, in order (e.g. a ``datetime``
    attribute, then the visible text)."""
    found = []
    for query in queries:
        value = _first(selection, (query,))
        if value:
            found.append(value)
    return found


def _outermost(quotes):
    """The quotes not nested in another quote of the same post (those are part of it)."""
    elements = {quote.root for quote in quotes}
    return [quote for quote in quotes
            if not any(ancestor in elements for ancestor in quote.root.iterancestors())]


def served_at(response: Response) -> datetime:
    """When the server made the page (its ``Date`` header), the "now" of "2 hours ago" and
    "yesterday"; the current time when the header is missing or unreadable."""
    header = response.headers.get(b"Date")
    if header:
        try:
            moment = parsedate_to_datetime(header.decode("latin-1"))
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)
