"""Public Telegram channels through their web preview (``https://t.me/s/<channel>``).

The preview shows about twenty posts a page, oldest first, with a "more" link
(``a.tme_messages_more[data-before]``) to the page of older posts, ``/s/<channel>?before=<id>``.
A crawl reads every channel's newest page, then pages back until a page holds only posts that
are already stored, a post is older than the source's ``since_days``, or the channel starts.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, urlsplit

import scrapy
from scrapy.http import Response

from crawlers.dates import BadDate, to_utc_iso
from crawlers.items import Mention
from crawlers.spiders.base import SourceSpider

DEFAULT_BASE = "https://t.me"
MESSAGE = ".tgme_widget_message_wrap .tgme_widget_message[data-post]"
# The post's own text: not the quoted text of the post it replies to.
_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"
OWN_TEXT = (f".//div[{_CLASS.format('tgme_widget_message_text')}"
            f" and not(ancestor::*[{_CLASS.format('tgme_widget_message_reply')}])]")
EDITED_WORDS = ("edited", "изменено", "змінено")
SUFFIXES = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_]{3,64}$")


class TelegramSpider(SourceSpider):
    """Options: ``channels`` (channel usernames). ``url`` is the preview site, e.g. https://t.me."""

    name = "telegram"
    source_kind = "telegram"

    @property
    def base(self) -> str:
        return (self.source.url or DEFAULT_BASE).rstrip("/")

    async def start(self):
        channels = self.source.options.get("channels") or []
        if isinstance(channels, str):
            channels = [channels]
        for raw in channels:
            channel = str(raw).strip().lstrip("@")
            if not CHANNEL_NAME.match(channel):
                self.skip("bad_channel", self.base, f"not a channel username: {raw!r}")
                continue
            yield self.page_request(channel)

    def page_request(self, channel: str, before: int | None = None) -> scrapy.Request:
        """The channel's newest page, or the page of posts older than ``before``.

        ``dont_filter``: the newest page is read again on every crawl, even when a resumed job
        remembers it; pagination itself never asks for the same page twice.
        """
        url = f"{self.base}/s/{channel}" + (f"?before={before}" if before else "")
        return scrapy.Request(url, callback=self.parse_page, errback=self.page_failed,
                              cb_kwargs={"channel": channel, "before": before},
                              dont_filter=True)

    def page_failed(self, failure):
        response = getattr(failure.value, "response", None)
        detail = f"HTTP {response.status}" if response is not None else repr(failure.value)
        self.skip("http_error", failure.request.url, detail)

    def parse_page(self, response: Response, channel: str, before: int | None = None):
        """One page of a channel: its posts, then the page of older posts while it is needed."""
        self.count("pages/posts_expected")
        messages = response.css(MESSAGE)
        if not messages:
            self.skip("no_posts", response.url, "no messages on the page")
            return
        ids, mentions, too_old = [], [], False
        for message in messages:
            post_id, published = self.message_position(message)
            if post_id is not None:
                ids.append(post_id)
            if published and self.too_old(published):
                too_old = True
                self.count("posts/too_old")
                continue
            mention = self.parse_message(response, message)
            if mention is not None:
                mentions.append(mention)
        known = [self.is_stored(mention.url) for mention in mentions]
        yield from mentions
        if too_old or not ids:
            return
        if mentions and all(known):
            self.count("pages/only_stored")
            return
        older = self.older_than(response, ids)
        if older is None or (before is not None and older >= before):
            return
        if self.page_budget_left():
            yield self.page_request(channel, older)

    def older_than(self, response: Response, ids: list[int]) -> int | None:
        """The ``before`` of the next older page, or ``None`` at the start of the channel."""
        undated = False
        for link in response.css(".tme_messages_more"):
            value = link.attrib.get("data-before") or _query_value(link.attrib.get("href", ""),
                                                                   "before")
            if value and value.isdigit():
                return int(value)
            # A "more" link to newer posts (data-after) says nothing about older ones.
            undated = undated or not link.attrib.get("data-after")
        smallest = min(ids)
        return smallest if undated and smallest > 1 else None

    def message_position(self, message) -> tuple[int | None, str | None]:
        """A message's id and publication time, read before anything else (``None`` when
        unreadable: ``parse_message`` reports it)."""
        post_id = _post_id(message.attrib.get("data-post", ""))
        try:
            published = to_utc_iso(message.css("a.tgme_widget_message_date time::attr(datetime)")
                                   .get() or "")
        except BadDate:
            published = None
        return post_id, published

    def parse_message(self, response: Response, message) -> Mention | None:
        """One ``div.tgme_widget_message`` → a ``Mention``; service messages and posts of only
        media are counted and left out, a post without id or date is skipped."""
        data_post = message.attrib.get("data-post", "")
        channel, _, number = data_post.rpartition("/")
        if not channel or not number.isdigit():
            self.skip("no_permalink", response.url, f"data-post={data_post!r}")
            return None
        url = f"{self.base}/{channel}/{number}"
        if "service_message" in message.attrib.get("class", "").split():
            self.count("skipped/service_message")
            self.logger.debug("service message %s left out", url)
            return None
        try:
            published = to_utc_iso(
                message.css("a.tgme_widget_message_date time::attr(datetime)").get() or "")
        except BadDate as error:
            self.skip("bad_date", url, error)
            return None
        body = message.xpath(OWN_TEXT)
        if not body or not _visible_text(body[0]):
            self.count("skipped/media_only")
            self.logger.debug("post %s holds only media", url)
            return None
        self.count("posts/parsed")
        metadata: dict = {}
        signed = _text(message.css(".tgme_widget_message_from_author"))
        owner = (_text(message.css(".tgme_widget_message_owner_name"))
                 or _text(response.css(".tgme_channel_info_header_title")))
        if signed:
            metadata["channel"] = channel
        if _is_edited(message):
            metadata["edited"] = True
        forwarded = self.forwarded_from(message)
        if forwarded:
            metadata["forwarded_from"] = forwarded
        quotes = []
        reply = message.css(".tgme_widget_message_reply")
        if reply:
            quote, reply_to = self.reply_quote(reply[0])
            if quote:
                quotes.append(quote)
            if reply_to:
                metadata["reply_to"] = reply_to
        return Mention(
            source=self.source.id,
            url=url,
            kind="post",
            body_html=body[0].get(),
            quotes=quotes,
            thread_id=channel,
            author_handle=signed or channel,
            author_name=signed or owner or channel,
            author_url=f"{self.base}/{channel}",
            published_at=published,
            views=parse_count(_text(message.css(".tgme_widget_message_views"))),
            metadata=metadata,
        )

    def forwarded_from(self, message) -> dict | None:
        """``{"name", "url"}`` of the channel or person a post was forwarded from."""
        origin = message.css(".tgme_widget_message_forwarded_from_name")
        if not origin:
            return None
        name = _text(origin)
        link = origin.attrib.get("href")
        forwarded = {"name": name, "url": link or None}
        author = _text(message.css(".tgme_widget_message_forwarded_from_author"))
        if author and author != name:
            forwarded["author"] = author
        return forwarded

    def reply_quote(self, reply) -> tuple[dict | None, str | None]:
        """The post this one replies to: its author and (shortened) text as a quote, and its
        link."""
        author = _text(reply.css(".tgme_widget_message_author_name"))
        quoted = reply.css(".tgme_widget_message_metatext, .js-message_reply_text,"
                           " .tgme_widget_message_text")
        html = quoted[0].get() if quoted else ""
        link = reply.attrib.get("href") or None
        quote = {"author": author, "html": html} if html else None
        return quote, link


def parse_count(text: str | None) -> int | None:
    """Telegram's short counts: ``"842"``, ``"1.2K"``, ``"3,4K"``, ``"15M"`` → integers."""
    if not text:
        return None
    match = re.fullmatch(r"([\d.,]+)\s*([KMB]?)", text.strip().upper().replace("\u00a0", ""))
    if not match:
        return None
    number, suffix = match.groups()
    # "3,4K" uses a decimal comma; "1,234" (no suffix) a thousands separator.
    number = number.replace(",", ".") if suffix else number.replace(",", "").replace(".", "")
    try:
        return int(Decimal(number) * SUFFIXES[suffix])
    except InvalidOperation:
        return None


def _post_id(data_post: str) -> int | None:
    number = data_post.rpartition("/")[2]
    return int(number) if number.isdigit() else None


def _is_edited(message) -> bool:
    meta = " ".join(message.css(".tgme_widget_message_meta").xpath("./text()").getall()).lower()
    return any(word in meta for word in EDITED_WORDS)


def _visible_text(selector) -> bool:
    return bool("".join(selector.xpath(".//text()").getall()).strip())


def _text(selection) -> str | None:
    """The whitespace-normalised text of the first element selected, or ``None``."""
    if not selection:
        return None
    text = " ".join("".join(selection[0].xpath(".//text()").getall()).split())
    return text or None


def _query_value(url: str, name: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None
