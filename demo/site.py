"""The sample community served as a phpBB board on 127.0.0.1 (standard library only).

Routes: ``/forum/index.php`` (also ``/forum/``), ``/forum/viewforum.php?f=N[&start=K]``,
``/forum/viewtopic.php?t=N[&start=K]``, ``/forum/viewtopic.php?p=N`` (the page holding that post,
no redirect), ``/forum/memberlist.php?mode=viewprofile&u=N`` and ``/robots.txt``; anything else
is a 404. ``start`` is clamped and rounded down to a page as phpBB does. Every request is counted
in ``server.hits`` by its request target as sent (path and query, e.g.
``/forum/viewtopic.php?t=9&start=10``).

Run it by hand with ``python -m demo.site [--port 8765]``.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from demo.phpbb import (
    POSTS_PER_PAGE,
    TOPICS_PER_PAGE,
    Forum,
    Page,
    build_forum,
    render_board,
    render_index,
    render_message,
    render_profile,
    render_topic,
)

SAMPLE_FILE = Path(__file__).with_name("sample_posts.yaml")
HOST = "127.0.0.1"
ROBOTS_TXT = "User-agent: *\nDisallow: /forum/ucp.php\n"


@cache
def load_sample(path: Path = SAMPLE_FILE) -> Forum:
    """The sample forum, read from ``sample_posts.yaml`` once per process."""
    return build_forum(yaml.safe_load(path.read_text(encoding="utf-8")))


class SampleServer(ThreadingHTTPServer):
    """A threaded server over one :class:`Forum`; ``hits`` counts requests per target."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], forum: Forum, delay: float = 0.0):
        super().__init__(address, _Handler)
        self.forum = forum
        self.delay = delay
        self.hits: Counter[str] = Counter()
        self.hits_lock = threading.Lock()

    def count(self, target: str) -> None:
        with self.hits_lock:
            self.hits[target] += 1


def _int(query: dict[str, list[str]], name: str) -> int | None:
    """A query parameter as phpBB's ``request_var(name, 0)`` reads it; None when absent."""
    values = query.get(name)
    if not values:
        return None
    try:
        return int(values[0].strip())
    except ValueError:
        return 0


def _page_from_start(start: int | None, per_page: int, page_count: int) -> int:
    return min(max(0, start or 0) // per_page + 1, page_count)


def route(forum: Forum, path: str, query: dict[str, list[str]]) -> Page | str | None:
    """The response for a path and parsed query: a page, robots.txt text, or None (404)."""
    if path == "/robots.txt":
        return ROBOTS_TXT
    if path in ("/forum/", "/forum/index.php"):
        return render_index(forum)
    if path == "/forum/viewforum.php":
        try:
            board = forum.board(_int(query, "f") or 0)
        except KeyError:
            return render_message(forum, "The forum you selected does not exist.")
        start = _int(query, "start")
        return render_board(board, _page_from_start(start, TOPICS_PER_PAGE, board.page_count))
    if path == "/forum/viewtopic.php":
        post_id = _int(query, "p")
        if post_id is not None:
            post = forum.posts.get(post_id)
            if post is None:
                return render_message(forum, "The requested post does not exist.")
            return render_topic(post.topic, post.topic.page_of(post_id))
        topic = forum.topics.get(_int(query, "t") or 0)
        if topic is None:
            return render_message(forum, "The requested topic does not exist.")
        start = _int(query, "start")
        return render_topic(topic, _page_from_start(start, POSTS_PER_PAGE, topic.page_count))
    if path == "/forum/memberlist.php" and query.get("mode") == ["viewprofile"]:
        try:
            return render_profile(forum, _int(query, "u") or 0)
        except KeyError:
            return render_message(forum, "The requested user does not exist.")
    return None


class _Handler(BaseHTTPRequestHandler):
    server: SampleServer

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._respond(with_body=True)

    def do_HEAD(self):  # noqa: N802
        self._respond(with_body=False)

    def _respond(self, *, with_body: bool) -> None:
        self.server.count(self.path)
        if self.server.delay:
            time.sleep(self.server.delay)
        parts = urlsplit(self.path)
        answer = route(self.server.forum, parts.path, parse_qs(parts.query))
        if answer is None:
            answer = render_message(self.server.forum, "The page you asked for is not here.")
        if isinstance(answer, str):
            status, content_type, body = 200, "text/plain; charset=utf-8", answer.encode()
        else:
            status, content_type, body = answer.status, answer.content_type, answer.body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if content_type.startswith("text/html"):
            self.send_header("Cache-Control", 'private, no-cache="set-cookie"')
            self.send_header("Expires", "0")
            self.send_header("Pragma", "no-cache")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        """Quiet: tests and the demo do not want a line per request."""


def start_server(
    host: str = HOST, port: int = 0, forum: Forum | None = None, delay: float = 0.0
) -> tuple[ThreadingHTTPServer, str]:
    """Serve the sample (or another ``forum``) on 127.0.0.1:``port`` (0: any free port) in a
    daemon thread, answering each request after ``delay`` seconds.

    Returns the server (stop it with ``shutdown()`` and ``server_close()``) and its base URL,
    e.g. ``http://127.0.0.1:43121``; the board index is at ``BASE/forum/index.php``.
    """
    if host != HOST:
        raise ValueError(f"the sample site binds to {HOST} only, not {host!r}")
    server = SampleServer((host, port), forum or load_sample(), delay)
    threading.Thread(target=server.serve_forever, name="otklik-sample-site",
                     daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"


def main(argv: list[str] | None = None) -> None:
    """``python -m demo.site [--port 8765]``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m demo.site", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    args = parser.parse_args(argv)
    server, base_url = start_server(port=args.port)
    print(f"Volna Community sample forum: {base_url}/forum/index.php  (Ctrl-C to stop)",
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
