"""The demo community served on 127.0.0.1: one site, one prefix per source kind.

``/forum/…`` a phpBB 3.3 board (``demo/phpbb.py``; one board in windows-1251),
``/community/…`` a Discourse JSON API (``demo/render_discourse.py``), ``/reviews/…`` a review
site with schema.org JSON-LD (``demo/render_reviews.py``), ``/news/feed.rss`` and its articles
(``demo/render_news.py``), ``/tg/s/{channel}`` Telegram channel previews
(``demo/render_telegram.py``), ``/robots.txt`` and an index at ``/``; anything else is a 404.
The data comes from a folder written by ``python -m demo.generate``; ``answers.json`` in it is
never served.

Run it with ``python -m demo.community --data DIR --port 8765``, or from Python::

    server, base_url = start_community("data/demo-site")
    write_sources("data/demo-site", base_url)   # sources.yaml for the real spiders
    ...
    server.shutdown(); server.server_close()
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from demo import site as phpbb_site
from demo.generate import DEFAULT_OUT, write_sources
from demo.phpbb import Forum, build_forum, render_message
from demo.render_common import Blob, e, html_blob, not_found
from demo.render_discourse import Community
from demo.render_discourse import route as discourse_route
from demo.render_news import News
from demo.render_news import route as news_route
from demo.render_reviews import Reviews
from demo.render_reviews import route as reviews_route
from demo.render_telegram import Telegram
from demo.render_telegram import route as telegram_route

HOST = "127.0.0.1"
ROBOTS_TXT = ("User-agent: *\nDisallow: /forum/ucp.php\nDisallow: /forum/posting.php\n"
              "Disallow: /reviews/search\n")


class CommunityData:
    """Every source's model, read from a generated data folder."""

    def __init__(self, folder: str | Path):
        folder = Path(folder)

        def load(name: str) -> dict:
            path = folder / name
            if not path.exists():
                raise FileNotFoundError(f"{path} is missing; run python -m demo.generate "
                                        f"--out {folder} first")
            return json.loads(path.read_text(encoding="utf-8"))

        self.forum: Forum = build_forum(load("forum.json"))
        self.community = Community(load("community.json"))
        self.reviews = Reviews(load("reviews.json"))
        self.news = News(load("news.json"))
        self.telegram = Telegram(load("telegram.json"))


def render_home(data: CommunityData) -> Blob:
    channels = "".join(f'<li><a href="/tg/s/{c}">@{c}</a></li>' for c in data.telegram.channels)
    return html_blob(f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Otklik demo community</title></head>
<body><h1>Otklik demo community</h1>
<p>Everything here is fictional: the operators Volna and Telenova, their customers and posts.</p>
<ul>
<li><a href="/forum/index.php">{e(data.forum.title)}</a> (phpBB forum)</li>
<li><a href="/community/latest.json">{e(data.community.data['title'])}</a> (Discourse API)</li>
<li><a href="/reviews/">{e(data.reviews.data['site'])}</a> (reviews)</li>
<li><a href="/news/feed.rss">{e(data.news.data['title'])}</a> (RSS)</li>
{channels}
</ul></body></html>""")


def route(data: CommunityData, base: str, path: str, query: dict[str, list[str]]):
    """The response for a request: a Blob / phpBB Page, robots.txt text, or None (404)."""
    if path == "/robots.txt":
        return ROBOTS_TXT
    if path in ("/", "/index.html"):
        return render_home(data)
    if path.startswith("/forum/"):
        answer = phpbb_site.route(data.forum, path, query)
        return answer if answer is not None else render_message(
            data.forum, "The page you asked for is not here.")
    if path.startswith("/community/"):
        return discourse_route(data.community, path, query)
    if path.startswith("/reviews"):
        return reviews_route(data.reviews, base, path, query)
    if path.startswith("/news"):
        return news_route(data.news, base, path)
    if path.startswith("/tg/"):
        return telegram_route(data.telegram, base, path, query)
    return None


class CommunityServer(ThreadingHTTPServer):
    """A threaded server over one :class:`CommunityData`; ``hits`` counts requests per path."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], data: CommunityData):
        super().__init__(address, _Handler)
        self.data = data
        self.hits: Counter[str] = Counter()
        self.hits_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: CommunityServer

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._respond(with_body=True)

    def do_HEAD(self):  # noqa: N802
        self._respond(with_body=False)

    def _respond(self, *, with_body: bool) -> None:
        parts = urlsplit(self.path)
        with self.server.hits_lock:
            self.server.hits[parts.path] += 1
        host = self.headers.get("Host") or f"{HOST}:{self.server.server_address[1]}"
        try:
            answer = route(self.server.data, f"http://{host}", parts.path, parse_qs(parts.query))
        except (ValueError, KeyError):
            answer = None
        if answer is None:
            answer = not_found()
        if isinstance(answer, str):
            status, content_type, body = 200, "text/plain; charset=utf-8", answer.encode()
        else:
            status, content_type, body = answer.status, answer.content_type, answer.body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        """Quiet: tests and the demo do not want a line per request."""


def start_community(data_dir: str | Path = DEFAULT_OUT,
                    port: int = 0) -> tuple[CommunityServer, str]:
    """Serve the generated community in ``data_dir`` on 127.0.0.1:``port`` (0: a free port)
    in a daemon thread. Returns the server (stop it with ``shutdown()`` then
    ``server_close()``) and its base URL, e.g. ``http://127.0.0.1:43121``."""
    server = CommunityServer((HOST, port), CommunityData(data_dir))
    threading.Thread(target=server.serve_forever, name="otklik-demo-community",
                     daemon=True).start()
    return server, server.base_url


def main(argv: list[str] | None = None) -> None:
    """``python -m demo.community --data DIR --port 8765``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m demo.community",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT,
                        help="folder written by python -m demo.generate (default data/demo-site)")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    args = parser.parse_args(argv)
    server, base_url = start_community(args.data, args.port)
    sources = write_sources(args.data, base_url)
    print(f"demo community at {base_url}/  (sources for it: {sources}; Ctrl-C to stop)",
          flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
