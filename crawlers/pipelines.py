"""Item pipelines, one concern each: clean → dedup → store. Each counts what it does."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import UTC, datetime

from scrapy.exceptions import DropItem

import store
from crawlers.dates import is_plausible
from crawlers.dedup import THRESHOLD, band_keys, signature, similarity
from crawlers.items import Mention
from crawlers.text import has_visible_text, html_to_text, normalise_text

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


def is_empty(mention: Mention) -> bool:
    """True for a cleaned mention with no visible words of its own and none quoted (only
    spaces, ``&nbsp;``, zero-width characters, line breaks). A title counts only for an
    article, whose headline is its own; a post's or comment's title is its thread's."""
    if has_visible_text(mention.text):
        return False
    if any(has_visible_text(quote["text"]) for quote in mention.quotes):
        return False
    return not (mention.kind == "article" and has_visible_text(mention.title or ""))


class CleanPipeline:
    """HTML → text, unicode and whitespace normalised; empty posts (see ``is_empty``) are
    skipped and counted; an implausible date is forgotten and counted."""

    def __init__(self, crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: Mention) -> Mention:
        item = clean_mention(item)
        if is_empty(item):
            self.stats.inc_value("otklik/skipped/empty")
            raise DropItem(f"empty post at {item.url}")
        self.stats.inc_value("otklik/cleaned")
        self.forget_implausible_date(item)
        return item

    def forget_implausible_date(self, item: Mention) -> None:
        """A date far in the future or before 1990 is a misread one: store the post without
        a date rather than let it move every period that ends at the latest post."""
        if item.published_at and not is_plausible(item.published_at, now=datetime.now(UTC)):
            logger.warning("implausible date %s of %s: stored without a date",
                           item.published_at, item.url)
            self.stats.inc_value("otklik/dates/implausible")
            item.published_at = None


class DedupPipeline:
    """Drops a post already seen in this crawl (same source and canonical URL) and marks a
    cross-post (near-identical text stored under another URL) with ``duplicate_of``.

    Cross-posts are kept, not dropped: counts skip them, spam detection needs them.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.seen: set[str] = set()
        self.recent: dict[int, list[tuple[str, bytes]]] = defaultdict(list)
        self.db = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        if not self.crawler.settings.getbool("OTKLIK_STORE_ENABLED", True):
            return
        db = store.open_db(self.crawler.settings.get("OTKLIK_DB"))
        if store.count_mentions(db) == 0:
            db.close()  # nothing stored before: this crawl's own index is enough
        else:
            self.db = db

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
        if not item.minhash:
            return item
        item.lsh_keys = band_keys(item.minhash)
        this_crawl = [entry for band in item.lsh_keys for entry in self.recent.get(band, ())]
        item.duplicate_of = first_repeated(this_crawl, key, item.minhash)
        if item.duplicate_of is None and self.db is not None:
            stored = store.near_duplicate_candidates(self.db, item.lsh_keys, key)
            item.duplicate_of = first_repeated(stored, key, item.minhash)
        if item.duplicate_of:
            self.stats.inc_value("otklik/dedup/near_duplicate")
        else:
            for band in item.lsh_keys:
                self.recent[band].append((key, item.minhash))
        return item


def first_repeated(candidates, mention_key: str, minhash: bytes) -> str | None:
    """The first candidate ``(id, minhash)`` this post repeats (estimated overlap of at least
    ``THRESHOLD``), other than itself."""
    for candidate, candidate_hash in candidates:
        if candidate != mention_key and candidate_hash and (
                similarity(minhash, candidate_hash) >= THRESHOLD):
            return candidate
    return None


class StorePipeline:
    """Writes mentions through ``store`` in batches (one transaction each, so storing stays a
    small share of crawl time); a refused mention is logged, counted and skipped alone.

    A batch the database cannot take now (locked by another writer past the busy timeout,
    a deadlock another writer won, disk full) is never dropped: it is tried again with
    growing pauses, and kept for the next flush while it fails; what is still unwritten when
    the spider closes is counted as ``otklik/store/failed``, which fails the crawl and keeps
    its threads to look at again.
    """

    BATCH_SIZE = 200
    BATCH_SECONDS = 1.0
    RETRY_SECONDS = 5.0
    RETRY_PAUSES = (0.5, 1, 2, 4, 8, 15)

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = crawler.settings.get("OTKLIK_DB")
        self.enabled = crawler.settings.getbool("OTKLIK_STORE_ENABLED", True)
        self.db = None
        self.batch: list[dict] = []
        self.last_flush = time.monotonic()
        self.retry_at = 0.0

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
        self.batch.append(asdict(item))
        now = time.monotonic()
        if now >= self.retry_at and (len(self.batch) >= self.BATCH_SIZE
                                     or now - self.last_flush >= self.BATCH_SECONDS):
            self.flush()
        return item

    def flush(self, pauses=()) -> None:
        """Write the buffered mentions, trying again after each of ``pauses`` (seconds) while
        the database refuses; a batch still unwritten stays buffered for the next flush."""
        self.last_flush = time.monotonic()
        if not self.batch:
            return
        for pause in (*pauses, None):
            try:
                outcomes = write_batch(self.db, self.batch)
            except store.TRANSIENT_ERRORS as error:
                self.stats.inc_value("otklik/store/retried")
                if pause is None:
                    logger.warning("%d posts not stored yet, kept to try again: %s",
                                   len(self.batch), error)
                    self.retry_at = time.monotonic() + self.RETRY_SECONDS
                    return
                time.sleep(pause)
                continue
            self.batch = []
            for outcome, count in outcomes.items():
                key = ("otklik/dropped/invalid" if outcome == "invalid"
                       else f"otklik/stored/{outcome}")
                self.stats.inc_value(key, count)
            return

    def write_buffered(self) -> bool:
        """Write the buffered posts now, unless the database refused them moments ago; True
        when every post read so far is in the store."""
        if self.db is None:
            return True
        if time.monotonic() >= self.retry_at:
            self.flush()
        return not self.batch

    def close_spider(self) -> None:
        if self.db is None:
            return
        self.flush(self.RETRY_PAUSES)
        if self.batch:
            logger.error("%d posts could not be stored: the database refused every try",
                         len(self.batch))
            self.stats.inc_value("otklik/store/failed", len(self.batch))
        self.db.close()


def write_batch(db, batch: list[dict]) -> Counter:
    """Store ``batch`` in one transaction; if a mention is refused, store them one by one
    and count the refused ones as ``invalid``. Database errors (locked, disk full) propagate
    with nothing of the batch written."""
    try:
        return store.upsert_mentions(db, batch)
    except store.StoreError:
        pass
    outcomes: Counter = Counter()
    for mention in batch:
        try:
            outcomes[store.upsert_mention(db, mention)] += 1
        except store.StoreError as error:
            logger.warning("not stored: %s (%s)", error, mention.get("url"))
            outcomes["invalid"] += 1
    return outcomes
