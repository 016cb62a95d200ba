"""Product review pages marked up with schema.org: JSON-LD or microdata, paginated.

Options (``options:`` of a ``kind: reviews`` source):

* ``pages``: product review page URLs, absolute or relative to the source ``url``
  (default: ``url`` itself);
* ``next``: a CSS selector for the next page's URL (default
  ``a[rel~=next]::attr(href), link[rel~=next]::attr(href)``).

Reviews come from ``<script type="application/ld+json">`` (a Product, LocalBusiness,
SoftwareApplication… with ``review`` and ``aggregateRating``; ``@graph`` arrays, single
objects, lists, ``@id`` references) or, when a page has none there, from microdata
(``itemtype="https://schema.org/Review"``).

Incremental: review pages list the newest first, so a crawl stops paging once a page holds
only stored reviews (it still re-reads that page: an edited review is updated).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
import scrapy
from lxml import etree
from scrapy.http import Response, TextResponse

from crawlers.dates import BadDate, to_utc_iso
from crawlers.items import Mention
from crawlers.spiders.base import SourceSpider, failure_reason
from crawlers.text import normalise_text
from store.identity import canonical_url

DEFAULT_NEXT = "a[rel~=next]::attr(href), link[rel~=next]::attr(href)"
DEFAULT_BEST = 5.0
REVIEW_TYPES = {"Review", "UserReview", "CriticReview", "EmployerReview", "MediaReview"}
SCHEMA_TYPE = re.compile(r"^(?:https?://schema\.org/|schema:)?(\w+)$", re.IGNORECASE)
MICRODATA_REVIEW = re.compile(r"^https?://(?:www\.)?schema\.org/(\w*Review)$", re.IGNORECASE)
URL_PROPS = {"a": "href", "area": "href", "link": "href", "img": "src", "audio": "src",
             "video": "src", "source": "src", "iframe": "src", "embed": "src",
             "track": "src", "object": "data"}


@dataclass
class Review:
    """One review as the page marks it up. ``published`` / ``modified`` are ISO-8601 UTC;
    the body is ``body_html`` (microdata) or ``body_text`` (JSON-LD)."""

    author: str | None = None
    author_url: str | None = None
    published: str | None = None
    modified: str | None = None
    name: str | None = None
    body_text: str = ""
    body_html: str = ""
    rating: float | None = None
    best: float | None = None
    worst: float | None = None
    url: str | None = None
    language: str | None = None

    @property
    def plain_body(self) -> str:
        if self.body_html:
            return normalise_text(lxml.html.fromstring(f"<div>{self.body_html}</div>")
                                  .text_content())
        return normalise_text(self.body_text)


@dataclass
class ReviewPage:
    """What one page holds: the product's name, its aggregate rating (``value``, ``best``,
    ``count``), the reviews, and ``problems`` as ``(reason, detail)``; ``markup`` says
    where the reviews were found (``json-ld`` or ``microdata``)."""

    product: str | None = None
    aggregate: dict = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    markup: str | None = None


def extract_reviews(html: str, url: str) -> ReviewPage:
    """All schema.org reviews of a page: JSON-LD first, microdata when JSON-LD has none."""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return ReviewPage(problems=[("bad_html", "empty or unreadable page")])
    page = ReviewPage()
    from_json = _json_ld(root, url, page)
    from_microdata = _microdata(root, url, page)
    for markup, found in (("json-ld", from_json), ("microdata", from_microdata)):
        product, aggregate, reviews = found
        page.product = page.product or product
        page.aggregate = page.aggregate or aggregate
        if reviews and not page.reviews:
            page.reviews, page.markup = reviews, markup
    if not page.product:
        heading = root.xpath("normalize-space(//h1)") or root.xpath("normalize-space(//title)")
        page.product = heading or None
    return page


# --- JSON-LD ---------------------------------------------------------------------------

def _types(node: dict) -> set[str]:
    value = node.get("@type") or []
    values = value if isinstance(value, list) else [value]
    types = set()
    for item in values:
        match = SCHEMA_TYPE.match(str(item).strip())
        if match:
            types.add(match.group(1))
    return types


def _walk(value, found: list[dict]) -> None:
    if isinstance(value, dict):
        found.append(value)
        for inner in value.values():
            _walk(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _walk(inner, found)


def _first(value):
    """A property's value: the first of a list, ``@value`` of a value object."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    return value


def _as_text(value) -> str | None:
    value = _first(value)
    if value is None or isinstance(value, dict | list):
        return None
    text = " ".join(str(value).split())
    return text or None


def _number(value) -> float | None:
    value = _first(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = re.search(r"-?\d+(?:[.,]\d+)?", str(value))
    return float(match.group(0).replace(",", ".")) if match else None


def _json_ld(root, url: str, page: ReviewPage):
    nodes: list[dict] = []
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = (script.text or "").strip()
        text = re.sub(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$", "", text).strip()
        if not text:
            continue
        try:
            data = json.loads(text, strict=False)
        except ValueError as error:
            page.problems.append(("bad_json", str(error)))
            continue
        _walk(data, nodes)
    by_id = {node["@id"]: node for node in nodes
             if isinstance(node.get("@id"), str) and len(node) > 1}

    def resolve(node):
        node = _first(node) if isinstance(node, list) else node
        if isinstance(node, dict) and set(node) <= {"@id", "@type"} and node.get("@id") in by_id:
            return by_id[node["@id"]]
        return node

    def plain(node) -> bool:
        return not (_types(node) & REVIEW_TYPES)

    owners = [n for n in nodes if plain(n) and ("review" in n or "reviews" in n)]
    rated = [n for n in nodes if plain(n) and isinstance(resolve(n.get("aggregateRating")), dict)]
    main = owners[0] if owners else rated[0] if rated else None
    product = _as_text(main.get("name")) if main is not None else None
    rated_main = next((node for node in rated if node is main), rated[0] if rated else None)
    aggregate = _aggregate(resolve(rated_main.get("aggregateRating"))) if rated_main else {}
    reviews: dict[int, tuple[dict, str | None]] = {}
    for node in owners:
        name = _as_text(node.get("name"))
        for key in ("review", "reviews"):
            items = node.get(key) or []
            for item in items if isinstance(items, list) else [items]:
                item = resolve(item)
                if isinstance(item, dict):
                    reviews.setdefault(id(item), (item, name))
    for node in nodes:  # standalone reviews: {"@type": "Review", "itemReviewed": {...}}
        if _types(node) & REVIEW_TYPES and id(node) not in reviews and (
                "reviewBody" in node or "reviewRating" in node or "description" in node):
            reviewed = resolve(node.get("itemReviewed"))
            name = _as_text(reviewed.get("name")) if isinstance(reviewed, dict) else None
            product = product or name
            if isinstance(reviewed, dict) and not aggregate:
                rating = resolve(reviewed.get("aggregateRating"))
                aggregate = _aggregate(rating) if isinstance(rating, dict) else {}
            reviews[id(node)] = (node, name)
    parsed = []
    for node, _ in reviews.values():
        try:
            review = _json_review(node, url, resolve, page)
        except (ValueError, TypeError, AttributeError) as error:  # odd shapes, bad URLs
            page.problems.append(("bad_review", repr(error)))
            continue
        if review is not None:
            parsed.append(review)
    return product, aggregate, parsed


def _aggregate(rating: dict) -> dict:
    values = {
        "value": _number(rating.get("ratingValue")),
        "best": _number(rating.get("bestRating")),
        "count": _number(rating.get("reviewCount")) or _number(rating.get("ratingCount")),
    }
    if values["count"] is not None:
        values["count"] = int(values["count"])
    return {key: value for key, value in values.items() if value is not None}


def _author(value, resolve) -> tuple[str | None, str | None]:
    value = resolve(_first(value)) if value is not None else None
    if isinstance(value, dict):
        name = _as_text(value.get("name")) or _as_text(value.get("alternateName"))
        url = _as_text(value.get("url")) or _as_text(value.get("sameAs"))
        if not url and str(value.get("@id", "")).startswith("http"):
            url = value["@id"]
        return name, url
    text = _as_text(value)
    if text and text.startswith(("http://", "https://")):
        return None, text
    return text, None


def _date(value, page: ReviewPage) -> tuple[str | None, bool]:
    text = _as_text(value)
    if not text:
        return None, True
    try:
        return to_utc_iso(text), True
    except BadDate as error:
        page.problems.append(("bad_date", str(error)))
        return None, False


def _json_review(node: dict, url: str, resolve, page: ReviewPage) -> Review | None:
    name, author_url = _author(node.get("author"), resolve)
    published, ok = _date(node.get("datePublished") or node.get("dateCreated"), page)
    modified, ok_modified = _date(node.get("dateModified"), page)
    if not (ok and ok_modified):
        return None
    rating = resolve(node.get("reviewRating"))
    body = _as_text_keep_lines(node.get("reviewBody") or node.get("description"))
    own = node.get("url") or node.get("@id")
    review = Review(
        author=name,
        author_url=urljoin(url, author_url) if author_url else None,
        published=published,
        modified=modified,
        name=_as_text(node.get("name")) or _as_text(node.get("headline")),
        rating=_number(rating.get("ratingValue")) if isinstance(rating, dict)
        else _number(rating),
        best=_number(rating.get("bestRating")) if isinstance(rating, dict) else None,
        worst=_number(rating.get("worstRating")) if isinstance(rating, dict) else None,
        url=urljoin(url, own) if isinstance(own, str) and own.strip() else None,
        language=_as_text(node.get("inLanguage")),
    )
    if body and "<" in body and re.search(r"</?[a-z][^>]*>", body, re.IGNORECASE):
        review.body_html = body
    else:
        review.body_text = html_lib.unescape(body or "")
    return review


def _as_text_keep_lines(value) -> str | None:
    value = _first(value)
    if not isinstance(value, str | int | float):
        return None
    return str(value).strip() or None


# --- microdata -------------------------------------------------------------------------

@dataclass
class _Item:
    """A microdata item: ``props`` maps a property name to ``(value, element)`` pairs."""

    element: object
    props: dict[str, list] = field(default_factory=dict)

    def get(self, name: str):
        values = self.props.get(name)
        return values[0][0] if values else None

    def element_of(self, name: str):
        values = self.props.get(name)
        return values[0][1] if values else None


def _item(element, url: str) -> _Item:
    item = _Item(element)
    _collect_props(element, item, url)
    return item


def _collect_props(element, item: _Item, url: str) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        names = (child.get("itemprop") or "").split()
        scoped = child.get("itemscope") is not None
        if names:
            value = _item(child, url) if scoped else _prop_value(child, url)
            for name in names:
                item.props.setdefault(name, []).append((value, child))
        if not scoped:
            _collect_props(child, item, url)


def _prop_value(element, url: str) -> str:
    tag = element.tag
    if tag == "meta":
        return (element.get("content") or "").strip()
    if tag in URL_PROPS and element.get(URL_PROPS[tag]):
        return urljoin(url, element.get(URL_PROPS[tag]).strip())
    if tag == "time" and element.get("datetime"):
        return element.get("datetime").strip()
    if tag in ("data", "meter") and element.get("value") is not None:
        return element.get("value").strip()
    if element.get("content") is not None:
        return element.get("content").strip()
    return " ".join(element.text_content().split())


def _micro_text(value) -> str | None:
    if isinstance(value, _Item):
        return _micro_text(value.get("name"))
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _microdata(root, url: str, page: ReviewPage):
    reviews, product, aggregate = [], None, {}
    for element in root.xpath("//*[@itemscope][@itemtype]"):
        types = (element.get("itemtype") or "").split()
        if not any(MICRODATA_REVIEW.match(t) for t in types):
            continue
        try:
            review, reviewed, rating = _micro_review_of(element, url, page)
        except (ValueError, TypeError) as error:  # odd markup, bad URLs
            page.problems.append(("bad_review", repr(error)))
            continue
        product = product or reviewed
        aggregate = aggregate or rating
        if review is not None:
            reviews.append(review)
    if not aggregate:  # a product block apart from the reviews
        for element in root.xpath("//*[@itemprop='aggregateRating'][@itemscope]"):
            aggregate = _aggregate({k: v[0][0] for k, v in _item(element, url).props.items()})
            break
    return product, aggregate, reviews


def _micro_review_of(element, url: str, page: ReviewPage):
    """A microdata review, the name of what it reviews and that item's aggregate rating: the
    enclosing item (``itemprop="review"`` of a Product…) or its ``itemReviewed``."""
    review_item = _item(element, url)
    owner = next((a for a in element.iterancestors()
                  if a.get("itemscope") is not None and a.get("itemtype")), None)
    product, aggregate = None, {}
    if owner is not None:
        owner_item = _item(owner, url)
        product = _micro_text(owner_item.get("name"))
        rating = owner_item.get("aggregateRating")
        if isinstance(rating, _Item):
            aggregate = _aggregate({k: v[0][0] for k, v in rating.props.items()})
    else:
        product = _micro_text(review_item.get("itemReviewed"))
    return _micro_review(review_item, url, page), product, aggregate


def _micro_review(item: _Item, url: str, page: ReviewPage) -> Review | None:
    author = item.get("author")
    if isinstance(author, _Item):
        name = _micro_text(author.get("name"))
        author_url = author.get("url") if isinstance(author.get("url"), str) else None
    else:
        name, author_url = _micro_text(author), None
        author_element = item.element_of("author")
        if author_element is not None and author_element.tag == "a":
            name = " ".join(author_element.text_content().split()) or None
            author_url = author
    published, ok = _date(item.get("datePublished") or item.get("dateCreated"), page)
    modified, ok_modified = _date(item.get("dateModified"), page)
    if not (ok and ok_modified):
        return None
    rating = item.get("reviewRating")
    body_element = item.element_of("reviewBody")
    if body_element is None:
        body_element = item.element_of("description")
    body_html = ""
    if body_element is not None:
        if body_element.tag == "meta":
            body_html = html_lib.escape(body_element.get("content") or "")
        else:
            body_html = (html_lib.escape(body_element.text or "") + "".join(
                etree.tostring(child, encoding="unicode", method="html", with_tail=True)
                for child in body_element)).strip()
    own = item.get("url")
    return Review(
        author=name,
        author_url=author_url,
        published=published,
        modified=modified,
        name=_micro_text(item.get("name")),
        body_html=body_html,
        rating=_number(rating.get("ratingValue")) if isinstance(rating, _Item)
        else _number(rating),
        best=_number(rating.get("bestRating")) if isinstance(rating, _Item) else None,
        worst=_number(rating.get("worstRating")) if isinstance(rating, _Item) else None,
        url=own if isinstance(own, str) and own else None,
        language=_micro_text(item.get("inLanguage")),
    )


# --- permalinks ------------------------------------------------------------------------

def review_hash(review: Review) -> str:
    """A short hash that names a review without its own URL: author, date, body start."""
    payload = "\x1f".join([(review.author or review.author_url or "").strip().casefold(),
                           (review.published or "")[:10],
                           " ".join(review.plain_body.split())[:80]])
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:12]


def review_permalink(review: Review, product_url: str, page_url: str | None = None) -> str:
    """The review's own ``url`` / ``@id`` when it names this review alone (not just the
    page), else ``{product page}#review-{hash}``: stable while the review moves from page
    to page as newer ones push it back."""
    product = _without_fragment(product_url)
    if review.url:
        pages = {canonical_url(product), canonical_url(page_url or product)}
        if canonical_url(review.url) not in pages:
            return review.url
    return f"{product}#review-{review_hash(review)}"


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def author_handle(review: Review) -> str | None:
    """The author's name; with only a profile URL, its last path segment."""
    if review.author:
        return review.author
    if review.author_url:
        segment = [s for s in urlsplit(review.author_url).path.split("/") if s]
        return segment[-1] if segment else review.author_url
    return None


class ReviewsSpider(SourceSpider):
    """Options: ``pages`` (product review pages) and ``next`` (next-page CSS selector)."""

    name = "reviews"
    source_kind = "reviews"

    def configure(self) -> None:
        """Read the source's options: the product pages' URLs and the next-page selector."""
        options = self.source.options
        self.next_selector = options.get("next") or DEFAULT_NEXT
        self.visited: set[str] = set()
        pages = options.get("pages") or [self.source.url]
        pages = [pages] if isinstance(pages, str) else list(pages)
        self.pages = [urljoin(self.source.url, page) for page in pages]

    async def start(self):
        for url in self.pages:
            self.visited.add(canonical_url(url))
            yield scrapy.Request(url, callback=self.parse_page, errback=self.page_failed,
                                 dont_filter=True, cb_kwargs={"product_url": url})

    def page_failed(self, failure) -> None:
        """A review page that answered an HTTP error (e.g. 503 after the retries) or could
        not be fetched: logged and counted as skipped; the crawl goes on."""
        self.skip(failure_reason(failure), failure.request.url, failure.value)

    def parse_page(self, response: Response, product_url: str):
        """One page of a product's reviews; the next page unless this one held only stored
        (or too old) reviews."""
        self.count("pages/posts_expected")
        if not isinstance(response, TextResponse):
            self.skip("not_html", response.url)
            return
        page = extract_reviews(response.text, response.url)
        for reason, detail in page.problems:
            self.skip(reason, response.url, detail[:200])
        mentions, too_old = [], False
        for review in page.reviews:
            mention = self.review_mention(review, page, product_url, response.url)
            if mention is None:
                continue
            self.count("posts/parsed")
            if self.too_old(mention.published_at):
                self.count("reviews/too_old")
                too_old = True
                continue
            mentions.append(mention)
        if not page.reviews:
            self.count("pages/no_reviews")
            return
        all_stored = all(self.is_stored(mention.url) for mention in mentions)
        yield from mentions
        if all_stored:
            self.count("pages/only_stored")
            return
        if too_old:
            return
        yield from self.next_page(response, product_url)

    def next_page(self, response: Response, product_url: str):
        link = response.css(self.next_selector).get()
        if not link:
            return
        try:
            url = response.urljoin(link.strip())
        except ValueError as error:
            self.skip("bad_link", response.url, error)
            return
        key = canonical_url(url)
        if key in self.visited:
            return
        if not self.page_budget_left():
            self.count("pages/over_budget")
            return
        self.visited.add(key)
        yield scrapy.Request(url, callback=self.parse_page, errback=self.page_failed,
                             dont_filter=True, cb_kwargs={"product_url": product_url})

    def review_mention(self, review: Review, page: ReviewPage, product_url: str,
                       page_url: str | None = None):
        """A review as a ``Mention``; one with neither words nor a title is skipped."""
        if not review.plain_body and not review.name:
            self.skip("no_body", product_url, review.author or "")
            return None
        metadata = {
            "product": page.product,
            "aggregate_rating": page.aggregate.get("value"),
            "aggregate_best": page.aggregate.get("best"),
            "review_count": page.aggregate.get("count"),
            "rating_min": review.worst,
            "markup": page.markup,
        }
        return Mention(
            source=self.source.id,
            url=review_permalink(review, product_url, page_url),
            kind="review",
            body_html=review.body_html,
            text=review.body_text or ("" if review.body_html else review.name or ""),
            title=review.name or page.product,
            thread_id=product_url,
            author_handle=author_handle(review),
            author_name=review.author,
            author_url=review.author_url,
            published_at=review.published,
            edited_at=review.modified if review.modified != review.published else None,
            language=review.language,
            rating=review.rating,
            rating_max=review.best if review.best is not None else DEFAULT_BEST,
            metadata={key: value for key, value in metadata.items() if value is not None},
        )
