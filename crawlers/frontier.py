"""One source's shared crawl frontier in Redis: crawl rounds, claimed requests, live workers.

Every key of a source starts with ``otklik:<source id>``:

* ``…:requests`` — the request queue (scrapy-redis's priority queue, a sorted set);
* ``…:dupefilter`` — fingerprints of the requests already queued this round;
* ``…:round`` / ``…:seeded`` / ``…:done`` — the current round, the round whose start
  requests are queued, the last round that ran to its end; ``…:seeder`` — the worker
  queueing the start requests now (expires with it);
* ``…:workers`` — the workers of the source; ``…:alive:<worker>`` — a worker's heartbeat
  (expires when it stops beating); ``…:processing:<worker>`` — the requests a worker took
  from the queue and has not finished (with the posts they gave stored);
* ``…:forgotten:<round>`` — threads a worker must not mark as seen (a page of them failed).

A round is complete when its start requests are queued, the queue is empty and no live
worker holds a request: the dupefilter is then cleared, so that the next crawl fetches again
and the store's crawl state decides what is new. The requests of a worker whose heartbeat
expired go back to the queue (past the dupefilter, which holds them already).
The scripts build a worker's keys from the source's prefix: one Redis server, not a cluster.
"""

from __future__ import annotations

import redis

FORGOTTEN_SECONDS = 7 * 24 * 3600
DONE, WORK, WAIT, SEED = "done", "work", "wait", "seed"

JOIN = """
local round = redis.call('GET', KEYS[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('SET', KEYS[6], '1', 'PX', ARGV[2])
if (not round) or round == redis.call('GET', KEYS[2]) then
  round = tostring(redis.call('INCR', KEYS[1]))
  redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[2])
  return {round, 1}
end
if redis.call('GET', KEYS[3]) == round then return {round, 0} end
if redis.call('SET', KEYS[4], ARGV[1], 'NX', 'PX', ARGV[2]) then return {round, 1} end
return {round, 0}
"""

ENQUEUE = """
if ARGV[3] ~= '' and redis.call('SADD', KEYS[2], ARGV[3]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"""

CLAIM = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
redis.call('ZADD', KEYS[2], top[2], top[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], '1', 'PX', ARGV[2])
return top[1]
"""

BEAT = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
"""

SEEDED = """
redis.call('SET', KEYS[1], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
"""

REQUEUE = """
local function requeue(prefix, worker)
  local processing = prefix .. ':processing:' .. worker
  local count = redis.call('ZCARD', processing)
  if count > 0 then
    local queue = prefix .. ':requests'
    redis.call('ZUNIONSTORE', queue, 2, queue, processing, 'AGGREGATE', 'MIN')
    redis.call('DEL', processing)
  end
  redis.call('SREM', prefix .. ':workers', worker)
  return count
end
"""

LEAVE = REQUEUE + """
local count = requeue(ARGV[1], ARGV[2])
redis.call('DEL', ARGV[1] .. ':alive:' .. ARGV[2])
if redis.call('GET', ARGV[1] .. ':seeder') == ARGV[2] then
  redis.call('DEL', ARGV[1] .. ':seeder')
end
return count
"""

SETTLE = REQUEUE + """
local prefix, round, worker = ARGV[1], ARGV[2], ARGV[3]
local requeued, live = 0, {}
for _, other in ipairs(redis.call('SMEMBERS', prefix .. ':workers')) do
  if redis.call('EXISTS', prefix .. ':alive:' .. other) == 0 then
    requeued = requeued + requeue(prefix, other)
  else
    table.insert(live, prefix .. ':processing:' .. other)
  end
end
local done = redis.call('GET', prefix .. ':done')
if done and tonumber(done) >= tonumber(round) then return {'done', requeued} end
if redis.call('GET', prefix .. ':seeded') ~= round then
  if redis.call('SET', prefix .. ':seeder', worker, 'NX', 'PX', ARGV[4]) then
    return {'seed', requeued}
  end
  return {'wait', requeued}
end
if redis.call('ZCARD', prefix .. ':requests') > 0 then return {'work', requeued} end
for _, processing in ipairs(live) do
  if redis.call('ZCARD', processing) > 0 then return {'wait', requeued} end
end
redis.call('DEL', prefix .. ':dupefilter')
redis.call('SET', prefix .. ':done', round)
return {'done', requeued}
"""


class FleetUnavailable(RuntimeError):
    """The Redis server of the crawl fleet cannot be used (bad URL, unreachable, refused)."""


def connect(url: str) -> redis.Redis:
    """A client of the Redis server at ``url``, checked with a ping; raises
    :class:`FleetUnavailable` with the reason in words."""
    try:
        server = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30,
                                      retry_on_timeout=True)
    except ValueError as error:
        raise FleetUnavailable(f"--redis {url!r} is not a Redis URL "
                               f"(redis://HOST:PORT/DB, rediss://…, unix://…): {error}") from None
    try:
        server.ping()
    except redis.RedisError as error:
        raise FleetUnavailable(f"cannot use Redis at {url}: {error}") from None
    return server


def source_prefix(source_id: str) -> str:
    """The prefix of every Redis key of one source's crawl."""
    return f"otklik:{source_id}"


class Frontier:
    """The Redis side of one source's crawl, as seen by one worker (``worker``: unique id)."""

    def __init__(self, server: redis.Redis, prefix: str, worker: str, timeout: float):
        self.server, self.prefix, self.worker = server, prefix, worker
        self.timeout_ms = max(1, round(timeout * 1000))
        self.requests_key = f"{prefix}:requests"
        self.dupefilter_key = f"{prefix}:dupefilter"
        self.processing_key = f"{prefix}:processing:{worker}"
        self.alive_key = f"{prefix}:alive:{worker}"
        (self._join, self._enqueue, self._claim, self._beat, self._seeded, self._leave,
         self._settle) = (server.register_script(script) for script in (
            JOIN, ENQUEUE, CLAIM, BEAT, SEEDED, LEAVE, SETTLE))

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def join(self) -> tuple[int, bool]:
        """Join the running round, or start a new one after a finished one: ``(round,
        seeding)``, where ``seeding`` says this worker is to queue the start requests."""
        keys = [self._key(name) for name in ("round", "done", "seeded", "seeder", "workers")]
        round_, seeding = self._join(keys=[*keys, self.alive_key],
                                     args=[self.worker, self.timeout_ms])
        return int(round_), bool(seeding)

    def mark_seeded(self, round_: int) -> None:
        """The start requests of ``round_`` are all in the queue."""
        self._seeded(keys=[self._key("seeded"), self._key("seeder")],
                     args=[round_, self.worker])

    def enqueue(self, data: bytes, score: float, fingerprint: str | None) -> bool:
        """Queue an encoded request unless its ``fingerprint`` was seen this round (``None``:
        queue it anyway), in one step, so that no request is ever marked seen but not
        queued; True if it was queued."""
        return bool(self._enqueue(keys=[self.requests_key, self.dupefilter_key],
                                  args=[data, score, fingerprint or ""]))

    def claim(self) -> bytes | None:
        """Take the first queued request (kept as this worker's until :meth:`release`)."""
        return self._claim(keys=[self.requests_key, self.processing_key, self._key("workers"),
                                 self.alive_key], args=[self.worker, self.timeout_ms])

    def release(self, claimed: list[bytes]) -> None:
        """Requests this worker has finished, with every post they gave stored."""
        if claimed:
            self.server.zrem(self.processing_key, *claimed)

    def beat(self) -> None:
        """Tell the others this worker is alive (and still seeding, if it is)."""
        self._beat(keys=[self.alive_key, self._key("workers"), self._key("seeder")],
                   args=[self.worker, self.timeout_ms])

    def settle(self, round_: int) -> tuple[str, int]:
        """Called by an idle worker: put the requests of workers gone silent back in the
        queue, then say what to do: ``done`` (the round is complete: stop), ``work`` (requests
        are queued), ``wait`` (others still hold requests, or are seeding), ``seed`` (the
        seeding worker died: this one queues the start requests). Also returns how many
        requests were put back."""
        verdict, requeued = self._settle(args=[self.prefix, round_, self.worker,
                                               self.timeout_ms])
        return verdict.decode(), int(requeued)

    def leave(self) -> int:
        """Stop working on the source: what this worker still holds goes back to the queue
        (returns how many)."""
        return int(self._leave(args=[self.prefix, self.worker]))

    def forget_thread(self, round_: int, thread_key: str) -> None:
        """No worker of ``round_`` marks ``thread_key`` as seen (a page of it failed)."""
        key = self._key(f"forgotten:{round_}")
        self.server.pipeline().sadd(key, thread_key).expire(key, FORGOTTEN_SECONDS).execute()

    def forgotten_threads(self, round_: int) -> set[str]:
        """The threads of ``round_`` that no worker is to mark as seen."""
        return {key.decode() for key in self.server.smembers(self._key(f"forgotten:{round_}"))}
