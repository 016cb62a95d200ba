"""HTML forums (phpBB and other engines): board → topics → posts, following pagination."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import scrapy
from scrapy.http import Response

from crawlers.dates import BadDate, to_utc_iso
from crawlers.engines import Engine, engine
from crawlers.items import Mention
from crawlers.spiders.base import SourceSpider


class ForumSpider(SourceSpider):
    """Options: ``engine`` (e.g. ``phpbb``) and ``boards`` (board URLs, relative to ``url``)."""

    name = "forum"
    source_kind = "forum"

    async def start(self):
        self.engine: Engine = engine(self.source.options.get("engine", "phpbb"))
        boards = self.source.options.get("boards") or [self.source.url]
        for board in boards:
            yield scrapy.Request(
                urljoin(self.source.url, board),
                callback=self.parse_board,
            )

    def parse_board(self, response: Response):
        """A board page: every topic, then the board's next page."""
        links = response.css(self.engine.topic_link).getall()
        if not links:
            self.count("pages/no_topics")
        for link in links:
            if self.page_budget_left():
                yield response.follow(link, callback=self.parse_topic)
        next_page = response.css(self.engine.board_next).get()
        if next_page and self.page_budget_left():
            yield response.follow(next_page, callback=self.parse_board)

    def parse_topic(self, response: Response):
        """A topic page: every post, then the topic's next page."""
        self.count("pages/posts_expected")
        title = _first_text(response.css(self.engine.topic_title))
        thread_id = _query_value(response.url, self.engine.thread_param)
        posts = response.css(self.engine.post)
        for post in posts:
            mention = self.parse_post(response, post, title, thread_id)
            if mention is not None:
                self.count("posts/parsed")
                yield mention
        next_page = response.css(self.engine.topic_next).get()
        if next_page and self.page_budget_left():
            yield response.follow(next_page, callback=self.parse_topic)

    def parse_quote(self, quote) -> dict:
        """A quote block → ``{"author", "html"}``, removed from the post's own words."""
        cite = " ".join(quote.css(self.engine.quote_author).getall())
        match = re.search(self.engine.quote_author_pattern, cite, flags=re.IGNORECASE)
        for citation in quote.css("cite"):
            citation.drop()
        html = quote.get()
        quote.drop()
        return {"author": match.group(1).strip() if match else None, "html": html}

    def parse_post(self, response: Response, post, title, thread_id) -> Mention | None:
        """One post container → a ``Mention``; a post without permalink or date is skipped."""
        e = self.engine
        permalink = post.css(e.permalink).get()
        if not permalink:
            self.skip("no_permalink", response.url)
            return None
        try:
            published = to_utc_iso(post.css(e.date).get() or "")
        except BadDate as error:
            self.skip("bad_date", response.url, error)
            return None
        body = post.css(e.body)
        quotes = [self.parse_quote(quote) for quote in _outermost(body.css(e.quote))]
        author_url = post.css(e.author_url).get()
        edited = " ".join(" ".join(post.css(e.edited).getall()).split())
        return Mention(
            source=self.source.id,
            url=response.urljoin(permalink),
            kind="post",
            body_html=body.get() or "",
            quotes=quotes,
            title=title,
            thread_id=thread_id,
            author_handle=_first_text(post.css(e.author)),
            author_url=response.urljoin(author_url) if author_url else None,
            published_at=published,
            metadata={"edited": edited} if edited else {},
        )


def _first_text(selection) -> str | None:
    """The first non-blank text a selector found, stripped."""
    return next((text.strip() for text in selection.getall() if text.strip()), None)


def _outermost(quotes):
    """The quotes not nested in another quote of the same post (those are part of it)."""
    elements = {quote.root for quote in quotes}
    return [quote for quote in quotes
            if not any(ancestor in elements for ancestor in quote.root.iterancestors())]


def _query_value(url: str, name: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None
