"""A crawl fleet: many ``otklik crawl --redis URL`` processes share one frontier per source.

Each source's spider runs on scrapy-redis's scheduler with keys of its own source (several
sources share one spider kind); :mod:`crawlers.frontier` holds the Redis side. A worker:

* joins the source's crawl round; the first one queues the start requests, the others
  take their share of the queue (start requests are never fetched by two workers);
* keeps each request it takes as its own in Redis until the request is handled and the
  posts it gave are stored, and beats a heartbeat; when a worker's heartbeat expires,
  another one puts its requests back in the queue;
* when it runs out of work, stops only once the round is complete (the queue is empty and
  no other worker holds a request); the round's dupefilter is then cleared.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket

import redis
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from scrapy.http import Request
from scrapy.utils.asyncio import create_looping_call
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawlers.frontier import DONE, SEED, Frontier, connect, source_prefix
from crawlers.spiders.base import THREAD_FORGOTTEN

logger = logging.getLogger(__name__)
BEATS_PER_TIMEOUT = 5
MAX_BEAT_SECONDS = 0.5
REDIS_LOST = "fleet Redis unavailable"  # the close reason: the round's end cannot be known


def fleet_settings(settings, redis_url: str, source_id: str) -> dict:
    """The settings that make one source's crawler a fleet worker on ``redis_url``."""
    return {
        "OTKLIK_REDIS": redis_url,
        "OTKLIK_FLEET_PREFIX": source_prefix(source_id),
        "SCHEDULER": "crawlers.fleet.FleetScheduler",
        "SPIDER_MIDDLEWARES": {**settings.getdict("SPIDER_MIDDLEWARES"),
                               "crawlers.fleet.FleetStartMiddleware": 30},
        "DOWNLOADER_MIDDLEWARES": {**settings.getdict("DOWNLOADER_MIDDLEWARES"),
                                   "crawlers.polite.SharedDomainDelayMiddleware": 960},
    }


def worker_id() -> str:
    """``host:pid:random``: unique among the workers of every machine."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class ClaimingQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop moves the request to the worker's own
    processing set (``claims`` maps each popped request to its encoded form), and whose push
    checks the dupefilter in the same Redis step, so that a worker killed in between never
    leaves a request marked seen but not queued."""

    def __init__(self, server, spider, key, frontier: Frontier):
        super().__init__(server, spider, key)
        self.frontier = frontier
        self.claims: dict[Request, bytes] = {}

    def push_unseen(self, request: Request, fingerprint: str | None) -> bool:
        """Queue ``request`` unless ``fingerprint`` was seen this round (see
        :meth:`Frontier.enqueue`)."""
        return self.frontier.enqueue(self._encode_request(request), -request.priority,
                                     fingerprint)

    def pop(self, timeout=0):
        data = self.frontier.claim()
        if data is None:
            return None
        request = self._decode_request(data)
        self.claims[request] = data
        return request


class FleetScheduler(Scheduler):
    """scrapy-redis's scheduler for one source of a crawl fleet (see the module docstring)."""

    def __init__(self, crawler, frontier: Frontier):
        super().__init__(frontier.server, persist=True, queue_key=frontier.requests_key,
                         dupefilter=RFPDupeFilter(frontier.server, frontier.dupefilter_key))
        self.crawler, self.frontier = crawler, frontier
        self.crawl_stats = crawler.stats
        self.round, self.seeding = 0, False
        self.start_requests: list[Request] = []
        self.beat_seconds = min(MAX_BEAT_SECONDS, frontier.timeout_ms / 1000 / BEATS_PER_TIMEOUT)
        self.ticker = create_looping_call(self._tick)
        self._store = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        frontier = Frontier(connect(settings["OTKLIK_REDIS"]), settings["OTKLIK_FLEET_PREFIX"],
                            worker_id(), settings.getfloat("OTKLIK_FLEET_WORKER_TIMEOUT"))
        scheduler = cls(crawler, frontier)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(scheduler.thread_forgotten, signal=THREAD_FORGOTTEN)
        return scheduler

    # -- Scrapy's scheduler interface ---------------------------------------------------------

    def open(self, spider):
        self.spider = spider
        self.queue = ClaimingQueue(self.server, spider, self.queue_key, self.frontier)
        self.round, self.seeding = self.frontier.join()
        self.crawl_stats.set_value("otklik/fleet/worker", self.frontier.worker)
        self.crawl_stats.set_value("otklik/fleet/round", self.round)
        logger.info("fleet worker %s joined round %d of %s%s", self.frontier.worker,
                    self.round, self.frontier.prefix, " (queueing the start requests)"
                    if self.seeding else "")
        self.ticker.start(self.beat_seconds, now=False)

    def close(self, reason):
        if self.ticker.running:
            self.ticker.stop()
        if not self.crawl_stats.get_value("otklik/store/failed"):
            self._release_finished()  # else the next worker fetches them again
        requeued = self.frontier.leave()
        if requeued:
            logger.warning("%d requests of %s not finished here went back to the queue",
                           requeued, self.frontier.prefix)

    def enqueue_request(self, request):
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        if not self.queue.push_unseen(request, fingerprint):
            self.df.log(request, self.spider)
            return False
        self.crawl_stats.inc_value("otklik/fleet/queued")
        return True

    def next_request(self):
        request = self.queue.pop()
        if request is not None:
            self.crawl_stats.inc_value("otklik/fleet/claimed")
        return request

    # -- seeding ------------------------------------------------------------------------------

    def seeded(self) -> None:
        """This worker has queued every start request of the round."""
        self.frontier.mark_seeded(self.round)
        self.seeding = False

    # -- the round's end ----------------------------------------------------------------------

    def spider_idle(self, spider) -> None:
        """Out of work here: stop if the round is complete, else wait for the others."""
        try:
            self._release_finished()
            verdict, requeued = self.frontier.settle(self.round)
        except redis.RedisError as error:
            raise CloseSpider(f"{REDIS_LOST}: {error}") from None
        if requeued:
            logger.warning("%d requests of a stopped worker of %s went back to the queue",
                           requeued, self.frontier.prefix)
            self.crawl_stats.inc_value("otklik/fleet/requeued", requeued)
        if verdict == DONE:
            for thread_key in self.frontier.forgotten_threads(self.round):
                spider.seen_threads.pop(thread_key, None)
            return
        if verdict == SEED:
            logger.warning("the worker queueing the start requests of %s stopped; queueing "
                           "them here", self.frontier.prefix)
            for request in self.start_requests:
                self.crawler.engine.crawl(request)
            self.seeded()
        raise DontCloseSpider

    def thread_forgotten(self, thread_key: str | None) -> None:
        if thread_key:
            self.frontier.forget_thread(self.round, thread_key)

    # -- heartbeat and releases ---------------------------------------------------------------

    def _tick(self) -> None:
        try:
            self.frontier.beat()
            self._release_finished()
        except redis.RedisError as error:
            logger.warning("Redis of the crawl fleet did not answer: %s", error)
            return
        _wake(self.crawler.engine)  # take the requests other workers queued meanwhile

    def _release_finished(self) -> None:
        """Release the claimed requests the engine has finished with, once the posts they
        gave are in the store."""
        claims = self.queue.claims
        in_progress = _in_progress(self.crawler.engine)
        finished = [request for request in claims if request not in in_progress]
        if finished and self._store_written():
            self.frontier.release([claims.pop(request) for request in finished])

    def _store_written(self) -> bool:
        if self._store is None:
            pipelines = self.crawler.engine.scraper.itemproc.middlewares
            self._store = next((pipe for pipe in pipelines if hasattr(pipe, "write_buffered")),
                               False)
        return not self._store or self._store.write_buffered()


# Scrapy has no public API for these two: the requests the engine has taken from the
# scheduler and not finished handling (downloaded, parsed, their items and follow-up requests
# passed on), and a call of the engine's loop that takes requests from the scheduler.

def _in_progress(engine) -> set[Request]:
    slot = getattr(engine, "_slot", None)
    return slot.inprogress if slot is not None else set()


def _wake(engine) -> None:
    slot = getattr(engine, "_slot", None)
    if slot is not None:
        slot.nextcall.schedule()


class FleetStartMiddleware:
    """Spider middleware of fleet workers: only the worker seeding the round passes the
    spider's start requests on; the others keep them, to seed the round should the seeding
    worker die first."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("OTKLIK_REDIS"):
            raise NotConfigured
        return cls(crawler)

    async def process_start(self, start):
        scheduler = self.crawler.engine.scheduler
        requests = [request async for request in start]
        scheduler.start_requests = [request for request in requests
                                    if isinstance(request, Request)]
        if not scheduler.seeding:
            return
        for request in requests:
            yield request
        scheduler.seeded()
