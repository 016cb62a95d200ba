"""A loopback HTTP server for spider tests: serves saved pages from fixture folders.

A request for ``/path/name?query`` is answered from the file ``path/name@query`` (or
``path/name`` without a query; a path ending in ``/`` reads ``index.html``), looked up in
each folder of ``layers`` in turn, so a test can lay a "later" version of a site over the
first one. ``{{BASE}}`` inside a file becomes the server's base URL. Optional sidecar files:
``NAME.status`` (an HTTP status code) and ``NAME.headers`` (``Header: value`` lines, e.g. a
``Content-Type`` with ``charset=windows-1251``). Every request path is counted in ``hits``.
"""

from __future__ import annotations

import mimetypes
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

TEXT_TYPES = {".json": "application/json", ".xml": "application/xml",
              ".rss": "application/rss+xml", ".atom": "application/atom+xml",
              ".html": "text/html; charset=utf-8", ".php": "text/html; charset=utf-8"}


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, layers: list[Path]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.layers = list(layers)
        self.hits: Counter = Counter()
        self.lock = threading.Lock()
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"

    def find(self, path: str, query: str) -> Path | None:
        relative = unquote(path).lstrip("/")
        if not relative or relative.endswith("/"):
            relative += "index.html"
        name = f"{relative}@{unquote(query)}" if query else relative
        for layer in self.layers:
            candidate = (layer / name).resolve()
            if layer.resolve() in candidate.parents and candidate.is_file():
                return candidate
        return None


class _Handler(BaseHTTPRequestHandler):
    server: FixtureServer

    def do_GET(self):  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        with self.server.lock:
            self.server.hits[self.path] += 1
        found = self.server.find(parts.path, parts.query)
        if found is None:
            self.send_error(404)
            return
        body = found.read_bytes().replace(b"{{BASE}}", self.server.base_url.encode())
        status_file = found.with_name(found.name + ".status")
        status = int(status_file.read_text().strip()) if status_file.exists() else 200
        headers = {"Content-Type": _content_type(found)}
        headers_file = found.with_name(found.name + ".headers")
        if headers_file.exists():
            for line in headers_file.read_text().splitlines():
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip()] = value.strip()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _content_type(path: Path) -> str:
    suffix = Path(path.name.split("@")[0]).suffix
    return TEXT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "text/html"


def start_fixture_server(*layers: Path) -> FixtureServer:
    """Serve ``layers`` on 127.0.0.1 in a background thread; call ``shutdown()`` when done."""
    server = FixtureServer(list(layers))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
