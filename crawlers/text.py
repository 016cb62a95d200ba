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


def normalise_text(text: str) -> str:
    """Unicode NFC, invisible characters removed, spaces collapsed, at most one blank line."""
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    text = text.replace("\u00a0", " ").replace("\r\n", "\n").replace("\r", "\n")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, with line breaks where blocks end."""
    if not html or not html.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
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
