"""Item pipelines, one concern each: clean → dedup → store. Each counts what it does."""

from __future__ import annotations

import logging
from dataclasses import asdict

from scrapy.exceptions import DropItem

import store
from crawlers.dedup import THRESHOLD, band_keys, signature, similarity
from crawlers.items import Mention
from crawlers.text import html_to_text, normalise_text

logger = logging.getLogger(__name__)


def clean_mention(mention: Mention) -> Mention:
    """Turn the spider's HTML into plain text; quoted words stay apart from the author's own."""
    if mention.body_html:
        mention.text = html_to_text(mention.body_html)
        mention.body_html = ""
    else:
        mention.text = normalise_text(mention.text)
    quotes = []
    for quote in mention.quotes:
        text = html_to_text(quote.get("html", "")) or normalise_text(quote.get("text", ""))
        if text:
            quotes.append({"author": quote.get("author") or None, "text": text})
    mention.quotes = quotes
    if mention.title:
        mention.title = normalise_text(mention.title)
    return mention


class CleanPipeline:
    """HTML → text, unicode and whitespace normalised; empty posts are dropped and counted."""

    def __init__(self, crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: Mention) -> Mention:
        item = clean_mention(item)
        if not item.text and not item.quotes:
            self.stats.inc_value("otklik/dropped/empty")
            raise DropItem(f"empty post at {item.url}")
        self.stats.inc_value("otklik/cleaned")
        return item


class DedupPipeline:
    """Drops a post already seen in this crawl (same source and canonical URL) and marks a
    cross-post (near-identical text stored under another URL) with ``duplicate_of``.

    Cross-posts are kept, not dropped: counts skip them, spam detection needs them.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.seen: set[str] = set()
        self.db = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        if self.crawler.settings.getbool("OTKLIK_STORE_ENABLED", True):
            self.db = store.open_db(self.crawler.settings.get("OTKLIK_DB"))

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()

    def process_item(self, item: Mention) -> Mention:
        key = store.mention_id(item.source, item.url)
        if key in self.seen:
            self.stats.inc_value("otklik/dropped/duplicate")
            raise DropItem(f"duplicate post {item.url}")
        self.seen.add(key)
        item.minhash = signature(item.text)
        item.lsh_keys = band_keys(item.minhash) if item.minhash else []
        if self.db is not None and item.minhash:
            item.duplicate_of = find_original(self.db, key, item.minhash, item.lsh_keys)
            if item.duplicate_of:
                self.stats.inc_value("otklik/dedup/near_duplicate")
        return item


def find_original(db, mention_key: str, minhash: bytes, keys: list[int]) -> str | None:
    """The stored post this one repeats (estimated overlap ≥ ``THRESHOLD``), if any."""
    for candidate, candidate_hash in store.near_duplicate_candidates(db, keys, mention_key):
        if candidate_hash and similarity(minhash, candidate_hash) >= THRESHOLD:
            return candidate
    return None


class StorePipeline:
    """Writes each mention through ``store``; a refused mention is logged, counted, skipped."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = crawler.settings.get("OTKLIK_DB")
        self.enabled = crawler.settings.getbool("OTKLIK_STORE_ENABLED", True)
        self.db = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        if not self.enabled:
            return
        self.db = store.open_db(self.db_path)
        source = getattr(self.crawler.spider, "source", None)
        if source is not None:
            store.upsert_source(self.db, source.id, source.kind, source.url, source.title)

    def process_item(self, item: Mention) -> Mention:
        if self.db is None:
            self.stats.inc_value("otklik/stored/skipped_store_off")
            return item
        try:
            outcome = store.upsert_mention(self.db, asdict(item))
        except store.StoreError as error:
            logger.warning("not stored: %s (%s)", error, item.url)
            self.stats.inc_value("otklik/dropped/invalid")
            raise DropItem(str(error)) from None
        self.stats.inc_value(f"otklik/stored/{outcome}")
        return item

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()
