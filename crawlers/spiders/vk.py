"""VK (VKontakte) through its official API: community and user walls, their comments, and
``newsfeed.search`` for brand queries.

Every call is ``GET {url}/{method}?{params}&v={api_version}``; the user's access token travels
in the ``Authorization: Bearer`` header (VK's documented alternative to an ``access_token``
parameter), added by ``VkTokenMiddleware`` just before download and taken off again, so no URL,
log line or saved job queue ever holds it. VK answers errors with HTTP 200 and
``{"error": {"error_code", "error_msg"}}``; see ``read_api`` for what each code does.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from crawlers.items import Mention
from crawlers.spiders.base import SourceSpider

DEFAULT_API = "https://api.vk.com/method"
DEFAULT_SITE = "https://vk.com"
DEFAULT_VERSION = "5.199"
DEFAULT_TOKEN_ENV = "VK_TOKEN"
MAX_COUNT = {"wall.get": 100, "wall.getComments": 100, "newsfeed.search": 200}
THREAD_ITEMS = 10
TOO_MANY_PER_SECOND = 6
AUTH_FAILED = 5
RATE_LIMITED = {9, 29}
NO_ACCESS = {15, 18, 30}
# "[id123|Ирина]", "[club42|Волна]" — VK's inline links to people and communities.
INLINE_LINK = re.compile(r"\[(?:id|club|public|event)\d+\|([^\]]*)\]")
TRUE = {"1", "true", "yes", "on"}


class VkTokenMiddleware:
    """Puts the spider's token on its API requests at download time only."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        spider = self.crawler.spider
        token = getattr(spider, "_token", None)
        # Only to the configured API: never along a redirect to another host.
        if token and request.meta.get("vk_method") and request.url.startswith(f"{spider.api}/"):
            request.headers["Authorization"] = f"Bearer {token}"

    def process_response(self, request, response):
        request.headers.pop("Authorization", None)
        return response

    def process_exception(self, request, exception):
        request.headers.pop("Authorization", None)


class VkSpider(SourceSpider):
    """Options: ``owners`` (wall owner ids; negative for communities), ``search`` (queries for
    ``newsfeed.search``), ``comments`` (true/false), ``token_env`` (environment variable holding
    the access token, default ``VK_TOKEN``), ``api_version`` (default 5.199), ``site_url``
    (permalink base, default https://vk.com), ``page_size``, ``max_retries`` and
    ``retry_delay`` (error 6). ``url`` is the API base, e.g. https://api.vk.com/method."""

    name = "vk"
    source_kind = "vk"
    # An API with a token, not a site to be crawled: robots.txt does not apply. VK allows a
    # user token about three calls a second.
    custom_settings = {"ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                       "DOWNLOAD_DELAY": 0.35}

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        # At spider priority: ``crawlers.run`` hands Scrapy a ready crawler, and Scrapy then
        # re-applies the process settings over it, which would undo a default-priority change.
        middlewares = {**settings.getdict("DOWNLOADER_MIDDLEWARES"), VkTokenMiddleware: 950}
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")

    def configure(self) -> None:
        options = self.source.options
        self.stopped_methods = set()
        self.api = (self.source.url or DEFAULT_API).rstrip("/")
        self.site = str(options.get("site_url") or DEFAULT_SITE).rstrip("/")
        self.version = str(options.get("api_version") or DEFAULT_VERSION)
        self.token_env = str(options.get("token_env") or DEFAULT_TOKEN_ENV)
        self.with_comments = _flag(options.get("comments", False))
        self.page_size = _number(options.get("page_size"), int, None)
        self.max_retries = _number(options.get("max_retries"), int, 3)
        self.retry_delay = _number(options.get("retry_delay"), float, 1.0)
        # Read once, kept in memory only (requests of a resumed job get it too).
        self._token = os.environ.get(self.token_env, "").strip() or None

    async def start(self):
        if not self._token:
            self.logger.error("VK access token missing: set the environment variable %s "
                              "(source %s); nothing was requested", self.token_env,
                              self.source.id)
            self.count("skipped/missing_token")
            return
        for owner in _as_list(self.source.options.get("owners")):
            try:
                owner_id = int(str(owner).strip())
            except ValueError:
                self.skip("bad_owner", self.api, f"not a VK owner id: {owner!r}")
                continue
            yield self.wall_request(owner_id, 0)
        for query in _as_list(self.source.options.get("search")):
            if str(query).strip():
                yield self.search_request(str(query).strip())

    # --- requests -------------------------------------------------------------------------

    def api_request(self, method: str, params: dict, callback, **cb_kwargs) -> scrapy.Request:
        """A call of ``method``. ``dont_filter``: listing pages are read on every crawl and a
        retried call repeats its URL; pagination never asks for the same page twice."""
        query = urlencode({**params, "v": self.version}, quote_via=quote)
        return scrapy.Request(f"{self.api}/{method}?{query}", callback=callback,
                              errback=self.request_failed, cb_kwargs=cb_kwargs,
                              meta={"vk_method": method}, dont_filter=True)

    def count_param(self, method: str) -> int:
        largest = MAX_COUNT[method]
        return min(self.page_size, largest) if self.page_size else largest

    def wall_request(self, owner_id: int, offset: int) -> scrapy.Request:
        params = {"owner_id": owner_id, "count": self.count_param("wall.get"),
                  "offset": offset, "extended": 1}
        return self.api_request("wall.get", params, self.parse_wall, owner_id=owner_id,
                                offset=offset)

    def comments_request(self, owner_id: int, post_id: int, offset: int,
                         comment_id: int | None = None) -> scrapy.Request:
        params = {"owner_id": owner_id, "post_id": post_id}
        if comment_id:
            params["comment_id"] = comment_id
        params.update({"count": self.count_param("wall.getComments"), "offset": offset,
                       "extended": 1, "need_likes": 1})
        if not comment_id:
            params["thread_items_count"] = THREAD_ITEMS
        return self.api_request("wall.getComments", params, self.parse_comments,
                                owner_id=owner_id, post_id=post_id, offset=offset,
                                comment_id=comment_id)

    def search_request(self, query: str, start_from: str | None = None) -> scrapy.Request:
        params = {"q": query, "count": self.count_param("newsfeed.search"), "extended": 1}
        if start_from:
            params["start_from"] = start_from
        return self.api_request("newsfeed.search", params, self.parse_search, query=query)

    def request_failed(self, failure):
        request = failure.request
        response = getattr(failure.value, "response", None)
        detail = f"HTTP {response.status}" if response is not None else repr(failure.value)
        self.skip("http_error", request.url, detail)
        self.forget_comments(request)

    def forget_comments(self, request) -> None:
        """A comments call that failed: look at that post's comments again next crawl."""
        kwargs = request.cb_kwargs
        if request.meta.get("vk_method") == "wall.getComments":
            self.forget_thread(_thread_key(kwargs["owner_id"], kwargs["post_id"]))

    # --- API answers ----------------------------------------------------------------------

    def read_api(self, response: Response) -> tuple[dict | None, scrapy.Request | None]:
        """``(data, None)`` for a good answer; ``(None, retry)`` for error 6 while retries
        are left; ``(None, None)`` for anything unusable (logged and counted).

        Error 6 (too many requests per second) retries the call after ``retry_delay``, at
        most ``max_retries`` times; 9/29 (flood control, rate limit) stop that method for
        this crawl; 5 (authorisation failed) stops the crawl; 15/18/30 (access denied,
        deleted or banned, private) skip that owner or post.
        """
        method = response.meta.get("vk_method", "?")
        try:
            payload = json.loads(response.body)
        except (ValueError, UnicodeDecodeError) as error:
            self.skip("bad_json", response.url, error)
            return None, None
        if not isinstance(payload, dict):
            self.skip("bad_json", response.url, "not a JSON object")
            return None, None
        error = payload.get("error")
        if error is not None:
            return None, self.api_error(response, method, error)
        data = payload.get("response")
        if not isinstance(data, dict):
            self.skip("bad_response", response.url, "no 'response' object")
            return None, None
        return data, None

    def api_error(self, response: Response, method: str, error) -> scrapy.Request | None:
        code = error.get("error_code") if isinstance(error, dict) else None
        message = error.get("error_msg", "") if isinstance(error, dict) else str(error)
        self.count(f"api_errors/{code}")
        if code == TOO_MANY_PER_SECOND:
            tries = response.meta.get("vk_retries", 0)
            if tries < self.max_retries:
                self.logger.info("VK error 6 on %s, retry %d of %d", response.url, tries + 1,
                                 self.max_retries)
                return response.request.replace(
                    meta={**response.request.meta, "vk_retries": tries + 1}, dont_filter=True)
            self.skip("too_many_requests", response.url, f"error 6 after {tries} retries")
        elif code in RATE_LIMITED:
            if method not in self.stopped_methods:
                self.stopped_methods.add(method)
                self.logger.warning("VK error %s (%s): no more %s calls in this crawl",
                                    code, message, method)
            self.count("skipped/rate_limited")
        elif code == AUTH_FAILED:
            self.logger.error("VK authorisation failed (%s): check the access token in the "
                              "environment variable %s", message, self.token_env)
            self.count("skipped/auth_failed")
            raise CloseSpider("vk_authorization_failed")
        elif code in NO_ACCESS:
            self.skip("access_denied", response.url, f"error {code}: {message}")
        else:
            self.skip("api_error", response.url, f"error {code}: {message}")
        return None

    async def _read(self, response: Response):
        """``read_api``, waiting out the delay before handing back a retry."""
        data, retry = self.read_api(response)
        if retry is not None:
            await asyncio.sleep(self.retry_delay)
        return data, retry

    def allowed(self, method: str) -> bool:
        """May this crawl still call ``method`` (not rate-limited, page budget left)?"""
        if method in self.stopped_methods:
            self.count("requests/not_sent_rate_limited")
            return False
        return self.page_budget_left()

    # --- walls ----------------------------------------------------------------------------

    async def parse_wall(self, response: Response, owner_id: int, offset: int):
        data, retry = await self._read(response)
        if retry is not None:
            yield retry
            return
        if data is not None:
            for item in self.wall_page(response, data, owner_id, offset):
                yield item

    def wall_page(self, response: Response, data: dict, owner_id: int, offset: int):
        """A page of ``wall.get``: its posts, their comments where they changed, then the next
        page while this one held a post not yet stored (the pinned post aside)."""
        self.count("pages/posts_expected")
        items = data.get("items") or []
        people = _people(data)
        fresh = too_old = False
        for item in items:
            if not isinstance(item, dict):
                self.skip("bad_post", response.url, "not an object")
                continue
            pinned = bool(item.get("is_pinned"))
            mention = self.post_mention(response, item, people)
            if mention is None:
                continue
            if self.too_old(mention.published_at):
                self.count("posts/too_old")
                too_old = too_old or not pinned
                continue
            if not pinned and not self.is_stored(mention.url):
                fresh = True
            yield mention
            yield from self.comments_for(item, owner_id)
        following = offset + len(items)
        total = data.get("count") if isinstance(data.get("count"), int) else 0
        if not fresh:
            if items:
                self.count("pages/only_stored")
            return
        if not too_old and following < total and self.allowed("wall.get"):
            yield self.wall_request(owner_id, following)

    def comments_for(self, item: dict, owner_id: int):
        """The comments call of a post, when comments are wanted and their count changed."""
        if not self.with_comments:
            return
        comments = (item.get("comments") or {}).get("count") or 0
        post_id = item.get("id")
        if not isinstance(post_id, int):
            return
        owner = item.get("owner_id", owner_id)
        changed = self.thread_changed(_thread_key(owner, post_id), comments)
        if comments and changed and self.allowed("wall.getComments"):
            yield self.comments_request(owner, post_id, 0)

    # --- comments -------------------------------------------------------------------------

    async def parse_comments(self, response: Response, owner_id: int, post_id: int,
                             offset: int, comment_id: int | None = None):
        data, retry = await self._read(response)
        if retry is not None:
            yield retry
            return
        if data is None:
            self.forget_thread(_thread_key(owner_id, post_id))
            return
        for item in self.comments_page(response, data, owner_id, post_id, offset, comment_id):
            yield item

    def comments_page(self, response: Response, data: dict, owner_id: int, post_id: int,
                      offset: int, comment_id: int | None = None):
        """A page of ``wall.getComments``: top-level comments with the replies VK nests in
        them (``thread.items``), or, with ``comment_id``, the replies of one comment."""
        self.count("pages/posts_expected")
        people = _people(data)
        items = data.get("items") or []
        post_url = self.post_url(owner_id, post_id)
        for comment in items:
            if not isinstance(comment, dict):
                self.skip("bad_comment", response.url, "not an object")
                continue
            parent = (self.comment_url(owner_id, post_id, comment_id) if comment_id
                      else post_url)
            if comment_id and comment.get("reply_to_comment"):
                parent = self.comment_url(owner_id, post_id, comment["reply_to_comment"])
            mention = self.comment_mention(response, comment, owner_id, post_id, parent, people)
            if mention is not None:
                yield mention
            if comment_id:
                continue
            thread = comment.get("thread") or {}
            replies = [reply for reply in thread.get("items") or [] if isinstance(reply, dict)]
            for reply in replies:
                target = reply.get("reply_to_comment") or comment.get("id")
                mention = self.comment_mention(response, reply, owner_id, post_id,
                                               self.comment_url(owner_id, post_id, target),
                                               people)
                if mention is not None:
                    yield mention
            more = (thread.get("count") or 0) > len(replies)
            if more and isinstance(comment.get("id"), int) and self.allowed("wall.getComments"):
                yield self.comments_request(owner_id, post_id, 0, comment_id=comment["id"])
        level = data.get("current_level_count", data.get("count"))
        following = offset + len(items)
        if (items and isinstance(level, int) and following < level
                and self.allowed("wall.getComments")):
            yield self.comments_request(owner_id, post_id, following, comment_id=comment_id)

    # --- search ---------------------------------------------------------------------------

    async def parse_search(self, response: Response, query: str):
        data, retry = await self._read(response)
        if retry is not None:
            yield retry
            return
        if data is not None:
            for item in self.search_page(response, data, query):
                yield item

    def search_page(self, response: Response, data: dict, query: str):
        """A page of ``newsfeed.search`` (newest first): its posts, then the next page
        (``next_from``) while this one held a post not yet stored."""
        self.count("pages/posts_expected")
        people = _people(data)
        fresh = too_old = False
        for item in data.get("items") or []:
            if not isinstance(item, dict):
                self.skip("bad_post", response.url, "not an object")
                continue
            mention = self.post_mention(response, item, people)
            if mention is None:
                continue
            if self.too_old(mention.published_at):
                self.count("posts/too_old")
                too_old = True
                continue
            mention.metadata["search_query"] = query
            fresh = fresh or not self.is_stored(mention.url)
            yield mention
        cursor = data.get("next_from")
        if not fresh:
            self.count("pages/only_stored")
            return
        if cursor and not too_old and self.allowed("newsfeed.search"):
            yield self.search_request(query, str(cursor))

    # --- mentions -------------------------------------------------------------------------

    def post_url(self, owner_id: int, post_id: int) -> str:
        return f"{self.site}/wall{owner_id}_{post_id}"

    def comment_url(self, owner_id: int, post_id: int, comment_id: int) -> str:
        return f"{self.site}/wall{owner_id}_{post_id}?reply={comment_id}"

    def author(self, author_id, people: dict) -> dict:
        """``author_handle`` / ``author_name`` / ``author_url`` of a user (id > 0) or a
        community (id < 0), named from the answer's ``profiles`` and ``groups``."""
        if not isinstance(author_id, int) or author_id == 0:
            return {}
        if author_id > 0:
            profile = people.get(author_id) or {}
            name = " ".join(part for part in (profile.get("first_name"),
                                              profile.get("last_name")) if part)
            return {"author_handle": f"id{author_id}", "author_name": name or None,
                    "author_url": f"{self.site}/id{author_id}"}
        group = people.get(author_id) or {}
        screen = group.get("screen_name")
        return {"author_handle": f"club{-author_id}", "author_name": group.get("name") or None,
                "author_url": f"{self.site}/{screen}" if screen
                else f"{self.site}/club{-author_id}"}

    def post_mention(self, response: Response, item: dict, people: dict) -> Mention | None:
        """A wall post (``wall.get`` or ``newsfeed.search`` item) → a ``Mention``; a repost
        keeps the reposted words as a quote of their author."""
        owner_id, post_id = item.get("owner_id"), item.get("id")
        published = _utc(item.get("date"))
        if not isinstance(owner_id, int) or not isinstance(post_id, int) or not published:
            self.skip("bad_post", response.url,
                      f"post {owner_id}_{post_id} lacks owner, id or date")
            return None
        url = self.post_url(owner_id, post_id)
        text = _plain(item.get("text"))
        quotes, metadata = [], {}
        for original in item.get("copy_history") or []:
            if not isinstance(original, dict):
                continue
            words = _plain(original.get("text"))
            source = original.get("from_id") or original.get("owner_id")
            if words:
                quotes.append({"author": self.author(source, people).get("author_name"),
                               "text": words})
            if "repost_of" not in metadata and isinstance(original.get("owner_id"), int):
                metadata["repost_of"] = self.post_url(original["owner_id"], original.get("id"))
        if not text and not quotes:
            self.count("skipped/media_only")
            return None
        self.count("posts/parsed")
        edited = _utc(item.get("edited"))
        if edited:
            metadata["edited"] = True
        if item.get("is_pinned"):
            metadata["pinned"] = True
        reposts = (item.get("reposts") or {}).get("count")
        if reposts:
            metadata["reposts"] = reposts
        signer = item.get("signer_id")
        if isinstance(signer, int):
            metadata["signer"] = self.author(signer, people).get("author_name") or f"id{signer}"
        return Mention(
            source=self.source.id, url=url, kind="post", text=text, quotes=quotes,
            thread_id=_thread_key(owner_id, post_id),
            **self.author(item.get("from_id", owner_id), people),
            published_at=published, edited_at=edited,
            likes=_count(item, "likes"), replies=_count(item, "comments"),
            views=_count(item, "views"), metadata=metadata,
        )

    def comment_mention(self, response: Response, comment: dict, owner_id: int, post_id: int,
                        parent_url: str, people: dict) -> Mention | None:
        comment_id = comment.get("id")
        if comment.get("deleted"):
            self.count("skipped/deleted")
            return None
        published = _utc(comment.get("date"))
        if not isinstance(comment_id, int) or not published:
            self.skip("bad_comment", response.url, f"comment {comment_id!r} lacks id or date")
            return None
        text = _plain(comment.get("text"))
        if not text:
            self.count("skipped/media_only")
            return None
        self.count("posts/parsed")
        if self.too_old(published):
            self.count("posts/too_old")
            return None
        thread = comment.get("thread") or {}
        return Mention(
            source=self.source.id, url=self.comment_url(owner_id, post_id, comment_id),
            kind="comment", text=text, thread_id=_thread_key(owner_id, post_id),
            parent_url=parent_url, **self.author(comment.get("from_id"), people),
            published_at=published, likes=_count(comment, "likes"),
            replies=thread.get("count") if isinstance(thread.get("count"), int) else None,
        )


def _thread_key(owner_id, post_id) -> str:
    return f"{owner_id}_{post_id}"


def _people(data: dict) -> dict:
    """Authors by signed id: users (``profiles``) positive, communities (``groups``)
    negative."""
    people = {}
    for profile in data.get("profiles") or []:
        if isinstance(profile, dict) and isinstance(profile.get("id"), int):
            people[profile["id"]] = profile
    for group in data.get("groups") or []:
        if isinstance(group, dict) and isinstance(group.get("id"), int):
            people[-abs(group["id"])] = group
    return people


def _plain(text) -> str:
    """VK's post text with inline links (``[id1|Ирина]``) shown as their names."""
    return INLINE_LINK.sub(r"\1", text).strip() if isinstance(text, str) else ""


def _utc(timestamp) -> str | None:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp <= 0:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _count(item: dict, key: str) -> int | None:
    value = (item.get(key) or {}).get("count") if isinstance(item.get(key), dict) else None
    return value if isinstance(value, int) else None


def _flag(value) -> bool:
    return str(value).strip().lower() in TRUE


def _number(value, kind, default):
    try:
        return kind(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
