"""RSS 2.0 / RSS 1.0 / Atom feeds: items naming a catalogue brand, with the full article.

Options (``options:`` of a ``kind: rss`` source):

* ``feeds``: feed URLs, absolute or relative to the source ``url`` (default: ``url`` itself);
* ``full_text`` (default true): fetch each item's page and keep its main text; the brand
  filter also reads the article, so an item whose summary does not name the brand but whose
  article does is kept;
* ``keep_all`` (default false): keep every item (a brand's own newsroom) instead of only
  those naming one of the source's ``brands`` (all catalogue brands when none are listed).

A feed that is not well-formed XML (a bare ``&``, an undeclared entity, a cut-off document)
is read again by ``feedparser``'s lenient parser: the items it can recover are kept, and the
feed is logged and counted as ``feeds/malformed``.

Forum feeds (Discourse ``posts.rss``, phpBB, XenForo) quote other posts in an item's HTML
(``aside.quote``, ``blockquote``, ``<cite>X wrote:</cite>``): when the text comes from the
feed, quoted words go to the mention's ``quotes``, with their author when shown, and not
into its own text.

Incremental: every item's signature (its updated or published date and its title) is
remembered when a crawl finishes; an item the feed shows unchanged is neither fetched nor
parsed again, an item with a newer date or a new title is fetched again.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import lxml.html
import scrapy
from lxml import etree
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from config.catalogue import DEFAULT_CATALOGUE, load_catalogue
from crawlers.article import extract_article
from crawlers.brand_filter import BrandFilter
from crawlers.dates import BadDate, to_utc_iso
from crawlers.items import Mention
from crawlers.spiders.base import SourceSpider
from crawlers.text import html_to_text, parse_fragment
from store.identity import canonical_url

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "rss1": "http://purl.org/rss/1.0/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_QUOTE_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' quote ')"
_TITLE_CLASS = ("contains(concat(' ', normalize-space(@class), ' '), ' title ') or "
                "contains(concat(' ', normalize-space(@class), ' '), ' bbCodeBlock-title ')")
_A_QUOTE = f"self::blockquote or self::aside[{_QUOTE_CLASS}]"
# Quotes not inside another quote (a quote in a quote is part of the outer one).
OUTER_QUOTES = f".//*[{_A_QUOTE}][not(ancestor::*[{_A_QUOTE}])]"
# "alice wrote:", "alice написал(а):", "alice писав(ла):", "alice said:" → "alice".
ATTRIBUTION = re.compile(
    r"^(?:quote|цитата)?\s*:?\s*(?P<author>.*?)\s*(?:\b(?:wrote|said|writes|пишет|написала?|"
    r"написал\(а\)|писала?|писав|писав\(ла\)|написав|написав\(ла\)|пише)\b.*|:\s*)?$",
    re.IGNORECASE | re.DOTALL)
ROOT = Path(__file__).resolve().parent.parent.parent
TRUE = {"true", "yes", "on", "1"}
FALSE = {"false", "no", "off", "0"}


class BadFeed(ValueError):
    """A feed that is not well-formed XML (``reason`` ``bad_xml``) or is no RSS / Atom
    document (``not_a_feed``)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class FeedItem:
    """One RSS item / Atom entry. Dates are ISO-8601 UTC; HTML fields are as the feed has
    them (escaped HTML unescaped by the XML parser)."""

    link: str
    guid: str | None = None
    title: str | None = None
    published: str | None = None
    updated: str | None = None
    author: str | None = None
    author_url: str | None = None
    summary_html: str = ""
    content_html: str = ""
    categories: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """What the item is remembered by between crawls: its guid, else its link."""
        return self.guid or self.link

    @property
    def signature(self) -> list[str]:
        """What the feed shows of the item's version: a change means "fetch it again"."""
        return [self.updated or self.published or "", self.title or ""]


@dataclass
class Feed:
    """A parsed feed: ``kind`` is ``rss``, ``rdf`` or ``atom``; ``problems`` lists items
    that could not be used, as ``(reason, detail)``; ``malformed`` says what was wrong with
    a feed that is not well-formed XML (its items are what could be recovered)."""

    kind: str
    title: str | None
    items: list[FeedItem] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    malformed: str | None = None


def parse_feed(body: bytes, url: str) -> Feed:
    """Parse an RSS 2.0, RSS 1.0 (RDF) or Atom document; a document that is not well-formed
    XML is read leniently (see :func:`parse_malformed_feed`). :class:`BadFeed` when nothing
    can be read. Relative links are resolved against ``xml:base`` or ``url``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False,
                             remove_blank_text=False, huge_tree=False)
    try:
        root = etree.fromstring(body.lstrip(), parser=parser, base_url=url)
    except etree.XMLSyntaxError as error:
        return parse_malformed_feed(body, url, str(error))
    if root is None:
        raise BadFeed("bad_xml", "empty document")
    base = urljoin(url, root.get(XML_BASE) or "")
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise BadFeed("not_a_feed", "<rss> without <channel>")
        feed = Feed("rss", _text(channel.find("title")))
        base = urljoin(base, channel.get(XML_BASE) or "")
        for element in channel.iter("item"):
            _add(feed, element, base, _rss_item)
        return feed
    if root.tag == f"{{{NS['rdf']}}}RDF":
        feed = Feed("rdf", _text(root.find("rss1:channel/rss1:title", NS)))
        for element in root.iterfind("rss1:item", NS):
            _add(feed, element, base, _rdf_item)
        return feed
    if root.tag == f"{{{NS['atom']}}}feed":
        feed = Feed("atom", _atom_text(root.find("atom:title", NS)))
        feed_author = root.find("atom:author", NS)
        for element in root.iterfind("atom:entry", NS):
            _add(feed, element, base, lambda e, b: _atom_entry(e, b, feed_author))
        return feed
    raise BadFeed("not_a_feed", f"root element {root.tag!r}")


FEEDPARSER_KINDS = {"rss10": "rdf", "rss090": "rdf", "atom03": "atom", "atom10": "atom"}


def parse_malformed_feed(body: bytes, url: str, error: str) -> Feed:
    """A feed that is not well-formed XML, read by ``feedparser``'s lenient parser: the items
    it recovers, with ``malformed`` set to ``error``; :class:`BadFeed` (``bad_xml``) when it
    finds no feed at all. Dates and authors are read as :func:`parse_feed` reads them."""
    if not body.strip():
        raise BadFeed("bad_xml", "empty document")
    parsed = feedparser.parse(body, response_headers={"content-location": url},
                              sanitize_html=False, resolve_relative_uris=False)
    if not parsed.version and not parsed.entries:
        raise BadFeed("bad_xml", error)
    kind = FEEDPARSER_KINDS.get(parsed.version, "atom" if parsed.version.startswith("atom")
                                else "rss")
    feed = Feed(kind, _plain_title(parsed.feed.get("title")), malformed=error)
    for entry in parsed.entries:
        _add(feed, entry, url, _feedparser_entry)
    return feed


def _feedparser_entry(entry, base: str) -> FeedItem:
    guid = (entry.get("id") or "").strip() or None
    link = (entry.get("link") or "").strip()
    if not link and guid and (entry.get("guidislink") or guid.startswith(("http://",
                                                                          "https://"))):
        link = guid
    if not link:
        raise _NoLink(guid or entry.get("title") or "item without link")
    author = (entry.get("author") or "").strip()
    if author:
        name, address = parseaddr(author)  # "press@volna.example (Anna Petrenko)"
        author = name or address or author
    content = entry.get("content") or [{}]
    return FeedItem(
        link=urljoin(base, link),
        guid=guid,
        title=_plain_title(entry.get("title")),
        published=_rss_date(entry.get("published")),
        updated=_rss_date(entry.get("updated")),
        author=author or None,
        author_url=(entry.get("author_detail") or {}).get("href"),
        summary_html=(entry.get("summary") or "").strip(),
        content_html=(content[0].get("value") or "").strip(),
        categories=[c for c in (t.get("label") or t.get("term") for t in entry.get("tags", []))
                    if c],
    )


def _add(feed: Feed, element, base: str, parse) -> None:
    try:
        feed.items.append(parse(element, urljoin(base, element.get(XML_BASE) or "")))
    except BadDate as error:
        feed.problems.append(("bad_date", str(error)))
    except _NoLink as error:
        feed.problems.append(("no_link", str(error)))
    except ValueError as error:  # e.g. a link urljoin cannot read
        feed.problems.append(("bad_item", str(error)))


class _NoLink(ValueError):
    pass


def _text(element) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _rss_date(value: str | None) -> str | None:
    """An RFC 822 date (``Tue, 06 Oct 2026 08:30:00 +0300``), or ISO-8601 as some feeds
    write it; ``None`` when absent, :class:`BadDate` when unreadable. ``-0000`` is UTC."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return to_utc_iso(value)
    return to_utc_iso(moment.isoformat())


def _iso_date(value: str | None) -> str | None:
    value = (value or "").strip()
    return to_utc_iso(value) if value else None


def _plain_title(value: str | None) -> str | None:
    if not value:
        return None
    if "<" in value or "&" in value:
        value = html_to_text(value)
    return " ".join(value.split()) or None


def _rss_author(item) -> str | None:
    creator = _text(item.find("dc:creator", NS))
    if creator:
        return creator
    author = _text(item.find("author"))
    if not author:
        return None
    name, address = parseaddr(author)  # "press@volna.example (Anna Petrenko)"
    return name or address or author


def _rss_item(item, base: str) -> FeedItem:
    guid_element = item.find("guid")
    guid = _text(guid_element)
    link = _text(item.find("link"))
    permalink_guid = guid_element is not None and \
        (guid_element.get("isPermaLink") or "true").lower() != "false"
    if not link and guid and permalink_guid:
        link = guid
    if not link:
        raise _NoLink(guid or _text(item.find("title")) or "item without link")
    published = _rss_date(_text(item.find("pubDate"))) or _iso_date(_text(item.find("dc:date",
                                                                                      NS)))
    updated = _iso_date(_text(item.find("atom:updated", NS))
                        or _text(item.find("dcterms:modified", NS)))
    return FeedItem(
        link=urljoin(base, link),
        guid=guid,
        title=_plain_title(_text(item.find("title"))),
        published=published,
        updated=updated,
        author=_rss_author(item),
        summary_html=(item.findtext("description") or "").strip(),
        content_html=(item.findtext("content:encoded", namespaces=NS) or "").strip(),
        categories=[c for c in (_text(e) for e in item.iter("category")) if c],
    )


def _rdf_item(item, base: str) -> FeedItem:
    link = _text(item.find("rss1:link", NS)) or item.get(f"{{{NS['rdf']}}}about")
    if not link:
        raise _NoLink(_text(item.find("rss1:title", NS)) or "item without link")
    return FeedItem(
        link=urljoin(base, link),
        guid=item.get(f"{{{NS['rdf']}}}about"),
        title=_plain_title(_text(item.find("rss1:title", NS))),
        published=_iso_date(_text(item.find("dc:date", NS))),
        updated=_iso_date(_text(item.find("dcterms:modified", NS))),
        author=_text(item.find("dc:creator", NS)),
        summary_html=(item.findtext("rss1:description", namespaces=NS) or "").strip(),
        content_html=(item.findtext("content:encoded", namespaces=NS) or "").strip(),
        categories=[c for c in (_text(e) for e in item.iterfind("dc:subject", NS)) if c],
    )


def _atom_text(element) -> str | None:
    """An Atom text construct as plain text (``type`` text, html or xhtml)."""
    if element is None:
        return None
    return _plain_title(_atom_html(element)) if element.get("type") in ("html", "xhtml") \
        else _text(element)


def _atom_html(element) -> str:
    """An Atom text construct (``summary``, ``content``) as HTML."""
    if element is None:
        return ""
    kind = (element.get("type") or "text").lower()
    if kind == "xhtml":
        div = element.find("{http://www.w3.org/1999/xhtml}div")
        holder = div if div is not None else element
        etree.cleanup_namespaces(holder)
        parts = [html_lib.escape(holder.text or "")]
        for child in holder:
            parts.append(etree.tostring(child, encoding="unicode", method="html",
                                        with_tail=True))
        return "".join(parts).replace(' xmlns="http://www.w3.org/1999/xhtml"', "").strip()
    text = element.text or ""
    if kind in ("html", "text/html"):
        return text.strip()
    return html_lib.escape(text.strip()).replace("\n", "<br>")


def _atom_link(entry, base: str) -> str | None:
    candidates = []
    for link in entry.iterfind("atom:link", NS):
        rel = link.get("rel") or "alternate"
        if rel == "alternate" and link.get("href"):
            candidates.append(link)
    if not candidates:
        return None
    html_links = [link for link in candidates if "html" in (link.get("type") or "html")]
    return urljoin(base, (html_links or candidates)[0].get("href"))


def _atom_entry(entry, base: str, feed_author) -> FeedItem:
    entry_id = _text(entry.find("atom:id", NS))
    link = _atom_link(entry, base)
    if not link and entry_id and entry_id.startswith(("http://", "https://")):
        link = entry_id
    if not link:
        raise _NoLink(entry_id or "entry without link")
    author = entry.find("atom:author", NS)
    if author is None:
        author = feed_author
    updated = _iso_date(_text(entry.find("atom:updated", NS)))
    published = _iso_date(_text(entry.find("atom:published", NS))) or updated
    return FeedItem(
        link=link,
        guid=entry_id,
        title=_atom_text(entry.find("atom:title", NS)),
        published=published,
        updated=updated if updated != published else None,
        author=_text(author.find("atom:name", NS)) if author is not None else None,
        author_url=_text(author.find("atom:uri", NS)) if author is not None else None,
        summary_html=_atom_html(entry.find("atom:summary", NS)),
        content_html=_atom_html(entry.find("atom:content", NS)),
        categories=[c.get("label") or c.get("term") for c in entry.iterfind("atom:category", NS)
                    if c.get("label") or c.get("term")],
    )


def split_feed_quotes(fragment: str) -> tuple[str, list[dict]]:
    """An item's forum HTML → (the author's own words, quotes ``{"author", "html"}``).

    A quote is a ``blockquote`` or a Discourse ``aside.quote``; its author is the
    ``data-username`` / ``data-author`` attribute, else the quote's title (Discourse
    ``div.title`` "alice:") or ``<cite>`` ("alice wrote:"), which are not part of the quoted
    words. The author is ``None`` when not shown."""
    if not fragment or not fragment.strip():
        return "", []
    root = parse_fragment(fragment)
    if root is None:
        return fragment, []
    quotes = []
    for element in root.xpath(OUTER_QUOTES):
        quotes.append(_quote(element))
        element.drop_tree()
    return lxml.html.tostring(root, encoding="unicode"), quotes


def _quote(element) -> dict:
    """One outermost quote as ``{"author", "html"}``; its title and cite are dropped, and so
    are the titles of the quotes nested in it."""
    author = element.get("data-username") or element.get("data-author")
    labels = element.xpath(f"./div[{_TITLE_CLASS}] | ./cite | ./*[not({_A_QUOTE})]/cite")
    for label in labels:
        if not author:
            match = ATTRIBUTION.match(" ".join(label.text_content().split()))
            author = match["author"] if match else None
        label.drop_tree()
    for nested_label in element.xpath(f".//*[{_A_QUOTE}]/div[{_TITLE_CLASS}]"):
        nested_label.drop_tree()
    inner = element.find("blockquote") if element.tag == "aside" else None
    inner = element if inner is None else inner
    html = (html_lib.escape(inner.text or "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in inner)).strip()
    return {"author": (author or "").strip() or None, "html": html}


def flag(value: object, default: bool) -> bool:
    """An option given as YAML text (``true``, ``no``, …) → bool."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def catalogue_path(setting: str | None) -> Path:
    """The catalogue file: the ``OTKLIK_CATALOGUE`` setting, relative to the working folder
    or, failing that, to the project."""
    if not setting:
        return DEFAULT_CATALOGUE
    path = Path(setting)
    if not path.is_absolute() and not path.exists() and (ROOT / path).exists():
        return ROOT / path
    return path


def source_brand_filter(spider: SourceSpider) -> BrandFilter:
    """The brand filter of a spider's source: its ``brands`` (all catalogue brands if none)."""
    catalogue = load_catalogue(catalogue_path(spider.settings.get("OTKLIK_CATALOGUE")))
    try:
        brands = [catalogue.brand(brand_id) for brand_id in spider.source.brands] \
            or list(catalogue.brands)
    except KeyError as error:
        raise ValueError(f"source {spider.source.id!r}: {error.args[0]}") from None
    return BrandFilter(brands)


class RssSpider(SourceSpider):
    """Options: ``feeds``, ``full_text`` (default true), ``keep_all`` (default false)."""

    name = "rss"
    source_kind = "rss"

    def configure(self) -> None:
        """Read the source's options and the catalogue (a bad option or brand id fails the
        crawl here): the feed URLs, full text or not, the brand filter."""
        options = self.source.options
        self.full_text = flag(options.get("full_text"), True)
        self.keep_all = flag(options.get("keep_all"), False)
        self.brand_filter = None if self.keep_all else source_brand_filter(self)
        self.scheduled: set[str] = set()
        feeds = options.get("feeds") or [self.source.url]
        self.feeds = [feeds] if isinstance(feeds, str) else list(feeds)

    async def start(self):
        for feed in self.feeds:
            yield scrapy.Request(urljoin(self.source.url, feed), callback=self.parse_feed,
                                 errback=self.feed_failed, dont_filter=True)

    def feed_failed(self, failure):
        response = getattr(failure.value, "response", None)
        detail = response.status if isinstance(failure.value, HttpError) else repr(failure.value)
        self.skip("feed_unavailable", failure.request.url, detail)

    def parse_feed(self, response: Response):
        """A feed: every new or changed item naming a brand, or its article page."""
        try:
            feed = parse_feed(response.body, response.url)
        except BadFeed as error:
            if error.reason == "not_a_feed":  # a feed that became something else
                self.count("pages/posts_expected")
            self.skip(error.reason, response.url, error.detail[:200])
            return
        self.count("pages/posts_expected")
        if feed.malformed:
            self.logger.warning("malformed feed %s (%d items recovered): %s", response.url,
                                len(feed.items), feed.malformed[:200])
            self.count("feeds/malformed")
        for reason, detail in feed.problems:
            self.skip(reason, response.url, detail)
        for item in feed.items:
            self.count("posts/parsed")
            yield from self.parse_item(item, feed)

    def parse_item(self, item: FeedItem, feed: Feed):
        if not item.link.startswith(("http://", "https://")):
            self.skip("bad_link", item.link)
            return
        if item.key in self.scheduled:
            self.count("items/duplicate")
            return
        self.scheduled.add(item.key)
        if self.too_old(item.published):
            self.count("items/too_old")
            return
        if not self.thread_changed(item.key, item.signature):
            self.count("items/unchanged")
            return
        brands = self.brands_in(item.title, html_to_text(item.summary_html),
                                html_to_text(item.content_html))
        if not self.full_text:
            if brands is None or brands:
                yield self.mention(item, feed.title, brands, None)
            else:
                self.count("filtered/no_brand")
            return
        if not self.page_budget_left():
            self.forget_thread(item.key)
            self.count("items/over_budget")
            return
        try:
            request = scrapy.Request(item.link, callback=self.parse_article,
                                     errback=self.article_failed, dont_filter=True,
                                     cb_kwargs={"item": item, "feed_title": feed.title,
                                                "brands": brands})
        except ValueError as error:
            self.forget_thread(item.key)
            self.skip("bad_link", item.link, error)
            return
        yield request

    def brands_in(self, *texts: str | None) -> list[str] | None:
        """Brand ids named in ``texts``; ``None`` with ``keep_all`` (no filtering)."""
        return None if self.brand_filter is None else self.brand_filter.brands_in(*texts)

    def parse_article(self, response: Response, item: FeedItem, feed_title, brands):
        """An item's page: its main text (the feed's own text if none is found)."""
        article = extract_article(response.text) if isinstance(response, TextResponse) else None
        if article is None:
            self.count("article/fallback")
        else:
            self.count("article/extracted")
        if brands is not None and article is not None:  # the article may name more brands
            brands = self.brands_in(item.title, html_to_text(item.summary_html),
                                    html_to_text(item.content_html), article.text)
        if brands == []:
            self.count("filtered/no_brand")
            return
        yield self.mention(item, feed_title, brands, article)

    def article_failed(self, failure):
        """The page could not be fetched: keep what the feed says, look again next time."""
        item: FeedItem = failure.request.cb_kwargs["item"]
        response = getattr(failure.value, "response", None)
        detail = response.status if isinstance(failure.value, HttpError) else repr(failure.value)
        self.logger.warning("article not fetched (%s) %s", detail, item.link)
        self.count("article/fetch_failed")
        self.forget_thread(item.key)
        brands = failure.request.cb_kwargs["brands"]
        if brands == []:  # only the article could have named the brand
            return
        self.count("article/fallback")
        yield self.mention(item, failure.request.cb_kwargs["feed_title"], brands, None)

    def mention(self, item: FeedItem, feed_title, brands, article) -> Mention:
        """An item as a ``Mention``: the article's main text, else the feed's content or
        summary with its quotes apart."""
        quotes: list[dict] = []
        if article is not None:
            text, origin = article.text, f"article:{article.method}"
        else:
            own_html, quotes = split_feed_quotes(
                item.content_html if html_to_text(item.content_html) else item.summary_html)
            text, origin = html_to_text(own_html), "feed"
        metadata = {"feed": feed_title, "categories": item.categories, "text_from": origin}
        if brands:
            metadata["brands"] = brands
        return Mention(
            source=self.source.id,
            url=canonical_url(item.link),
            kind="article",
            text=text,
            quotes=quotes,
            title=item.title,
            thread_id=canonical_url(item.link),
            author_handle=item.author,
            author_name=item.author,
            author_url=item.author_url,
            published_at=item.published or item.updated,
            edited_at=item.updated if item.updated and item.updated != item.published else None,
            metadata={key: value for key, value in metadata.items() if value},
        )
