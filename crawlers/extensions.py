"""Records every crawl as a run of its source: counts, outcome and health flags."""

from __future__ import annotations

from scrapy import signals

import store
from crawlers.spiders.base import THREADS_STATE

LAYOUT_CHANGED = "layout changed"
UNREADABLE = "unreadable"
STORE_FAILED = "store failed"


def health_flags(stats: dict, stored_before: int) -> list[str]:
    """Flags for a finished crawl. Pages that should hold posts (or a board's topics) gave
    none: if posts were found there before, the site's markup changed (``layout changed``);
    if the source never gave a post, it is ``unreadable``, with the reason."""
    no_topics = stats.get("otklik/pages/no_topics", 0)
    topic_pages = stats.get("otklik/pages/posts_expected", 0)
    parsed = stats.get("otklik/posts/parsed", 0)
    if no_topics + topic_pages == 0 or parsed > 0:
        return []
    if stored_before > 0:
        return [LAYOUT_CHANGED]
    return [f"{UNREADABLE}: {unreadable_reason(stats)}"]


def unreadable_reason(stats: dict) -> str:
    """Why a crawl read no post, in words: which step found nothing, and the skips."""
    engine = next((key.removeprefix("otklik/engine/") for key in stats
                   if key.startswith("otklik/engine/")), None)
    skips = sorted(((key.removeprefix("otklik/skipped/"), count) for key, count in stats.items()
                    if key.startswith("otklik/skipped/")), key=lambda item: -item[1])
    topic_pages = stats.get("otklik/pages/posts_expected", 0)
    if topic_pages == 0:
        found = (f"the {engine} selectors and the page structure" if engine and engine
                 != "unknown" else "the page structure")
        reason = (f"{stats.get('otklik/pages/no_topics', 0)} board page(s) listed no topic "
                  f"that {found} could find")
    else:
        reason = f"{topic_pages} topic page(s) held no readable post"
    if skips:
        reason += "; skipped: " + ", ".join(f"{name} {count}" for name, count in skips[:4])
    return reason


def run_status(reason: str, stats: dict) -> str:
    """``finished`` only for a crawl that ran to its end and stored every post it read;
    ``store failed`` when posts could not be written (its threads are looked at again);
    otherwise Scrapy's close reason (``shutdown`` for Ctrl-C…)."""
    if stats.get("otklik/store/failed"):
        return STORE_FAILED
    return reason


class CrawlRunRecorder:
    """Opens a crawl run when a source spider starts and closes it with its stats."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.db_path = crawler.settings.get("OTKLIK_DB")
        self.run_id = None
        self.stored_before = 0

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        source = getattr(spider, "source", None)
        if source is None or not self.crawler.settings.getbool("OTKLIK_STORE_ENABLED", True):
            return
        with store.open_db(self.db_path) as db:
            store.upsert_source(db, source.id, source.kind, source.url, source.title)
            self.stored_before = store.count_mentions(db, source.id)
            self.run_id = store.start_run(db, source.id)

    def spider_closed(self, spider, reason: str) -> None:
        if self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        flags = health_flags(stats, self.stored_before)
        status = run_status(reason, stats)
        with store.open_db(self.db_path) as db:
            if status == "finished":
                if getattr(spider, "seen_threads", None):
                    store.merge_state(db, spider.source.id, THREADS_STATE, spider.seen_threads)
                for key, value in spider.state_to_save().items():
                    store.set_state(db, spider.source.id, key, value)
            store.finish_run(db, self.run_id, status, _summary(stats), flags)
        if flags:
            spider.logger.warning("source %s: %s", spider.source.id, ", ".join(flags))
            self.crawler.stats.set_value("otklik/flags", flags)


def _summary(stats: dict) -> dict:
    keep = ("otklik/", "item_scraped_count", "item_dropped_count", "response_received_count",
            "log_count/ERROR", "downloader/response_status_count/")
    return {key: value for key, value in stats.items() if key.startswith(keep)}
