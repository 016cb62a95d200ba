"""``otklik probe URL``: what Otklik would read from one forum page, before it becomes a
source. Fetches the page once (as the crawler identifies itself), decodes it as a crawl
does, reads it as a board and as a topic page, and writes a ready ``sources.yaml`` entry.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import yaml
from scrapy.http import HtmlResponse
from scrapy.utils.response import get_base_url
from w3lib.encoding import http_content_type_encoding

from crawlers.board_structure import topic_id
from crawlers.dates import timezone
from crawlers.detect import detect_engine
from crawlers.encoding import choose_encoding
from crawlers.engines import engines
from crawlers.forum_pages import BoardReading, PageContext, TopicReading, read_board, read_topic
from crawlers.settings import USER_AGENT

MAX_BYTES = 10 * 1024 * 1024


class ProbeError(ValueError):
    """The page could not be fetched or read; the message says why."""


@dataclass
class Probe:
    """One page read both ways: as a topic and as a board."""

    url: str
    engine: str | None
    topic: TopicReading
    board: BoardReading
    title: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """``topic``, ``board`` or ``unreadable``: what the page reads as. A page listing
        several topics whose URL is no topic's is a board (board rows carry ids too)."""
        if len(self.board.topics) >= 3 and topic_id(self.url) is None:
            return "board"
        if self.topic.readable:
            return "topic"
        if self.board.topics:
            return "board"
        return "unreadable"


def fetch(url: str, timeout: float = 20) -> tuple[bytes, str]:
    """The page's bytes and its ``Content-Type``; :class:`ProbeError` when it cannot be had."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProbeError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            body = answer.read(MAX_BYTES + 1)
            content_type = answer.headers.get("Content-Type", "text/html")
    except urllib.error.HTTPError as error:
        raise ProbeError(f"{url} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ProbeError(f"{url} could not be fetched: {reason}") from None
    if len(body) > MAX_BYTES:
        raise ProbeError(f"{url} is larger than {MAX_BYTES // 1024 // 1024} MB")
    return body, content_type


def probe_page(url: str, body: bytes, content_type: str, *, engine: str | None = None,
               tz: str | None = None, now: datetime | None = None) -> Probe:
    """Read a fetched page as the forum spider would (pure: no network)."""
    if engine and engine not in engines():
        raise ProbeError(f"unknown forum engine {engine!r}; known: "
                         f"{', '.join(sorted(engines()))}")
    choice = choose_encoding(body, http_content_type_encoding(content_type))
    if choice.encoding is None:
        raise ProbeError(f"{url}: no encoding reads the page cleanly ({choice.detail})")
    page = HtmlResponse(url=url, body=body, encoding=choice.encoding,
                        headers={"Content-Type": content_type})
    detected = engine or detect_engine(page.text, url)
    context = PageContext(url, now or datetime.now(UTC), timezone(tz), False, url,
                          get_base_url(page))
    selectors = engines().get(detected) if detected else None
    title = " ".join((page.css("title::text").get() or "").split())
    probe = Probe(url, detected, read_topic(page.selector, context, selectors),
                  read_board(page.selector, context, selectors), title)
    if choice.repaired:
        probe.notes.append(f"the page is read as {choice.encoding}: {choice.detail}")
    return probe


def sources_entry(probe: Probe) -> str:
    """A ``sources.yaml`` entry for the forum the probed page belongs to."""
    parts = urlsplit(probe.url)
    root = f"{parts.scheme}://{parts.netloc}/"
    source_id = re.sub(r"[^a-z0-9]+", "-", parts.hostname or "forum").strip("-")
    options: dict = {}
    if probe.engine and probe.engine in engines():
        options["engine"] = probe.engine
    if probe.kind == "board":
        options["boards"] = [probe.url.removeprefix(root) or "./"]
    entry = {"id": source_id, "kind": "forum", "title": probe.title or source_id,
             "url": root, "brands": [], "since_days": 90, "max_pages": 500,
             "enabled": True, "options": options}
    text = yaml.safe_dump({"sources": [entry]}, allow_unicode=True, sort_keys=False)
    if probe.kind != "board":
        text += ("# add the board pages to crawl under options.boards (URLs relative to url);\n"
                 "# list the catalogue brands this forum is watched for under brands\n")
    return text


def next_url(probe: Probe) -> str | None:
    """The page after this one, as the crawler would follow it."""
    reading = probe.topic if probe.kind == "topic" else probe.board
    return urljoin(probe.url, reading.next_url) if reading.next_url else None
