"""What every Otklik spider shares: its source's configuration and honest page counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

import store
from config.sources import DEFAULT_SOURCES, load_sources, select_sources
from crawlers.encoding import BadEncoding

THREADS_STATE = "threads"
THREAD_FORGOTTEN = object()  # signal, with thread_key: the thread is to be looked at again


class SourceSpider(scrapy.Spider):
    """A spider crawling one configured source: ``scrapy crawl KIND -a source=ID``."""

    source_kind = ""

    @classmethod
    def from_crawler(cls, crawler, *args, source: str | None = None, **kwargs):
        if not source:
            raise ValueError(f"spider {cls.name!r} needs -a source=ID from the sources file")
        path = crawler.settings.get("OTKLIK_SOURCES") or DEFAULT_SOURCES
        (config,) = select_sources(load_sources(path), [source])
        if config.kind != cls.source_kind:
            raise ValueError(
                f"source {config.id!r} is of kind {config.kind!r}, not {cls.source_kind!r}"
            )
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.source = config
        spider.max_pages = config.max_pages
        spider.since = datetime.now(UTC) - timedelta(days=config.since_days)
        spider.seen_threads = {}
        spider._db = None
        spider._known_threads = None
        spider.catching_up = spider.db is not None and not store.last_run_complete(
            spider.db, config.id)
        if spider.catching_up:
            crawler.signals.connect(spider._catch_up, signal=signals.spider_opened)
        spider.configure()
        return spider

    def _catch_up(self) -> None:
        self.logger.warning("the last crawl of %s did not finish: paging on past stored posts "
                            "to fetch what it missed", self.source.id)
        self.count("catching_up")

    def configure(self) -> None:
        """Read the source's own options (``self.source.options``); a wrong one raises
        ``ValueError`` here, so the crawl fails before any request. Spiders override it."""

    @property
    def db(self):
        """A connection to the store for reading what is already there (``None`` with the
        store switched off, e.g. in benchmarks)."""
        if self._db is None and self.settings.getbool("OTKLIK_STORE_ENABLED", True):
            self._db = store.open_db(self.settings.get("OTKLIK_DB"))
        return self._db

    def is_stored(self, url: str) -> bool:
        """True if the post at ``url`` is already in the store: incremental crawls stop
        paging back once they reach such posts. After a crawl that did not finish, nothing
        counts as stored, so that this crawl pages on to what the last one missed."""
        return (self.db is not None and not self.catching_up
                and store.is_stored(self.db, self.source.id, url))

    def thread_changed(self, thread_key: str, signature: object) -> bool:
        """True if a thread (topic, post with comments, …) looks different from the last
        finished crawl: ``signature`` is what the listing shows of it (reply count, last post
        time). The new signature is saved only when this crawl finishes, so a killed crawl
        looks at the thread again."""
        if self._known_threads is None:
            stored = store.get_state(self.db, self.source.id, THREADS_STATE, {}) if self.db else {}
            self._known_threads = stored
        signature = _jsonable(signature)
        self.seen_threads[thread_key] = signature
        changed = self._known_threads.get(thread_key) != signature
        if not changed:
            self.count("threads/unchanged")
        return changed

    def saved_state(self, key: str, default: object = None) -> object:
        """A value this source's last finished crawl saved (see :meth:`state_to_save`)."""
        return store.get_state(self.db, self.source.id, key, default) if self.db else default

    def state_to_save(self) -> dict:
        """Values to keep for the next crawl, saved only when this one finishes with every
        post stored (a crawl that did not finish leaves the earlier values in place)."""
        return {}

    def forget_thread(self, thread_key: str) -> None:
        """Do not save this thread's signature: a page of it failed, so look again next time."""
        self.seen_threads.pop(thread_key, None)
        self.crawler.signals.send_catch_log(THREAD_FORGOTTEN, thread_key=thread_key)

    def too_old(self, published_at: str | None) -> bool:
        """True for a post published before the source's ``since_days`` window."""
        if not published_at:
            return False
        return datetime.fromisoformat(published_at) < self.since

    def closed(self, reason: str) -> None:
        if self._db is not None:
            self._db.close()

    def count(self, key: str, amount: int = 1) -> None:
        """Add to an ``otklik/…`` counter of this crawl's stats."""
        self.crawler.stats.inc_value(f"otklik/{key}", amount)

    def skip(self, reason: str, url: str, detail: object = "") -> None:
        """Log and count a page or post that could not be used; the crawl goes on."""
        self.logger.warning("skipped (%s) %s %s", reason, url, detail)
        self.count(f"skipped/{reason}")

    def page_budget_left(self) -> bool:
        """True while this crawl has fetched fewer pages than the source allows."""
        return self.crawler.stats.get_value("response_received_count", 0) < self.max_pages


def failure_reason(failure) -> str:
    """``http_error`` (a 4xx/5xx answer), ``bad_encoding`` (a page no encoding reads
    cleanly), ``ignored`` (refused before sending, e.g. by robots.txt) or ``request_failed``
    (DNS, timeout, lost connection)."""
    if failure.check(HttpError):
        return "http_error"
    if failure.check(BadEncoding):
        return "bad_encoding"
    if failure.check(IgnoreRequest):
        return "ignored"
    return "request_failed"


def _jsonable(value: object) -> object:
    """Signatures are compared after a JSON round trip (tuples become lists)."""
    return json.loads(json.dumps(value, default=str))
