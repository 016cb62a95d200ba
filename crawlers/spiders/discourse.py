"""Discourse forums through their public JSON API: listings → topics → posts.

Options (``options:`` of a ``kind: discourse`` source; ``url`` is the forum's base URL):

- ``categories``: ``"slug/id"`` strings (``"parent/child/id"`` for a subcategory) whose topic
  listings ``/c/{slug}/{id}.json`` are crawled; ``"latest"`` names ``/latest.json``.
- ``search``: queries for ``/search.json?q=…``; the topics they find are fetched.

With neither option the spider crawls ``/latest.json``. Every topic is fetched at most once
per crawl, and only when its listing signature (posts count, last post, bump time) differs
from the last finished crawl's.
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlencode, urlsplit

import lxml.html
import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

from crawlers.dates import BadDate, to_utc_iso
from crawlers.items import Mention
from crawlers.spiders.base import SourceSpider
from crawlers.text import parse_fragment

CHUNK_SIZE = 20  # posts per /t/{id}/posts.json request, Discourse's own chunk size
LIKE_ACTION = 2  # actions_summary id of a like
SMALL_ACTION, WHISPER = 3, 4  # post_type values (1 regular, 2 moderator action)


class DiscourseSpider(SourceSpider):
    """Crawls one Discourse forum's topics and posts through ``.json`` endpoints."""

    name = "discourse"
    source_kind = "discourse"
    custom_settings = {
        # Discourse answers 429 with Retry-After when rate-limited: retry it, and slow down.
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "DOWNLOADER_MIDDLEWARES": {"crawlers.spiders.discourse.RetryAfterMiddleware": 560},
    }

    def configure(self) -> None:
        self.base = self.source.url.rstrip("/")
        self.queued_topics = set()
        self.requests_made = 0

    async def start(self):
        categories = _strings(self.source.options.get("categories"))
        searches = _strings(self.source.options.get("search"))
        if not categories and not searches:
            categories = ["latest"]
        for category in categories:
            url = self.category_url(category)
            if url is None:
                self.skip("bad_option", self.source.url, f"category {category!r}")
                continue
            yield self.request(url, self.parse_listing)
        for query in searches:
            yield self.request(self.search_url(query, 1), self.parse_search,
                               cb_kwargs={"query": query, "page": 1})

    # --- URLs ---------------------------------------------------------------------------

    def category_url(self, category: str) -> str | None:
        """``"latest"`` or ``"slug/id"`` (``"parent/child/id"``) → the listing's JSON URL."""
        category = category.strip().strip("/")
        if category == "latest":
            return f"{self.base}/latest.json"
        slug, _, category_id = category.rpartition("/")
        if not slug or not category_id.isdigit():
            return None
        return f"{self.base}/c/{slug}/{category_id}.json"

    def search_url(self, query: str, page: int) -> str:
        params = {"q": query} if page == 1 else {"q": query, "page": page}
        return f"{self.base}/search.json?{urlencode(params)}"

    def json_url(self, path: str) -> str:
        """A listing's ``more_topics_url`` (``/latest?page=1``) → its ``.json`` URL on this
        forum (the path may or may not start with a subfolder install's prefix)."""
        parts = urlsplit(path)
        prefix = urlsplit(self.base).path.rstrip("/")
        route = parts.path
        if prefix and not route.startswith(prefix + "/"):
            route = prefix + "/" + route.lstrip("/")
        if not route.endswith(".json"):
            route += ".json"
        origin = self.base[: len(self.base) - len(prefix)] if prefix else self.base
        return f"{origin}{route}" + (f"?{parts.query}" if parts.query else "")

    def permalink(self, slug: str, topic_id: int, post_number: int) -> str:
        return f"{self.base}/t/{slug}/{topic_id}/{post_number}"

    # --- requests -----------------------------------------------------------------------

    def request(self, url: str, callback, cb_kwargs: dict | None = None) -> scrapy.Request:
        """A JSON request, counted against ``max_pages``."""
        self.requests_made += 1
        return scrapy.Request(url, callback=callback, errback=self.request_failed,
                              cb_kwargs=cb_kwargs or {}, headers={"Accept": "application/json"})

    def budget_left(self) -> bool:
        """Pages fetched and pages already asked for both stay under ``max_pages``."""
        return self.page_budget_left() and self.requests_made < self.max_pages

    def request_failed(self, failure):
        """An HTTP error, a request refused (robots.txt) or a network failure: count it; a
        topic is looked at again next crawl."""
        request = failure.request
        if failure.check(HttpError):
            reason = f"http_{failure.value.response.status}"
        elif failure.check(IgnoreRequest):
            reason = "robots_txt" if "robots.txt" in failure.getErrorMessage() else "ignored"
        else:
            reason = "download_error"
        key = request.cb_kwargs.get("key")
        if key:
            self.forget_thread(key)
        self.skip(reason, request.url, failure.getErrorMessage())

    def load_json(self, response: Response, key: str | None = None) -> dict | None:
        """The response's JSON object, or ``None`` (counted as skipped) when it is not one."""
        try:
            data = json.loads(response.body)
        except ValueError as error:
            data, detail = None, error
        else:
            detail = f"a JSON {type(data).__name__}, not an object"
        if isinstance(data, dict):
            return data
        if key:
            self.forget_thread(key)
        self.skip("bad_json", response.url, detail)
        return None

    # --- listings and search ------------------------------------------------------------

    def parse_listing(self, response: Response):
        """``/latest.json`` or ``/c/{slug}/{id}.json``: changed topics, then the next page
        unless every topic on this one was unchanged or the listing reached the since
        window's end."""
        data = self.load_json(response)
        if data is None:
            return
        topic_list = data.get("topic_list")
        topics = topic_list.get("topics") if isinstance(topic_list, dict) else None
        if not isinstance(topics, list):
            self.skip("bad_listing", response.url, "no topic_list.topics")
            return
        outcomes = []
        for topic in topics:
            outcome, request = self.consider_topic(topic, response.url)
            outcomes.append(outcome)
            if request is not None:
                yield request
        more = topic_list.get("more_topics_url")
        if not more or not isinstance(more, str) or "budget" in outcomes:
            return
        if "old" in outcomes:
            self.count("listings/reached_since")
        elif "queued" not in outcomes:
            self.count("listings/unchanged_page")
        elif self.budget_left():
            yield self.request(self.json_url(more), self.parse_listing)

    def parse_search(self, response: Response, query: str, page: int):
        """``/search.json?q=…``: the topics found (and those only named by a found post),
        then the next page of results while there are more and something changed."""
        data = self.load_json(response)
        if data is None:
            return
        topics = data.get("topics") or []
        posts = data.get("posts") or []
        if not isinstance(topics, list) or not isinstance(posts, list):
            self.skip("bad_search", response.url, "topics/posts are not lists")
            return
        outcomes = []
        listed = set()
        for topic in topics:
            if isinstance(topic, dict):
                listed.add(topic.get("id"))
            outcome, request = self.consider_topic(topic, response.url, ordered=False)
            outcomes.append(outcome)
            if request is not None:
                yield request
        for found in posts:
            topic_id = found.get("topic_id") if isinstance(found, dict) else None
            if isinstance(topic_id, int) and topic_id not in listed:
                listed.add(topic_id)
                request = self.topic_request(topic_id, key=None)
                if request is not None:
                    outcomes.append("queued")
                    yield request
        grouped = data.get("grouped_search_result") or {}
        more = isinstance(grouped, dict) and grouped.get("more_full_page_results")
        if more and "queued" in outcomes and self.budget_left():
            yield self.request(self.search_url(query, page + 1), self.parse_search,
                               cb_kwargs={"query": query, "page": page + 1})

    def consider_topic(self, topic, page_url: str, *, ordered: bool = True):
        """A listed topic → ``(outcome, request or None)``; outcome is ``queued``,
        ``unchanged``, ``seen`` (queued already this crawl), ``old`` (last activity before
        the since window; pinned topics and unordered lists never say ``old``), ``skipped``
        or ``budget``."""
        topic_id = topic.get("id") if isinstance(topic, dict) else None
        if not isinstance(topic_id, int):
            self.skip("bad_topic", page_url, repr(topic)[:200])
            return "skipped", None
        if topic_id in self.queued_topics:
            return "seen", None
        activity = _latest_date(topic.get("bumped_at"), topic.get("last_posted_at"),
                                topic.get("created_at"))
        if activity is not None and self.too_old(activity):
            self.count("topics/too_old")
            pinned = topic.get("pinned") or topic.get("pinned_globally")
            return ("old" if ordered and not pinned else "skipped"), None
        if not self.budget_left():
            self.count("topics/over_budget")
            return "budget", None
        key = f"topic/{topic_id}"
        signature = [topic.get("posts_count"), topic.get("last_posted_at"),
                     topic.get("bumped_at")]
        if not self.thread_changed(key, signature):
            return "unchanged", None
        return "queued", self.topic_request(topic_id, key)

    def topic_request(self, topic_id: int, key: str | None) -> scrapy.Request | None:
        if topic_id in self.queued_topics or not self.budget_left():
            return None
        self.queued_topics.add(topic_id)
        return self.request(f"{self.base}/t/{topic_id}.json", self.parse_topic,
                            cb_kwargs={"key": key})

    # --- topics and posts ---------------------------------------------------------------

    def parse_topic(self, response: Response, key: str | None):
        """``/t/{id}.json``: the first chunk of posts, then the rest of ``post_stream.stream``
        in chunks of 20 — all at once for a topic new to the store, else from the end back,
        stopping at the first chunk that starts with a post already stored."""
        data = self.load_json(response, key)
        if data is None:
            return
        self.count("pages/posts_expected")
        stream = data.get("post_stream")
        posts = stream.get("posts") if isinstance(stream, dict) else None
        topic_id = data.get("id")
        if not isinstance(posts, list) or not posts or not isinstance(topic_id, int):
            if key:
                self.forget_thread(key)
            self.skip("bad_topic", response.url, "no post_stream.posts or id")
            return
        topic = {"id": topic_id, "slug": data.get("slug"), "title": data.get("title"),
                 "views": data.get("views")}
        reached = False
        for mention, known in self.topic_posts(posts, topic, response.url):
            reached = reached or bool(known)
            if mention is not None:
                yield mention
        in_chunk = {p.get("id") for p in posts if isinstance(p, dict)}
        ids = stream.get("stream")
        rest = [i for i in ids if i not in in_chunk] if isinstance(ids, list) else []
        groups = [rest[i:i + CHUNK_SIZE] for i in range(0, len(rest), CHUNK_SIZE)]
        if not groups:
            return
        # a topic seen before: its last chunk, then back while chunks hold new posts
        chunks = [(groups[-1], groups[:-1])] if reached else [(group, []) for group in groups]
        for group, earlier in chunks:
            if not self.budget_left():
                if key:
                    self.forget_thread(key)  # the rest was not fetched: look again next time
                return
            yield self.chunk_request(topic, key, group, earlier)

    def chunk_request(self, topic: dict, key: str | None, group: list[int],
                      earlier: list[list[int]]) -> scrapy.Request:
        """The request for one chunk; ``earlier``: the chunks before it, when walking back."""
        query = "&".join(f"post_ids[]={post_id}" for post_id in group)
        url = f"{self.base}/t/{topic['id']}/posts.json?{query}"
        return self.request(url, self.parse_posts, cb_kwargs={
            "key": key, "topic": topic, "earlier": earlier})

    def parse_posts(self, response: Response, key: str | None, topic: dict,
                    earlier: list[list[int]]):
        """``/t/{id}/posts.json?post_ids[]=…``: one chunk; walking back, the chunk before it
        too unless this chunk's first post was stored already (or is too old)."""
        data = self.load_json(response, key)
        if data is None:
            return
        self.count("pages/posts_expected")
        stream = data.get("post_stream")
        posts = stream.get("posts") if isinstance(stream, dict) else None
        if not isinstance(posts, list) or not posts:
            if key:
                self.forget_thread(key)
            self.skip("bad_topic", response.url, "no post_stream.posts")
            return
        first_known = None
        for mention, known in self.topic_posts(posts, topic, response.url):
            if first_known is None and known is not None:
                first_known = known
            if mention is not None:
                yield mention
        if not earlier:
            return
        if first_known:
            self.count("chunks/reached_stored")
            return
        if self.budget_left():
            yield self.chunk_request(topic, key, earlier[-1], earlier[:-1])
        elif key:
            self.forget_thread(key)

    def topic_posts(self, posts: list, topic: dict, page_url: str):
        """Each post of a chunk → ``(mention or None, known)``: ``known`` is True for a post
        stored before this crawl and for one older than the since window (not yielded), so
        that walking back through a topic stops at either; ``None`` for a post not parsed."""
        for post in posts:
            mention = self.parse_post(post, topic, page_url)
            if mention is None:
                yield None, None
                continue
            known = self.is_stored(mention.url)
            if self.too_old(mention.published_at):
                self.count("posts/too_old")
                yield None, True
                continue
            yield mention, known

    def parse_post(self, post, topic: dict, page_url: str) -> Mention | None:
        """One post object → a ``Mention``; small actions (``closed``, ``pinned`` …) and
        deleted posts give ``None``; a post without id, number, author, date or body is
        skipped."""
        if not isinstance(post, dict):
            self.skip("bad_post", page_url, repr(post)[:200])
            return None
        if post.get("post_type") == SMALL_ACTION:
            self.count("posts/small_action")
            return None
        if post.get("deleted_at") or post.get("user_deleted") or post.get("hidden"):
            self.count("posts/deleted")
            return None
        missing = [name for name, kind in (("id", int), ("post_number", int),
                                           ("username", str), ("created_at", str),
                                           ("cooked", str))
                   if not isinstance(post.get(name), kind) or post.get(name) == ""]
        if missing:
            self.skip("missing_fields", page_url,
                      f"post {post.get('id')!r}: {', '.join(missing)}")
            return None
        try:
            published = to_utc_iso(post["created_at"])
        except BadDate as error:
            self.skip("bad_date", page_url, f"post {post['id']}: {error}")
            return None
        topic_id = topic["id"]
        slug = topic.get("slug") or post.get("topic_slug") or "topic"
        number = post["post_number"]
        body_html, quotes = split_cooked(post["cooked"])
        parent = None
        if number != 1:
            parent_number = post.get("reply_to_post_number")
            if not isinstance(parent_number, int) or parent_number < 1:
                parent_number = 1
            parent = self.permalink(slug, topic_id, parent_number)
        version = post.get("version") if isinstance(post.get("version"), int) else 1
        edited_at = None
        if version > 1 and isinstance(post.get("updated_at"), str):
            try:
                edited_at = to_utc_iso(post["updated_at"])
            except BadDate:
                edited_at = None
        metadata = {"post_id": post["id"]}
        if version > 1:
            metadata.update(edited=True, version=version)
        if post.get("staff"):
            metadata["staff"] = True
        if post.get("post_type") == WHISPER:
            metadata["whisper"] = True
        username = post["username"]
        self.count("posts/parsed")
        return Mention(
            source=self.source.id,
            url=self.permalink(slug, topic_id, number),
            kind="post" if number == 1 else "reply",
            body_html=body_html,
            quotes=quotes,
            title=topic.get("title") or None,
            thread_id=str(topic_id),
            parent_url=parent,
            author_handle=username,
            author_name=(post.get("name") or "").strip() or None,
            author_url=f"{self.base}/u/{quote(username, safe='')}",
            published_at=published,
            edited_at=edited_at,
            likes=_likes(post),
            replies=_int(post.get("reply_count")),
            views=_int(topic.get("views")) if number == 1 else None,
            metadata=metadata,
        )


def split_cooked(cooked: str) -> tuple[str, list[dict]]:
    """A post's cooked HTML → (the author's own words, the quotes ``{"author", "html"}``).

    A quote is ``<aside class="quote" data-username=…>`` with a ``div.title`` (avatar and
    name, dropped) and a ``blockquote``; a quote inside a quote stays part of the outer one
    (without its title).
    A link preview (``aside.onebox``) becomes its link; an uploaded image's file name (its
    ``alt``) and size line (``div.meta`` of a lightbox) are dropped."""
    if not cooked or not cooked.strip():
        return "", []
    root = parse_fragment(cooked)
    if root is None:
        return cooked, []
    quotes = []
    quote_class = _has_class("quote")
    for aside in root.xpath(f".//aside[{quote_class}][not(ancestor::aside[{quote_class}])]"):
        titles = f'div[{_has_class("title")}]'
        for title in aside.xpath(f"./{titles} | .//aside[{quote_class}]/{titles}"):
            title.drop_tree()
        blockquote = aside.find("blockquote")
        inner = blockquote if blockquote is not None else aside
        html = (inner.text or "") + "".join(
            lxml.html.tostring(child, encoding="unicode") for child in inner)
        quotes.append({"author": (aside.get("data-username") or "").strip() or None,
                       "html": html.strip()})
        aside.drop_tree()
    for onebox in root.xpath(f'.//aside[{_has_class("onebox")}]'):
        link = onebox.get("data-onebox-src")
        if link:
            replacement = onebox.makeelement("p", {})
            replacement.text = link
            onebox.addprevious(replacement)
            replacement.tail = onebox.tail
            onebox.tail = None
        onebox.drop_tree()
    for wrapper in root.xpath(f'.//div[{_has_class("lightbox-wrapper")}]'):
        for meta in wrapper.xpath(f'.//div[{_has_class("meta")}]'):
            meta.drop_tree()
        for image in wrapper.iter("img"):
            image.set("alt", "")  # an upload's alt is its file name unless described
    body = (root.text or "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root)
    return body.strip(), quotes


class RetryAfterMiddleware:
    """Honours a 429's ``Retry-After``: the download slot waits that long (at most
    ``DISCOURSE_MAX_RETRY_AFTER`` seconds, default 120) before its next request, while
    Scrapy's retry middleware re-queues the request. The slot's delay is restored once the
    wait is over."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("DISCOURSE_MAX_RETRY_AFTER", 120)
        self.raised: dict[str, tuple[float, float]] = {}  # slot → (old delay, until)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        key = request.meta.get("download_slot")
        engine = self.crawler.engine
        slot = engine.downloader.slots.get(key) if key is not None and engine else None
        if slot is None:
            return response
        now = time.monotonic()
        if response.status == 429:
            wait = min(retry_after_seconds(response.headers.get("Retry-After")), self.max_wait)
            self.crawler.stats.inc_value("otklik/rate_limited")
            if wait > 0:
                old_delay = self.raised.get(key, (slot.delay, 0))[0]
                self.raised[key] = (old_delay, now + wait)
                slot.delay = max(slot.delay, wait)
        elif key in self.raised and now >= self.raised[key][1]:
            slot.delay = self.raised.pop(key)[0]
        return response


def retry_after_seconds(value) -> float:
    """``Retry-After`` as seconds (an integer or an HTTP date); 0 when absent or unreadable."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = (value or "").strip()
    if not text:
        return 0.0
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return 0.0
    return max(0.0, moment.timestamp() - time.time())


def _has_class(name: str) -> str:
    return f'contains(concat(" ", normalize-space(@class), " "), " {name} ")'


def _strings(value) -> list[str]:
    """An option that may be one string or a list of them → a list of non-blank strings."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _likes(post: dict) -> int | None:
    """``like_count`` where the serializer gives it, else the like entry of
    ``actions_summary`` (absent from the list: no likes)."""
    if _int(post.get("like_count")) is not None:
        return post["like_count"]
    actions = post.get("actions_summary")
    if not isinstance(actions, list):
        return None
    for action in actions:
        if isinstance(action, dict) and action.get("id") == LIKE_ACTION:
            return _int(action.get("count")) or 0
    return 0


def _latest_date(*values) -> str | None:
    """The latest of some ISO timestamps, in UTC; unreadable ones are ignored."""
    dates = []
    for value in values:
        if isinstance(value, str):
            try:
                dates.append(to_utc_iso(value))
            except BadDate:
                continue
    return max(dates) if dates else None
