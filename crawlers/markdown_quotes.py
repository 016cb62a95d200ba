"""Quoted words apart from the author's own: Reddit markdown and Hacker News HTML. Pure.

Both platforms quote with a leading ``>``: Reddit's markdown turns such lines into block
quotes; Hacker News has no quote markup, so a paragraph of a comment that begins with ``>``
is a quote by convention. Neither says whom it quotes, so the author of a quote is unknown.
"""

from __future__ import annotations

import html
import re

import lxml.html
from markdown_it import MarkdownIt

from crawlers.text import parse_fragment

# Reddit renders no raw HTML (``<b>`` is shown as typed) and knows ~~strikethrough~~ and tables.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])
# Reddit's spoiler ``>!hidden!<`` is not a quote: keep its words, drop the marks.
_SPOILER = re.compile(r">!(.+?)!<", re.DOTALL)
_PARAGRAPH_BREAK = re.compile(r"<p(?:\s[^>]*)?>|</p\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_LEADING_QUOTE_MARK = re.compile(r"^((?:\s|<[^>]*>)*)(?:&gt;|&#62;|&#x3e;|>)[ \t]?", re.IGNORECASE)


def markdown_to_html(markdown: str) -> str:
    """Reddit markdown → HTML (raw HTML in the markdown stays text, as Reddit shows it)."""
    return _MARKDOWN.render(_SPOILER.sub(r"\1", markdown or ""))


def split_html_quotes(fragment: str) -> tuple[str, list[str]]:
    """An HTML fragment → (the fragment without its block quotes, each outermost quote).

    A quote nested in another quote stays part of the outer one.
    """
    if not fragment or not fragment.strip():
        return "", []
    root = parse_fragment(fragment)
    if root is None:
        return fragment, []
    outermost = [quote for quote in root.iter("blockquote")
                 if not any(parent.tag == "blockquote" for parent in quote.iterancestors())]
    quotes = []
    for quote in outermost:
        inner = lxml.html.tostring(quote, encoding="unicode", with_tail=False)
        quotes.append(inner.strip())
        quote.drop_tree()
    return lxml.html.tostring(root, encoding="unicode"), quotes


def split_markdown(markdown: str) -> tuple[str, list[str]]:
    """Reddit markdown → (the author's own words as HTML, quoted passages as HTML)."""
    return split_html_quotes(markdown_to_html(markdown))


def split_paragraph_quotes(text_html: str) -> tuple[str, list[str]]:
    """Hacker News comment HTML → (own paragraphs as HTML, quoted passages as HTML).

    HN separates paragraphs with ``<p>`` (the first one bare); a paragraph whose text begins
    with ``>`` is quoted, and neighbouring quoted paragraphs are one quote.
    """
    own: list[str] = []
    quotes: list[list[str]] = []
    previous_quoted = False
    for paragraph in _PARAGRAPH_BREAK.split(text_html or ""):
        visible = html.unescape(_TAG.sub("", paragraph)).strip()
        if not visible:
            continue
        if visible.startswith(">"):
            body = _LEADING_QUOTE_MARK.sub(r"\1", paragraph, count=1)
            if previous_quoted:
                quotes[-1].append(body)
            else:
                quotes.append([body])
            previous_quoted = True
        else:
            own.append(paragraph)
            previous_quoted = False
    own_html = "".join(f"<p>{paragraph}</p>" for paragraph in own)
    quote_html = ["".join(f"<p>{paragraph}</p>" for paragraph in quote) for quote in quotes]
    return own_html, quote_html
