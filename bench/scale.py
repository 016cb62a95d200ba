"""Past one machine: the per-process figures a deployment is sized from.

    nice -n 10 .venv/bin/python bench/scale.py crawl --posts 5000
    nice -n 10 .venv/bin/python bench/scale.py tag --posts 400
    .venv/bin/python bench/scale.py size --db /tmp/otklik-bench/1m.db --db postgresql://…

``crawl`` serves a generated phpBB forum on 127.0.0.1 (10 ms per page) and times real
``otklik crawl`` processes on it: one plain crawl into SQLite and one into PostgreSQL (the
cost of the server store on the same crawl), then 1 and 2 fleet workers sharing a Redis
frontier into PostgreSQL. ``tag`` copies the crawled store and times ``otklik tag`` with
1 and 2 workers on SQLite and on PostgreSQL (posts per second, and per CPU-second of the
workers). ``size`` prints each store's size per million mentions. PostgreSQL and Redis are
throwaway servers on loopback (``tests/local_servers.py``; the Debian packages).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import yaml  # noqa: E402
from local_servers import postgres_server, redis_server  # noqa: E402

import store  # noqa: E402
from demo.site import start_server  # noqa: E402
from demo.synthetic import synthetic_forum  # noqa: E402

POSTS_PER_TOPIC, TOPICS_PER_BOARD = 25, 25
FAST = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
        "--set", "CONCURRENT_REQUESTS=8"]
ENV = {**os.environ, "OTKLIK_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1",
       "TRANSFORMERS_OFFLINE": "1"}


def otklik(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def timed(processes: list[subprocess.Popen]) -> tuple[float, float]:
    """Wall seconds until every process ended, and their CPU seconds (children's rusage)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    for process in processes:
        _, err = process.communicate()
        if process.returncode:
            raise SystemExit(f"a process failed ({process.returncode}): {err.strip()[-400:]}")
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def new_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


def mentions_of(target) -> int:
    with store.open_db(target) as db:
        return store.count_mentions(db)


def crawl(posts: int, folder: Path, pg: str, redis_url: str) -> Path:
    boards = max(1, posts // (TOPICS_PER_BOARD * POSTS_PER_TOPIC))
    forum = synthetic_forum(boards, TOPICS_PER_BOARD, POSTS_PER_TOPIC, seed=5)
    server, base_url = start_server(forum=forum, delay=0.01)
    sources = folder / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [{
        "id": "forum", "kind": "forum", "url": f"{base_url}/forum/", "since_days": 36500,
        "options": {"engine": "phpbb",
                    "boards": [f"viewforum.php?f={b}" for b in range(1, boards + 1)]}}]}))
    expected = boards * TOPICS_PER_BOARD * POSTS_PER_TOPIC
    print(f"site: {expected} posts in {boards} boards, 10 ms per page")
    runs = [("plain crawl → SQLite", folder / "crawl.db", 1, None),
            ("plain crawl → PostgreSQL", new_database(pg, "crawl_plain"), 1, None),
            ("1 fleet worker → PostgreSQL", new_database(pg, "crawl_fleet1"), 1, redis_url),
            ("2 fleet workers → PostgreSQL", new_database(pg, "crawl_fleet2"), 2, redis_url)]
    walls = {}
    try:
        for title, target, processes, redis in runs:
            store.open_db(target).close()
            extra = ["--redis", redis] if redis else ["--no-resume"]
            wall, cpu = timed([otklik("crawl", "--db", str(target), "--sources", str(sources),
                                      *FAST, *extra) for _ in range(processes)])
            stored = mentions_of(target)
            walls[title] = wall
            print(f"{title:32} {stored:6d} posts in {wall:6.1f} s: {stored / wall:6.1f} posts/s, "
                  f"{stored / cpu:6.1f} per CPU-s")
            if stored != expected:
                raise SystemExit(f"{title}: {stored} posts stored, {expected} expected")
    finally:
        server.shutdown()
        server.server_close()
    cost = walls["plain crawl → PostgreSQL"] / walls["plain crawl → SQLite"] - 1
    print(f"PostgreSQL store against SQLite on the same crawl: {cost:+.0%} wall time")
    return folder / "crawl.db"


def tag(posts: int, crawled: Path, folder: Path, pg: str) -> None:
    from store.transfer import copy_store

    source = folder / "tag-source.db"
    copy_store(crawled, source)
    with store.open_db(source) as db, db.atomic():  # the first posts, untagged
        db.execute("DELETE FROM mentions WHERE seq NOT IN "
                   "(SELECT seq FROM mentions ORDER BY seq LIMIT ?)", [posts])
    for engine in ("SQLite", "PostgreSQL"):
        for workers in (1, 2):
            if engine == "SQLite":
                target = folder / f"tag-{workers}.db"
                target.unlink(missing_ok=True)
            else:
                target = new_database(pg, f"tag_{workers}")
            copy_store(source, target)
            wall, cpu = timed([otklik("tag", "--db", str(target), "--workers", str(workers))])
            print(f"tag, {engine:10} {workers} worker(s): {posts} posts in {wall:6.1f} s: "
                  f"{posts / wall:5.1f} posts/s, {posts / cpu:5.2f} per CPU-s "
                  "(model loading included)")


def size(targets: list[str]) -> None:
    for target in targets:
        target = store.store_target(target)
        with store.open_db(target) as db:
            mentions = store.count_mentions(db)
            if isinstance(target, str):
                total = db.execute("SELECT pg_database_size(current_database())").fetchone()[0]
            else:
                total = sum(path.stat().st_size for path in
                            Path(target).parent.glob(Path(target).name + "*"))
        print(f"{store.describe_store(target)}: {mentions} mentions, {total / 2**30:.2f} GiB, "
              f"{total / mentions * 1e6 / 2**30:.2f} GiB per million mentions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    crawling = commands.add_parser("crawl", help="crawl posts/s: SQLite, PostgreSQL, fleet")
    crawling.add_argument("--posts", type=int, default=5000)
    tagging = commands.add_parser("tag", help="tag posts/s with 1 and 2 workers")
    tagging.add_argument("--posts", type=int, default=400)
    sizing = commands.add_parser("size", help="store size per million mentions")
    sizing.add_argument("--db", action="append", required=True)
    args = parser.parse_args()
    if args.command == "size":
        size(args.db)
        return
    with ExitStack() as servers, tempfile.TemporaryDirectory(prefix="otklik-scale-") as temp:
        os.environ.setdefault("OTKLIK_TEST_PG", "1")
        pg = servers.enter_context(postgres_server())
        redis_url = servers.enter_context(redis_server())
        folder = Path(temp)
        crawled = crawl(max(args.posts, 625), folder, pg, redis_url)
        if args.command == "tag":
            tag(args.posts, crawled, folder, pg)


if __name__ == "__main__":
    main()
