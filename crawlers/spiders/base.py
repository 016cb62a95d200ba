"""What every Otklik spider shares: its source's configuration and honest page counts."""

from __future__ import annotations

import scrapy

from config.sources import DEFAULT_SOURCES, load_sources, select_sources


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
        return spider

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
