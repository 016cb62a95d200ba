"""Politeness across a crawl fleet: one minimum interval per domain for all its workers.

Scrapy's ``DOWNLOAD_DELAY`` and ``CONCURRENT_REQUESTS_PER_DOMAIN`` hold within one process;
ten workers would hit a site ten times as often. Here each request first reserves the
domain's next free moment in Redis (an atomic script on the server's clock, so the
machines' clocks do not matter), ``DOWNLOAD_DELAY`` seconds after the previous reservation
by any worker, and waits for it without blocking the reactor. Each process keeps its own
delay and AutoThrottle on top, so the fleet as a whole is never less polite than one process.
"""

from __future__ import annotations

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.task import deferLater

from crawlers.frontier import connect

KEEP_MS = 60_000

RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, free)
local following = at + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', following), 'PX',
           string.format('%d', following - now + tonumber(ARGV[2])))
return at - now
"""


def domain_key(host: str) -> str:
    """The Redis key holding a domain's next free moment (milliseconds, server clock)."""
    return f"otklik:domain:{host.lower()}"


class DomainSlots:
    """Reserves the next moment each domain may be sent a request, for the whole fleet."""

    def __init__(self, server, interval: float):
        self.interval_ms = round(interval * 1000)
        self._reserve = server.register_script(RESERVE)

    def reserve(self, host: str) -> float:
        """Seconds to wait before sending a request to ``host``."""
        return int(self._reserve(keys=[domain_key(host)], args=[self.interval_ms, KEEP_MS])) / 1000


class SharedDomainDelayMiddleware:
    """Downloader middleware: ``DOWNLOAD_DELAY`` between any two requests of the fleet to
    one domain (active only with ``OTKLIK_REDIS`` and a positive delay)."""

    def __init__(self, slots: DomainSlots, stats):
        self.slots, self.stats = slots, stats

    @classmethod
    def from_crawler(cls, crawler):
        url = crawler.settings.get("OTKLIK_REDIS")
        interval = crawler.settings.getfloat("DOWNLOAD_DELAY")
        if not url or interval <= 0:
            raise NotConfigured
        return cls(DomainSlots(connect(url), interval), crawler.stats)

    async def process_request(self, request):
        from twisted.internet import reactor

        wait = self.slots.reserve(urlparse_cached(request).hostname or "")
        if wait > 0:
            self.stats.inc_value("otklik/fleet/domain_waits")
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
