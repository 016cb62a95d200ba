"""Crawl throughput: posts per second crawled and stored from a local forum of 1,000+ pages,
against the same spider with storing switched off, in one run.

    .venv/bin/python bench/crawl.py [--topics 400] [--posts 25] [--repeat 3]

The forum (demo/synthetic.py, phpBB markup) is served from its own process on 127.0.0.1;
each crawl runs in a fresh process, as ``otklik crawl`` does.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOARDS = 4
CRAWL_SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
                  "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "WARNING"}


def serve(topics: int, posts: int, port_queue) -> None:
    """Child process: serve the synthetic forum until killed."""
    sys.path.insert(0, str(ROOT))
    from demo.site import start_server
    from demo.synthetic import synthetic_forum

    forum = synthetic_forum(BOARDS, topics // BOARDS, posts)
    server, base_url = start_server(forum=forum)
    port_queue.put(base_url)
    while True:
        time.sleep(3600)


def crawl_once(base_url: str, store_enabled: bool, workdir: Path) -> dict:
    """Run one crawl in a fresh process; returns its Scrapy stats."""
    sources = workdir / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [{
        "id": "bench", "kind": "forum", "url": f"{base_url}/forum/", "max_pages": 100000,
        "since_days": 36500,
        "options": {"engine": "phpbb",
                    "boards": [f"viewforum.php?f={b}" for b in range(1, BOARDS + 1)]}}]}))
    db = workdir / f"bench-{'store' if store_enabled else 'nostore'}.db"
    code = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from config.sources import load_sources
from crawlers.run import crawl_sources
stats = crawl_sources(load_sources({str(sources)!r}), db_path={str(db)!r},
                      sources_path={str(sources)!r}, OTKLIK_STORE_ENABLED={store_enabled},
                      **{CRAWL_SETTINGS!r})["bench"]
print(json.dumps(stats, default=str))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


MODES = {"crawl only": False, "crawl + store": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=400)
    parser.add_argument("--posts", type=int, default=25, help="posts per topic")
    parser.add_argument("--repeat", type=int, default=3,
                        help="crawls per mode, alternating; the median time is reported")
    args = parser.parse_args()
    queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.topics, args.posts, queue),
                                     daemon=True)
    server.start()
    base_url = queue.get(timeout=60)
    try:
        runs: dict[str, list[tuple[int, int, float]]] = {label: [] for label in MODES}
        for attempt in range(args.repeat):
            for label, enabled in MODES.items():
                with tempfile.TemporaryDirectory() as tmp:
                    stats = crawl_once(base_url, enabled, Path(tmp))
                run = (int(stats.get("response_received_count", 0)),
                       int(stats.get("item_scraped_count", 0)),
                       float(stats["elapsed_time_seconds"]))
                runs[label].append(run)
                print(f"run {attempt + 1} {label}: {run[2]:.2f} s", flush=True)
    finally:
        server.kill()
    rows = {}
    for label, results in runs.items():
        pages, items, elapsed = sorted(results, key=lambda run: run[2])[len(results) // 2]
        rows[label] = (pages, items, elapsed, items / elapsed)
    print(f"machine: {platform.machine()}, {multiprocessing.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{'mode':<15}{'pages':>8}{'posts':>8}{'seconds':>10}{'posts/s':>10}")
    for label, (pages, items, elapsed, rate) in rows.items():
        print(f"{label:<15}{pages:>8}{items:>8}{elapsed:>10.2f}{rate:>10.0f}")
    bare, stored = rows["crawl only"][2], rows["crawl + store"][2]
    print(f"storing costs {100 * (stored - bare) / stored:.1f}% of crawl time "
          f"(crawl + store takes {stored / bare:.2f}x the crawl alone)")


if __name__ == "__main__":
    main()
