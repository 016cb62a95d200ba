"""Reddit through its public JSON: subreddit and search listings → posts → comment trees.

Listings (``/r/{sub}/new.json``, ``/search.json``) come newest first, 100 posts a page,
paged with ``after``. A post's comments (``/comments/{id}.json``) are a tree whose
``more`` stubs are fetched with ``/api/morechildren.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response

from crawlers.items import Mention
from crawlers.markdown_quotes import split_markdown
from crawlers.spiders.base import SourceSpider, failure_reason
from crawlers.text import html_to_text

PAGE_SIZE = 100
MORE_BATCH = 100  # ids per /api/morechildren call, Reddit's limit
DELETED = "[deleted]"
GONE_BODIES = {"[deleted]", "[removed]"}
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}


class RedditSpider(SourceSpider):
    """Options: ``subreddits`` (names), ``search`` (queries), ``restrict_sr`` (search only
    inside the subreddits instead of listing them whole; default false) and ``comments``
    (fetch comment trees; default true). ``url`` is the site, e.g. https://www.reddit.com."""

    name = "reddit"
    source_kind = "reddit"

    def configure(self) -> None:
        """Read the source's options; a wrong one fails the crawl before any request."""
        options = self.source.options
        self.base = self.source.url.rstrip("/")
        self.subreddits = [name.removeprefix("/").removeprefix("r/").strip("/")
                           for name in _strings(options.get("subreddits"), "subreddits")]
        self.queries = _strings(options.get("search"), "search")
        self.restrict_sr = _boolean(options.get("restrict_sr"), "restrict_sr", default=False)
        self.comments = _boolean(options.get("comments"), "comments", default=True)
        if not self.subreddits and not self.queries:
            raise ValueError(f"reddit source {self.source.id!r} needs 'subreddits' or 'search'")
        self.handled_posts: set[str] = set()
        self.comment_urls: dict[str, str] = {}

    async def start(self):
        for url in self.listing_urls():
            yield self.request(url, self.parse_listing)

    def listing_urls(self) -> list[str]:
        """Newest-first listings: whole subreddits and searches (site-wide, or inside the
        subreddits with ``restrict_sr``)."""
        urls = []
        if self.restrict_sr and self.queries:
            for sub in self.subreddits:
                for query in self.queries:
                    urls.append(f"{self.base}/r/{quote(sub)}/search.json?" + _query(
                        q=query, restrict_sr=1, sort="new", limit=PAGE_SIZE, raw_json=1))
            return urls
        for sub in self.subreddits:
            urls.append(f"{self.base}/r/{quote(sub)}/new.json?"
                        + _query(limit=PAGE_SIZE, raw_json=1))
        for query in self.queries:
            urls.append(f"{self.base}/search.json?"
                        + _query(q=query, sort="new", limit=PAGE_SIZE, raw_json=1))
        return urls

    def request(self, url: str, callback, thread_key: str | None = None, **kwargs):
        """A request; Scrapy's duplicate filter fetches each URL once per crawl (a post found
        by two listings has its comments fetched once)."""
        return scrapy.Request(url, callback=callback, cb_kwargs=kwargs, errback=self.failed,
                              meta={"thread_key": thread_key})

    def failed(self, failure) -> None:
        """An HTTP error, a refused or lost request: counted; the thread is looked at again
        next time."""
        request = failure.request
        self.skip(failure_reason(failure), request.url, failure.value)
        if request.meta.get("thread_key"):
            self.forget_thread(request.meta["thread_key"])

    def load_json(self, response: Response, thread_key: str | None = None):
        """The response's JSON, or ``None`` (skipped and counted) when it is not JSON."""
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError) as error:
            self.count("pages/posts_expected")
            self.skip("bad_json", response.url, error)
            if thread_key:
                self.forget_thread(thread_key)
            return None

    # -- listings -------------------------------------------------------------------------

    def parse_listing(self, response: Response):
        """A listing page: new or changed posts (and their comments), then the next page
        unless every post here is already stored or older than the source's window."""
        data = self.load_json(response)
        if data is None:
            return
        children = _listing_children(data)
        if children is None:
            self.count("pages/posts_expected")
            self.skip("bad_listing", response.url, "no data.children")
            return
        if children:
            self.count("pages/posts_expected")
        parsed = considered = stored = 0
        reached_old = False
        for child in children:
            if not isinstance(child, dict) or child.get("kind") != "t3":
                continue
            post = child.get("data")
            mention = self.parse_post(response.url, post)
            if mention is None:
                continue
            parsed += 1
            self.count("posts/parsed")
            pinned = bool(post.get("stickied") or post.get("pinned"))
            if self.too_old(mention.published_at):
                reached_old = reached_old or not pinned
                continue
            if not pinned:
                considered += 1
                stored += self.is_stored(mention.url)
            yield from self.handle_post(mention, post)
        after = data["data"].get("after")
        if not after or not parsed or reached_old or (considered and stored == considered):
            return  # (a page of nothing usable ends paging too: the JSON may have changed)
        if self.page_budget_left():
            yield self.request(_with_after(response.url, after), self.parse_listing)

    def handle_post(self, mention: Mention, post: dict):
        """A post once per crawl; with its comments only when its thread changed."""
        post_id = post["id"]
        if post_id in self.handled_posts:
            return
        self.handled_posts.add(post_id)
        key = f"t3_{post_id}"
        num_comments = _integer(post.get("num_comments")) or 0
        if not self.thread_changed(key, {"comments": num_comments, "edited": post.get("edited")}):
            return
        yield mention
        if not (self.comments and num_comments > 0):
            return
        if not self.page_budget_left():
            self.forget_thread(key)
            return
        thread = {"key": key, "post_id": post_id, "post_url": mention.url,
                  "title": mention.title, "subreddit": post.get("subreddit")}
        yield self.request(f"{self.base}/comments/{post_id}.json?raw_json=1",
                           self.parse_comments, thread_key=key, thread=thread)

    def parse_post(self, page_url: str, post) -> Mention | None:
        """A ``t3`` thing's data → a post; one without id, permalink or date is skipped."""
        if not isinstance(post, dict) or not post.get("id") or not post.get("permalink"):
            self.skip("missing_fields", page_url, "post without id or permalink")
            return None
        published = _timestamp(post.get("created_utc"))
        if published is None:
            self.skip("bad_date", page_url, f"post {post['id']}: {post.get('created_utc')!r}")
            return None
        title = post.get("title") or ""
        selftext = post.get("selftext") or ""
        metadata = {"subreddit": post.get("subreddit")}
        if selftext.strip() in GONE_BODIES:
            metadata["removed"] = selftext.strip()
            selftext = ""
        own_html, quotes = split_markdown(selftext)
        if not html_to_text(own_html):
            own_html = ""
        if not post.get("is_self", True) and post.get("url"):
            metadata["link"] = post["url"]
        for flag, key in (("over_18", "nsfw"), ("stickied", "stickied")):
            if post.get(flag):
                metadata[key] = True
        edited_at = _timestamp(post.get("edited"))
        if edited_at:
            metadata["edited"] = True
        return Mention(
            source=self.source.id,
            url=self.base + post["permalink"],
            kind="post",
            body_html=own_html,
            # A link or title-only post says everything in its title.
            text="" if own_html or quotes else title,
            quotes=[{"author": None, "html": passage} for passage in quotes],
            title=title,
            thread_id=post["id"],
            **self.author(post),
            published_at=published,
            edited_at=edited_at,
            likes=_integer(post.get("score")),
            replies=_integer(post.get("num_comments")),
            metadata=metadata,
        )

    def author(self, thing: dict) -> dict:
        name = thing.get("author")
        if not name or name == DELETED:
            return {"author_handle": None, "author_url": None}
        return {"author_handle": name, "author_url": f"{self.base}/user/{name}"}

    # -- comments -------------------------------------------------------------------------

    def parse_comments(self, response: Response, thread: dict):
        """``[post listing, comment listing]``: every comment of the tree, then the stubs."""
        data = self.load_json(response, thread["key"])
        if data is None:
            return
        children = _listing_children(data[1]) if isinstance(data, list) and len(data) > 1 else None
        if children is None:
            self.count("pages/posts_expected")
            self.skip("bad_comments", response.url, "not [post, comments] listings")
            self.forget_thread(thread["key"])
            return
        self.count("pages/posts_expected")
        more: list[str] = []
        yield from self.walk(response.url, children, thread, more)
        yield from self.more_requests(more, thread)

    def parse_more(self, response: Response, thread: dict):
        """``/api/morechildren``: a flat list of comments (parents from ``parent_id``)."""
        data = self.load_json(response, thread["key"])
        if data is None:
            return
        things = _dig(data, "json", "data", "things")
        self.count("pages/posts_expected")
        if not isinstance(things, list):
            self.skip("bad_comments", response.url, "no json.data.things")
            self.forget_thread(thread["key"])
            return
        more: list[str] = []
        yield from self.walk(response.url, things, thread, more)
        yield from self.more_requests(more, thread)

    def walk(self, page_url: str, things: list, thread: dict, more: list[str]):
        """Comments of a tree, parents before replies; ``more`` stubs' ids go to ``more``."""
        for thing in things:
            if not isinstance(thing, dict) or not isinstance(thing.get("data"), dict):
                continue
            data = thing["data"]
            if thing.get("kind") == "more":
                more.extend(str(child) for child in data.get("children") or [])
                continue
            if thing.get("kind") != "t1":
                continue
            mention = self.parse_comment(page_url, data, thread)
            if mention is not None:
                self.count("posts/parsed")
                if not self.too_old(mention.published_at):
                    yield mention
            yield from self.walk(page_url, _listing_children(data.get("replies")) or [],
                                 thread, more)

    def more_requests(self, ids: list[str], thread: dict):
        for start in range(0, len(ids), MORE_BATCH):
            if not self.page_budget_left():
                self.forget_thread(thread["key"])
                return
            url = f"{self.base}/api/morechildren.json?" + _query(
                link_id=f"t3_{thread['post_id']}", children=",".join(ids[start:start + MORE_BATCH]),
                api_type="json", raw_json=1)
            yield self.request(url, self.parse_more, thread_key=thread["key"], thread=thread)

    def parse_comment(self, page_url: str, comment: dict, thread: dict) -> Mention | None:
        """A ``t1`` thing's data → a comment; deleted ones only lend their place to replies."""
        comment_id = comment.get("id")
        if not comment_id:
            self.skip("missing_fields", page_url, "comment without id")
            return None
        url = self.comment_url(comment_id, thread, comment.get("permalink"))
        body = comment.get("body") or ""
        if body.strip() in GONE_BODIES:
            self.count("comments/deleted")
            return None
        published = _timestamp(comment.get("created_utc"))
        if published is None:
            self.skip("bad_date", page_url, f"comment {comment_id}: {comment.get('created_utc')!r}")
            return None
        own_html, quotes = split_markdown(body)
        edited_at = _timestamp(comment.get("edited"))
        metadata = {"subreddit": comment.get("subreddit") or thread["subreddit"]}
        if edited_at:
            metadata["edited"] = True
        return Mention(
            source=self.source.id,
            url=url,
            kind="comment",
            body_html=own_html,
            quotes=[{"author": None, "html": passage} for passage in quotes],
            title=thread["title"],
            thread_id=thread["post_id"],
            parent_url=self.parent_url(comment.get("parent_id"), thread),
            **self.author(comment),
            published_at=published,
            edited_at=edited_at,
            likes=_integer(comment.get("score")),
            metadata=metadata,
        )

    def comment_url(self, comment_id: str, thread: dict, permalink: str | None) -> str:
        url = self.base + permalink if permalink else \
            f"{thread['post_url'].rstrip('/')}/{comment_id}/"
        self.comment_urls[comment_id] = url
        return url

    def parent_url(self, parent_id: str | None, thread: dict) -> str:
        """``t3_…`` is the post; ``t1_…`` a comment (its permalink sits under the post's)."""
        kind, _, thing_id = (parent_id or "").partition("_")
        if kind != "t1" or not thing_id:
            return thread["post_url"]
        return self.comment_urls.get(thing_id) or f"{thread['post_url'].rstrip('/')}/{thing_id}/"


def _listing_children(listing) -> list | None:
    """The ``children`` of a ``Listing`` thing, or ``None`` when it is not one (``""`` is
    what Reddit sends for a comment without replies: no children)."""
    if listing == "":
        return []
    if not isinstance(listing, dict) or listing.get("kind") != "Listing":
        return None
    children = (listing.get("data") or {}).get("children")
    return children if isinstance(children, list) else None


def _dig(data, *keys):
    """``data[k1][k2]…``, or ``None`` where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _timestamp(value) -> str | None:
    """Reddit's epoch seconds (``created_utc``, ``edited``) → ISO-8601 UTC; ``false`` → None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        return None


def _integer(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _query(**params) -> str:
    return urlencode(list(params.items()), quote_via=quote)


def _with_after(url: str, after: str) -> str:
    """The listing URL for the page after ``after`` (any previous ``after`` replaced)."""
    head, _, _ = url.partition("&after=")
    return f"{head}&after={quote(after)}"


def _strings(value, name: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"reddit option {name!r} must be a list of strings")
    return [item.strip() for item in value if item.strip()]


def _boolean(value, name: str, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError(f"reddit option {name!r} must be true or false, got {value!r}")
