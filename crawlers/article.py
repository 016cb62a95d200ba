"""An article page's main text, without navigation, widgets and comments. Pure functions.

:func:`extract_article` picks the article body in this order: the element marked
``itemprop="articleBody"``, the ``<article>`` with the most paragraph text, then the block
holding the densest run of ``<p>`` text. Before choosing, it drops what is never the
article: scripts, navigation, header, footer, aside, forms, share widgets, comment threads,
"read also" lists and the like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from crawlers.text import html_to_text

JUNK_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "form",
             "nav", "header", "footer", "aside", "button", "select", "input", "textarea",
             "dialog", "menu", "object", "embed")
JUNK_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog",
              "menu", "menubar", "toolbar"}
# class / id words of blocks that are never the article's own text
JUNK_NAMES = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|social|comments?|commentlist|discussion|disqus|"
    r"related|recommend(?:ed|ations)?|read-?also|see-?also|more-?news|popular|"
    r"subscribe|subscription|newsletter|advert(?:isement)?|ads?|adv|banner|promo|sponsor(?:ed)?|"
    r"breadcrumbs?|sidebar|widget|cookies?|popup|modal|tags|rating|author-?box|byline|"
    r"toolbar|pagination|pager|print|caption|date|dateline|meta|posted-on)(?:$|[\s_-])",
    re.IGNORECASE,
)
READ_ALSO = re.compile(
    r"^\W*(?:читайте\s+(?:также|тоже|еще|ещё|також)|смотрите\s+также|см\.\s+также|"
    r"по\s+теме|дивіться\s+також|на\s+тему|read\s+(?:also|more)|see\s+also|related(?:\s+\w+)?|"
    r"more\s+on\s+this|also\s+read)\b",
    re.IGNORECASE,
)
STATE_FLAGS = re.compile(
    r"(?<!\S)(?:(?:has|no|with|without|show|hide|is)-[\w-]+|[\w-]+-(?:open|closed|enabled|"
    r"disabled|on|off|allowed))(?!\S)", re.IGNORECASE)
COMMENTS = re.compile(r"comment|discussion|disqus|reply|replies", re.IGNORECASE)
KEEP_TAGS = {"html", "body", "article", "main"}
BLOCK_SCORE_TAGS = ("p", "pre", "blockquote")
MIN_PARAGRAPH = 25  # characters of a <p> that counts towards a block's density
MIN_TEXT = 120  # an extraction shorter than this has failed


@dataclass(frozen=True)
class Article:
    """The main text: ``html`` (the cleaned body block), ``text`` (plain) and ``method``
    (``itemprop``, ``article`` or ``density``: how the block was found)."""

    html: str
    text: str
    method: str


def extract_article(html: str | bytes, *, min_text: int = MIN_TEXT) -> Article | None:
    """The main text of an article page, or ``None`` when no block of text is found.

    Give ``str`` for a page already decoded (Scrapy's ``response.text``); ``bytes`` are
    decoded by lxml from the page's ``<meta charset>``.
    """
    root = _parse(html)
    if root is None:
        return None
    _drop_junk(root)
    for method, find in (("itemprop", _by_itemprop), ("article", _by_article),
                         ("density", _by_density)):
        block = find(root)
        if block is None:
            continue
        for heading in block.iter("h1"):
            heading.drop_tree()
        body = etree.tostring(block, encoding="unicode", method="html", with_tail=False)
        text = html_to_text(body)
        if len(text) >= min_text:
            return Article(body, text, method)
    return None


def _parse(html: str | bytes):
    if isinstance(html, str):
        html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)  # lxml refuses str with a declaration
    if not html or not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _drop_junk(root) -> None:
    for element in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        _drop(element)
    total = _paragraph_text(root)
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.tag in ("html", "body"):
            continue
        if not (_in_tree(element, root) and _is_junk(element)) or _holds_article(element):
            continue
        # a page-wide wrapper with an unlucky class ("layout with-sidebar") stays
        if element.tag not in JUNK_TAGS and not COMMENTS.search(_names(element)) \
                and total and _paragraph_text(element) >= 0.6 * total:
            continue
        _drop(element)
    _drop_read_also(root)


def _names(element) -> str:
    """An element's class and id, without state flags (``has-comments``, ``comments-open``)
    that describe the page rather than name the block."""
    return STATE_FLAGS.sub(" ", f"{element.get('class') or ''} {element.get('id') or ''}")


def _is_junk(element) -> bool:
    if element.tag in JUNK_TAGS:
        return True
    if element.get("itemprop") == "articleBody" or element.tag == "main":
        return False
    role = (element.get("role") or "").lower()
    hidden = element.get("hidden") is not None or element.get("aria-hidden") == "true"
    return role in JUNK_ROLES or hidden or bool(JUNK_NAMES.search(_names(element)))


def _holds_article(element) -> bool:
    """Never drop what holds the article itself: ``main``, ``[itemprop=articleBody]`` or an
    ``<article>`` that is not a comment (a ``<div class="has-comments">`` wrapper stays, a
    ``<section class="comments">`` of ``<article class="comment">`` goes)."""
    if element.xpath("boolean(descendant-or-self::main"
                     " | descendant-or-self::*[@itemprop='articleBody'])"):
        return True
    return any(_clean_article(article) for article in element.iter("article"))


def _clean_article(article) -> bool:
    """An ``<article>`` that is a page's story: not junk-named, or carrying the headline."""
    if not JUNK_NAMES.search(_names(article)):
        return True
    return article.xpath("boolean(.//h1 | .//*[@itemprop='headline'])")


def _drop_read_also(root) -> None:
    """"Read also: <links>" lines, and a list of links right after such a heading; a real
    paragraph that merely starts with "Related" stays."""
    for element in list(root.iter("p", "div", "h2", "h3", "h4", "h5", "h6", "strong", "b",
                                  "span", "li")):
        if not _in_tree(element, root) or element.tag in KEEP_TAGS:
            continue
        text = " ".join(element.text_content().split())
        if not READ_ALSO.match(text):
            continue
        following = element.getnext()
        if following is not None and following.tag in ("ul", "ol") and len(text) <= 60:
            _drop(following)
            _drop(element)
            continue
        target = element
        parent = element.getparent()
        # "<p><strong>Read also:</strong> <a>…</a></p>": the whole line goes
        if element.tag in ("strong", "b", "span") and parent is not None \
                and parent.tag in ("p", "div", "li") and parent.tag not in KEEP_TAGS:
            target = parent
        if _mostly_links(target) or len(text) <= 30:
            _drop(target)


def _mostly_links(element) -> bool:
    text = len(" ".join(element.text_content().split()))
    linked = sum(len(" ".join(a.text_content().split())) for a in element.iter("a"))
    return text > 0 and linked / text >= 0.4


def _in_tree(element, root) -> bool:
    return element.getroottree().getroot() is root and (
        element is root or any(ancestor is root for ancestor in element.iterancestors()))


def _drop(element) -> None:
    """Remove ``element`` but keep its tail text in place."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    parent.remove(element)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def _text_length(element) -> int:
    return len(" ".join(element.text_content().split()))


def _paragraph_text(element) -> int:
    return sum(_text_length(p) for p in element.iter(*BLOCK_SCORE_TAGS))


def _by_itemprop(root):
    blocks = root.xpath("//*[@itemprop='articleBody']")
    return max(blocks, key=_text_length) if blocks else None


def _by_article(root):
    articles = root.xpath("//article[not(ancestor::article)]") or root.xpath("//article")
    if not articles:
        return None
    best = max(articles, key=_paragraph_text)
    return best if _paragraph_text(best) > 0 else None


def _by_density(root):
    """The element whose direct ``<p>`` children (and, at half weight, grandchildren) hold
    the most text: the classic "densest block of paragraphs"."""
    scores: dict = {}
    for paragraph in root.iter(*BLOCK_SCORE_TAGS):
        length = _text_length(paragraph)
        if length < MIN_PARAGRAPH:
            continue
        parent = paragraph.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + length
        grandparent = parent.getparent()
        if grandparent is not None and grandparent.tag not in ("html",):
            scores[grandparent] = scores.get(grandparent, 0) + length / 2
    if not scores:
        return None
    best = max(scores, key=lambda element: (scores[element], -_depth(element)))
    return best


def _depth(element) -> int:
    return sum(1 for _ in element.iterancestors())
