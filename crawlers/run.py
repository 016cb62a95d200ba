"""Running the configured sources' spiders in one process: the API behind ``otklik crawl``."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from config.sources import SourceConfig
from store.locks import LockBusy, describe_holder, hold

logger = logging.getLogger(__name__)
RUNNING = "RUNNING"
BUSY = "busy"


def parse_setting(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` → ``(NAME, VALUE)``; Scrapy converts the value where it reads it."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or name.strip() != name.strip().upper():
        raise ValueError(f"setting {text!r} is not NAME=VALUE with an upper-case NAME")
    return name.strip(), value.strip()


def crawl_settings(db_path: str | Path, sources_path: str | Path, **overrides):
    """Project settings with Otklik's paths and any overrides applied."""
    settings = get_project_settings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.set("OTKLIK_DB", str(db_path), priority="cmdline")
    settings.set("OTKLIK_SOURCES", str(sources_path), priority="cmdline")
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    return settings


def crawl_sources(
    sources: list[SourceConfig],
    *,
    db_path: str | Path,
    sources_path: str | Path,
    jobs_dir: str | Path | None = None,
    on_item: Callable[[str], None] | None = None,
    redis_url: str | None = None,
    **overrides,
) -> dict[str, dict]:
    """Crawl ``sources`` to the end and return each one's final stats.

    A source that another process is crawling right now is left to it: its stats are
    ``{"finish_reason": "busy", "otklik/busy": who}``. With ``jobs_dir``, each source keeps
    its request queue in ``jobs_dir/<id>`` (Scrapy's ``JOBDIR``), so a killed crawl resumes
    where it stopped.

    With ``redis_url``, this process is one worker of a crawl fleet (:mod:`crawlers.fleet`):
    each source's frontier is shared in Redis with every other worker, so neither the
    per-source lock nor ``jobs_dir`` apply. An unusable Redis raises :class:`CrawlFailed`
    before any crawling.
    """
    if redis_url:
        check_redis(redis_url)
        return _run_spiders(sources, db_path, sources_path, None, on_item, overrides, redis_url)
    with ExitStack() as held:
        results: dict[str, dict] = {}
        mine = []
        for source in sources:
            try:
                held.enter_context(hold(db_path, f"crawl-{source.id}",
                                        f"otklik crawl {source.id}"))
            except LockBusy as busy:
                logger.warning("source %s is being crawled by %s; left to it", source.id,
                               describe_holder(busy.holder))
                results[source.id] = {"finish_reason": BUSY,
                                      "otklik/busy": describe_holder(busy.holder)}
                continue
            mine.append(source)
        if mine:
            results |= _run_spiders(mine, db_path, sources_path, jobs_dir, on_item, overrides)
    return {source.id: results[source.id] for source in sources}


def check_redis(url: str) -> None:
    """Raise :class:`CrawlFailed` saying why, unless a Redis server answers at ``url``."""
    from crawlers.frontier import FleetUnavailable, connect

    try:
        connect(url).close()
    except FleetUnavailable as error:
        raise CrawlFailed(str(error)) from None


def _run_spiders(sources, db_path, sources_path, jobs_dir, on_item, overrides,
                 redis_url=None) -> dict:
    settings = crawl_settings(db_path, sources_path, **overrides)
    process = CrawlerProcess(settings)
    loader = SpiderLoader.from_settings(settings)
    crawlers: dict[str, Crawler] = {}
    for source in sources:
        try:
            spider_class = loader.load(source.kind)
        except KeyError:
            raise ValueError(
                f"source {source.id!r} has kind {source.kind!r}, which no spider crawls; "
                f"known kinds: {', '.join(sorted(loader.list()))}"
            ) from None
        crawler = process.create_crawler(spider_class)
        if redis_url:
            from crawlers.fleet import fleet_settings

            crawler.settings.update(fleet_settings(settings, redis_url, source.id),
                                    priority="cmdline")
        if jobs_dir:
            job = prepare_job_dir(Path(jobs_dir) / source.id)
            crawler.settings.set("JOBDIR", str(job), priority="cmdline")
        if on_item:
            crawler.signals.connect(
                lambda *_, _id=source.id, **__: on_item(_id), signal=signals.item_scraped
            )
        crawlers[source.id] = crawler
        process.crawl(crawler, source=source.id)
    process.start()
    results = {source_id: _final_stats(crawler) for source_id, crawler in crawlers.items()}
    if jobs_dir:
        for source_id, stats in results.items():
            finish_job_dir(Path(jobs_dir) / source_id, stats.get("finish_reason"))
    failed = [source_id for source_id, stats in results.items() if "finish_reason" not in stats]
    if failed:
        raise CrawlFailed(f"the crawl of {', '.join(failed)} did not run to the end; see the log")
    return results


def _final_stats(crawler: Crawler) -> dict:
    """A crawler's stats at its end; none for one whose spider could not even be created."""
    try:
        return crawler.stats.get_stats()
    except RuntimeError:  # Scrapy sets the stats only once the spider exists
        return {}


def prepare_job_dir(job: Path) -> Path:
    """Make ``job`` ready for Scrapy's ``JOBDIR``.

    A crawl stopped gracefully (Ctrl-C, SIGTERM) leaves its queue there and resumes from it.
    A crawl killed hard leaves the ``RUNNING`` marker behind: its queue may have lost requests,
    so it starts over (stored posts are kept; upserts make the re-crawl add no duplicates).
    """
    if (job / RUNNING).exists():
        logger.warning("the last crawl in %s was killed hard; starting it over", job)
        shutil.rmtree(job)
    job.mkdir(parents=True, exist_ok=True)
    (job / RUNNING).touch()
    return job


def finish_job_dir(job: Path, finish_reason: str | None) -> None:
    """After a crawl: a finished one needs no queue (the next crawl starts from the store's
    state); one stopped gracefully keeps its queue to resume."""
    if finish_reason == "finished":
        shutil.rmtree(job, ignore_errors=True)
    else:
        (job / RUNNING).unlink(missing_ok=True)


class CrawlFailed(RuntimeError):
    """A spider could not start or stopped on an error."""
