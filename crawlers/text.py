"""HTML to clean text: pure functions used by the clean pipeline."""

from __future__ import annotations

import re
import unicodedata

import lxml.html
from lxml import etree

BLOCK_TAGS = {
    "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "section", "article", "header", "footer", "dd", "dt", "hr",
}
DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg")
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"), None)  # joiners stay: emoji
COMMENT_OPEN, COMMENT_CLOSE = "<!--", "-->"
# Letters that draw nothing, used to post "empty" messages: Hangul fillers, Braille blank,
# Khmer inherent vowels.
BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")


def has_visible_text(text: str) -> bool:
    """True if ``text`` holds a letter, digit, punctuation mark or symbol that shows:
    spaces, zero-width and other format characters, control characters and blank glyphs
    alone are not text."""
    return any(unicodedata.category(char)[0] in "LNPS" and char not in BLANK_GLYPHS
               for char in text)


def close_runaway_comments(html: str) -> str:
    """``html`` with every ``<!--`` that is never closed, or whose comment would swallow
    another ``<!--`` before its ``-->``, written as text (``&lt;!--``): a literal opener
    typed into a post then hides nothing after it. Well-formed comments stay as they are."""
    if COMMENT_OPEN not in html:
        return html
    pieces: list[str] = []
    start = 0
    opener = html.find(COMMENT_OPEN)
    while opener != -1:
        close = html.find(COMMENT_CLOSE, opener + 2)  # "<!-->" and "<!--->" close at once
        if close == -1:  # no comment closes after here: every opener left is runaway
            pieces += [html[start:opener], html[opener:].replace(COMMENT_OPEN, "&lt;!--")]
            return "".join(pieces)
        nested = html.find(COMMENT_OPEN, opener + 4, close)
        if nested != -1:  # comments do not nest: this opener is a stray one
            pieces.append(html[start:opener] + "&lt;")
            start = opener + 1
            opener = nested
            continue
        opener = html.find(COMMENT_OPEN, close + 3)
    pieces.append(html[start:])
    return "".join(pieces)


def normalise_text(text: str) -> str:
    """Unicode NFC, invisible characters removed, spaces collapsed, at most one blank line."""
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    text = text.replace("\u00a0", " ").replace("\r\n", "\n").replace("\r", "\n")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def parse_fragment(html: str):
    """An HTML fragment as the children of one ``div``; ``None`` when it is blank or cannot
    be parsed."""
    if not html or not html.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, with line breaks where blocks end."""
    if not html or not html.strip():
        return ""
    html = close_runaway_comments(html)
    root = parse_fragment(html)
    if root is None:
        return normalise_text(re.sub(r"<[^>]+>", " ", html))
    for element in root.iter(*DROP_TAGS):
        element.drop_tree()
    pieces: list[str] = []
    _collect(root, pieces)
    return normalise_text("".join(pieces))


def _collect(element, pieces: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "br":
        pieces.append("\n")
    if tag == "img":
        alt = element.get("alt") or ""
        if alt:
            pieces.append(alt)
    if tag in BLOCK_TAGS:
        pieces.append("\n")
    if element.text and isinstance(element.tag, str):
        pieces.append(element.text)
    for child in element:
        _collect(child, pieces)
        if child.tail:
            pieces.append(child.tail)
    if tag in BLOCK_TAGS:
        pieces.append("\n")
