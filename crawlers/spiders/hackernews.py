"""Hacker News through the Algolia search API: stories and comments matching the queries.

``/search_by_date`` answers newest first, ``hitsPerPage`` hits a page, pages numbered from
0 up to ``nbPages - 1``. Every hit is a whole story or comment, so there are no threads to
open: a re-crawl pages back only until a page holds nothing new.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response

from crawlers.dates import BadDate, to_utc_iso
from crawlers.items import Mention
from crawlers.markdown_quotes import split_paragraph_quotes
from crawlers.spiders.base import SourceSpider, failure_reason
from crawlers.text import html_to_text

PAGE_SIZE = 100
DEFAULT_TAGS = "(story,comment)"
ITEM_URL = "https://news.ycombinator.com/item"
USER_URL = "https://news.ycombinator.com/user"
STORY_TAGS = {"story", "poll", "job", "show_hn", "ask_hn"}


class HackerNewsSpider(SourceSpider):
    """Options: ``queries`` (search words), ``tags`` (Algolia tag filter, default
    ``(story,comment)``), ``item_url`` / ``user_url`` (where items and users are shown,
    default news.ycombinator.com). ``url`` is the API, e.g. https://hn.algolia.com/api/v1."""

    name = "hackernews"
    source_kind = "hackernews"

    def configure(self) -> None:
        """Read the source's options; a wrong one fails the crawl before any request."""
        options = self.source.options
        self.base = self.source.url.rstrip("/")
        queries = options.get("queries")
        if isinstance(queries, str):
            queries = [queries]
        if not queries or not isinstance(queries, list) \
                or not all(isinstance(query, str) and query.strip() for query in queries):
            raise ValueError(f"hackernews source {self.source.id!r} needs 'queries', "
                             "a list of search words")
        self.queries = [query.strip() for query in queries]
        self.tags = _option(options, "tags", DEFAULT_TAGS)
        self.item_url = _option(options, "item_url", ITEM_URL)
        self.user_url = _option(options, "user_url", USER_URL)

    async def start(self):
        for query in self.queries:
            yield self.search_request(query, 0)

    def search_request(self, query: str, page: int) -> scrapy.Request:
        """One page of a search, newest first."""
        params = {"query": query, "tags": self.tags, "hitsPerPage": PAGE_SIZE, "page": page}
        url = f"{self.base}/search_by_date?" + urlencode(list(params.items()), quote_via=quote)
        return scrapy.Request(url, callback=self.parse_search, cb_kwargs={"query": query},
                              errback=self.failed)

    def failed(self, failure) -> None:
        self.skip(failure_reason(failure), failure.request.url, failure.value)

    def parse_search(self, response: Response, query: str):
        """A page of hits: every story and comment, then the next page unless all of them
        are stored already or older than the source's window."""
        try:
            data = json.loads(response.text)
        except (ValueError, AttributeError) as error:
            self.count("pages/posts_expected")
            self.skip("bad_json", response.url, error)
            return
        hits = data.get("hits") if isinstance(data, dict) else None
        if not isinstance(hits, list):
            self.count("pages/posts_expected")
            self.skip("bad_listing", response.url, "no hits")
            return
        if hits:
            self.count("pages/posts_expected")
        parsed = considered = stored = 0
        reached_old = False
        for hit in hits:
            mention = self.parse_hit(response.url, hit)
            if mention is None:
                continue
            parsed += 1
            self.count("posts/parsed")
            if self.too_old(mention.published_at):
                reached_old = True
                continue
            considered += 1
            stored += self.is_stored(mention.url)
            yield mention
        page, pages = data.get("page"), data.get("nbPages")
        if not isinstance(page, int) or not isinstance(pages, int) or page + 1 >= pages:
            return
        if not parsed or reached_old or (considered and stored == considered):
            return  # (a page of nothing usable ends paging too: the JSON may have changed)
        if self.page_budget_left():
            yield self.search_request(query, page + 1)

    def parse_hit(self, page_url: str, hit) -> Mention | None:
        """One hit → a story (``post``) or a comment; one without id or date is skipped."""
        if not isinstance(hit, dict) or not hit.get("objectID"):
            self.skip("missing_fields", page_url, "hit without objectID")
            return None
        item_id = str(hit["objectID"])
        try:
            published = _published(hit)
        except BadDate as error:
            self.skip("bad_date", page_url, f"item {item_id}: {error}")
            return None
        tags = set(hit.get("_tags") or [])
        is_comment = "comment" in tags or (not tags & STORY_TAGS and bool(hit.get("comment_text")))
        body = hit.get("comment_text") if is_comment else hit.get("story_text")
        own_html, quotes = split_paragraph_quotes(body or "")
        author = hit.get("author")
        fields = {
            "source": self.source.id,
            "url": self.item_link(item_id),
            "body_html": own_html,
            "quotes": [{"author": None, "html": passage} for passage in quotes],
            "author_handle": author or None,
            "author_url": f"{self.user_url}?id={quote(author)}" if author else None,
            "published_at": published,
        }
        if is_comment:
            story_id = hit.get("story_id")
            parent_id = hit.get("parent_id")
            return Mention(
                **fields,
                kind="comment",
                title=hit.get("story_title"),
                thread_id=str(story_id) if story_id is not None else None,
                parent_url=self.item_link(parent_id) if parent_id is not None else None,
                likes=_integer(hit.get("points")),
                metadata={"story_url": hit["story_url"]} if hit.get("story_url") else {},
            )
        title = hit.get("title") or ""
        if not html_to_text(own_html) and not quotes:
            # A link story says everything in its title.
            fields.update(body_html="", text=title)
        return Mention(
            **fields,
            kind="post",
            title=title,
            thread_id=item_id,
            likes=_integer(hit.get("points")),
            replies=_integer(hit.get("num_comments")),
            metadata={"link": hit["url"]} if hit.get("url") else {},
        )

    def item_link(self, item_id) -> str:
        return f"{self.item_url}?id={item_id}"


def _published(hit: dict) -> str:
    """``created_at_i`` (epoch seconds), else ``created_at`` (ISO) → ISO-8601 UTC."""
    seconds = hit.get("created_at_i")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        try:
            return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
        except (ValueError, OverflowError, OSError):
            pass
    created = hit.get("created_at")
    if not isinstance(created, str):
        raise BadDate(f"no created_at: {created!r}")
    return to_utc_iso(created)


def _integer(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _option(options: dict, name: str, default: str) -> str:
    value = options.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise ValueError(f"hackernews option {name!r} must be a string")
    return value.strip()
