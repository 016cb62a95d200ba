"""HTML forums of any engine: board → topics → posts.

Engines with selectors (``crawlers/engines.yaml``: phpBB, XenForo, vBulletin, SMF, Invision)
are read by them when they fit the page; any page they do not fit, and any other engine
(MyBB, FluxBB, Vanilla, uCoz, custom styles…), is read from its structure
(``crawlers/structure.py``). The spider has no per-engine code.

Source options:

* ``engine`` — an engine of ``crawlers/engines.yaml``; by default it is detected from the
  first page (generator tag, class names, URL shapes);
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
the next crawl looks at it again. A block that only looks like a post (a navigation bar)
is left out and counted without making its topic incomplete.

Page budget: ``max_pages`` caps the requests of one crawl. Pages left over (later pages of a
topic, later board pages, topics not yet opened) are kept in the crawl state and fetched
first by the next crawl, so deep topics complete over successive crawls. The first message
of a topic is kind ``post``, the others ``reply``.
"""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import get_base_url

from crawlers.dates import timezone
from crawlers.detect import detect_engine
from crawlers.encoding import BadEncoding
from crawlers.engines import Engine, engines
from crawlers.forum_pages import PageContext, read_board, read_topic, thread_id
from crawlers.items import Mention
from crawlers.spiders.base import SourceSpider
from crawlers.text import close_runaway_comments

TRUTHY = {"1", "true", "yes", "on"}
PAGE_END = re.compile(rb"</html\s*>", re.IGNORECASE)
LEFTOVER_STATE = "leftover_pages"


class ForumSpider(SourceSpider):
    """Crawls the boards of one forum; see the module docstring for the options."""

    name = "forum"
    source_kind = "forum"

    # -- configuration (from the source's options) -------------------------------------------

    def configure(self) -> None:
        name = self.source.options.get("engine")
        if name and name not in engines():
            raise ValueError(f"unknown forum engine {name!r} in source {self.source.id!r}; "
                             f"known: {', '.join(sorted(engines()))} (or leave it out to "
                             "detect it)")
        _ = self.tz, self.day_first, self.forced_encoding  # fail early on bad options
        self.scheduled = 0
        self.leftover: list[dict] = []
        self.detected: str | None = name or None

    @property
    def engine(self) -> Engine | None:
        """The selectors to try first: the configured engine's, else the detected one's."""
        return engines().get(self.detected) if self.detected else None

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
        saved = self.saved_state(LEFTOVER_STATE, [])
        if saved:
            self.count("pages/carried_over", len(saved))
        for page in saved:
            if page.get("kind") == "topic":
                self.topics_seen.add(page["thread"])
                request = self.fetch(page["url"], "topic", thread=page["thread"],
                                     first=page.get("first", False))
            else:
                request = self.fetch(page["url"], "board")
            if request is not None:
                yield request
        boards = self.source.options.get("boards") or [self.source.url]
        for board in [boards] if isinstance(boards, str) else boards:
            request = self.fetch(urljoin(self.source.url, board), "board")
            if request is not None:
                yield request

    # -- the page budget ----------------------------------------------------------------------

    def fetch(self, url: str, kind: str, **cb_kwargs) -> scrapy.Request | None:
        """A request for a board or topic page while the budget lasts; past it, the page is
        kept for the next crawl and ``None`` returned."""
        if self.scheduled >= self.max_pages:
            self.leftover.append({"url": url, "kind": kind, **cb_kwargs})
            self.count("pages/left_over")
            return None
        self.scheduled += 1
        if kind == "topic":
            return scrapy.Request(url, callback=self.parse_topic, errback=self.topic_failed,
                                  cb_kwargs=cb_kwargs)
        return scrapy.Request(url, callback=self.parse_board, errback=self.board_failed)

    def state_to_save(self) -> dict:
        """Saved when the crawl finishes: the pages it had no budget for."""
        return {LEFTOVER_STATE: self.leftover}

    # -- board pages -------------------------------------------------------------------------

    def parse_board(self, response: Response):
        """A board page: each changed topic, then the next page unless nothing here changed."""
        response = self.decoded(response)
        reading = read_board(response.selector, self.context(response), self.engine)
        if not reading.topics:
            self.count("pages/no_topics")
            return
        self.count(f"strategy/board_{reading.strategy}")
        active = 0
        for topic in reading.topics:
            key = self.thread_key(topic.url)
            if key in self.topics_seen:
                continue
            self.topics_seen.add(key)
            if topic.last_post and self.too_old(topic.last_post):
                self.count("threads/too_old")
                continue
            if topic.signature is None:
                self.count("threads/no_signature")  # nothing to compare: always look
            elif not self.thread_changed(key, topic.signature):
                continue
            active += 1
            request = self.fetch(topic.url, "topic", thread=key, first=True)
            if request is not None:
                yield request
        if not active:
            self.count("boards/stopped_unchanged")  # later pages list older topics
            return
        if reading.next_url:
            request = self.fetch(reading.next_url, "board")
            if request is not None:
                yield request

    # -- topic pages -------------------------------------------------------------------------

    def parse_topic(self, response: Response, thread: str | None = None, first: bool = False):
        """A topic page: every post, then the topic's next page."""
        response = self.decoded(response)
        key = thread or self.thread_key(response.url)
        if not PAGE_END.search(response.body):
            self.skip("truncated_page", response.url)
            self.forget_thread(key)
            return
        self.count("pages/posts_expected")
        reading = read_topic(response.selector, self.context(response), self.engine)
        self.count(f"strategy/{reading.strategy}")
        if reading.not_posts:
            self.count("pages/not_post_blocks", reading.not_posts)
        complete = bool(reading.posts)
        for number, post in enumerate(reading.posts):
            if post.problem:
                self.skip(post.problem, post.url or response.url, post.detail)
                complete = False
                continue
            self.count("posts/parsed")
            if self.too_old(post.published_at):
                self.count("posts/too_old")
                continue
            yield Mention(
                source=self.source.id, url=post.url,
                kind="post" if first and number == 0 else "reply",
                body_html=post.body_html, quotes=post.quotes, title=reading.title,
                thread_id=thread_id(response.url, self.engine) or key,
                author_handle=post.author, author_url=post.author_url,
                parent_url=post.parent_url,
                published_at=post.published_at, edited_at=post.edited_at,
                metadata={"edited": post.edited} if post.edited else {})
        if reading.next_url:
            request = self.fetch(reading.next_url, "topic", thread=key)
            if request is not None:
                yield request
        if not complete:
            self.forget_thread(key)  # look at the whole topic again next time

    # -- URLs, failures, encodings -----------------------------------------------------------

    def context(self, response: Response) -> PageContext:
        return PageContext(response.url, served_at(response), self.tz, self.day_first,
                           self.source.url, get_base_url(response))

    def thread_key(self, url: str) -> str:
        """The key a topic's signature is kept under: its id, else its URL path."""
        parts = urlsplit(url)
        return thread_id(url, self.engine) or f"{parts.path}?{parts.query}"

    def decoded(self, response: Response) -> Response:
        """The response in the forced encoding, when the source sets one, with every comment
        opener that is never closed (a literal ``<!--`` typed into a post) written as text, so
        it cannot hide the posts after it. The first page read tells the engine, when the
        source does not name it."""
        if self.forced_encoding:
            response = response.replace(encoding=self.forced_encoding)
        text = close_runaway_comments(response.text)
        if text != response.text:
            self.count("pages/runaway_comments")
            response = response.replace(body=text.encode("utf-8"), encoding="utf-8")
        if self.detected is None:
            self.detected = detect_engine(response.text, response.url) or ""
            self.count(f"engine/{self.detected or 'unknown'}")
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
            reason = "bad_encoding" if failure.check(BadEncoding) else "fetch_failed"
            self.skip(reason, failure.request.url, failure.getErrorMessage())


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
